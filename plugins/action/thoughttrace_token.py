# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of apiauth.saas.thoughttrace_token: the work runs on the controller."""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughttrace import THOUGHTTRACE
from ansible_collections.apiauth.saas.plugins.plugin_utils._action import TokenAction


class ActionModule(TokenAction):
    ARGUMENT_SPEC = module_spec("thoughttrace")
    PROFILE = THOUGHTTRACE
