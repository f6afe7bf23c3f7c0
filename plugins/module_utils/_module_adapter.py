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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import MUTUALLY_EXCLUSIVE, module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError


def run_module(name: str, profile) -> None:
    """The whole main() of the token module ``<name>_token``."""
    module = AnsibleModule(
        argument_spec=module_spec(name),
        mutually_exclusive=MUTUALLY_EXCLUSIVE.get(name, []),
        supports_check_mode=True,
    )
    run_token_module(module, profile)


def run_token_module(module, profile) -> None:
    """Fetch a token for ``module.params`` and exit the module with the record."""
    from ansible_collections.apiauth.saas.plugins.module_utils._token_service import get_token

    params = dict(module.params)
    censor = params.pop("censor_result", True)
    try:
        outcome = get_token(params, profile)
    except ApiAuthError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)
    result = dict(outcome.record, source=outcome.source, changed=outcome.source == "network")
    if censor:
        module.no_log_values.add(outcome.record["access_token"])
    module.exit_json(**result)
