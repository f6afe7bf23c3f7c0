# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OAuth 2.0 client credentials grant (RFC 6749 section 4.4) for the engine.

Internal to the collection: no stability promise to code outside it.

Client authentication methods: client_secret_basic and client_secret_post
(RFC 6749 section 2.3.1), private_key_jwt (RFC 7523, OpenID Connect Core
section 9) and tls_client_auth (RFC 8705). Knows nothing of vendors or Ansible.
"""

from __future__ import annotations

import base64
import datetime
import math
import time
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    OptionError,
    ResponseFormatError,
    TokenEndpointError,
)

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth")
BASIC_ENCODINGS = ("form", "raw")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Parameters the engine sets itself; extra_params may not override them, or a
# typo could silently change how the client authenticates.
_RESERVED_PARAMS = frozenset(
    ("grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "scope")
)

# RFC 6749 section 5.2 error codes, with what the user should do about each.
OAUTH_ERROR_HINTS = {
    "invalid_request": "The token endpoint found the request malformed: check token_url, scope and extra_params.",
    "invalid_client": "Client authentication failed: check client_id, the secret or key, and auth_method.",
    "invalid_grant": "The grant was refused: the client may be disabled or its credentials expired.",
    "unauthorized_client": "This client is not allowed to use the client_credentials grant.",
    "unsupported_grant_type": "The server does not support the client_credentials grant at this URL.",
    "invalid_scope": "The requested scope is unknown or not granted to this client: check scope.",
}


def normalize_scope(scope) -> str | None:
    """A scope option (space-separated string or list) as the one string RFC 6749 sends."""
    if scope is None:
        return None
    if isinstance(scope, str):
        items = scope.split()
    elif isinstance(scope, (list, tuple)):
        items = []
        for item in scope:
            if not isinstance(item, str):
                raise OptionError(f"scope items must be strings, got {type(item).__name__}.")
            items.extend(item.split())
    else:
        raise OptionError(f"scope must be a string or a list of strings, got {type(scope).__name__}.")
    # Keep the order the user gave (some servers echo it) but drop repeats.
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return " ".join(seen) or None


def basic_credentials(client_id: str, client_secret: str, *, form_encode: bool = True) -> str:
    """The value of an ``Authorization: Basic`` header for client_secret_basic.

    RFC 6749 section 2.3.1 says the id and secret are encoded with the
    application/x-www-form-urlencoded algorithm before they are joined with a
    colon and base64-encoded. Several servers skip that step and take them raw;
    ``form_encode=False`` serves those. The difference shows only when an id or
    secret holds a character such as ``:``, ``+``, ``/``, ``%`` or a space.
    """
    if form_encode:
        client_id = quote_plus(client_id, safe="")
        client_secret = quote_plus(client_secret, safe="")
    elif ":" in client_id:
        raise OptionError(
            "client_id contains ':', which cannot be sent in raw HTTP Basic credentials; "
            "use basic_auth_encoding=form or auth_method=client_secret_post."
        )
    raw = f"{client_id}:{client_secret}".encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class ClientCredentials:
    """What a client-credentials token request needs. Option names match the user's."""

    token_url: str
    client_id: str
    client_secret: str | None = None
    auth_method: str = "client_secret_basic"
    basic_auth_encoding: str = "form"
    scope: str | None = None
    extra_params: dict = field(default_factory=dict)
    private_key_path: str | None = None
    private_key_content: str | None = None
    private_key_passphrase: str | None = None
    key_id: str | None = None
    signing_algorithm: str | None = None
    assertion_audience: str | None = None
    assertion_lifetime: int = 60
    # Set by the caller from the HTTP options: tls_client_auth needs a certificate.
    has_client_cert: bool = False

    def validate(self) -> None:
        if not self.token_url:
            raise OptionError("token_url is required.")
        if not self.client_id:
            raise OptionError("client_id is required.")
        if self.auth_method not in AUTH_METHODS:
            raise OptionError(f"auth_method must be one of {', '.join(AUTH_METHODS)}; got {self.auth_method!r}.")
        if self.basic_auth_encoding not in BASIC_ENCODINGS:
            raise OptionError(f"basic_auth_encoding must be one of {', '.join(BASIC_ENCODINGS)}.")
        uses_secret = self.auth_method in ("client_secret_basic", "client_secret_post")
        uses_key = self.auth_method == "private_key_jwt"
        if uses_secret and not self.client_secret:
            raise OptionError(f"auth_method={self.auth_method} needs client_secret.")
        if not uses_secret and self.client_secret:
            raise OptionError(
                f"client_secret is not used with auth_method={self.auth_method}; remove it, "
                "so the secret is not handled for nothing."
            )
        if uses_key:
            if bool(self.private_key_path) == bool(self.private_key_content):
                raise OptionError(
                    "auth_method=private_key_jwt needs exactly one of private_key_path or private_key_content."
                )
            if not 1 <= int(self.assertion_lifetime) <= 600:
                raise OptionError("assertion_lifetime must be between 1 and 600 seconds (RFC 7523 wants it short).")
        else:
            for name in ("private_key_path", "private_key_content", "private_key_passphrase", "signing_algorithm",
                         "assertion_audience"):
                if getattr(self, name):
                    raise OptionError(f"{name} is only used with auth_method=private_key_jwt.")
        if self.auth_method == "tls_client_auth" and not self.has_client_cert:
            raise OptionError(
                "auth_method=tls_client_auth needs client_cert (and client_key unless the certificate "
                "file holds it): the client authenticates with its TLS certificate."
            )
        if not isinstance(self.extra_params, dict):
            raise OptionError("extra_params must be a dictionary of form parameter names to values.")
        clash = sorted(_RESERVED_PARAMS.intersection(self.extra_params))
        if clash:
            raise OptionError(
                f"extra_params may not set {', '.join(clash)}: the module sets them from its own options."
            )


