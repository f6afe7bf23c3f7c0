# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thrive_apikey: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._thrive_apikey import apikey_task
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import APIKEY_SPEC
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = APIKEY_SPEC

    def execute(self, params, *, check_mode, diff_mode):
        result, holds_secret, warnings = apikey_task(params, check_mode=check_mode, diff_mode=diff_mode,
                                                     progress=self.progress())
        return Outcome(result=result, holds_secret=holds_secret, warnings=warnings)
