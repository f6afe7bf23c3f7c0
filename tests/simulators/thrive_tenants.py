"""THRIVE tenant API keys: the GraphQL ``generateApiKey`` mutation and HTTP Basic use of the key.

Mounted by :mod:`thrive` (not a vendor module of its own). Real vendor: an
administrator copies a bearer token (a JWT living 60 minutes) and a
correlation id out of the web console and POSTs

    mutation { generateApiKey(tokenType: "permanent", services: ["api-service"]) { validUntil, apiKey } }

to ``https://tenant.api.learnstaging.link/tenants`` (staging) or
``https://tenant.api.link/tenants`` (production); GraphQL failures come back
as HTTP 200 with an ``errors`` array. The key is then used with HTTP Basic:
user = tenant id, password = API key. Here, on the main listener:

    POST /thrive/<env>/tenants     GraphQL (graphql-core executes it), audit endpoint "graphql"
    GET  /thrive/<env>/api/v1/me   Basic tenant_id:apiKey, audit endpoint "api"

Transport-level refusals (before any GraphQL): no/invalid bearer JWT -> 401
``{"errors": [{"message": "Unauthorized"}]}``, expired -> 401 "token expired",
missing or non-UUID ``correlation-id`` -> 400, body not a JSON object with a
string ``query`` -> 400. Everything else (syntax errors, unknown fields,
resolver validation) is HTTP 200 with ``errors`` and ``data: null``.

Admin JWTs are HS256 with a per-process random secret, issued by
``POST /_sim/thrive/admin-token``; ``GET /_sim/thrive/keys`` lists the keys
generated since the audit was last cleared (like the audit-based counters;
``?all=1``: every key; keys stay valid either way), fingerprints only. Fault queue: ``thrive-tenants`` (GraphQL endpoint).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import secrets
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from graphql import GraphQLError, build_schema, graphql_sync, parse
from graphql.language import FieldNode, OperationDefinitionNode

from .core import AdminError, Request, Response, SimApp, fingerprint, json_response

FAULT_QUEUE = "thrive-tenants"  # also the audit "vendor" of both endpoints
PREFIX = "/thrive"
STATE_KEY = "thrive-tenants"
JWT_ALGORITHM = "HS256"
DEFAULT_ADMIN_TOKEN_LIFETIME = 3600  # the real console token lives 60 minutes
TOKEN_TYPES: dict[str, int] = {"permanent": 365, "temporary": 1}  # validity in days
SERVICES: tuple[str, ...] = ("api-service", "reporting-service")

SCHEMA_SDL = """
type Query {
  ping: String
}

type Mutation {
  generateApiKey(tokenType: String!, services: [String!]!): ApiKey
}

