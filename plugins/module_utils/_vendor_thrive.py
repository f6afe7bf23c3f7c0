# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""THRIVE's OAuth 2.0 client credentials: one token endpoint per tenant.

Internal to the collection: no stability promise to code outside it.

Token URL ``<base>/oauth2/token/<tenant id>`` on ``public.api.learn.link``
(production) or ``public.api.learnstaging.link`` (staging); tokens live an
hour; scopes api/all, api/read, api/write, api/webhooks. A tenant id looks like
``eu-west-2_xxxxxxxxx``.

The API key of the thrive_apikey module comes from a GraphQL mutation on the
tenants endpoint, sent with an admin's browser token (a JWT) and a correlation
id; the key then serves HTTP Basic (user name = tenant id, password = key).
Every URL, the mutation and the shapes of its request and answer are here; the
rules of when to generate one are the registration engine's (``_thrive_apikey``).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import time

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    GraphQLError,
    OptionError,
    ResponseFormatError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._urls import path_segment
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import normalize_scope
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile
from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, with_env_fallback, merge

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


# The options of the thrive_token module and lookup (the module adds censor_result).
OPTIONS = with_env_fallback({
    "environment": {"type": "str", "required": True, "choices": list(ENVIRONMENTS)},
    "tenant_id": {"type": "str", "required": True},
    "base_url": {"type": "str"},
    "token_url": {"type": "str", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "required": True, "no_log": True},
    "auth_method": {"type": "str", "default": "client_secret_basic",
                    "choices": ["client_secret_basic", "client_secret_post"]},
    # No choices: Ansible would refuse "api/read api/write", one space-separated item; check() judges each scope.
    "scope": {"type": "list", "elements": "str"},
}, "APIAUTH_THRIVE_", ("environment", "tenant_id", "base_url", "token_url", "client_id", "client_secret",
                       "auth_method", "scope"))
TOKEN_OPTIONS = merge(OPTIONS, HTTP, CACHE)
TOKEN_MUTUALLY_EXCLUSIVE: list = []

# The options of the thrive_apikey module (HTTP and cache options added by its plugins).
APIKEY_OPTIONS = with_env_fallback({
    "environment": {"type": "str", "required": True, "choices": list(ENVIRONMENTS)},
    "url": {"type": "str"},
    "admin_token": {"type": "str", "required": True, "no_log": True},
    "correlation_id": {"type": "str"},
    "tenant_id": {"type": "str", "required": True},
    "token_type": {"type": "str", "default": "permanent", "no_log": False},
    "services": {"type": "list", "elements": "str", "default": ["api-service"]},
    "current_api_key": {"type": "str", "no_log": True},
    "current_valid_until": {"type": "str"},
    "renew_before": {"type": "int", "default": 2592000},
    "rotate": {"type": "str", "default": "when_needed", "choices": ["when_needed", "always"]},
    "recovery_file": {"type": "path"},
    "censor_result": {"type": "bool", "default": True},
}, "APIAUTH_THRIVE_", ("admin_token", "tenant_id"))
APIKEY_SPEC = merge(APIKEY_OPTIONS, HTTP, CACHE)


# -- the API key mutation ------------------------------------------------------

TENANTS_URLS = {
    "staging": "https://tenant.api.learnstaging.link/tenants",
    "production": "https://tenant.api.link/tenants",
}
MUTATION = (
    "mutation GenerateApiKey($tokenType: String!, $services: [String!]!) "
    "{ generateApiKey(tokenType: $tokenType, services: $services) { validUntil apiKey } }"
)
# An admin token with less than this left is treated as expired: the request
# could otherwise be refused half-way.
ADMIN_TOKEN_MARGIN = 30
ADMIN_TOKEN_HELP = (
    "Get a fresh one: sign in to THRIVE Learn, open the browser's developer tools, Network tab, select a request "
    "such as user?AuthorityToken and copy its Authorization header value. It expires every 60 minutes."
)


def _b64url_json(segment: str):
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def admin_token_expiry(token: str) -> float:
    """The ``exp`` of the admin JWT, read without verifying it (THRIVE verifies it)."""
    raw = token.strip()
    if raw.lower().startswith("bearer "):
        raw = raw[7:].strip()
    parts = raw.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        claims = _b64url_json(parts[1])
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise OptionError(f"admin_token is not a JWT with an expiry (exp). {ADMIN_TOKEN_HELP}") from None
    return float(exp)


