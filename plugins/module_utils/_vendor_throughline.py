# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ThroughLine's token endpoint: what sets it apart from plain OAuth 2.0.

Internal to the collection: no stability promise to code outside it.

ThroughLine documents one way in: a form-encoded POST to ``oauth/token`` with
the client id and secret in the body (never in the URL), answering with a
bearer token that lives two hours and the scope ``public``. It may revoke an
application's credentials at any time, so ``invalid_client`` says so.
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile
from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, with_env_fallback, merge

DEFAULT_TOKEN_URL = "https://api.findahelpline.com/oauth/token"

THROUGHLINE = VendorProfile(
    name="throughline",
    display_name="ThroughLine",
    default_token_url=DEFAULT_TOKEN_URL,
    auth_method="client_secret_post",
    error_hints={
        "invalid_client": (
            "ThroughLine refused the client id and secret. It revokes credentials that leaked or were "
            "misused, without notice: check the application in the ThroughLine Developer Dashboard and "
            "use the credentials it shows now."
        ),
    },
)


# The options of the throughline_token module and lookup (the module adds censor_result).
OPTIONS = with_env_fallback({
    "token_url": {"type": "str", "default": DEFAULT_TOKEN_URL, "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "required": True, "no_log": True},
}, "APIAUTH_THROUGHLINE_")
TOKEN_OPTIONS = merge(OPTIONS, HTTP, CACHE)
TOKEN_MUTUALLY_EXCLUSIVE: list = []
