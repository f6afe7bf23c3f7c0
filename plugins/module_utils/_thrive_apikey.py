# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""THRIVE API keys: generated at most once, only when no valid key is known.

Internal to the collection: no stability promise to code outside it.

THRIVE generates a key with a GraphQL mutation sent with an admin's browser
token (a JWT that expires every 60 minutes) and a correlation id. It has no API
to list, revoke or rotate keys, and shows a key once. So:

- whether to generate is decided from the key already held (from the secrets
  store) and its validUntil, never by asking THRIVE;
- the mutation goes out at most once per run: never retried once it may have
  reached the server, since a retry could mint a second key;
- the document is fixed and the caller's values travel as GraphQL variables,
  so no service name or token type can change the operation;
- a new key is written to the recovery file before anything else can fail.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import time
import uuid
from dataclasses import dataclass

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    OptionError,
    ResponseFormatError,
    TransportError,
    fingerprint,
)
from ansible_collections.apiauth.saas.plugins.module_utils._recovery import RecoveryFileError, write_recovery_file
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import default_cache_dir
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import check_tenant_id

TENANTS_URLS = {
    "staging": "https://tenant.api.learnstaging.link/tenants",
    "production": "https://tenant.api.link/tenants",
}
MUTATION = (
    "mutation GenerateApiKey($tokenType: String!, $services: [String!]!) "
    "{ generateApiKey(tokenType: $tokenType, services: $services) { validUntil apiKey } }"
)
# The options whose values are masked in every message of the module.
SECRET_OPTIONS = ("admin_token", "current_api_key")
ADMIN_TOKEN_HELP = (
    "Get a fresh one: sign in to THRIVE Learn, open the browser's developer tools, Network tab, select a request "
    "such as user?AuthorityToken and copy its Authorization header value. It expires every 60 minutes."
)
# An admin token with less than this left is treated as expired: the request
# could otherwise be refused half-way.
ADMIN_TOKEN_MARGIN = 30


class GraphQLError(ApiAuthError):
    """THRIVE answered HTTP 200 with a GraphQL ``errors`` array."""


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


def parse_valid_until(value) -> float | None:
    """validUntil as epoch seconds: ISO 8601 text (THRIVE's form) or a number of seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise OptionError(f"current_valid_until {text!r} is neither an ISO 8601 time nor epoch seconds.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def basic_authorization(tenant_id: str, api_key: str) -> str:
    """THRIVE's API takes HTTP Basic: the tenant id as user name, the API key as password."""
    return "Basic " + base64.b64encode(f"{tenant_id}:{api_key}".encode("utf-8")).decode("ascii")


@dataclass
class Plan:
    generate: bool
    reason: str


def plan(*, current_api_key: str | None, current_valid_until, renew_before: int, rotate: str,
         now: float | None = None) -> Plan:
    now = time.time() if now is None else now
    if rotate == "always":
        return Plan(True, "rotate=always asks for a new key")
    if not current_api_key:
        return Plan(True, "no current API key was given")
    valid_until = parse_valid_until(current_valid_until)
    if valid_until is None:
        return Plan(False, "the current key is kept: its validity is unknown (give current_valid_until "
                           "so it can be renewed before it expires)")
    left = valid_until - now
    if left > renew_before:
        return Plan(False, f"the current key stays valid for {int(left // 86400)} more days, past renew_before")
    if left <= 0:
        return Plan(True, "the current key has expired")
    return Plan(True, f"the current key expires within renew_before ({int(left)} s left)")


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


def parse_response(body) -> tuple:
    if not isinstance(body, dict):
        raise ResponseFormatError("THRIVE: the generateApiKey response is not a JSON object.")
    errors = body.get("errors")
    if errors:
        messages = []
        for error in errors if isinstance(errors, list) else [errors]:
            text = error.get("message") if isinstance(error, dict) else str(error)
            messages.append(str(text)[:300])
        raise GraphQLError("THRIVE refused generateApiKey: " + "; ".join(messages) + ".")
    result = (body.get("data") or {}).get("generateApiKey") if isinstance(body.get("data"), dict) else None
    if not isinstance(result, dict):
        raise ResponseFormatError("THRIVE: the generateApiKey response has no data.generateApiKey.")
    api_key, valid_until = result.get("apiKey"), result.get("validUntil")
    if not isinstance(api_key, str) or not api_key:
        raise ResponseFormatError("THRIVE: the generateApiKey response has no apiKey.")
    if not isinstance(valid_until, str) or not valid_until:
        raise ResponseFormatError("THRIVE: the generateApiKey response has no validUntil.")
    return api_key, valid_until