def check_admin_token(token: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    exp = admin_token_expiry(token)
    if exp - now < ADMIN_TOKEN_MARGIN:
        when = datetime.datetime.fromtimestamp(int(exp), tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        raise OptionError(f"admin_token expired at {when}; nothing was sent to THRIVE. {ADMIN_TOKEN_HELP}")


# Where the admin console JWT names its tenant: Cognito's custom attribute, or a plain claim.
TENANT_CLAIMS = ("custom:tenant_id", "tenant_id")


def admin_token_tenant(token: str) -> str | None:
    """The tenant the admin JWT was issued for, read without verifying it; None when it names none."""
    raw = token.strip()
    if raw.lower().startswith("bearer "):
        raw = raw[7:].strip()
    try:
        claims = _b64url_json(raw.split(".")[1])
    except (ValueError, IndexError, TypeError, UnicodeError):
        return None
    if not isinstance(claims, dict):
        return None
    for name in TENANT_CLAIMS:
        if isinstance(claims.get(name), str) and claims[name]:
            return claims[name]
    return None


def check_token_tenant(token: str, tenant_id: str) -> None:
    """Refuse an admin token of another tenant: THRIVE would make the key for the token's tenant."""
    token_tenant = admin_token_tenant(token)
    if token_tenant is not None and token_tenant != tenant_id:
        raise OptionError(
            f"tenant_id {tenant_id} is not the tenant of admin_token, which was issued for {token_tenant!r}; "
            "nothing was sent to THRIVE. Use an admin token of this tenant, or fix tenant_id."
        )


def basic_authorization(tenant_id: str, api_key: str) -> str:
    """THRIVE's API takes HTTP Basic: the tenant id as user name, the API key as password."""
    return "Basic " + base64.b64encode(f"{tenant_id}:{api_key}".encode("utf-8")).decode("ascii")


def build_request(params: dict, correlation_id: str) -> tuple:
    """URL, JSON body and headers of the mutation. Values travel as variables only."""
    services = params.get("services") or ["api-service"]
    if not all(isinstance(s, str) and s for s in services):
        raise OptionError("services must be a list of service names.")
    token_type = params.get("token_type") or "permanent"
    url = params.get("url") or TENANTS_URLS[params["environment"]]
    body = {"query": MUTATION, "operationName": "GenerateApiKey",
            "variables": {"tokenType": token_type, "services": list(services)}}
    token = params["admin_token"].strip()
    if not token.lower().startswith("bearer "):
        token = "Bearer " + token
    headers = {"Authorization": token, "correlation-id": correlation_id, "Content-Type": "application/json"}
    return url, body, headers


def result_of(body):
    data = body.get("data") if isinstance(body, dict) else None
    result = data.get("generateApiKey") if isinstance(data, dict) else None
    return result if isinstance(result, dict) else None


def received_key(body) -> str | None:
    """The API key in a generateApiKey answer, if there is one, whatever else the answer holds.

    Looked at first, before the answer is judged: GraphQL allows data beside
    errors, and a key that is there must be saved even if the rest is wrong.
    """
    result = result_of(body)
    api_key = result.get("apiKey") if result else None
    return api_key if isinstance(api_key, str) and api_key else None


def parse_response(body) -> tuple:
    """``(api_key, valid_until)`` of a generateApiKey answer; ``valid_until`` None when THRIVE gave none.

    Raises GraphQLError for an answer with errors and no key, and
    ResponseFormatError for one that is not what THRIVE sends.
    """
    if not isinstance(body, dict):
        raise ResponseFormatError("THRIVE: the generateApiKey response is not a JSON object.")
    api_key = received_key(body)
    errors = body.get("errors")
    if errors and api_key is None:
        raise GraphQLError("THRIVE refused generateApiKey: " + "; ".join(error_messages(errors)) + ".")
    result = result_of(body)
    if result is None:
        raise ResponseFormatError("THRIVE: the generateApiKey response has no data.generateApiKey.")
    if api_key is None:
        raise ResponseFormatError("THRIVE: the generateApiKey response has no apiKey.")
    valid_until = result.get("validUntil")
    if valid_until is None or valid_until == "":
        return api_key, None
    if not isinstance(valid_until, str):
        raise ResponseFormatError("THRIVE: the validUntil of the generateApiKey response is not a time (text).")
    return api_key, valid_until


def error_messages(errors) -> list:
    messages = []
    for error in errors if isinstance(errors, list) else [errors]:
        text = error.get("message") if isinstance(error, dict) else str(error)
        messages.append(str(text)[:300])
    return messages
