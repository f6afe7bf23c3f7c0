"""ThroughLine (helpline directory API) token endpoint, mounted under ``/throughline``.

Per the vendor's documentation: ``POST oauth/token`` form-urlencoded with
``grant_type=client_credentials``, ``client_id`` and ``client_secret`` in the
body (client_secret_post only); the answer carries ``access_token``,
``token_type``, ``expires_in`` (7200 s) and ``scope: "public"``.

Deliberate quirk: ``token_type`` is the lowercase ``"bearer"`` (servers vary
and RFC 6749 §7.1 says the type is case-insensitive, so clients must not
compare it case-sensitively). Revoked clients get 401 ``invalid_client``
"client credentials revoked" (revoke with POST /_sim/clients ``revoked: true``).
"""

from __future__ import annotations

from .core import Client, IssuedToken, Request, Response, SimApp, json_response
from .oauth2 import TokenPolicy, add_token_endpoint, bearer_protected, demo_secret

VENDOR = "throughline"
PREFIX = "/throughline"

POLICY = TokenPolicy(
    vendor=VENDOR,
    token_path=PREFIX + "/oauth/token",  # the vendor's own path is /oauth/token
    methods=("client_secret_post",),
    token_type="bearer",
    default_lifetime=7200,
    default_scope="public",
    realm="throughline",
)

# Invented sample data (no real helpline details).
_HELPLINES = [
    {"id": "sim-001", "name": "Example Support Line", "country": "ZZ", "topics": ["general"], "open_24_7": True},
    {"id": "sim-002", "name": "Sample Listening Service", "country": "ZZ", "topics": ["stress"], "open_24_7": False},
    {"id": "sim-003", "name": "Placeholder Youth Chat", "country": "ZZ", "topics": ["youth"], "open_24_7": False},
]


def _helplines(_req: Request, token: IssuedToken) -> Response:
    return json_response(200, {"client_id": token.client_id, "count": len(_HELPLINES), "helplines": _HELPLINES})


def register(app: SimApp) -> None:
    add_token_endpoint(app, POLICY)
    app.add_route("GET", PREFIX + "/api/v1/helplines", bearer_protected(VENDOR, _helplines), vendor=VENDOR)


def seed_demo(app: SimApp) -> dict[str, str]:
    secret = demo_secret()
    app.put_client(Client(VENDOR, "demo-throughline", client_secret=secret))
    return {
        "throughline_token_url": app.base_url + POLICY.token_path,
        "throughline_client_id": "demo-throughline",
        "throughline_client_secret": secret,
    }