type ApiKey {
  validUntil: String!
  apiKey: String!
}
"""


@dataclass
class ApiKeyRecord:
    environment: str
    tenant_id: str
    token_type: str
    services: tuple[str, ...]
    valid_until: float  # epoch seconds
    api_key: str  # kept in memory only; never audited
    audit_epoch: int = 0  # SimApp.audit_epoch when generated

    def describe(self) -> dict[str, Any]:
        return {"environment": self.environment, "tenant_id": self.tenant_id, "token_type": self.token_type,
                "services": list(self.services), "valid_until": _iso(self.valid_until),
                "api_key_fp": fingerprint(self.api_key)}


@dataclass
class TenantsState:
    jwt_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    keys: list[ApiKeyRecord] = field(default_factory=list)


def _state(app: SimApp) -> TenantsState:
    return app.vendor_state[STATE_KEY]


def _iso(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _errors(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response(status, {"errors": [{"message": message}]}, headers)


def _unauthorized(message: str = "Unauthorized") -> Response:
    return _errors(401, message, [("WWW-Authenticate", 'Bearer realm="thrive-tenants"')])


# --------------------------------------------------------------------------- admin JWTs


def issue_admin_token(app: SimApp, tenant_id: str, expires_in: int = DEFAULT_ADMIN_TOKEN_LIFETIME) -> str:
    """An admin console JWT for ``tenant_id`` (``expires_in`` may be negative: already expired)."""
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + expires_in,
        "tenant_id": tenant_id,
        "custom:tenant_id": tenant_id,
        "token_use": "access",
    }
    return jwt.encode(claims, _state(app).jwt_secret, algorithm=JWT_ALGORITHM)


def _bearer(req: Request) -> str | None:
    scheme, _sep, token = (req.header("Authorization") or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _verified_claims(req: Request, token: str) -> dict[str, Any] | None:
    """Claims of a token signed by us (expiry NOT checked), or None."""
    try:
        claims = jwt.decode(token, _state(req.app).jwt_secret, algorithms=[JWT_ALGORITHM],
                            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "iat", "sub"]})
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    tenant = claims.get("tenant_id") or claims.get("custom:tenant_id")
    if not isinstance(tenant, str) or not tenant or not isinstance(claims.get("exp"), (int, float)):
        return None
    return claims


def _correlation_id(req: Request) -> str | None:
    value = (req.header("correlation-id") or "").strip()
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- GraphQL


def _generate_api_key(_root: Any, info: Any, tokenType: str, services: list[str]) -> dict[str, str]:  # noqa: N803
    context = info.context
    if tokenType not in TOKEN_TYPES:
        raise GraphQLError(f"invalid tokenType {tokenType!r}: expected one of {', '.join(TOKEN_TYPES)}")
    if not services:
        raise GraphQLError(f"services must not be empty: choose from {', '.join(SERVICES)}")
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise GraphQLError(f"unknown service(s) {', '.join(unknown)}: expected {', '.join(SERVICES)}")
    req: Request = context["request"]
    api_key = secrets.token_urlsafe(36)  # 48 url-safe characters
    valid_until = int(req.now()) + TOKEN_TYPES[tokenType] * 86400
    record = ApiKeyRecord(context["environment"], context["tenant_id"], tokenType, tuple(services), valid_until,
                          api_key, req.app.audit_epoch)
    with req.app.lock:
        _state(req.app).keys.append(record)
    req.audit["api_key_fp"] = fingerprint(api_key)
    req.audit["token_type"] = tokenType
    return {"validUntil": _iso(valid_until), "apiKey": api_key}


def build_tenants_schema() -> Any:
    schema = build_schema(SCHEMA_SDL)
    schema.mutation_type.fields["generateApiKey"].resolve = _generate_api_key  # type: ignore[union-attr]
    schema.query_type.fields["ping"].resolve = lambda *_: "pong"  # type: ignore[union-attr]
    return schema


SCHEMA = build_tenants_schema()


def _operation_of(body: Any) -> tuple[str | None, str | None]:
    """(operation type, top-level field names joined by "+") of a request body, or Nones."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None, None
    try:
        document = parse(body["query"])
    except GraphQLError:
        return None, None
    wanted = body.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if wanted:
        operations = [d for d in operations if d.name is not None and d.name.value == wanted]
    if len(operations) != 1:
        return None, None
    operation = operations[0]
    names = [s.name.value for s in operation.selection_set.selections
             if isinstance(s, FieldNode) and not s.name.value.startswith("__")]
    return operation.operation.value, "+".join(names) or None


def _note(environment: str, req: Request) -> Any:
    """Fill audit fields (no validation, never raises); returns the parsed body or None."""
    req.audit["environment"] = environment
    req.audit["correlation_id"] = _correlation_id(req) or ((req.header("correlation-id") or "")[:100] or None)
    token = _bearer(req)
    req.audit["auth_method"] = "bearer" if token else "none"
    req.audit["token_fp"] = fingerprint(token)
    claims = _verified_claims(req, token) if token else None
    req.audit["tenant_id"] = (claims.get("tenant_id") or claims.get("custom:tenant_id")) if claims else None
    try:
        body = req.json_body()
    except AdminError:
        body = None
    req.audit["operation_type"], req.audit["operation"] = _operation_of(body)
    req.audit.setdefault("api_key_fp", None)
    return body


def _graphql_endpoint(environment: str) -> tuple[Any, Any]:
    def inspect(req: Request) -> None:
        _note(environment, req)

    def handler(req: Request) -> Response:
        body = _note(environment, req)
        token = _bearer(req)
        if token is None:
            return _unauthorized()
        claims = _verified_claims(req, token)
        if claims is None:
            return _unauthorized()
        if float(claims["exp"]) <= req.now():
            return _unauthorized("token expired")
        correlation_id = _correlation_id(req)
        if correlation_id is None:
            return _errors(400, "correlation-id header (a UUID) is required")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _errors(400, 'body must be a JSON object {"query": string, "variables"?: object, '
                                '"operationName"?: string}')
        variables = body.get("variables")
        operation_name = body.get("operationName")
        if variables is not None and not isinstance(variables, dict):
            return _errors(400, "variables must be a JSON object")
        if operation_name is not None and not isinstance(operation_name, str):
            return _errors(400, "operationName must be a string")
        context = {"request": req, "environment": environment, "tenant_id": req.audit["tenant_id"]}
        result = graphql_sync(SCHEMA, body["query"], variable_values=variables, operation_name=operation_name,
                              context_value=context)
        if result.errors:
            # Like the vendor: any error means no data at all.
            payload = {"data": None, "errors": [error.formatted for error in result.errors]}
            req.audit["error"] = "graphql_error"
            req.audit["error_description"] = "; ".join(e.message for e in result.errors)[:300]
        else:
            payload = {"data": result.data}
        return json_response(200, payload, [("Cache-Control", "no-store")])

    return handler, inspect


