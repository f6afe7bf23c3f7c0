# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins behind the C(*_token) modules.

Internal to the collection: no stability promise to code outside it.

The action plugin does all the work on the controller: it validates the task's
arguments with the module's own argument spec, asks the engine for a token and
shapes the result. Nothing is sent to the managed host. A result always holds
a token, so it is always censored unless the task sets censor_result=false.
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._token_service import GENERIC, get_token
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class TokenAction(ControllerAction):
    """Fetch a token with the engine; subclasses set the spec and the vendor."""

    PROFILE = GENERIC

    def execute(self, params: dict, *, check_mode: bool, diff_mode: bool) -> Outcome:
        # A token request changes nothing at the vendor: check mode fetches too.
        outcome = get_token(params, self.PROFILE, progress=self.progress())
        result = dict(outcome.record, source=outcome.source, changed=outcome.source == "network",
                      **outcome.progress_fields())
        return Outcome(result=result, holds_secret=True, warnings=outcome.warnings)
