# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""THRIVE's OAuth 2.0 client credentials: one token endpoint per tenant.

Internal to the collection: no stability promise to code outside it.

Token URL ``<base>/oauth2/token/<tenant id>`` on ``public.api.learn.link``
(production) or ``public.api.learnstaging.link`` (staging); tokens live an
hour; scopes api/all, api/read, api/write, api/webhooks. A tenant id looks like
``eu-west-2_xxxxxxxxx``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import normalize_scope
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile

ENVIRONMENTS = ("staging", "production")
BASE_URLS = {
    "staging": "https://public.api.learnstaging.link",
    "production": "https://public.api.learn.link",
}
SCOPES = ("api/all", "api/read", "api/write", "api/webhooks")
_TENANT = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class ThriveVendor(VendorProfile):
    def __init__(self) -> None:
        super().__init__(
            name="thrive",
            display_name="THRIVE",
            error_hints={
                "invalid_client": (
                    "THRIVE refused the client credentials: check client_id, client_secret, and that they belong "
                    "to this tenant_id and environment."
                ),
            },
        )

    @staticmethod
    def environment(params: dict) -> str:
        value = params.get("environment") or "production"
        if value not in ENVIRONMENTS:
            raise OptionError(f"environment must be one of {', '.join(ENVIRONMENTS)}; got {value!r}.")
        return value

    @staticmethod
    def tenant_id(params: dict) -> str:
        tenant = params.get("tenant_id") or ""
        if not _TENANT.match(tenant):
            raise OptionError(
                "tenant_id must be the THRIVE tenant id, for example eu-west-2_AbCdEf123 "
                "(letters, digits, '_', '-' and '.')."
            )
        return tenant

    def token_url(self, params: dict) -> str:
        if params.get("token_url"):
            return params["token_url"]
        base = (params.get("base_url") or BASE_URLS[self.environment(params)]).rstrip("/")
        return f"{base}/oauth2/token/{quote(self.tenant_id(params), safe='')}"

    def client_auth_method(self, params: dict) -> str:
        return params.get("auth_method") or "client_secret_basic"

    def identity_extra(self, params: dict) -> dict:
        return {"environment": self.environment(params), "tenant_id": self.tenant_id(params)}

    def check(self, params: dict, warnings: list) -> None:
        requested = (normalize_scope(params.get("scope")) or "").split()
        unknown = [s for s in requested if s not in SCOPES]
        if unknown:
            raise OptionError(f"THRIVE has no scope {', '.join(unknown)}; use {', '.join(SCOPES)}.")

    def decorate(self, record: dict, params: dict) -> dict:
        record.update(environment=self.environment(params), tenant_id=self.tenant_id(params))
        return record


THRIVE = ThriveVendor()
