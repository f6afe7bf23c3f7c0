"""ThoughtTrace (land-document platform) identity token endpoint, under ``/thoughttrace``.

Per the vendor's admin guide: ``POST https://identity.thoughttrace.com/connect/token``
with form data ``client_id``, ``client_secret``, ``grant_type=client_credentials``
(body only: client_secret_post, as for ThroughLine); the answer holds
``access_token`` and ``expires_in``. API calls carry ``Authorization: bearer
<token>`` -- lowercase in the vendor's text, so the sample API compares the
scheme case-insensitively (as every sample API here does).

A deactivated client is a revoked one here (``POST /_sim/clients`` with
``revoked: true``).

Client management (the vendor's paths are undocumented; these are ours), with
``Authorization: Bearer <token>`` of a client registered with ``admin: true``
(missing/unknown/expired token: 401 ``invalid_token``; non-admin: 403
``insufficient_scope``):

    GET    /thoughttrace/api/clients                  200 [{"id", "name", "clientId", "active", "created"}]
    POST   /thoughttrace/api/clients  {"name"}        201 the same + "clientSecret" (only time it is shown);
                                                      409 "conflict" on a duplicate name (trimmed, any case)
    POST   /thoughttrace/api/clients/{id}/deactivate  204 (its tokens requests get 401 invalid_client)
    POST   /thoughttrace/api/clients/{id}/activate    204
    POST   /thoughttrace/api/clients/{id}/secret      200 {"clientSecret"}; the old one stops working at once
    DELETE /thoughttrace/api/clients/{id}             204; unknown id anywhere: 404 "not_found"

Clients created here are ordinary ThoughtTrace token clients. Audit: vendor
``thoughttrace-admin``, endpoint ``admin``, ``operation``
(list/create/deactivate/activate/new_secret/delete), ``client_id`` (the
caller), ``target_id``, ``target_client_id``, ``target_name``. Fault queue:
``thoughttrace-admin``. ``GET /_sim/thoughttrace/clients`` lists them (no secrets).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from .core import (Client, IssuedToken, Request, Response, SimApp, fingerprint, json_response, oauth_error,
                   utc_now_iso)
from .oauth2 import TokenPolicy, add_token_endpoint, bearer_challenge, bearer_protected, demo_secret

VENDOR = "thoughttrace"
PREFIX = "/thoughttrace"
ADMIN_QUEUE = "thoughttrace-admin"  # fault queue and audit "vendor" of the client-management API
CLIENTS_PATH = PREFIX + "/api/clients"
HAS_ADMIN_CLIENTS = True  # POST /_sim/clients accepts "admin": true for this vendor
MAX_NAME = 100

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


# --------------------------------------------------------------------------- client management


@dataclass
class ManagedClient:
    """A client created through the management API (its credentials live in ``app.clients``)."""

    id: str
    name: str
    client_id: str
    created: str

    def view(self, app: SimApp) -> dict[str, Any]:
        client = app.get_client(VENDOR, self.client_id)
        return {"id": self.id, "name": self.name, "clientId": self.client_id,
                "active": client is not None and not client.revoked, "created": self.created}


def _managed(app: SimApp) -> dict[str, ManagedClient]:
    return app.vendor_state[ADMIN_QUEUE]


def _name_key(name: str) -> str:
    return name.strip().casefold()


def _not_found(ref: str) -> Response:
    return json_response(404, {"error": "not_found", "error_description": f"no client with id {ref[:80]!r}"})


def _admin_caller(req: Request) -> Response | None:
    """None if the bearer token belongs to an active admin client, else the 401/403 answer."""
    scheme, _sep, token = (req.header("Authorization") or "").partition(" ")
    token = token.strip()
    is_bearer = scheme.lower() == "bearer" and bool(token)
    req.audit["auth_method"] = "bearer" if is_bearer else "none"
    req.audit["token_fp"] = fingerprint(token) if is_bearer else None
    if not is_bearer:
        return oauth_error(401, "invalid_token", "Authorization: Bearer <token> required", bearer_challenge())
    record = req.app.lookup_token(token, VENDOR)
    if record is None:
        return oauth_error(401, "invalid_token", "token unknown or expired", bearer_challenge())
    req.audit["client_id"] = record.client_id
    caller = req.app.get_client(VENDOR, record.client_id)
    if caller is None or caller.revoked:
        return oauth_error(401, "invalid_token", "the client of this token is gone or deactivated",
                           bearer_challenge())
    if not caller.admin:
        return oauth_error(403, "insufficient_scope", "this client may not manage API clients",
                           bearer_challenge("insufficient_scope"))
    return None


def _note_target(req: Request, operation: str) -> ManagedClient | None:
    req.audit["operation"] = operation
    ref = req.path_params.get("id")
    req.audit["target_id"] = ref
    target = _managed(req.app).get(ref) if ref is not None else None
    if target is not None:
        req.audit["target_client_id"] = target.client_id
        req.audit["target_name"] = target.name
    elif operation == "create":
        try:
            body = req.json_body()
        except Exception:  # pylint: disable=broad-except
            body = None
        name = body.get("name") if isinstance(body, dict) else None
        req.audit["target_name"] = name.strip()[:MAX_NAME] if isinstance(name, str) else None
    return target


def _list(req: Request, _target: ManagedClient | None) -> Response:
    with req.app.lock:
        views = [m.view(req.app) for m in _managed(req.app).values()]
    return json_response(200, views)


def _create(req: Request, _target: ManagedClient | None) -> Response:
    try:
        body = req.json_body()
    except Exception:  # pylint: disable=broad-except
        body = None
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        return oauth_error(400, "invalid_request", 'body must be {"name": non-empty string}')
    name = name.strip()
    if len(name) > MAX_NAME:
        return oauth_error(400, "invalid_request", f"name longer than {MAX_NAME} characters")
    app = req.app
    with app.lock:
        if any(_name_key(m.name) == _name_key(name) for m in _managed(app).values()):
            return json_response(409, {"error": "conflict",
                                       "error_description": f"a client named {name!r} already exists"})
        managed = ManagedClient(str(uuid.uuid4()), name, f"tt-{uuid.uuid4().hex[:16]}", utc_now_iso())
        secret = secrets.token_urlsafe(32)
        app.put_client(Client(VENDOR, managed.client_id, client_secret=secret))
        _managed(app)[managed.id] = managed
        view = managed.view(app)
    req.audit["target_id"] = managed.id
    req.audit["target_client_id"] = managed.client_id
    req.audit["secret_fp"] = fingerprint(secret)
    return json_response(201, dict(view, clientSecret=secret), [("Cache-Control", "no-store")])


def _set_active(active: bool) -> Callable[[Request, ManagedClient | None], Response]:
    def handler(req: Request, target: ManagedClient | None) -> Response:
        with req.app.lock:
            client = req.app.get_client(VENDOR, target.client_id) if target else None
            if target is None or client is None:
                return _not_found(req.path_params.get("id", ""))
            client.revoked = not active
        return Response(204, b"", None)

    return handler


def _new_secret(req: Request, target: ManagedClient | None) -> Response:
    with req.app.lock:
        client = req.app.get_client(VENDOR, target.client_id) if target else None
        if target is None or client is None:
            return _not_found(req.path_params.get("id", ""))
        client.client_secret = secrets.token_urlsafe(32)
        secret = client.client_secret
    req.audit["secret_fp"] = fingerprint(secret)
    return json_response(200, {"clientSecret": secret}, [("Cache-Control", "no-store")])


def _delete(req: Request, target: ManagedClient | None) -> Response:
    app = req.app
    with app.lock:
        if target is None:
            return _not_found(req.path_params.get("id", ""))
        _managed(app).pop(target.id, None)
        app.clients.pop((VENDOR, "", target.client_id), None)
    return Response(204, b"", None)


def _admin_route(operation: str, action: Callable[[Request, ManagedClient | None], Response]
                 ) -> tuple[Callable[[Request], Response], Callable[[Request], None]]:
    def inspect(req: Request) -> None:
        _note_target(req, operation)

    def handler(req: Request) -> Response:
        target = _note_target(req, operation)
        refused = _admin_caller(req)
        if refused is not None:
            return refused
        return action(req, target)

    return handler, inspect


def _sim_clients(req: Request) -> Response:
    with req.app.lock:
        views = []
        for managed in _managed(req.app).values():
            client = req.app.get_client(VENDOR, managed.client_id)
            views.append(dict(managed.view(req.app), secret_fp=fingerprint(client.client_secret) if client else None))
    return json_response(200, views)


def register(app: SimApp) -> None:
    add_token_endpoint(app, POLICY)
    app.add_route("GET", PREFIX + "/api/v1/workspaces", bearer_protected(VENDOR, _workspaces), vendor=VENDOR)
    app.vendor_state[ADMIN_QUEUE] = {}
    for method, path, operation, action in (
            ("GET", CLIENTS_PATH, "list", _list),
            ("POST", CLIENTS_PATH, "create", _create),
            ("POST", CLIENTS_PATH + "/{id}/deactivate", "deactivate", _set_active(False)),
            ("POST", CLIENTS_PATH + "/{id}/activate", "activate", _set_active(True)),
            ("POST", CLIENTS_PATH + "/{id}/secret", "new_secret", _new_secret),
            ("DELETE", CLIENTS_PATH + "/{id}", "delete", _delete)):
        handler, inspect = _admin_route(operation, action)
        app.add_route(method, path, handler, vendor=ADMIN_QUEUE, kind="admin", inspect=inspect,
                      fault_queue=ADMIN_QUEUE)
    app.add_route("GET", "/_sim/thoughttrace/clients", _sim_clients, vendor=None, kind="admin")


def seed_demo(app: SimApp) -> dict[str, str]:
    secret = demo_secret()
    admin_secret = demo_secret()
    app.put_client(Client(VENDOR, "demo-thoughttrace", client_secret=secret))
    app.put_client(Client(VENDOR, "demo-thoughttrace-admin", client_secret=admin_secret, admin=True))
    return {
        "thoughttrace_admin_client_id": "demo-thoughttrace-admin",
        "thoughttrace_admin_client_secret": admin_secret,
        "thoughttrace_identity_url": app.base_url + PREFIX,
        "thoughttrace_client_id": "demo-thoughttrace",
        "thoughttrace_client_secret": secret,
    }
