# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins of modules that change state at a vendor.

Internal to the collection: no stability promise to code outside it.

Like the token actions, these run on the controller only. A subclass gives the
argument spec and ``execute(params, check_mode=, diff_mode=)``, which returns
an ``Outcome``; this base validates arguments, turns engine errors into clean
failures, and hides the result from the output only when it holds a secret, so
an ordinary run still shows its diff.

``progress()`` gives the engine an ``_errors.Progress`` whose notes (retries,
waits for another process, the cache layer that served a token) go to
Ansible's display at -v and -vv, prefixed with the host like Ansible's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import check_raw, check_urls
from ansible_collections.apiauth.saas.plugins.module_utils._certs import key_file_warnings
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, OptionError, Progress, Redactor
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import secret_names
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import redactor_for


display = Display()


def progress_to_display(prefix: str, host: str | None = None) -> Progress:
    """A Progress whose notes Ansible shows: level 1 at -v, level 2 at -vv.

    ``prefix`` names the plugin; ``host`` (a task's inventory host) makes
    Ansible print ``<host>`` before the text, as it does for its own -v notes.
    The engine masks every note with the call's redactor before it gets here.
    """
    def show(level: int, text: str) -> None:
        display.verbose(f"{prefix}: {text}", host=host, caplevel=level - 1)

    return Progress(show, verbosity=display.verbosity)


def unexpected_error_message(exc: BaseException, redactor: Redactor) -> str:
    """A message for a bug: its type and redacted text, never a traceback."""
    return f"Unexpected error in apiauth.saas ({type(exc).__name__}): {redactor.redact(str(exc))}. Please report it."


@dataclass
class Outcome:
    result: dict
    holds_secret: bool = False
    warnings: list = field(default_factory=list)


class ControllerAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    ARGUMENT_SPEC: dict = {}
    MUTUALLY_EXCLUSIVE: list = []
    REQUIRED_ONE_OF: list = []
    REQUIRED_TOGETHER: list = []
    # Options whose values are masked in messages; None: the spec's no_log options.
    SECRET_OPTIONS: tuple | None = None

    def execute(self, params: dict, *, check_mode: bool, diff_mode: bool) -> Outcome:
        raise NotImplementedError

    def secret_options(self) -> tuple:
        """The options whose values are masked: the spec's no_log options unless a subclass names them."""
        return secret_names(self.ARGUMENT_SPEC) if self.SECRET_OPTIONS is None else self.SECRET_OPTIONS

    def progress(self) -> Progress:
        """The engine's progress reporter for this task: notes at -v and -vv under the task's host."""
        # The task's own name for the module (apiauth.saas.oauth2_token), not the plugin's Python path.
        name = getattr(self._task, "resolved_action", None) or self._task.action
        return progress_to_display(name, getattr(self, "_progress_host", None))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        self._progress_host = (task_vars or {}).get("inventory_hostname")
        try:
            # Before Ansible's own validation, which would turn a dictionary given for a string into its text.
            check_raw(self.ARGUMENT_SPEC, self._task.args)
            params = self.validate_argument_spec(
                argument_spec=self.ARGUMENT_SPEC,
                mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
                required_one_of=self.REQUIRED_ONE_OF,
                required_together=self.REQUIRED_TOGETHER,
            )[1]
            check_urls(params)
        except AnsibleActionFail as exc:
            # Returned, not raised: raised, ansible-core 2.17 prints an empty traceback at -vvv.
            result.update(failed=True, msg=exc.message)
            return result
        except OptionError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        censor = params.pop("censor_result", True)
        redactor = redactor_for(params, self.secret_options())
        # Said whether the task then succeeds or not; Ansible shows one warning text once per run.
        key_warnings = key_file_warnings(params)
        if key_warnings:
            result["warnings"] = list(key_warnings)
        try:
            outcome = self.execute(params, check_mode=bool(self._task.check_mode), diff_mode=bool(self._task.diff))
        except ApiAuthError as exc:
            result.update(failed=True, msg=str(exc.redacted(redactor)))
            return result
        except Exception as exc:  # pylint: disable=broad-except
            result.update(failed=True, msg=unexpected_error_message(exc, redactor))
            return result
        result.update(outcome.result)
        if outcome.warnings or key_warnings:
            # A warning may quote a vendor or a path: masked like an error.
            result["warnings"] = key_warnings + [redactor.redact(str(warning)) for warning in outcome.warnings]
        if censor and outcome.holds_secret:
            result["_ansible_no_log"] = True
        return result
