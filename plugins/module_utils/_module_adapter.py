# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the token engine inside an AnsibleModule.

Internal to the collection: no stability promise to code outside it.

Normally the action plugin of the same name does the work on the controller
and this path never runs. It exists so the module file is complete on its own
(``ansible-test`` and tools that run modules directly), with the same results.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, _load_params

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import check_raw, check_urls
from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import MUTUALLY_EXCLUSIVE, module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import secret_names


def run_module(name: str, profile) -> None:
    """The whole main() of the token module ``<name>_token``."""
    module = AnsibleModule(
        argument_spec=module_spec(name),
        mutually_exclusive=MUTUALLY_EXCLUSIVE.get(name, []),
        supports_check_mode=True,
    )
    run_token_module(module, profile)


def check_arguments(module) -> None:
    """The checks the action plugins make besides Ansible's (see _argspec.check_raw): fail the module on one."""
    try:
        check_raw(module.argument_spec, _load_params())
        check_urls(module.params)
    except OptionError as exc:
        module.fail_json(msg=str(exc))


def run_token_module(module, profile) -> None:
    """Fetch a token for ``module.params`` and exit the module with the record."""
    from ansible_collections.apiauth.saas.plugins.module_utils._certs import key_file_warnings
    from ansible_collections.apiauth.saas.plugins.module_utils._token_service import get_token, redactor_for

    check_arguments(module)
    params = dict(module.params)
    censor = params.pop("censor_result", True)
    for warning in key_file_warnings(params):
        module.warn(warning)
    try:
        outcome = get_token(params, profile)
    except ApiAuthError as exc:
        module.fail_json(msg=str(exc))
    redactor = redactor_for(params)
    for warning in outcome.warnings:
        module.warn(redactor.redact(str(warning)))
    result = dict(outcome.record, source=outcome.source, changed=outcome.source == "network",
                  **outcome.progress_fields())
    if censor:
        module.no_log_values.add(outcome.record["access_token"])
    module.exit_json(**result)


# The result keys that hold a secret, in any task's result.
SECRET_RESULTS = ("access_token", "secret_key", "authorization", "api_key", "password", "client_secret")


def run_task_module(task, *, argument_spec: dict, mutually_exclusive=None, required_one_of=None,
                    required_together=None, secret_options=None, **task_kwargs) -> None:
    """The whole main() of a module whose work is ``task(params, ...) -> (result, holds_secret, warnings)``.

    ``task_kwargs`` names the flags the task takes: ``check_mode`` and
    ``diff_mode`` are filled in from the module. ``secret_options`` defaults
    to the spec's no_log options.
    """
    from ansible_collections.apiauth.saas.plugins.module_utils._certs import key_file_warnings
    from ansible_collections.apiauth.saas.plugins.module_utils._token_service import redactor_for

    if secret_options is None:
        secret_options = secret_names(argument_spec)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=mutually_exclusive or [],
        required_one_of=required_one_of or [],
        required_together=required_together or [],
        supports_check_mode=True,
    )
    check_arguments(module)
    params = dict(module.params)
    censor = params.pop("censor_result", True)
    kwargs = dict(task_kwargs)
    if "check_mode" in kwargs:
        kwargs["check_mode"] = module.check_mode
    if "diff_mode" in kwargs:
        kwargs["diff_mode"] = module._diff  # pylint: disable=protected-access
    for warning in key_file_warnings(params):
        module.warn(warning)
    try:
        result, holds_secret, warnings = task(params, **kwargs)
    except ApiAuthError as exc:
        module.fail_json(msg=str(exc.redacted(redactor_for(params, secret_options))))
    redactor = redactor_for(params, secret_options)
    for warning in warnings:
        module.warn(redactor.redact(str(warning)))
    if censor and holds_secret:
        for key in SECRET_RESULTS:
            if result.get(key):
                module.no_log_values.add(result[key])
    if result.pop("failed", False):
        # A failed result may still hold a secret the vendor made (a key received but not saved): censored above.
        module.fail_json(**result)
    module.exit_json(**result)
