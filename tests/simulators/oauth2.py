"""OAuth 2.0 client-credentials token endpoint (RFC 6749 §4.4) shared by all vendors.

The generic provider ("oauth2") is mounted at ``/oauth2/token`` with every
client authentication method; vendor modules reuse
:class:`ClientCredentialsEndpoint` with their own :class:`TokenPolicy`
(path, allowed methods, token_type spelling, default lifetime and scope).

What is checked, deliberately strictly (the point is to catch client bugs):

* POST, ``application/x-www-form-urlencoded``, no repeated parameter, no
  credentials in the URL query, ``grant_type=client_credentials``;
* exactly one client authentication method (RFC 6749 §2.3):
  ``client_secret_basic`` (RFC 6749 §2.3.1: id and secret form-urlencoded
  before base64, or taken as-is for clients registered with
  ``basic_encoding: raw``), ``client_secret_post``, ``private_key_jwt``
  (RFC 7523 §3: signature, alg allow-list, kid, iss/sub/aud/exp/iat/jti and
  jti replay) or ``tls_client_auth`` (RFC 8705: SHA-256 of the presented
  certificate);
* requested scopes within the client's registered scopes.

Vendor subclasses adapt it through small hooks: :meth:`~ClientCredentialsEndpoint._client`
(where clients are looked up), :meth:`~ClientCredentialsEndpoint._assertion_key`
(which public key verifies a client assertion),
:meth:`~ClientCredentialsEndpoint._expected_audiences` and
:meth:`~ClientCredentialsEndpoint._token_binding` (what an issued token is tied to).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .core import (
    AUTH_METHODS,
    MAIN_LISTENER,
    Client,
    IssuedToken,
    Request,
    Response,
    SimApp,
    fingerprint,
    json_response,
    load_public_key,
    normalize_cert_fingerprint,
    oauth_error,
    write_file_atomic,
)

VENDOR = "oauth2"

GRANT_TYPE = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Asymmetric algorithms only: "none" and HS* (shared-secret) are refused.
ASSERTION_ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
MAX_ASSERTION_LIFETIME = 300
# Tolerance for iat/nbf slightly ahead of the server clock.
CLOCK_LEEWAY = 30
# Parameter names that must never travel in a URL.
URL_FORBIDDEN_PARAMS = frozenset({
    "client_id", "client_secret", "client_assertion", "client_assertion_type", "password", "access_token",
})
# PyJWT: verify the signature only; claims are checked below against the
# (possibly clock-skewed) simulator clock, with precise error descriptions.
_SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "require": [],
}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer."""

    def __init__(self, status: int, error: str, description: str, challenge: bool = False) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.challenge = challenge  # add WWW-Authenticate: Basic (client tried Basic / sent nothing)


def invalid_client(description: str, challenge: bool = False, status: int = 401) -> OAuthError:
    return OAuthError(status, "invalid_client", description, challenge)


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


@dataclass(frozen=True)
class TokenPolicy:
    """What differs between vendors' client-credentials endpoints."""

    vendor: str
    token_path: str
    methods: tuple[str, ...] = AUTH_METHODS
    token_type: str = "Bearer"
    default_lifetime: int = 3600
    default_scope: str | None = None
    realm: str = "apiauth-sim"


