# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thoughtspot_trusted_auth: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils import _thoughtspot_tasks as tasks
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = tasks.trusted_auth_argument_spec()
    MUTUALLY_EXCLUSIVE = tasks.TRUSTED_AUTH_MUTUALLY_EXCLUSIVE
    REQUIRED_ONE_OF = tasks.TRUSTED_AUTH_REQUIRED_ONE_OF
    REQUIRED_TOGETHER = tasks.TRUSTED_AUTH_REQUIRED_TOGETHER

    def execute(self, params, *, check_mode, diff_mode):
        result, holds_secret, warnings = tasks.trusted_auth_task(params, check_mode=check_mode, diff_mode=diff_mode)
        return Outcome(result=result, holds_secret=holds_secret, warnings=warnings)
