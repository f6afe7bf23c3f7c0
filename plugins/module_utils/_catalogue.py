# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token plugins of the collection: each one's options, vendor profile and secret options.

Internal to the collection: no stability promise to code outside it.

The one place that knows every vendor by name. Each vendor's facts (URLs,
paths, request and response shapes, options) live in its ``_vendor_<name>``
file; the engines (``_token_service``, ``_argspec``'s shared option groups,
the registration engines) take a profile and a spec and know none of them.
The secret options of each plugin are derived from its spec (``no_log``), so
no list of them is kept by hand.
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils import (
    _vendor_thoughtspot,
    _vendor_thoughttrace,
    _vendor_thredd,
    _vendor_thrive,
    _vendor_throughline,
)
from ansible_collections.apiauth.saas.plugins.module_utils._argspec import (
    CACHE,
    HTTP,
    OAUTH2,
    PRIVATE_KEY_MUTUALLY_EXCLUSIVE,
    TOKEN_MODULE,
    merge,
    private_key_jwt,
)
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import secret_names
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import GENERIC

# The options of each token plugin, shared by its module, action plugin and
# lookup; modules add TOKEN_MODULE.
TOKEN_PLUGINS = {
    "oauth2": merge(OAUTH2, private_key_jwt("APIAUTH_OAUTH2_"), HTTP, CACHE),
    "throughline": _vendor_throughline.TOKEN_OPTIONS,
    "thredd": _vendor_thredd.TOKEN_OPTIONS,
    "thoughttrace": _vendor_thoughttrace.TOKEN_OPTIONS,
    "thrive": _vendor_thrive.TOKEN_OPTIONS,
    "thoughtspot": _vendor_thoughtspot.TOKEN_OPTIONS,
}

PROFILES = {
    "oauth2": GENERIC,
    "throughline": _vendor_throughline.THROUGHLINE,
    "thredd": _vendor_thredd.THREDD,
    "thoughttrace": _vendor_thoughttrace.THOUGHTTRACE,
    "thrive": _vendor_thrive.THRIVE,
}

# Options a token module has beyond its lookup's.
MODULE_ONLY = {
    "thoughtspot": _vendor_thoughtspot.MODULE_OPTIONS,
}

MUTUALLY_EXCLUSIVE = {
    "oauth2": PRIVATE_KEY_MUTUALLY_EXCLUSIVE,
    "thredd": _vendor_thredd.TOKEN_MUTUALLY_EXCLUSIVE,
    "thoughtspot": _vendor_thoughtspot.TOKEN_MUTUALLY_EXCLUSIVE,
}


def module_spec(name: str) -> dict:
    """The argument spec of the module ``<name>_token``."""
    return merge(TOKEN_PLUGINS[name], MODULE_ONLY.get(name, {}), TOKEN_MODULE)


def secret_options(name: str) -> tuple:
    """The options of the token plugin ``name`` whose values are masked in every message."""
    return secret_names(module_spec(name))
