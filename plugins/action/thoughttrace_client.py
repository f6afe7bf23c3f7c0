# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thoughttrace_client: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils import _thoughttrace_clients as clients
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = clients.argument_spec()
    MUTUALLY_EXCLUSIVE = clients.MUTUALLY_EXCLUSIVE
    REQUIRED_ONE_OF = clients.REQUIRED_ONE_OF
    REQUIRED_TOGETHER = clients.REQUIRED_TOGETHER

    def execute(self, params: dict, *, check_mode: bool, diff_mode: bool) -> Outcome:
        result, holds_secret, warnings = clients.manage_client(params, check_mode=check_mode, diff_mode=diff_mode,
                                                               progress=self.progress())
        return Outcome(result=result, holds_secret=holds_secret, warnings=warnings)
