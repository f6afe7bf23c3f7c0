# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ThoughtTrace's identity provider token endpoint.

Internal to the collection: no stability promise to code outside it.

ThoughtTrace documents a form POST of client_id, client_secret and
grant_type=client_credentials to ``<identity base>/connect/token``, and API calls
with ``Authorization: bearer <token>``, scheme in lower case as written there.
Nothing public describes its IdP beyond that, so every path is here, overridable.
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile

DEFAULT_IDENTITY_URL = "https://identity.thoughttrace.com"
TOKEN_PATH = "/connect/token"


class ThoughtTraceVendor(VendorProfile):
    def __init__(self) -> None:
        super().__init__(
            name="thoughttrace",
            display_name="ThoughtTrace",
            auth_method="client_secret_post",
            authorization_scheme="bearer",
            error_hints={
                "invalid_client": (
                    "ThoughtTrace refused the client id and secret: check them under Access > API Clients in "
                    "ThoughtTrace, where a client can be deactivated or given a new secret."
                ),
            },
        )

    def token_url(self, params: dict) -> str:
        if params.get("token_url"):
            return params["token_url"]
        return (params.get("identity_url") or DEFAULT_IDENTITY_URL).rstrip("/") + TOKEN_PATH


THOUGHTTRACE = ThoughtTraceVendor()
