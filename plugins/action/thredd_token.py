# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thredd_token: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import MUTUALLY_EXCLUSIVE, module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thredd import THREDD
from ansible_collections.apiauth.saas.plugins.plugin_utils._action import TokenAction


class ActionModule(TokenAction):
    ARGUMENT_SPEC = module_spec("thredd")
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE.get("thredd", [])
    PROFILE = THREDD
