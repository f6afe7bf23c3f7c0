"""Thredd (card processing) REST Connect: token endpoint, sample API and JWKS.

The real platform has one identity service (``https://threddid.com/oauth2/token``)
and four API hosts: UAT and production, each over TLS or mTLS. Here each
environment x connectivity is an extra HTTPS listener (own port on 127.0.0.1,
same CA and server certificate):

    thredd-uat-tls          client certificate optional (like the main listener)
    thredd-uat-mtls         client certificate REQUIRED (no cert: handshake fails)
    thredd-production-tls
    thredd-production-mtls

and every one of them serves, at its root:

* ``POST /oauth2/token`` -- form-urlencoded client credentials with either
  ``client_id`` + ``client_secret`` in the body (client_secret_post; a Basic
  header is refused with a hint to use the body) or ``private_key_jwt``, the
  assertion verified with the generic provider's code but against the public
  key found by the assertion's ``kid`` (required) in the client's
  ORGANISATION'S JWKS; ``aud`` = this listener's token URL as addressed or the
  client's registered ``audience``. Clients are per environment (UAT
  credentials are unknown to production). On an mTLS listener a transport
  certificate is required, must match the client's ``cert_fingerprint`` if
  one is registered, and the token is bound to its SHA-256 (RFC 8705 §3).
  Answer: ``{access_token, token_type: "Bearer", expires_in: 3600}``.
* ``GET /core/api/v1/products`` -- bearer token of the same environment; on
  mTLS the certificate the token is bound to; ``X-Region`` 0, 1 or 2.

The organisation JWKS (real: ``http://jwks.threddid.com/<org>/jwks.json``) is
served on the MAIN listener at ``/thredd/jwks/<organisation_id>/jwks.json``;
``/_sim/jwks`` (admin) replaces or trims it, so tests can publish a wrong key
under the right kid.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from typing import Any, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import certs
from .core import (
    AdminError,
    Client,
    IssuedToken,
    Request,
    Response,
    SimApp,
    json_response,
    load_public_key,
    normalize_cert_fingerprint,
    oauth_error,
    write_file_atomic,
)
from .oauth2 import (
    ClientCredentialsEndpoint,
    Presented,
    TokenPolicy,
    add_token_endpoint,
    bearer_challenge,
    bearer_protected,
    demo_secret,
    invalid_client,
)

VENDOR = "thredd"
ENVIRONMENTS: tuple[str, ...] = ("uat", "production")
CONNECTIVITIES: tuple[str, ...] = ("tls", "mtls")
TOKEN_PATH = "/oauth2/token"
API_PATH = "/core/api/v1/products"
JWKS_PATH = "/thredd/jwks/{organisation_id}/jwks.json"  # on the main listener
# X-Region values (vendor-docs): 0 default, 1 EMEA, 2 APAC.
REGIONS = {"0": "default", "1": "EMEA", "2": "APAC"}
METHODS: tuple[str, ...] = ("client_secret_post", "private_key_jwt")

POLICY = TokenPolicy(
    vendor=VENDOR,
    token_path=TOKEN_PATH,
    methods=METHODS,
    token_type="Bearer",
    default_lifetime=3600,  # "Access tokens are valid for one hour"
    realm="thredd",
)

# Default JWS algorithm announced for a published key, by key type / curve.
_EC_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
_EC_DEFAULT_ALG = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

# Invented sample data.
_PRODUCTS = [
    {"product_id": "SIM-PRD-001", "name": "Example Prepaid Card", "currency": "GBP", "status": "active"},
    {"product_id": "SIM-PRD-002", "name": "Sample Debit Programme", "currency": "EUR", "status": "active"},
]


def listener_name(environment: str, connectivity: str) -> str:
    return f"thredd-{environment}-{connectivity}"


# --------------------------------------------------------------------------- JWK helpers


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int, length: int | None = None) -> str:
    length = length or max(1, (value.bit_length() + 7) // 8)
    return _b64url(value.to_bytes(length, "big"))


def _b64url_decode_uint(text: Any, member: str) -> int:
    if not isinstance(text, str) or not text:
        raise ValueError(f"JWK member {member!r} must be a non-empty base64url string")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"JWK member {member!r} is not base64url") from None
    return int.from_bytes(raw, "big")


def public_jwk(public_key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    """RFC 7517 public JWK (``use: sig``) of an RSA or EC public key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": alg or "RS256",
                "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        crv = {cls.name: name for name, cls in _EC_CURVES.items()}.get(public_key.curve.name)
        if crv is None:
            raise ValueError(f"unsupported EC curve {public_key.curve.name}")
        size = (public_key.curve.key_size + 7) // 8
        numbers = public_key.public_numbers()
        return {"kty": "EC", "kid": kid, "use": "sig", "alg": alg or _EC_DEFAULT_ALG[crv], "crv": crv,
                "x": _b64url_uint(numbers.x, size), "y": _b64url_uint(numbers.y, size)}
    raise ValueError("only RSA and EC keys can be published in a Thredd JWKS")