# --------------------------------------------------------------------------- Basic-auth sample API


def _me(environment: str) -> Any:
    def handler(req: Request) -> Response:
        req.audit["environment"] = environment
        req.audit["tenant_id"] = None
        scheme, _sep, value = (req.header("Authorization") or "").partition(" ")
        challenge = [("WWW-Authenticate", 'Basic realm="thrive", charset="UTF-8"')]
        req.audit["auth_method"] = "basic" if scheme.lower() == "basic" else "none"
        if scheme.lower() != "basic":
            return _errors(401, "Unauthorized", challenge)
        try:
            tenant_id, sep, api_key = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return _errors(401, "Unauthorized", challenge)
        req.audit["tenant_id"] = tenant_id
        req.audit["client_id"] = tenant_id
        req.audit["secret_fp"] = fingerprint(api_key)
        if not sep:
            return _errors(401, "Unauthorized", challenge)
        now = req.now()
        with req.app.lock:
            candidates = [k for k in _state(req.app).keys if k.environment == environment and k.tenant_id == tenant_id]
        match = None
        for record in candidates:
            if hmac.compare_digest(record.api_key.encode("utf-8"), api_key.encode("utf-8")):
                match = record
        if match is None:
            return _errors(401, "Unauthorized", challenge)
        if match.valid_until <= now:
            return _errors(401, "API key expired", challenge)
        return json_response(200, {"tenant_id": tenant_id, "environment": environment,
                                   "services": list(match.services), "token_type": match.token_type,
                                   "valid_until": _iso(match.valid_until)})

    return handler


# --------------------------------------------------------------------------- control API


def _post_admin_token(req: Request) -> Response:
    body = req.json_body() or {}
    if not isinstance(body, dict):
        raise AdminError("body must be a JSON object")
    tenant_id = body.get("tenant_id")
    if not isinstance(tenant_id, str) or not tenant_id or "/" in tenant_id:
        raise AdminError("tenant_id (e.g. eu-west-2_AbCdEf123) is required")
    expires_in = body.get("expires_in", DEFAULT_ADMIN_TOKEN_LIFETIME)
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        raise AdminError("expires_in must be an integer number of seconds (negative: already expired)")
    token = issue_admin_token(req.app, tenant_id, expires_in)
    return json_response(200, {"token": token, "tenant_id": tenant_id, "expires_in": expires_in})


def _get_keys(req: Request) -> Response:
    query = dict(urllib.parse.parse_qsl(req.query))
    everything = query.get("all") in ("1", "true")
    with req.app.lock:
        keys = [k.describe() for k in _state(req.app).keys
                if query.get("environment") in (None, k.environment) and query.get("tenant_id") in (None, k.tenant_id)
                and (everything or k.audit_epoch == req.app.audit_epoch)]
    return json_response(200, {"count": len(keys), "keys": keys})


def tenants_path(environment: str) -> str:
    return f"{PREFIX}/{environment}/tenants"


def register(app: SimApp, environments: tuple[str, ...]) -> None:
    app.vendor_state[STATE_KEY] = TenantsState()
    for environment in environments:
        handler, inspect = _graphql_endpoint(environment)
        app.add_route("POST", tenants_path(environment), handler, vendor=FAULT_QUEUE, kind="graphql",
                      inspect=inspect, fault_queue=FAULT_QUEUE)
        app.add_route("GET", f"{PREFIX}/{environment}/api/v1/me", _me(environment), vendor=FAULT_QUEUE, kind="api")
    app.add_route("POST", "/_sim/thrive/admin-token", _post_admin_token, vendor=None, kind="admin")
    app.add_route("GET", "/_sim/thrive/keys", _get_keys, vendor=None, kind="admin")


def seed_demo(app: SimApp, tenant_id: str) -> dict[str, str]:
    return {
        "thrive_staging_tenants_url": app.base_url + tenants_path("staging"),
        "thrive_production_tenants_url": app.base_url + tenants_path("production"),
        "thrive_admin_token": issue_admin_token(app, tenant_id),
    }
