# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thoughtspot_token: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import MUTUALLY_EXCLUSIVE, module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._thoughtspot_tasks import token_task
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome
from ansible_collections.apiauth.saas.plugins.plugin_utils._thoughtspot import revoke_at_end_hooks


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = module_spec("thoughtspot")
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE["thoughtspot"]

    def execute(self, params, *, check_mode, diff_mode):
        cache_dir, on_new_token = revoke_at_end_hooks(params)
        result, holds_secret, warnings = token_task(params, check_mode=check_mode, cache_dir=cache_dir,
                                                    on_new_token=on_new_token, progress=self.progress())
        return Outcome(result=result, holds_secret=holds_secret, warnings=warnings)