def jwk_public_key(jwk: dict[str, Any]) -> Any:
    """Public key object of an RSA or EC JWK (ValueError if unusable)."""
    kty = jwk.get("kty")
    if kty == "RSA":
        n, e = _b64url_decode_uint(jwk.get("n"), "n"), _b64url_decode_uint(jwk.get("e"), "e")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if kty == "EC":
        curve = _EC_CURVES.get(jwk.get("crv"))  # type: ignore[arg-type]
        if curve is None:
            raise ValueError(f"unsupported JWK crv {jwk.get('crv')!r} (P-256, P-384, P-521)")
        x, y = _b64url_decode_uint(jwk.get("x"), "x"), _b64url_decode_uint(jwk.get("y"), "y")
        return ec.EllipticCurvePublicNumbers(x, y, curve()).public_key()
    raise ValueError(f"unsupported JWK kty {kty!r} (RSA or EC)")


def normalise_jwk(entry: Any) -> dict[str, Any]:
    """Admin input -> published JWK: a public JWK, or ``{"kid", "public_key_pem", "alg"?}``."""
    if not isinstance(entry, dict):
        raise AdminError("each key must be a JSON object (a JWK, or {kid, public_key_pem, alg?})")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AdminError("each key needs a kid (non-empty string)")
    alg = entry.get("alg")
    if alg is not None and not isinstance(alg, str):
        raise AdminError("alg must be a string")
    if "public_key_pem" in entry:
        try:
            return public_jwk(load_public_key(str(entry["public_key_pem"])), kid, alg)
        except ValueError as exc:
            raise AdminError(f"key {kid!r}: {exc}") from None
    private = sorted(_PRIVATE_JWK_MEMBERS & set(entry))
    if private:
        raise AdminError(f"key {kid!r}: private members {private} must never be published")
    try:
        jwk_public_key(entry)
    except ValueError as exc:
        raise AdminError(f"key {kid!r}: {exc}") from None
    jwk = dict(entry)
    jwk.setdefault("use", "sig")
    return jwk


def _jwks(app: SimApp) -> dict[str, list[dict[str, Any]]]:
    """organisation_id -> published keys (caller holds app.lock)."""
    return app.vendor_state.setdefault(VENDOR, {"jwks": {}})["jwks"]


def publish_key(app: SimApp, organisation_id: str, jwk: dict[str, Any]) -> None:
    """Add ``jwk`` to the organisation's JWKS, replacing any key with the same kid."""
    with app.lock:
        keys = _jwks(app).setdefault(organisation_id, [])
        keys[:] = [k for k in keys if k.get("kid") != jwk["kid"]] + [jwk]


def find_key(app: SimApp, organisation_id: str, kid: str) -> dict[str, Any] | None:
    with app.lock:
        for jwk in _jwks(app).get(organisation_id, []):
            if jwk.get("kid") == kid:
                return dict(jwk)
    return None


# --------------------------------------------------------------------------- token endpoint


