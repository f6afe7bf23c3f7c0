# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thrive_apikey: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, THRIVE_APIKEY, merge
from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient
from ansible_collections.apiauth.saas.plugins.module_utils._thrive_apikey import SECRET_OPTIONS, generate_or_keep
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import http_options, redactor_for
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import ControllerAction, Outcome


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = merge(THRIVE_APIKEY, HTTP, CACHE)
    SECRET_OPTIONS = SECRET_OPTIONS

    def execute(self, params, *, check_mode, diff_mode):
        redactor = redactor_for(params, self.SECRET_OPTIONS)
        progress = self.progress()
        progress.mask_with(redactor)

        def client_factory():
            return HttpClient(http_options(params), vendor="THRIVE", redactor=redactor, progress=progress)

        result = generate_or_keep(params, client_factory=client_factory, check_mode=check_mode, progress=progress)
        if not diff_mode:
            result.pop("diff", None)
        warnings = result.pop("warnings", [])
        if result.get("failed"):
            # The key was received but not saved or judged: the failed result keeps it, censored.
            result["msg"] = redactor.redact(result["msg"])
            warnings = warnings + [result["msg"]]
        return Outcome(result=result, holds_secret=bool(result.get("api_key")), warnings=warnings)
