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

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._urls import path_segment
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import normalize_scope
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile

ENVIRONMENTS = ("staging", "production")
BASE_URLS = {
    "staging": "https://public.api.learnstaging.link",
    "production": "https://public.api.learn.link",
}
SCOPES = ("api/all", "api/read", "api/write", "api/webhooks")
# A THRIVE tenant id is the id of its AWS Cognito user pool: the AWS region, "_", then
# letters and digits (eu-west-2_AbCdEf123), at most 55 characters.
TENANT_ID = re.compile(r"(?=.{1,55}$)[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}_[A-Za-z0-9]+")
TENANT_ID_FORM = "a THRIVE tenant id such as eu-west-2_AbCdEf123 (the AWS region, '_', then letters and digits)"


def tenant_segment(value, option: str = "tenant_id") -> str:
    """The tenant id checked against THRIVE's form, percent-encoded for a URL path."""
    return path_segment(value, what=option, pattern=TENANT_ID, form=TENANT_ID_FORM)


def check_tenant_id(value, option: str = "tenant_id") -> str:
    """The tenant id, checked before it reaches a URL, a header or a file name."""
    tenant_segment(value, option)
    return value


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
        return check_tenant_id(params.get("tenant_id"))

    def token_url(self, params: dict) -> str:
        if params.get("token_url"):
            return params["token_url"]
        base = (params.get("base_url") or BASE_URLS[self.environment(params)]).rstrip("/")
        return f"{base}/oauth2/token/{tenant_segment(params.get('tenant_id'))}"

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