class ThreddTokenEndpoint(ClientCredentialsEndpoint):
    """The generic endpoint, specialised for one environment x connectivity listener."""

    def __init__(self, environment: str, connectivity: str) -> None:
        super().__init__(POLICY)
        self.environment = environment
        self.connectivity = connectivity
        self.listener = listener_name(environment, connectivity)

    def _client(self, req: Request, client_id: str | None) -> Client | None:
        client = req.app.get_client(VENDOR, client_id, self.environment)
        if client is None and client_id is not None:
            elsewhere = req.app.client_partitions(VENDOR, client_id)
            if elsewhere:
                raise invalid_client(
                    f"unknown client in the {self.environment} environment: each environment needs its own "
                    f"credentials (this client id is registered for {', '.join(elsewhere)})")
        return client

    def _authenticate(self, req: Request, form: dict[str, str], pres: Presented) -> Client:
        if pres.method == "client_secret_basic":
            raise invalid_client("Thredd does not accept client credentials in an HTTP Basic header: send "
                                 "client_id and client_secret in the form body", challenge=True)
        if pres.method in ("none", "tls_client_auth"):
            raise invalid_client("client authentication required: client_id and client_secret in the form body, "
                                 "or a private_key_jwt client_assertion")
        mtls = self.connectivity == "mtls"
        if mtls and req.peer is None:  # CERT_REQUIRED makes this unreachable, but say it clearly
            raise invalid_client("a transport certificate is required on the mTLS endpoint")
        client = super()._authenticate(req, form, pres)
        if mtls and client.cert_fingerprint and req.peer is not None and not hmac.compare_digest(
                req.peer.sha256, normalize_cert_fingerprint(client.cert_fingerprint)):
            raise invalid_client("transport certificate does not match the one registered for this client")
        return client

    def _assertion_key(self, req: Request, client: Client, header: dict[str, Any]) -> Any:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise invalid_client("assertion kid header is required (the key id of your signing key in your "
                                 "organisation's JWKS)")
        if not client.organisation_id:
            raise invalid_client("no organisation registered for this client")
        jwk = find_key(req.app, client.organisation_id, kid)
        if jwk is None:
            raise invalid_client(f"kid {kid[:64]!r} not found in the JWKS of organisation {client.organisation_id}")
        if jwk.get("alg") and jwk["alg"] != header.get("alg"):
            raise invalid_client(f"assertion alg does not match the alg {jwk['alg']} published for this kid")
        try:
            return jwk_public_key(jwk)
        except ValueError:
            raise invalid_client("the JWKS entry for this kid is not a usable public key") from None

    def _expected_audiences(self, req: Request, client: Client) -> list[str]:
        expected = [req.url_as_addressed()]
        if client.audience:
            expected.append(client.audience)
        return expected

    def _token_binding(self, req: Request, client: Client) -> dict[str, Any]:
        bound = req.peer.sha256 if self.connectivity == "mtls" and req.peer is not None else None
        req.audit["token_bound_to_cert"] = bound is not None
        return {"environment": self.environment, "connectivity": self.connectivity, "listener": self.listener,
                "cert_sha256": bound}


# --------------------------------------------------------------------------- sample API and JWKS


def _region_for_audit(raw: str | None) -> int | str | None:
    if raw is None:
        return None
    return int(raw.strip()) if raw.strip() in REGIONS else raw[:32]


