# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.oauth2_token: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import MUTUALLY_EXCLUSIVE, module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import GENERIC
from ansible_collections.apiauth.saas.plugins.plugin_utils._action import TokenAction


class ActionModule(TokenAction):
    ARGUMENT_SPEC = module_spec("oauth2")
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE.get("oauth2", [])
    PROFILE = GENERIC
