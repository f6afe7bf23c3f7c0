"""ThoughtTrace (land-document platform) identity token endpoint, under ``/thoughttrace``.

Per the vendor's admin guide: ``POST https://identity.thoughttrace.com/connect/token``
with form data ``client_id``, ``client_secret``, ``grant_type=client_credentials``
(body only: client_secret_post, as for ThroughLine); the answer holds
``access_token`` and ``expires_in``. API calls carry ``Authorization: bearer
<token>`` -- lowercase in the vendor's text, so the sample API compares the
scheme case-insensitively (as every sample API here does).

Only the identity and API paths are modelled; ThoughtTrace documents its
client-management API only behind its own swagger page. A deactivated client
is a revoked one here (``POST /_sim/clients`` with ``revoked: true``).
"""

from __future__ import annotations

from .core import Client, IssuedToken, Request, Response, SimApp, json_response
from .oauth2 import TokenPolicy, add_token_endpoint, bearer_protected, demo_secret

VENDOR = "thoughttrace"
PREFIX = "/thoughttrace"

POLICY = TokenPolicy(
    vendor=VENDOR,
    token_path=PREFIX + "/connect/token",  # IdentityServer-style path of identity.thoughttrace.com
    methods=("client_secret_post",),
    token_type="Bearer",
    default_lifetime=3600,
    default_scope="api",
    realm="thoughttrace",
)

# Invented sample data.
_WORKSPACES = [
    {"id": "ws-sim-001", "name": "Example Basin Leases", "documents": 12},
    {"id": "ws-sim-002", "name": "Sample Title Review", "documents": 3},
]


def _workspaces(_req: Request, token: IssuedToken) -> Response:
    return json_response(200, {"client_id": token.client_id, "count": len(_WORKSPACES), "workspaces": _WORKSPACES})


def register(app: SimApp) -> None:
    add_token_endpoint(app, POLICY)
    app.add_route("GET", PREFIX + "/api/v1/workspaces", bearer_protected(VENDOR, _workspaces), vendor=VENDOR)


def seed_demo(app: SimApp) -> dict[str, str]:
    secret = demo_secret()
    app.put_client(Client(VENDOR, "demo-thoughttrace", client_secret=secret))
    return {
        "thoughttrace_identity_url": app.base_url + PREFIX,
        "thoughttrace_client_id": "demo-thoughttrace",
        "thoughttrace_client_secret": secret,
    }