def _products(environment: str, connectivity: str) -> Callable[[Request, IssuedToken], Response]:
    def handler(req: Request, token: IssuedToken) -> Response:
        challenge = bearer_challenge()
        if token.environment != environment:
            return oauth_error(401, "invalid_token", "token was not issued for this environment", challenge)
        presented = req.peer.sha256 if req.peer is not None else None
        if connectivity == "mtls" and token.cert_sha256 is None:
            return oauth_error(401, "invalid_token", "token is not bound to a transport certificate: get it from "
                                                     "this environment's mTLS token endpoint", challenge)
        if token.cert_sha256 is not None and (
                presented is None or not hmac.compare_digest(presented, token.cert_sha256)):
            return oauth_error(401, "invalid_token", "the client certificate is not the one this token is bound to",
                               challenge)
        raw = req.header("X-Region")
        if raw is None:
            return oauth_error(400, "invalid_request", "X-Region header is required: 0 (default), 1 (EMEA) or 2 (APAC)")
        if raw.strip() not in REGIONS:
            return oauth_error(400, "invalid_request", "X-Region must be 0 (default), 1 (EMEA) or 2 (APAC)")
        return json_response(200, {
            "environment": environment,
            "connectivity": connectivity,
            "region": int(raw.strip()),
            "client_id": token.client_id,
            "products": _PRODUCTS,
        })

    return handler


def _api(environment: str, connectivity: str) -> Callable[[Request], Response]:
    protected = bearer_protected(VENDOR, _products(environment, connectivity))

    def handler(req: Request) -> Response:
        req.audit["region"] = _region_for_audit(req.header("X-Region"))
        return protected(req)

    return handler


def _get_jwks(req: Request) -> Response:
    organisation_id = req.path_params["organisation_id"]
    req.audit["organisation_id"] = organisation_id
    with req.app.lock:
        keys = _jwks(req.app).get(organisation_id)
        keys = [dict(k) for k in keys] if keys is not None else None
    if keys is None:
        return json_response(404, {"error": "not_found", "error_description": "unknown organisation"})
    return json_response(200, {"keys": keys})


# --------------------------------------------------------------------------- admin


def _admin_body(req: Request) -> dict[str, Any]:
    body = req.json_body()
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    organisation_id = body.get("organisation_id")
    if not isinstance(organisation_id, str) or not organisation_id or "/" in organisation_id:
        raise AdminError("organisation_id (non-empty string without '/') is required")
    return body


def _post_jwks(req: Request) -> Response:
    """Replace an organisation's JWKS: {"organisation_id", "keys": [JWK | {kid, public_key_pem, alg?}]}."""
    body = _admin_body(req)
    keys = body.get("keys")
    if not isinstance(keys, list):
        raise AdminError("keys must be a list")
    published = [normalise_jwk(entry) for entry in keys]
    with req.app.lock:
        _jwks(req.app)[body["organisation_id"]] = published
    return json_response(200, {"ok": True, "organisation_id": body["organisation_id"], "keys": published})


def _delete_jwks(req: Request) -> Response:
    """{"organisation_id", "kid"?}: drop one key, or the whole organisation (its JWKS then 404s)."""
    body = _admin_body(req)
    kid = body.get("kid")
    with req.app.lock:
        jwks = _jwks(req.app)
        if kid is None:
            removed = len(jwks.pop(body["organisation_id"], []))
        else:
            keys = jwks.get(body["organisation_id"], [])
            kept = [k for k in keys if k.get("kid") != kid]
            removed = len(keys) - len(kept)
            if body["organisation_id"] in jwks:
                jwks[body["organisation_id"]] = kept
    return json_response(200, {"ok": True, "removed": removed})


def _get_all_jwks(req: Request) -> Response:
    with req.app.lock:
        return json_response(200, {org: {"keys": keys} for org, keys in _jwks(req.app).items()})


def admit_client(app: SimApp, client: Client) -> None:
    """Validate a Thredd client; publish its public key (if any) in its organisation's JWKS."""
    if client.environment not in ENVIRONMENTS:
        raise AdminError(f"thredd clients need environment {' or '.join(ENVIRONMENTS)}")
    if client.tenant_id is not None:
        raise AdminError("thredd clients have no tenant_id")
    if client.auth_methods is not None and not set(client.auth_methods) <= set(METHODS):
        raise AdminError(f"thredd supports only {', '.join(METHODS)}")
    if client.organisation_id is not None and (not client.organisation_id or "/" in client.organisation_id):
        raise AdminError("organisation_id must be a non-empty string without '/'")
    if client.public_key_pem is not None:
        if not client.organisation_id or not client.kid:
            raise AdminError("a thredd private_key_jwt client needs organisation_id and kid: its public key is "
                             "published in that organisation's JWKS under that kid")
        publish_key(app, client.organisation_id, public_jwk(load_public_key(client.public_key_pem), client.kid))
    if client.client_secret is None and client.organisation_id is None:
        raise AdminError("a thredd client needs client_secret, or organisation_id (+ public_key_pem, kid)")


