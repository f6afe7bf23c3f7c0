"""Test-only control API under ``/_sim/`` (same loopback listener, not audited).

    GET    /_sim/health            {"ok": true, "base_url", "vendors": {name: {"token_path", "listeners"}},
                                    "listeners": {name: {"url", "port", "client_cert", "vendor", ...attrs}}}
    POST   /_sim/clients           register/replace a client (see _client_from_json), or revoke
    GET    /_sim/clients           registered clients (no secrets, fingerprints only)
    POST   /_sim/faults            {"vendor": name|"*", "faults": [...]} appended FIFO
    GET    /_sim/faults            pending faults per vendor queue
    DELETE /_sim/faults            clear every queue (and the staged batches)
    POST   /_sim/faults/release    let every request held by a "delay" fault with "hold": true go on
    POST   /_sim/faults/staged     {"vendor": name|"*", "batches": [[...], ...]}: batches kept aside
    GET    /_sim/faults/next       ?vendor=name: clear that queue, load its next staged batch;
                                   {"loaded": n, "staged": left}. A GET so that a playbook can step
                                   through cases with the url lookup, without a module task per step.
    GET    /_sim/audit             audit entries (JSON list)
    DELETE /_sim/audit             clear audit (memory and file)
    POST   /_sim/certs             {"name", "days_valid"?, "expired"?} -> issue a client cert signed by the CA;
                                   {"cert_path", "key_path", "fingerprint", "not_before", "not_after"}
    DELETE /_sim/tokens            {"vendor"?} forget issued tokens (they stop working on sample APIs)

``POST /_sim/clients`` takes ``"admin": true`` for vendors whose module sets
``HAS_ADMIN_CLIENTS`` (ThoughtTrace: its tokens may use the client-management API).

Vendor modules may add their own admin routes (Thredd: ``/_sim/jwks``) and an
``admit_client(app, client)`` hook that validates vendor-specific client fields
(environment, tenant_id, organisation_id) before a client is stored.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from . import certs
from .core import (
    AUTH_METHODS,
    AdminError,
    Client,
    Request,
    Response,
    SimApp,
    json_response,
    load_public_key,
    normalize_cert_fingerprint,
    partition_of,
)

CLIENT_FIELDS = frozenset({
    "vendor", "client_id", "client_secret", "auth_methods", "public_key_pem", "kid", "cert_fingerprint",
    "token_lifetime", "scope", "basic_encoding", "audience", "revoked",
    "environment", "tenant_id", "organisation_id", "admin",
})
# Fields that only mean something to vendors with an admit_client hook.
VENDOR_FIELDS = ("environment", "tenant_id", "organisation_id")
# {"vendor", "client_id", "revoked"} (plus the partition fields) flips an existing client's flag.
REVOKE_FIELDS = frozenset({"vendor", "client_id", "revoked", "environment", "tenant_id"})


def register(app: SimApp) -> None:
    routes = [
        ("GET", "/_sim/health", _health),
        ("POST", "/_sim/clients", _post_client),
        ("GET", "/_sim/clients", _get_clients),
        ("POST", "/_sim/faults", _post_faults),
        ("GET", "/_sim/faults", _get_faults),
        ("DELETE", "/_sim/faults", _delete_faults),
        ("POST", "/_sim/faults/release", _release_held),
        ("POST", "/_sim/faults/staged", _post_staged_faults),
        ("GET", "/_sim/faults/next", _next_faults),
        ("GET", "/_sim/audit", _get_audit),
        ("DELETE", "/_sim/audit", _delete_audit),
        ("POST", "/_sim/certs", _post_cert),
        ("DELETE", "/_sim/tokens", _delete_tokens),
    ]
    for method, path, handler in routes:
        app.add_route(method, path, handler, vendor=None, kind="admin")


def object_body(req: Request) -> dict[str, Any]:
    body = req.json_body()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    return body


def _health(req: Request) -> Response:
    app = req.app
    vendors = {
        name: {"token_path": app.token_paths.get(name),
               "listeners": [n for n, spec in app.listeners.items() if spec.vendor == name]}
        for name in app.vendors
    }
    listeners = {name: spec.describe() for name, spec in app.listeners.items()}
    return json_response(200, {"ok": True, "base_url": app.base_url, "vendors": vendors, "listeners": listeners})


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise AdminError(f"{name} must be a string")
    return value


def _client_from_json(app: SimApp, body: dict[str, Any]) -> Client:
    unknown = set(body) - CLIENT_FIELDS
    if unknown:
        raise AdminError(f"unknown client fields: {sorted(unknown)}")
    vendor = body.get("vendor")
    if vendor not in app.vendors:
        raise AdminError(f"unknown vendor {vendor!r}; known: {sorted(app.vendors)}")
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise AdminError("client_id (non-empty string) is required")

    methods = body.get("auth_methods")
    if methods is not None:
        if not isinstance(methods, list) or not all(m in AUTH_METHODS for m in methods):
            raise AdminError(f"auth_methods must be a list drawn from {list(AUTH_METHODS)}")
        methods = tuple(methods)

    public_key_pem = _optional_str(body, "public_key_pem")
    if public_key_pem is not None:
        try:
            load_public_key(public_key_pem)
        except ValueError as exc:
            raise AdminError(str(exc)) from None

    fingerprint = _optional_str(body, "cert_fingerprint")
    if fingerprint is not None:
        fingerprint = normalize_cert_fingerprint(fingerprint)
        if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise AdminError("cert_fingerprint must be a SHA-256 hex digest")

    lifetime = body.get("token_lifetime")
    if lifetime is not None and (not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 1):
        raise AdminError("token_lifetime must be a positive integer (seconds)")

    encoding = body.get("basic_encoding", "form")
    if encoding not in ("form", "raw"):
        raise AdminError('basic_encoding must be "form" or "raw"')

    revoked = body.get("revoked", False)
    if not isinstance(revoked, bool):
        raise AdminError("revoked must be a boolean")

    admin_flag = body.get("admin", False)
    if not isinstance(admin_flag, bool):
        raise AdminError("admin must be a boolean")
    if admin_flag and not getattr(app.vendors[vendor], "HAS_ADMIN_CLIENTS", False):
        raise AdminError(f"vendor {vendor!r} has no admin clients")

    client = Client(
        vendor=vendor,
        client_id=client_id,
        client_secret=_optional_str(body, "client_secret"),
        auth_methods=methods,
        public_key_pem=public_key_pem,
        kid=_optional_str(body, "kid"),
        cert_fingerprint=fingerprint,
        token_lifetime=lifetime,
        scope=_optional_str(body, "scope"),
        basic_encoding=encoding,
        audience=_optional_str(body, "audience"),
        revoked=revoked,
        environment=_optional_str(body, "environment"),
        tenant_id=_optional_str(body, "tenant_id"),
        organisation_id=_optional_str(body, "organisation_id"),
        admin=admin_flag,
    )
    admit = getattr(app.vendors[vendor], "admit_client", None)
    if admit is not None:
        admit(app, client)  # raises AdminError; may normalise fields or publish keys
    else:
        used = [name for name in VENDOR_FIELDS if getattr(client, name) is not None]
        if used:
            raise AdminError(f"vendor {vendor!r} does not use {', '.join(used)}")
    return client


def _post_client(req: Request) -> Response:
    body = object_body(req)
    app = req.app
    # {"vendor", "client_id", "revoked": bool} alone on an existing client flips
    # its revoked flag and keeps its credentials (so "right secret, but revoked"
    # can be tested); anything else registers or replaces the client.
    if set(body) <= REVOKE_FIELDS and "revoked" in body:
        with app.lock:
            partition = partition_of(_optional_str(body, "environment"), _optional_str(body, "tenant_id"))
            existing = app.get_client(str(body.get("vendor")), body.get("client_id"), partition)
            if existing is not None:
                if not isinstance(body["revoked"], bool):
                    raise AdminError("revoked must be a boolean")
                existing.revoked = body["revoked"]
                return json_response(200, {"ok": True, "client": existing.describe()})
    client = _client_from_json(app, body)
    app.put_client(client)
    return json_response(200, {"ok": True, "client": client.describe()})


def _get_clients(req: Request) -> Response:
    with req.app.lock:
        clients = [c.describe() for c in req.app.clients.values()]
    return json_response(200, clients)


def _post_faults(req: Request) -> Response:
    body = object_body(req)
    vendor = body.get("vendor")
    faults = body.get("faults")
    if not isinstance(vendor, str) or not isinstance(faults, list):
        raise AdminError('body must be {"vendor": name|"*", "faults": [ {...}, ... ]}')
    added = req.app.add_faults(vendor, faults)
    return json_response(200, {"ok": True, "added": added})


def _post_staged_faults(req: Request) -> Response:
    body = object_body(req)
    vendor = body.get("vendor")
    batches = body.get("batches")
    if not isinstance(vendor, str) or not isinstance(batches, list) or not all(isinstance(b, list) for b in batches):
        raise AdminError('body must be {"vendor": name|"*", "batches": [[{...}, ...], ...]}')
    return json_response(200, {"ok": True, "staged": req.app.stage_faults(vendor, batches)})


def _next_faults(req: Request) -> Response:
    vendor = urllib.parse.parse_qs(req.query).get("vendor", [""])[0]
    loaded, left = req.app.next_staged_faults(vendor)
    return json_response(200, {"loaded": loaded, "staged": left})


def _release_held(req: Request) -> Response:
    req.app.hold_released.set()
    return json_response(200, {"ok": True})


def _get_faults(req: Request) -> Response:
    return json_response(200, req.app.pending_faults())


def _delete_faults(req: Request) -> Response:
    req.app.clear_faults()
    return json_response(200, {"ok": True})


def _get_audit(req: Request) -> Response:
    return json_response(200, req.app.audit_entries())


def _delete_audit(req: Request) -> Response:
    req.app.clear_audit()
    return json_response(200, {"ok": True})


def _post_cert(req: Request) -> Response:
    body = object_body(req)
    name = body.get("name")
    if not isinstance(name, str):
        raise AdminError("name (string) is required")
    days_valid = body.get("days_valid")
    if days_valid is not None and (not isinstance(days_valid, (int, float)) or isinstance(days_valid, bool)
                                   or not 0 < days_valid <= 36500):
        raise AdminError("days_valid must be a number of days within 0..36500")
    expired = body.get("expired", False)
    if not isinstance(expired, bool):
        raise AdminError("expired must be a boolean")
    cert_path, key_path, digest = req.app.issue_client_cert(name, days_valid=days_valid, expired=expired)
    with open(cert_path, "rb") as handle:
        not_before, not_after = certs.cert_validity(handle.read())
    return json_response(200, {"cert_path": cert_path, "key_path": key_path, "fingerprint": digest,
                               "not_before": not_before, "not_after": not_after})


def _delete_tokens(req: Request) -> Response:
    body = object_body(req)
    vendor = _optional_str(body, "vendor")
    return json_response(200, {"ok": True, "expired": req.app.expire_tokens(vendor)})
