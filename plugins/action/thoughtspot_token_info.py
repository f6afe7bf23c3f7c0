# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thoughtspot_token_info: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._thoughtspot_tasks import info_argument_spec, info_task
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = info_argument_spec()

    def execute(self, params, *, check_mode, diff_mode):
        result, holds_secret, warnings = info_task(params)
        return Outcome(result=result, holds_secret=holds_secret, warnings=warnings)