# --------------------------------------------------------------------------- mounting and demo


def register(app: SimApp) -> None:
    for environment in ENVIRONMENTS:
        for connectivity in CONNECTIVITIES:
            name = listener_name(environment, connectivity)
            app.add_listener(name, client_cert="required" if connectivity == "mtls" else "optional", vendor=VENDOR,
                             attrs={"environment": environment, "connectivity": connectivity})
            add_token_endpoint(app, POLICY, ThreddTokenEndpoint(environment, connectivity), listener=name)
            app.add_route("GET", API_PATH, _api(environment, connectivity), vendor=VENDOR, listener=name)
    app.add_route("GET", JWKS_PATH, _get_jwks, vendor=VENDOR, kind="jwks")
    app.add_route("POST", "/_sim/jwks", _post_jwks, vendor=None, kind="admin")
    app.add_route("GET", "/_sim/jwks", _get_all_jwks, vendor=None, kind="admin")
    app.add_route("DELETE", "/_sim/jwks", _delete_jwks, vendor=None, kind="admin")


def seed_demo(app: SimApp) -> dict[str, str]:
    """UAT secret + private_key_jwt clients, a production secret client, a transport certificate."""
    state = app.state_dir
    uat_secret, production_secret = demo_secret(), demo_secret()
    app.put_client(Client(VENDOR, "demo-thredd-uat", client_secret=uat_secret, environment="uat",
                          auth_methods=("client_secret_post",)))
    app.put_client(Client(VENDOR, "demo-thredd-prod", client_secret=production_secret, environment="production",
                          auth_methods=("client_secret_post",)))

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = certs.private_key_pem(key)
    key_path = os.path.join(state, "demo-thredd-signing.key")
    write_file_atomic(key_path, key_pem, 0o600)
    cert_path = os.path.join(state, "demo-thredd-signing.pem")
    write_file_atomic(cert_path, certs.self_signed(key_pem, "demo-thredd-uat-jwt", *certs.validity(350)), 0o600)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    jwt_client = Client(VENDOR, "demo-thredd-uat-jwt", public_key_pem=public_pem, kid="demo-thredd-kid",
                        organisation_id="demo-org-1", environment="uat", auth_methods=("private_key_jwt",))
    admit_client(app, jwt_client)
    app.put_client(jwt_client)

    # CA-signed, no cert_fingerprint registered on the demo clients: any CA-signed cert works on mTLS.
    transport_cert, transport_key, _digest = app.issue_client_cert("demo-thredd-transport", directory=state,
                                                                   days_valid=350)
    return {
        "thredd_uat_tls_url": app.listener_url(listener_name("uat", "tls")),
        "thredd_uat_mtls_url": app.listener_url(listener_name("uat", "mtls")),
        "thredd_production_tls_url": app.listener_url(listener_name("production", "tls")),
        "thredd_production_mtls_url": app.listener_url(listener_name("production", "mtls")),
        "thredd_jwks_base_url": app.base_url + "/thredd/jwks",
        "thredd_uat_client_id": "demo-thredd-uat",
        "thredd_uat_client_secret": uat_secret,
        "thredd_uat_jwt_client_id": "demo-thredd-uat-jwt",
        "thredd_signing_key_path": key_path,
        "thredd_signing_cert_path": cert_path,
        "thredd_key_id": "demo-thredd-kid",
        "thredd_organisation_id": "demo-org-1",
        "thredd_production_client_id": "demo-thredd-prod",
        "thredd_production_client_secret": production_secret,
        "thredd_transport_cert_path": transport_cert,
        "thredd_transport_key_path": transport_key,
    }