@dataclass
class TokenRequest:
    """One prepared POST to a token endpoint."""

    url: str
    data: dict
    headers: dict


def build_token_request(creds: ClientCredentials, *, signing_key=None, now: float | None = None) -> TokenRequest:
    """The form body and headers of one token request.

    A private_key_jwt assertion is made fresh for every request (new jti and
    iat), so a retried request is never refused as a replay.
    """
    creds.validate()
    data: dict = {"grant_type": "client_credentials"}
    headers = {"Accept": "application/json"}
    if creds.scope:
        data["scope"] = creds.scope
    for name, value in creds.extra_params.items():
        data[str(name)] = value if isinstance(value, str) else str(value)

    if creds.auth_method == "client_secret_basic":
        headers["Authorization"] = basic_credentials(
            creds.client_id, creds.client_secret, form_encode=creds.basic_auth_encoding == "form"
        )
    elif creds.auth_method == "client_secret_post":
        data["client_id"] = creds.client_id
        data["client_secret"] = creds.client_secret
    elif creds.auth_method == "private_key_jwt":
        from ansible_collections.apiauth.saas.plugins.module_utils import _jws

        if signing_key is None:
            signing_key = _jws.load_private_key(
                path=creds.private_key_path,
                content=creds.private_key_content,
                passphrase=creds.private_key_passphrase,
            )
        algorithm = creds.signing_algorithm or signing_key.default_algorithm()
        signing_key.check_algorithm(algorithm)
        data["client_id"] = creds.client_id
        data["client_assertion_type"] = ASSERTION_TYPE
        data["client_assertion"] = _jws.make_client_assertion(
            client_id=creds.client_id,
            audience=creds.assertion_audience or creds.token_url,
            key=signing_key,
            algorithm=algorithm,
            key_id=creds.key_id,
            lifetime=int(creds.assertion_lifetime),
            now=now,
        )
    else:  # tls_client_auth: the certificate on the connection authenticates
        data["client_id"] = creds.client_id
    return TokenRequest(url=creds.token_url, data=data, headers=headers)


def parse_oauth_error(response) -> dict:
    """The RFC 6749 section 5.2 fields of an error response, or an empty dict.

    Only the known fields are kept, each shortened, so a verbose or hostile
    body can never flood a message.
    """
    try:
        body = response.json()
    except Exception:  # pylint: disable=broad-except
        return {}
    if not isinstance(body, dict):
        return {}
    parsed = {}
    for name in ("error", "error_description", "error_uri"):
        value = body.get(name)
        if isinstance(value, str) and value:
            parsed[name] = value[:300]
    if not parsed and isinstance(body.get("message"), str):
        parsed["error_description"] = body["message"][:300]
    return parsed