@dataclass
class Presented:
    """Client credentials found in a request, before any validation."""

    method: str  # one of AUTH_METHODS, "none", or "a+b" when several were used
    count: int  # how many secret-bearing methods were used (Basic, body secret, assertion)
    client_id: str | None = None
    secret: str | None = None  # Basic: provisionally form-decoded
    basic_parts: tuple[str, str] | None = None  # raw (id, secret) from the Basic header
    basic_malformed: bool = False
    assertion: str | None = None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ClientCredentialsEndpoint:
    """Route handler for one vendor's token endpoint."""

    def __init__(self, policy: TokenPolicy) -> None:
        self.policy = policy

    # ---- request parsing

    @staticmethod
    def _parse_form(req: Request) -> dict[str, str]:
        content_type = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != FORM_CONTENT_TYPE:
            raise invalid_request(f"Content-Type must be {FORM_CONTENT_TYPE}")
        try:
            text = req.body.decode("utf-8")
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        except (UnicodeDecodeError, ValueError):
            raise invalid_request("malformed form-urlencoded body") from None
        form: dict[str, str] = {}
        for name, value in pairs:
            if name in form:
                raise invalid_request(f"parameter {name!r} repeated")  # RFC 6749 §3.2
            form[name] = value
        return form

    @staticmethod
    def _presented(req: Request, form: dict[str, str]) -> Presented:
        used: list[str] = []
        basic_value = None
        scheme, _sep, value = (req.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            basic_value = value.strip()
            used.append("client_secret_basic")
        if "client_secret" in form:
            used.append("client_secret_post")
        if "client_assertion" in form or "client_assertion_type" in form:
            used.append("private_key_jwt")

        if not used:
            method = "tls_client_auth" if req.peer is not None and "client_id" in form else "none"
        else:
            method = "+".join(used)
        pres = Presented(method=method, count=len(used), client_id=form.get("client_id"))

        if basic_value is not None:
            try:
                decoded = base64.b64decode(basic_value, validate=True).decode("utf-8")
                raw_id, sep, raw_secret = decoded.partition(":")
                if not sep:
                    raise ValueError("no colon")
                pres.basic_parts = (raw_id, raw_secret)
                pres.client_id = urllib.parse.unquote_plus(raw_id)
                pres.secret = urllib.parse.unquote_plus(raw_secret)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                pres.basic_malformed = True
        elif "client_secret" in form:
            pres.secret = form["client_secret"]
        if "client_assertion" in form:
            pres.assertion = form["client_assertion"]
            if pres.client_id is None:
                try:
                    claims = jwt.decode(pres.assertion, options={"verify_signature": False})
                    candidate = claims.get("sub") or claims.get("iss")
                    pres.client_id = candidate if isinstance(candidate, str) else None
                except jwt.PyJWTError:
                    pass
        return pres

    def _note(self, req: Request, form: dict[str, str], pres: Presented) -> None:
        req.audit["params"] = sorted(form)
        req.audit["auth_method"] = pres.method
        req.audit["client_id"] = pres.client_id
        req.audit["secret_fp"] = fingerprint(pres.secret)
        req.audit["assertion_fp"] = fingerprint(pres.assertion)

    def inspect(self, req: Request) -> None:
        """Audit what the client presented, even if a fault pre-empts the answer."""
        form = self._parse_form(req)
        self._note(req, form, self._presented(req, form))

    # ---- the endpoint

    def __call__(self, req: Request) -> Response:
        try:
            return self._issue(req)
        except OAuthError as exc:
            req.audit["error"] = exc.error
            req.audit["error_description"] = exc.description
            headers = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
            if exc.challenge and exc.status == 401:
                headers.append(("WWW-Authenticate", f'Basic realm="{self.policy.realm}", charset="UTF-8"'))
            return oauth_error(exc.status, exc.error, exc.description, headers)

    def _issue(self, req: Request) -> Response:
        query_names = {name for name, _v in urllib.parse.parse_qsl(req.query, keep_blank_values=True)}
        if query_names & URL_FORBIDDEN_PARAMS:
            raise invalid_request("credentials must not be sent in the URL query")
        form = self._parse_form(req)
        pres = self._presented(req, form)
        self._note(req, form, pres)
        if pres.count > 1:
            # RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
            raise invalid_request(f"more than one client authentication method used ({pres.method})")

        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("grant_type is required")
        if grant_type != GRANT_TYPE:
            raise OAuthError(400, "unsupported_grant_type", f"only grant_type={GRANT_TYPE} is supported")

        client = self._authenticate(req, form, pres)
        req.audit["client_id"] = client.client_id
        scope = self._scope(client, form.get("scope"))
        lifetime = client.token_lifetime or self.policy.default_lifetime
        token = req.app.issue_token(self.policy.vendor, client.client_id, lifetime, scope,
                                    **self._token_binding(req, client))
        req.audit["token_fp"] = fingerprint(token)
        payload: dict[str, Any] = {"access_token": token, "token_type": self.policy.token_type, "expires_in": lifetime}
        if scope is not None:
            payload["scope"] = scope
        return json_response(200, payload, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    def _scope(self, client: Client, requested: str | None) -> str | None:
        allowed_text = client.scope or self.policy.default_scope
        wanted = (requested or "").split()
        if not wanted:
            return allowed_text
        if allowed_text is not None:
            extra = sorted(set(wanted) - set(allowed_text.split()))
            if extra:
                raise OAuthError(400, "invalid_scope", f"scope not allowed for this client: {' '.join(extra)}")
        return " ".join(wanted)

    # pylint: disable-next=unused-argument
    def _token_binding(self, req: Request, client: Client) -> dict[str, Any]:
        """Extra :class:`IssuedToken` fields (environment, certificate binding...); none here."""
        return {}

    # ---- client authentication

    def _client(self, req: Request, client_id: str | None) -> Client | None:
        return req.app.get_client(self.policy.vendor, client_id)

    @staticmethod
    def _usable(client: Client | None, method: str, challenge: bool = False) -> Client:
        if client is None:
            raise invalid_client("unknown client", challenge)
        if client.revoked:
            raise invalid_client("client credentials revoked", challenge)
        if not client.allows(method):
            raise invalid_client(f"client is not allowed to authenticate with {method}", challenge)
        return client

    def _authenticate(self, req: Request, form: dict[str, str], pres: Presented) -> Client:
        method = pres.method
        if method == "none":
            client = self._client(req, form.get("client_id"))
            if client is not None and client.cert_fingerprint and client.allows("tls_client_auth"):
                raise invalid_client("client certificate required (tls_client_auth)")
            raise invalid_client("client authentication required", challenge=True)
        if method not in self.policy.methods:
            raise invalid_client(
                f"{method} is not supported by this token endpoint (supported: {', '.join(self.policy.methods)})",
                challenge=method == "client_secret_basic",
            )
        if method == "client_secret_basic":
            return self._basic(req, form, pres)
        if method == "client_secret_post":
            client = self._usable(self._client(req, form.get("client_id")), method)
            self._check_secret(client, pres.secret)
            return client
        if method == "private_key_jwt":
            return self._private_key_jwt(req, form, pres)
        return self._tls_client_auth(req, form)

    @staticmethod
    def _check_secret(client: Client, presented: str | None, challenge: bool = False) -> None:
        expected = client.client_secret
        if expected is None or presented is None or not hmac.compare_digest(
                presented.encode("utf-8"), expected.encode("utf-8")):
            raise invalid_client("invalid client secret", challenge)

    def _basic(self, req: Request, form: dict[str, str], pres: Presented) -> Client:
        if pres.basic_malformed or pres.basic_parts is None:
            raise invalid_client("malformed Basic credentials (expected base64 of id:secret)", challenge=True)
        raw_id, raw_secret = pres.basic_parts
        form_id = urllib.parse.unquote_plus(raw_id)
        # The decoding depends on the client, so find it under either spelling.
        client = self._client(req, form_id)
        if client is None or client.basic_encoding == "raw":
            alternative = self._client(req, raw_id)
            if alternative is not None and alternative.basic_encoding == "raw":
                client = alternative
        if client is not None and client.basic_encoding == "raw":
            client_id, secret = raw_id, raw_secret
        else:
            client_id, secret = form_id, urllib.parse.unquote_plus(raw_secret)
        if client is not None and client.client_id != client_id:
            client = None
        req.audit["client_id"] = client_id
        req.audit["secret_fp"] = fingerprint(secret)
        client = self._usable(client, "client_secret_basic", challenge=True)
        if "client_id" in form and form["client_id"] != client.client_id:
            raise invalid_request("client_id in the body does not match the Basic credentials")
        self._check_secret(client, secret, challenge=True)
        return client

    def _tls_client_auth(self, req: Request, form: dict[str, str]) -> Client:
        client = self._usable(self._client(req, form.get("client_id")), "tls_client_auth")
        if req.peer is None:
            raise invalid_client("client certificate required (tls_client_auth)")
        if not client.cert_fingerprint:
            raise invalid_client("no certificate registered for this client")
        if not hmac.compare_digest(req.peer.sha256, normalize_cert_fingerprint(client.cert_fingerprint)):
            raise invalid_client("client certificate does not match the registered certificate")
        return client

    def _private_key_jwt(self, req: Request, form: dict[str, str], pres: Presented) -> Client:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise invalid_client(f"client_assertion_type must be {JWT_BEARER}")
        assertion = pres.assertion
        if not assertion:
            raise invalid_client("client_assertion is missing")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise invalid_client("client_assertion is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in ASSERTION_ALGORITHMS:
            raise invalid_client(f"assertion alg {alg!r} not allowed (allowed: {', '.join(ASSERTION_ALGORITHMS)})")

        client = self._usable(self._client(req, pres.client_id), "private_key_jwt")
        key = self._assertion_key(req, client, header)
        try:
            claims = jwt.decode(assertion, key=key, algorithms=[alg], options=_SIGNATURE_ONLY)
        except jwt.InvalidSignatureError:
            raise invalid_client("assertion signature verification failed") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            # e.g. an RSA alg with an EC key; the class name says enough, never the token.
            raise invalid_client(
                f"assertion could not be verified with the registered key ({type(exc).__name__})") from None

        if claims.get("iss") != client.client_id:
            raise invalid_client("assertion iss must be the client_id")
        if claims.get("sub") != client.client_id:
            raise invalid_client("assertion sub must be the client_id")
        if "client_id" in form and form["client_id"] != client.client_id:
            raise invalid_client("client_id does not match the assertion")

        expected = self._expected_audiences(req, client)
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not set(expected) & {a for a in audiences if isinstance(a, str)}:
            raise invalid_client(f"assertion aud must be {' or '.join(expected)}")

        now = req.now()
        if not _is_number(claims.get("exp")):
            raise invalid_client("assertion exp is required (NumericDate)")
        if not _is_number(claims.get("iat")):
            raise invalid_client("assertion iat is required (NumericDate)")
        exp, iat, nbf = float(claims["exp"]), float(claims["iat"]), claims.get("nbf")
        if exp <= now:
            raise invalid_client("assertion expired (exp is in the past)")
        if iat > now + CLOCK_LEEWAY:
            raise invalid_client("assertion iat is in the future")
        if exp - iat > MAX_ASSERTION_LIFETIME:
            raise invalid_client(f"assertion lifetime exp-iat exceeds {MAX_ASSERTION_LIFETIME} s")
        if exp - now > MAX_ASSERTION_LIFETIME:
            raise invalid_client(f"assertion exp too far in the future (max {MAX_ASSERTION_LIFETIME} s)")
        if nbf is not None and (not _is_number(nbf) or nbf > now + CLOCK_LEEWAY):
            raise invalid_client("assertion not yet valid (nbf)")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise invalid_client("assertion jti is required")
        if not req.app.remember_jti(self.policy.vendor, client.client_id, jti, exp):
            raise invalid_client("assertion jti already used (replay detected)", status=400)
        return client

    # pylint: disable-next=unused-argument
    def _assertion_key(self, req: Request, client: Client, header: dict[str, Any]) -> Any:
        """Public key that must have signed the assertion: the client's registered one."""
        if client.public_key_pem is None:
            raise invalid_client("no public key registered for this client")
        if client.kid is not None and header.get("kid") != client.kid:
            raise invalid_client("assertion kid does not match the registered key id")
        return load_public_key(client.public_key_pem)

    def _expected_audiences(self, req: Request, client: Client) -> list[str]:
        """Accepted ``aud`` values: the registered audience, else the token URL as addressed."""
        return [client.audience or req.url_as_addressed()]


def add_token_endpoint(app: SimApp, policy: TokenPolicy, endpoint: ClientCredentialsEndpoint | None = None,
                       listener: str = MAIN_LISTENER) -> ClientCredentialsEndpoint:
    """Mount a client-credentials token endpoint for ``policy.vendor`` (default: the generic class)."""
    endpoint = endpoint or ClientCredentialsEndpoint(policy)
    app.add_route("POST", endpoint.policy.token_path, endpoint, vendor=policy.vendor, kind="token",
                  inspect=endpoint.inspect, listener=listener)
    return endpoint


def bearer_challenge(error: str = "invalid_token", **params: str) -> list[tuple[str, str]]:
    """RFC 6750 §3 ``WWW-Authenticate: Bearer`` header for an error answer."""
    extra = "".join(f', {name}="{value}"' for name, value in params.items())
    return [("WWW-Authenticate", f'Bearer realm="apiauth-sim", error="{error}"{extra}')]


def bearer_protected(vendor: str, handler: Callable[[Request, IssuedToken], Response]) -> Callable[[Request], Response]:
    """Wrap a sample API handler: require an unexpired bearer token issued by ``vendor``.

    The scheme is compared case-insensitively (RFC 7235 §2.1): ``bearer <token>`` works too.
    """

    def protected(req: Request) -> Response:
        scheme, _sep, token = (req.header("Authorization") or "").partition(" ")
        token = token.strip()
        is_bearer = scheme.lower() == "bearer" and bool(token)
        req.audit["auth_method"] = "bearer" if is_bearer else "none"
        req.audit["token_fp"] = fingerprint(token) if is_bearer else None
        challenge = bearer_challenge()
        if not is_bearer:
            return oauth_error(401, "invalid_token", "Authorization: Bearer <token> required", challenge)
        record = req.app.lookup_token(token, vendor)
        if record is None:
            return oauth_error(401, "invalid_token", "token unknown, expired or issued by another vendor", challenge)
        req.audit["client_id"] = record.client_id
        return handler(req, record)

    return protected


def demo_secret(special: bool = False) -> str:
    """Random secret of 48+ characters; ``special`` mixes in ``:+/`` and spaces."""
    if not special:
        return secrets.token_urlsafe(42)
    return f"{secrets.token_urlsafe(18)}:+/ {secrets.token_urlsafe(12)} /+:{secrets.token_urlsafe(9)}"


# --------------------------------------------------------------------------- generic provider


POLICY = TokenPolicy(vendor=VENDOR, token_path="/oauth2/token")


def _whoami(_req: Request, token: IssuedToken) -> Response:
    return json_response(200, {
        "vendor": token.vendor,
        "client_id": token.client_id,
        "scope": token.scope,
        "expires_at": int(token.expires_at),
    })


def register(app: SimApp) -> None:
    add_token_endpoint(app, POLICY)
    app.add_route("GET", "/oauth2/api/whoami", bearer_protected(VENDOR, _whoami), vendor=VENDOR)


def seed_demo(app: SimApp) -> dict[str, str]:
    """Demo clients, one per authentication method; returns Ansible vars."""
    state = app.state_dir
    basic_secret = demo_secret(special=True)
    post_secret = demo_secret()
    app.put_client(Client(VENDOR, "demo-basic", client_secret=basic_secret, auth_methods=("client_secret_basic",)))
    app.put_client(Client(VENDOR, "demo-post", client_secret=post_secret, auth_methods=("client_secret_post",)))

    key = ec.generate_private_key(ec.SECP256R1())
    jwt_key_path = os.path.join(state, "demo-jwt.key")
    write_file_atomic(jwt_key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    app.put_client(Client(VENDOR, "demo-jwt", public_key_pem=public_pem, kid="demo-kid-1",
                          auth_methods=("private_key_jwt",)))

    cert_path, cert_key_path, cert_fp = app.issue_client_cert("demo-mtls", directory=state)
    app.put_client(Client(VENDOR, "demo-mtls", cert_fingerprint=cert_fp, auth_methods=("tls_client_auth",)))

    return {
        "oauth2_token_url": app.base_url + POLICY.token_path,
        "demo_basic_client_id": "demo-basic",
        "demo_basic_client_secret": basic_secret,
        "demo_post_client_id": "demo-post",
        "demo_post_client_secret": post_secret,
        "demo_jwt_client_id": "demo-jwt",
        "demo_jwt_key_path": jwt_key_path,
        "demo_jwt_key_id": "demo-kid-1",
        "demo_mtls_client_id": "demo-mtls",
        "demo_mtls_cert_path": cert_path,
        "demo_mtls_key_path": cert_key_path,
    }