def fallback_recovery_path(tenant_id: str, cache_dir: str | None = None) -> str:
    """A private file beside the token cache: ``<cache_dir>/../recovery/``."""
    cache_dir = os.path.abspath((cache_dir or default_cache_dir()).rstrip("/"))
    directory = os.path.join(os.path.dirname(cache_dir), "recovery")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    return os.path.join(directory, f"thrive-{tenant_id}-{int(time.time())}.json")


def save_key(params: dict, record: dict) -> str:
    """Write the new key to recovery_file, or to a private fallback file if that fails."""
    wanted = params.get("recovery_file")
    if wanted:
        try:
            return write_recovery_file(wanted, record)
        except RecoveryFileError as exc:
            fallback = write_recovery_file(
                fallback_recovery_path(record["tenant_id"], params.get("cache_dir")), record)
            raise RecoveryFileError(
                f"{exc} The new API key was saved to {fallback} instead (mode 0600): move it to your secrets "
                "store; do not generate another."
            ) from None
    return ""


def _key_maybe_lost(exc: ApiAuthError) -> ApiAuthError:
    return ApiAuthError(
        f"{exc.message} The generateApiKey mutation may have reached THRIVE and generated a key that "
        "was never received. It was not sent again.",
        hint="THRIVE has no API to list keys: the key you already hold stays valid; generate again only "
             "once you are sure, for example with rotate=always.",
    )


def generate_or_keep(params: dict, *, client_factory, check_mode: bool, now: float | None = None) -> dict:
    """The module's work. Returns the result (the key in it when generated or kept)."""
    tenant_id = check_tenant_id(params["tenant_id"])
    correlation_id = params.get("correlation_id") or str(uuid.uuid4())
    decision = plan(current_api_key=params.get("current_api_key"),
                    current_valid_until=params.get("current_valid_until"),
                    renew_before=int(params.get("renew_before") or 0), rotate=params.get("rotate") or "when_needed",
                    now=now)
    current = params.get("current_api_key")
    before = {"api_key_fingerprint": fingerprint(current) if current else None,
              "valid_until": params.get("current_valid_until")}
    result = {"changed": decision.generate, "generated": False, "reason": decision.reason,
              "tenant_id": tenant_id, "correlation_id": correlation_id}
    if not decision.generate:
        result.update(api_key=current, valid_until=params.get("current_valid_until"), username=tenant_id,
                      password=current, authorization=basic_authorization(tenant_id, current),
                      diff={"before": before, "after": before})
        return result
    # The admin token is checked before anything, in check mode too: its
    # expiry is what most often stops a rotation.
    check_admin_token(params["admin_token"], now)
    check_token_tenant(params["admin_token"], tenant_id)
    if check_mode:
        result["diff"] = {"before": before, "after": {"api_key_fingerprint": "(new key)", "valid_until": "(new)"}}
        return result
    url, body, headers = build_request(params, correlation_id)
    client = client_factory()
    try:
        response = client.request("POST", url, json=body, headers=headers, idempotent=False, expected=(200,))
        api_key, valid_until = parse_response(response.json())
    except TransportError as exc:
        if exc.sent:
            raise _key_maybe_lost(exc) from None
        raise
    except ResponseFormatError as exc:
        # A 200 we cannot read may still carry a key THRIVE made (a GraphQL
        # refusal is not a ResponseFormatError: no key was made then).
        raise _key_maybe_lost(exc) from None
    finally:
        client.close()
    record = {"tenant_id": tenant_id, "api_key": api_key, "valid_until": valid_until,
              "correlation_id": correlation_id, "environment": params["environment"]}
    recovery = save_key(params, record)
    result.update(generated=True, api_key=api_key, valid_until=valid_until, username=tenant_id, password=api_key,
                  authorization=basic_authorization(tenant_id, api_key),
                  diff={"before": before, "after": {"api_key_fingerprint": fingerprint(api_key),
                                                    "valid_until": valid_until}})
    if recovery:
        result["recovery_file"] = recovery
    return result
