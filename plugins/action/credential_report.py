# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.credential_report: the report is made on the controller, where the files are."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, merge
from ansible_collections.apiauth.saas.plugins.module_utils._credential_report import ARGUMENT_SPEC, report_task
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class ActionModule(ControllerAction):
    # HTTP and CACHE too: module_defaults of the saas group give them to every member; cache and cache_dir are used.
    ARGUMENT_SPEC = merge(ARGUMENT_SPEC, HTTP, CACHE)

    def execute(self, params, *, check_mode, diff_mode):
        # Reads only: check mode gives the same report.
        result, holds_secret, warnings = report_task(params)
        return Outcome(result=result, holds_secret=holds_secret, warnings=warnings)
