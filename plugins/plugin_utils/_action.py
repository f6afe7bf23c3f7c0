# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins behind the C(*_token) modules.

Internal to the collection: no stability promise to code outside it.

The action plugin does all the work on the controller: it validates the task's
arguments with the module's own argument spec, asks the engine for a token and
shapes the result. Nothing is sent to the managed host.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import (
    GENERIC,
    get_token,
    redactor_for,
)


def unexpected_error_message(exc: BaseException, params: dict) -> str:
    """A message for a bug: its type and redacted text, never a traceback."""
    text = redactor_for(params).redact(str(exc))
    return f"Unexpected error in apiauth.saas ({type(exc).__name__}): {text}. Please report it."


class TokenAction(ActionBase):
    """Fetch a token with the engine; subclasses set the spec and the vendor."""

    TRANSFERS_FILES = False
    _requires_connection = False

    ARGUMENT_SPEC: dict = {}
    MUTUALLY_EXCLUSIVE: list = []
    PROFILE = GENERIC

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        try:
            params = self.validate_argument_spec(
                argument_spec=self.ARGUMENT_SPEC,
                mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
            )[1]
        except AnsibleActionFail as exc:
            # Ansible's own message on bad arguments, returned rather than raised:
            # raised, ansible-core 2.17 prints an empty traceback under it at -vvv.
            result.update(failed=True, msg=exc.message)
            return result
        censor = params.pop("censor_result", True)
        try:
            outcome = get_token(params, self.PROFILE)
        except ApiAuthError as exc:
            # A failure is never censored: its message says what to fix and the
            # engine has already masked every secret it knows in it. It is
            # returned, not raised, so no traceback is added to it at -vvv.
            result.update(failed=True, msg=str(exc))
            return result
        except Exception as exc:  # pylint: disable=broad-except
            result.update(failed=True, msg=unexpected_error_message(exc, params))
            return result

        result.update(outcome.record)
        result["source"] = outcome.source
        result["changed"] = outcome.source == "network"
        if outcome.warnings:
            result["warnings"] = list(outcome.warnings)
        if censor:
            result["_ansible_no_log"] = True
        return result