def token_endpoint_error(vendor: str, url: str, status: int, parsed: dict, hints: dict | None = None) -> TokenEndpointError:
    """A TokenEndpointError whose text says what went wrong and what to do."""
    code = parsed.get("error")
    text = f"{vendor}: POST {url} was refused by the token endpoint: HTTP {status}"
    if code:
        text += f" {code}"
    if parsed.get("error_description"):
        text += f": {parsed['error_description']}"
    hint = None
    if hints and code in hints:
        hint = hints[code]
    elif code in OAUTH_ERROR_HINTS:
        hint = OAUTH_ERROR_HINTS[code]
    elif status in (401, 403):
        hint = OAUTH_ERROR_HINTS["invalid_client"]
    return TokenEndpointError(text + ".", status=status, vendor_error=parsed, hint=hint)


def _number(value, name: str, vendor: str):
    """A JSON number or a numeric string as a float; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ResponseFormatError(f"{vendor}: the token response has {name}={value!r}, which is not a number.")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ResponseFormatError(
                f"{vendor}: the token response's {name} is not a number."
            ) from None
    else:
        raise ResponseFormatError(
            f"{vendor}: the token response has {name} of type {type(value).__name__}, not a number."
        )
    if math.isnan(number) or math.isinf(number):
        raise ResponseFormatError(f"{vendor}: the token response's {name} is not a finite number.")
    return number


def iso_utc(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def authorization_value(token_type: str, access_token: str, scheme: str | None = None) -> str:
    """The Authorization header value; RFC 6750 spells the scheme ``Bearer``.

    ``scheme`` overrides it for a vendor that documents another spelling.
    """
    if scheme is None:
        scheme = "Bearer" if token_type.lower() == "bearer" else token_type
    return f"{scheme} {access_token}"


def parse_token_response(
    body,
    *,
    vendor: str,
    requested_at: float,
    requested_scope: str | None = None,
    expected_token_type: str | None = "bearer",
    default_expires_in: int | None = None,
) -> tuple[dict, float | None]:
    """Check a successful token response and turn it into the engine's record.

    ``requested_at`` is when the request was sent, so a slow answer shortens the
    lifetime the cache believes in rather than lengthening it. Returns the record
    and its expiry (epoch seconds, None when the server did not say).
    """
    if not isinstance(body, dict):
        raise ResponseFormatError(f"{vendor}: the token response is not a JSON object.")
    token = body.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise ResponseFormatError(f"{vendor}: the token response has no access_token.")
    token_type = body.get("token_type")
    if token_type is None:
        # RFC 6749 makes token_type required, but a missing one is common and
        # every such server means Bearer.
        token_type = "Bearer"
    elif not isinstance(token_type, str) or not token_type.strip():
        raise ResponseFormatError(f"{vendor}: the token response has an invalid token_type.")
    if expected_token_type and token_type.lower() != expected_token_type.lower():
        raise ResponseFormatError(
            f"{vendor}: the token response has token_type {token_type!r}, expected {expected_token_type!r} "
            "(compared without regard to case)."
        )
    expires_in = _number(body.get("expires_in"), "expires_in", vendor)
    if expires_in is None and default_expires_in:
        expires_in = float(default_expires_in)
    if expires_in is not None and expires_in <= 0:
        raise ResponseFormatError(
            f"{vendor}: the token response says expires_in={expires_in:g}, so the token is already expired; "
            "check the server's clock and configuration."
        )
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, str):
        if isinstance(scope, list) and all(isinstance(s, str) for s in scope):
            scope = " ".join(scope)
        else:
            raise ResponseFormatError(f"{vendor}: the token response has a scope that is not a string.")
    if scope is None:
        # RFC 6749 section 5.1: an omitted scope means the one requested.
        scope = requested_scope
    expires_at = None if expires_in is None else requested_at + expires_in
    record = {
        "access_token": token,
        "token_type": token_type,
        "scope": scope,
        "obtained_at": int(requested_at),
        "expires_at": None if expires_at is None else int(expires_at),
        "lifetime": None if expires_in is None else int(expires_in),
    }
    return record, expires_at


def present_record(record: dict, *, now: float | None = None, scheme: str | None = None) -> dict:
    """The record as modules and lookups return it, with times relative to now."""
    now = time.time() if now is None else now
    expires_at = record.get("expires_at")
    out = dict(record)
    out["authorization"] = authorization_value(record["token_type"], record["access_token"], scheme)
    out["expires_in"] = None if expires_at is None else max(0, int(expires_at - now))
    out["expires_at_iso"] = None if expires_at is None else iso_utc(expires_at)
    out["obtained_at_iso"] = iso_utc(record["obtained_at"])
    return out
