"""ThoughtSpot REST API v2.0 authentication, under ``/thoughtspot`` on the main listener.

A client's ``host`` is ``<base_url>/thoughtspot``; every endpoint below is
relative to ``/thoughtspot/api/rest/2.0/``. Request bodies are JSON objects
(``Content-Type: application/json``); anything else is 400 code 10002. The
cluster has the Orgs feature (org 0 "Primary" always exists).

Errors use the vendor's envelope, ``{"error": {"message": {"code",
"incident_id_guid", "trace_id_guid", "debug"}}}``, with codes 10002 (invalid
request; also unknown, malformed, expired or revoked tokens in a body), 10097
(authentication failed) and 10023 (forbidden, locked user, not a member of the
org, not an administrator).

Token endpoints (audit ``endpoint: "token"``; no prior authentication):

    POST auth/token/full     {username, password | secret_key, validity_time_in_sec?, org_id? (int),
                              email?, display_name?, auto_create? (false), group_identifiers? [str]}
                             200 {token, creation_time_in_millis, expiration_time_in_millis,
                                  scope{access_type "FULL", org_id, metadata_id null},
                                  valid_for_user_id, valid_for_username}
    POST auth/token/object   the same plus object_id (str): access_type "REPORT_BOOK_VIEW",
                             metadata_id = object_id
    POST auth/token/custom   {username, persist_option (REPLACE|APPEND|NONE|RESET), password | secret_key,
                              validity_time_in_sec?, org_identifier? (str: id as text or name),
                              filter_rules? [{column_name, operator, values}], parameter_values?
                              [{name, values}], variable_values? [{name, values}], objects?
                              [{type?, identifier}], email?, display_name?, groups? [{identifier}],
                              auto_create? (TRUE)}
                             200 {id, token, org{id, name}, user{id, name}, creation_time_in_millis,
                                  expiration_time_in_millis}

Checks, in order: types (400 10002; unknown org 400 10002) -> MFA with a
password (401 10097) -> credentials (``secret_key`` wins over ``password``;
the key must be the cluster's or the target org's, with trusted
authentication ENABLED there; 401 10097) -> user (unknown without
auto_create: 401 10097; auto_create creates it, with a secret_key only;
``full`` also updates an existing user's email, display_name, groups and orgs;
locked: 403 10023) -> org membership (403 10023). Without an org, the token
is for the user's current org. Tokens are opaque: base64 of
``<username>:<base64 random>``, like the vendor's samples.

Endpoints taking ``Authorization: Bearer <token>`` (a live ThoughtSpot token)
or the ``JSESSIONID`` cookie of ``auth/session/login`` (missing or invalid:
401 10097; locked user: 403 10023; the bearer wins when both are sent), audit
``endpoint: "api"``:

    POST auth/session/login   {username, password, org_identifier?, remember_me?} or a bearer alone
                              -> 204 + Set-Cookie JSESSIONID (Path=/; Secure; HttpOnly);
                              locked 403 10023; MFA with a password 401 10097
    POST auth/session/logout  204; the cookie's session ends
    GET  auth/session/user    200 user object (never a password)
    GET  auth/session/token   200 {token, creation_time_in_millis, expiration_time_in_millis,
                              valid_for_user_id, valid_for_username} (a session gets a FULL token)
    POST auth/token/validate  {token} -> 200 {creation_time_in_millis, expiration_time_in_millis, scope,
                              valid_for_user_id, token_type "BEARER"}; unknown, malformed, expired or
                              revoked token -> 400 10002
    POST auth/token/revoke    {user_identifier?, token?} -> 204; neither -> 400 10002; unknown/expired/
                              revoked token, unknown user, or a token not of user_identifier -> 400 10002;
                              someone else's token or user without ADMINISTRATION -> 403 10023.
                              Sessions opened with a revoked token end too.
    POST auth/search          {auth_type "TRUSTED_AUTH", scope? CLUSTER|ORG} (admin, FULL token)
                              -> 200 {auth_type, cluster_preferences{auth_status, access_tokens[{key}]},
                                      org_preferences[{org{id, name}, auth_status, access_tokens[{key}]}]}
    POST auth/configure       {auth_type "TRUSTED_AUTH", cluster_preferences?{auth_status},
                              org_preferences?[{org_identifier (str), auth_status}]} (admin) -> 204;
                              ENABLED creates a key only if there is none; DISABLED removes it
    GET|POST metadata/search  sample protected API: 200 {"user", "org_id", "access_type", "items"}

Object tokens (REPORT_BOOK_VIEW) may not call ``auth/search`` or
``auth/configure`` (403 10023). Every route takes faults from the
``thoughtspot`` queue (token routes also from ``"*"``).

Audit (``vendor: "thoughtspot"``): ``operation`` (token_full, token_object,
token_custom, login, logout, session_user, session_token, validate, revoke,
search, configure, metadata_search), ``client_id`` (the username), ``params``
(body field names), ``error`` (the code as text) and ``error_description``
(the debug text). Token routes: ``auth_method`` (secret_key|password|none),
``secret_fp``, ``org_id``, ``user_created``, ``user_updated`` (changed field
names), ``token_fp`` (of the issued token), ``persisted`` (custom). Other
routes: ``auth_method`` (bearer|session|none|other; login with credentials:
password), ``token_fp`` (the bearer's),
``session_fp``; validate/revoke add ``target_token_fp``, revoke
``target_user`` and ``revoked`` (count), configure ``changes`` (e.g.
``["cluster:enabled", "org:1:disabled"]``, [] when nothing changed). Keys,
passwords, tokens and session ids appear only as fingerprints.

Control API (test only, not audited):

    POST /_sim/thoughtspot/users         {name, password?, admin?, locked?, orgs?, email?, display_name?,
                                         groups?} create/replace (keeps id and ABAC state) -> {id, name}
    GET  /_sim/thoughtspot/users         users (no passwords; ABAC state, groups, orgs, account_status)
    POST /_sim/thoughtspot/orgs          {id, name} add or rename an org -> {id, name}
    POST /_sim/thoughtspot/config        {mfa?: bool} -> {mfa}
    GET  /_sim/thoughtspot/trusted-auth  {cluster: {auth_status, key_fp}, orgs: {id: {auth_status, key_fp}}}
    POST /_sim/thoughtspot/trusted-auth  {scope: "cluster" | org id, auth_status} -> {key}
    GET  /_sim/thoughtspot/tokens        [{token_fp, username, org_id, access_type, kind, expires_ms,
                                         revoked, live}]
    POST /_sim/thoughtspot/tokens/expire {username?} -> {expired: n}

``DELETE /_sim/tokens`` (with ``vendor: "thoughtspot"`` or none) also works:
ThoughtSpot tokens are mirrored in ``SimApp.tokens`` and stop working once
forgotten there.
"""

from __future__ import annotations

import base64
import hmac
import http.cookies
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from .admin import object_body
from .core import AdminError, IssuedToken, Request, Response, SimApp, fingerprint, json_response
from .oauth2 import demo_secret

VENDOR = "thoughtspot"
PREFIX = "/thoughtspot"
API = PREFIX + "/api/rest/2.0"
SIM_PREFIX = "/_sim/thoughtspot"
COOKIE = "JSESSIONID"
DEFAULT_VALIDITY = 300  # seconds, as the vendor documents
REMEMBER_ME_AGE = 14 * 86400

ERR_INVALID = 10002
ERR_AUTH = 10097
ERR_FORBIDDEN = 10023

ENABLED, DISABLED = "ENABLED", "DISABLED"
PERSIST_OPTIONS: tuple[str, ...] = ("REPLACE", "APPEND", "NONE", "RESET")
ABAC_FIELDS: tuple[str, ...] = ("filter_rules", "parameter_values", "variable_values")
ACCESS_FULL = "FULL"
ACCESS_OBJECT = "REPORT_BOOK_VIEW"
TENANT_ID = "5e1f0c3a-7d24-4b8e-9a61-2c3d4e5f6a7b"  # invented cluster tenant
DEMO_OBJECT_ID = "3f6e2a1b-9c4d-4e7f-8a2b-1d0c9e8f7a6b"  # invented liveboard GUID
_GROUP_NAMESPACE = uuid.UUID("a4d2c6e8-1b3f-4a5c-9e7d-0f2b4c6d8e1a")

# Invented sample data of the protected sample API.
_ITEMS = [
    {"metadata_id": "7c1e4b2a-3d5f-4a6e-8b9c-0d1e2f3a4b5c", "metadata_type": "LIVEBOARD",
     "metadata_name": "Sample Sales Overview"},
    {"metadata_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "metadata_type": "LOGICAL_TABLE",
     "metadata_name": "Sample Orders"},
]


# --------------------------------------------------------------------------- state


@dataclass
class User:
    """A ThoughtSpot user (matched by name in any case)."""

    id: str
    name: str
    display_name: str
    email: str | None = None
    password: str | None = None  # never shown, audited or logged
    admin: bool = False
    locked: bool = False
    groups: list[str] = field(default_factory=list)
    orgs: list[int] = field(default_factory=lambda: [0])
    current_org: int = 0
    filter_rules: list[Any] = field(default_factory=list)
    parameter_values: list[Any] = field(default_factory=list)
    variable_values: list[Any] = field(default_factory=list)
    created_ms: int = 0
    modified_ms: int = 0
    origin: str = "control"  # "control" (POST /_sim/thoughtspot/users) or "auto_create"

    @property
    def account_status(self) -> str:
        return "LOCKED" if self.locked else "ACTIVE"

    def describe(self) -> dict[str, Any]:
        """Control-API view (no password)."""
        return {"id": self.id, "name": self.name, "display_name": self.display_name, "email": self.email,
                "admin": self.admin, "account_status": self.account_status, "groups": list(self.groups),
                "orgs": list(self.orgs), "current_org": self.current_org, "has_password": self.password is not None,
                "filter_rules": list(self.filter_rules), "parameter_values": list(self.parameter_values),
                "variable_values": list(self.variable_values), "created_ms": self.created_ms,
                "modified_ms": self.modified_ms, "origin": self.origin}


@dataclass
class TrustedAuth:
    """Trusted authentication of the cluster or of one org: ENABLED always has a key."""

    auth_status: str = DISABLED
    key: str | None = None  # never audited

    def set(self, status: str) -> bool:
        """ENABLED keeps an existing key (or creates one); DISABLED removes it. True if it changed."""
        before = (self.auth_status, self.key)
        self.auth_status = status
        if status == ENABLED:
            self.key = self.key or str(uuid.uuid4())
        else:
            self.key = None
        return (self.auth_status, self.key) != before

    def describe(self) -> dict[str, Any]:
        return {"auth_status": self.auth_status, "key_fp": fingerprint(self.key)}

    def preferences(self) -> dict[str, Any]:
        return {"auth_status": self.auth_status, "access_tokens": [{"key": self.key}] if self.key else []}


@dataclass
class TokenRecord:
    """An issued token (its liveness: see :func:`_live`)."""

    token: str  # kept in memory only
    user_id: str
    username: str
    org_id: int
    access_type: str
    metadata_id: str | None
    created_ms: int
    expires_ms: int
    kind: str  # full | object | custom | session
    revoked: bool = False

    def describe(self, live: bool) -> dict[str, Any]:
        return {"token_fp": fingerprint(self.token), "username": self.username, "org_id": self.org_id,
                "access_type": self.access_type, "kind": self.kind, "metadata_id": self.metadata_id,
                "created_ms": self.created_ms, "expires_ms": self.expires_ms, "revoked": self.revoked, "live": live}


@dataclass
class Session:
    """A JSESSIONID session."""

    user_id: str
    org_id: int
    source_token: str | None = None  # the bearer it was opened with, if any
    token: str | None = None  # FULL token handed out by auth/session/token


@dataclass
class State:
    """Everything the simulated cluster knows (guarded by ``SimApp.lock``)."""

    orgs: dict[int, str] = field(default_factory=lambda: {0: "Primary"})
    users: dict[str, User] = field(default_factory=dict)  # casefolded name -> user
    cluster: TrustedAuth = field(default_factory=TrustedAuth)
    org_trust: dict[int, TrustedAuth] = field(default_factory=lambda: {0: TrustedAuth()})
    mfa: bool = False
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)

    def user(self, name: str) -> User | None:
        return self.users.get(name.casefold())

    def user_by_ref(self, ref: str) -> User | None:
        """A user by name (any case) or id."""
        return self.user(ref) or next((u for u in self.users.values() if u.id == ref), None)

    def user_by_id(self, user_id: str) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def org_ref(self, ref: str) -> int | None:
        """An org id from its id written as text or its name (any case)."""
        text = ref.strip()
        if text.isascii() and text.isdigit() and int(text) in self.orgs:
            return int(text)
        return next((oid for oid, name in self.orgs.items() if name.casefold() == text.casefold()), None)

    def org_view(self, org_id: int) -> dict[str, Any]:
        return {"id": org_id, "name": self.orgs.get(org_id)}


def _state(app: SimApp) -> State:
    return app.vendor_state[VENDOR]


def _now_ms(req: Request) -> int:
    return int(req.now() * 1000)


def _live(app: SimApp, record: TokenRecord | None, now_ms: int) -> bool:
    """Unrevoked, unexpired and not forgotten by ``DELETE /_sim/tokens``."""
    return (record is not None and not record.revoked and record.expires_ms > now_ms
            and record.token in app.tokens)


# --------------------------------------------------------------------------- errors and input


class TSError(Exception):
    """A ThoughtSpot error answer."""

    def __init__(self, status: int, code: int, debug: str) -> None:
        super().__init__(debug)
        self.status = status
        self.code = code
        self.debug = debug


def _invalid(debug: str) -> TSError:
    return TSError(400, ERR_INVALID, debug)


def _auth_failed(debug: str) -> TSError:
    return TSError(401, ERR_AUTH, debug)


def _forbidden(debug: str) -> TSError:
    return TSError(403, ERR_FORBIDDEN, debug)


def _error_response(req: Request, exc: TSError) -> Response:
    req.audit["error"] = str(exc.code)
    req.audit["error_description"] = exc.debug
    message = {"code": exc.code, "incident_id_guid": str(uuid.uuid4()), "trace_id_guid": str(uuid.uuid4()),
               "debug": exc.debug}
    return json_response(exc.status, {"error": {"message": message}})


def _raw_body(req: Request) -> Any:
    """The parsed JSON body ({} when empty), or raise 400 10002."""
    if not req.body.strip():
        return {}
    content_type = (req.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise _invalid("Content-Type must be application/json")
    try:
        return json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _invalid("request body is not valid JSON") from None


def _body(req: Request) -> dict[str, Any]:
    body = _raw_body(req)
    if not isinstance(body, dict):
        raise _invalid("request body must be a JSON object")
    return body


def _quiet_body(req: Request) -> dict[str, Any]:
    """The body for audit notes: {} when it is not a JSON object (never raises)."""
    try:
        body = json.loads(req.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _opt_str(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _invalid(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    if required and not value.strip():
        raise _invalid(f"{name} must not be empty")
    return value


def _opt_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(f"{name} must be an integer")
    return value


def _opt_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _invalid(f"{name} must be a boolean")
    return value


def _opt_str_list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(f"{name} must be a list of strings")
    return list(value)


def _opt_objects(body: dict[str, Any], name: str, shape: dict[str, type]) -> list[dict[str, Any]] | None:
    """A list of JSON objects whose listed members have the given types (``str`` members are required,
    ``list`` members too; an ``object`` type marks an optional string)."""
    value = body.get(name)
    if value is None:
        return None
    members = ", ".join(shape)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _invalid(f"{name} must be a list of objects {{{members}}}")
    for item in value:
        for member, kind in shape.items():
            present = item.get(member)
            if kind is object:
                if present is not None and not isinstance(present, str):
                    raise _invalid(f"{name}: {member} must be a string")
            elif not isinstance(present, kind):
                raise _invalid(f"{name}: every item needs {member} ({'string' if kind is str else 'list'})")
    return [dict(v) for v in value]


def _status(value: Any, where: str) -> str:
    if value not in (ENABLED, DISABLED):
        raise _invalid(f"{where}: auth_status must be ENABLED or DISABLED")
    return value


# --------------------------------------------------------------------------- callers


@dataclass
class Caller:
    """Who made a bearer/session call, and in which org context."""

    user: User
    org_id: int
    token: TokenRecord | None  # the bearer's record
    session_id: str | None


def _bearer(req: Request) -> tuple[bool, str | None]:
    """(Authorization header present, bearer token or None)."""
    header = req.header("Authorization")
    if header is None:
        return False, None
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    return True, token if scheme.lower() == "bearer" and token else None


def _session_id(req: Request) -> str | None:
    raw = req.header("Cookie")
    if not raw:
        return None
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    try:
        jar.load(raw)
    except http.cookies.CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def _caller(req: Request, *, cookie: bool = True) -> Caller:
    """Who is calling (bearer first, then the session cookie), or raise 401 10097 / 403 10023."""
    app = req.app
    state = _state(app)
    has_header, token = _bearer(req)
    session_id = _session_id(req) if cookie else None
    with app.lock:
        if has_header:
            if token is None:
                raise _auth_failed("Authorization must be 'Bearer <token>'")
            record = state.tokens.get(token)
            if not _live(app, record, _now_ms(req)):
                raise _auth_failed("bearer token unknown, expired or revoked")
            assert record is not None
            user = state.user_by_id(record.user_id)
            if user is None:
                raise _auth_failed("the user of this token no longer exists")
            if user.locked:
                raise _forbidden(f"user {user.name} is locked")
            return Caller(user, record.org_id, record, None)
        if session_id is not None:
            session = state.sessions.get(session_id)
            user = state.user_by_id(session.user_id) if session else None
            if session is None or user is None:
                raise _auth_failed("session unknown or ended")
            if user.locked:
                raise _forbidden(f"user {user.name} is locked")
            return Caller(user, session.org_id, None, session_id)
    raise _auth_failed("not authenticated: send Authorization: Bearer <token> or the session cookie")


def _require_admin(caller: Caller) -> None:
    if not caller.user.admin:
        raise _forbidden(f"user {caller.user.name} lacks the ADMINISTRATION privilege")
    if caller.token is not None and caller.token.access_type != ACCESS_FULL:
        raise _forbidden("an object (REPORT_BOOK_VIEW) token may not manage authentication")


# --------------------------------------------------------------------------- audit notes


def _note_token_request(req: Request, operation: str) -> None:
    """Audit fields of a token request, from the raw body (no validation, never raises)."""
    body = _quiet_body(req)
    req.audit["operation"] = operation
    req.audit["params"] = sorted(str(k) for k in body)
    username = body.get("username")
    req.audit["client_id"] = username if isinstance(username, str) else None
    secret = body.get("secret_key")
    if secret is not None:
        req.audit["auth_method"] = "secret_key"
    elif body.get("password") is not None:
        req.audit["auth_method"] = "password"
        secret = body.get("password")
    else:
        req.audit["auth_method"] = "none"
    req.audit["secret_fp"] = fingerprint(secret) if isinstance(secret, str) else None
    org = body.get("org_identifier" if operation == "token_custom" else "org_id")
    req.audit["org_id"] = org if isinstance(org, (int, str)) and not isinstance(org, bool) else None
    req.audit["user_created"] = False
    req.audit["user_updated"] = []
    req.audit["token_fp"] = None
    if operation == "token_custom":
        req.audit["persisted"] = False


def _note_call(req: Request, operation: str) -> None:
    """Audit fields of a bearer/session call (no validation, never raises)."""
    req.audit["operation"] = operation
    req.audit["params"] = sorted(str(k) for k in _quiet_body(req))
    has_header, token = _bearer(req)
    session_id = _session_id(req)
    req.audit["session_fp"] = fingerprint(session_id)
    if has_header:
        req.audit["auth_method"] = "bearer" if token else "other"  # a non-bearer Authorization header
        req.audit["token_fp"] = fingerprint(token)
    else:
        req.audit["auth_method"] = "session" if session_id else "none"
    state = _state(req.app)
    with req.app.lock:
        if token is not None:
            record = state.tokens.get(token)
            req.audit["client_id"] = record.username if record else None
        elif session_id is not None and not has_header:
            session = state.sessions.get(session_id)
            user = state.user_by_id(session.user_id) if session else None
            req.audit["client_id"] = user.name if user else None


# --------------------------------------------------------------------------- token endpoints


def _new_token(username: str) -> str:
    inner = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
    return base64.b64encode(f"{username}:{inner}".encode("utf-8")).decode("ascii")


def _mint(req: Request, user: User, org_id: int, access_type: str, metadata_id: str | None, validity: int,
          kind: str) -> TokenRecord:
    """Store a new token (caller holds the lock); mirrored in ``app.tokens`` for DELETE /_sim/tokens."""
    created = _now_ms(req)
    record = TokenRecord(_new_token(user.name), user.id, user.name, org_id, access_type, metadata_id, created,
                         created + validity * 1000, kind)
    _state(req.app).tokens[record.token] = record
    req.app.tokens[record.token] = IssuedToken(VENDOR, user.name, record.expires_ms / 1000, access_type)
    return record


def _key_matches(state: State, key: str, org_id: int) -> bool:
    candidates = [state.cluster]
    if org_id in state.org_trust:
        candidates.append(state.org_trust[org_id])
    return any(t.auth_status == ENABLED and t.key is not None
               and hmac.compare_digest(t.key.encode("utf-8"), key.encode("utf-8")) for t in candidates)


@dataclass
class TokenAsk:
    """A validated token request."""

    kind: str  # full | object | custom
    username: str
    password: str | None
    secret_key: str | None
    validity: int
    org_id: int | None
    auto_create: bool
    email: str | None
    display_name: str | None
    groups: list[str] | None
    object_id: str | None = None
    persist_option: str | None = None
    abac: dict[str, list[Any] | None] = field(default_factory=dict)


def _parse_token_request(req: Request, kind: str) -> TokenAsk:
    body = _body(req)
    state = _state(req.app)
    username = _opt_str(body, "username", required=True)
    assert username is not None
    password = _opt_str(body, "password")
    secret_key = _opt_str(body, "secret_key")
    if password is None and secret_key is None:
        raise _invalid("password or secret_key is required")
    validity = _opt_int(body, "validity_time_in_sec")
    if validity is not None and validity <= 0:
        raise _invalid("validity_time_in_sec must be a positive integer")
    email = _opt_str(body, "email")
    display_name = _opt_str(body, "display_name")
    ask = TokenAsk(kind, username, password, secret_key, validity or DEFAULT_VALIDITY, None, False, email,
                   display_name, None)
    if kind == "custom":
        option = body.get("persist_option")
        if option not in PERSIST_OPTIONS:
            raise _invalid(f"persist_option is required: one of {', '.join(PERSIST_OPTIONS)}")
        ask.persist_option = option
        org_ref = _opt_str(body, "org_identifier")
        if org_ref is not None:
            ask.org_id = state.org_ref(org_ref)
            if ask.org_id is None:
                raise _invalid(f"org_identifier {org_ref[:80]!r}: no such org")
        ask.abac = {
            "filter_rules": _opt_objects(body, "filter_rules", {"column_name": str, "operator": str, "values": list}),
            "parameter_values": _opt_objects(body, "parameter_values", {"name": str, "values": list}),
            "variable_values": _opt_objects(body, "variable_values", {"name": str, "values": list}),
        }
        _opt_objects(body, "objects", {"type": object, "identifier": str})
        groups = body.get("groups")
        if groups is not None:
            if not isinstance(groups, list) or not all(
                    isinstance(g, dict) and isinstance(g.get("identifier"), str) for g in groups):
                raise _invalid('groups must be a list of {"identifier": string} objects '
                               "(group_identifiers of token/full and token/object is the list of strings)")
            ask.groups = [g["identifier"] for g in groups]
        ask.auto_create = _opt_bool(body, "auto_create", True)
    else:
        ask.org_id = _opt_int(body, "org_id")
        if ask.org_id is not None and ask.org_id not in state.orgs:
            raise _invalid(f"org_id {ask.org_id}: no such org")
        ask.groups = _opt_str_list(body, "group_identifiers")
        ask.auto_create = _opt_bool(body, "auto_create", False)
        if kind == "object":
            ask.object_id = _opt_str(body, "object_id", required=True)
    return ask


def _new_user(req: Request, ask: TokenAsk, org_id: int) -> User:
    now = _now_ms(req)
    return User(id=str(uuid.uuid4()), name=ask.username, display_name=ask.display_name or ask.username,
                email=ask.email, groups=list(ask.groups or []), orgs=[org_id], current_org=org_id,
                created_ms=now, modified_ms=now, origin="auto_create")


def _update_user(user: User, ask: TokenAsk) -> list[str]:
    """auto_create on token/full: sync email, display_name, groups when given and different."""
    changed = []
    if ask.email is not None and ask.email != user.email:
        user.email = ask.email
        changed.append("email")
    if ask.display_name is not None and ask.display_name != user.display_name:
        user.display_name = ask.display_name
        changed.append("display_name")
    if ask.groups is not None and ask.groups != user.groups:
        user.groups = list(ask.groups)
        changed.append("groups")
    return changed


def _persist_abac(user: User, ask: TokenAsk) -> bool:
    option = ask.persist_option
    if option == "NONE":
        return False
    for name in ABAC_FIELDS:
        given = ask.abac.get(name) or []
        if option == "REPLACE":
            setattr(user, name, list(given))
        elif option == "APPEND":
            getattr(user, name).extend(given)
        else:  # RESET
            setattr(user, name, [])
    return True


def _issue(req: Request, kind: str) -> Response:
    ask = _parse_token_request(req, kind)
    app = req.app
    state = _state(app)
    method = "secret_key" if ask.secret_key is not None else "password"
    with app.lock:
        user = state.user(ask.username)
        org_id = ask.org_id if ask.org_id is not None else (user.current_org if user else 0)
        req.audit["org_id"] = org_id
        if method == "password":
            if state.mfa:
                raise _auth_failed("MFA is enabled on this cluster: username/password token requests are "
                                   "refused; use trusted authentication (secret_key)")
            assert ask.password is not None
            if user is None or user.password is None or not hmac.compare_digest(
                    user.password.encode("utf-8"), ask.password.encode("utf-8")):
                raise _auth_failed("authentication failed: wrong username or password")
        else:
            assert ask.secret_key is not None
            if not _key_matches(state, ask.secret_key, org_id):
                raise _auth_failed(f"authentication failed: secret_key is not the key of an ENABLED trusted "
                                   f"authentication (cluster or org {org_id})")
        created, updated = False, []
        if user is None:
            if not ask.auto_create:
                raise _auth_failed(f"user {ask.username} does not exist (auto_create is false)")
            user = _new_user(req, ask, org_id)
            state.users[user.name.casefold()] = user
            created = True
        else:
            if user.locked:
                raise _forbidden(f"user {user.name} is locked")
            if ask.auto_create and kind == "full":
                updated = _update_user(user, ask)
        if org_id not in user.orgs:
            if not (ask.auto_create and kind == "full"):
                raise _forbidden(f"user {user.name} is not a member of org {org_id}")
            user.orgs.append(org_id)
            updated.append("orgs")
        if updated:
            user.modified_ms = _now_ms(req)
        req.audit["client_id"] = user.name
        req.audit["user_created"] = created
        req.audit["user_updated"] = updated
        if kind == "custom":
            req.audit["persisted"] = _persist_abac(user, ask)
        access_type = ACCESS_OBJECT if kind == "object" else ACCESS_FULL
        record = _mint(req, user, org_id, access_type, ask.object_id, ask.validity, kind)
        org_view = state.org_view(org_id)
    req.audit["token_fp"] = fingerprint(record.token)
    no_store = [("Cache-Control", "no-store")]
    if kind == "custom":
        return json_response(200, {"id": str(uuid.uuid4()), "token": record.token, "org": org_view,
                                   "user": {"id": user.id, "name": user.name},
                                   "creation_time_in_millis": record.created_ms,
                                   "expiration_time_in_millis": record.expires_ms}, no_store)
    return json_response(200, {"token": record.token, "creation_time_in_millis": record.created_ms,
                               "expiration_time_in_millis": record.expires_ms, "scope": _scope(record),
                               "valid_for_user_id": user.id, "valid_for_username": user.name}, no_store)


def _scope(record: TokenRecord) -> dict[str, Any]:
    return {"access_type": record.access_type, "org_id": record.org_id, "metadata_id": record.metadata_id}


# --------------------------------------------------------------------------- session endpoints


def _login(req: Request) -> Response:
    body = _body(req)
    username = _opt_str(body, "username")
    password = _opt_str(body, "password")
    org_ref = _opt_str(body, "org_identifier")
    remember_me = _opt_bool(body, "remember_me", False)
    app = req.app
    state = _state(app)
    source_token = None
    if username is not None or password is not None:  # credentials win over a bearer token
        req.audit["auth_method"] = "password"
        req.audit["client_id"] = username
        req.audit["secret_fp"] = fingerprint(password)
        if username is None or password is None:
            raise _invalid("username and password are both required")
        with app.lock:
            if state.mfa:
                raise _auth_failed("MFA is enabled on this cluster: username/password login is refused")
            user = state.user(username)
            if user is None or user.password is None or not hmac.compare_digest(
                    user.password.encode("utf-8"), password.encode("utf-8")):
                raise _auth_failed("authentication failed: wrong username or password")
            if user.locked:
                raise _forbidden(f"user {user.name} is locked")
            org_id = user.current_org
    elif _bearer(req)[0]:
        caller = _caller(req, cookie=False)
        user, org_id = caller.user, caller.org_id
        source_token = caller.token.token if caller.token else None
    else:
        raise _invalid("username and password (or Authorization: Bearer <token>) are required")
    with app.lock:
        if org_ref is not None:
            resolved = state.org_ref(org_ref)
            if resolved is None:
                raise _invalid(f"org_identifier {org_ref[:80]!r}: no such org")
            org_id = resolved
        if org_id not in user.orgs:
            raise _forbidden(f"user {user.name} is not a member of org {org_id}")
        user.current_org = org_id
        session_id = secrets.token_hex(16).upper()
        state.sessions[session_id] = Session(user.id, org_id, source_token)
    req.audit["client_id"] = user.name
    req.audit["org_id"] = org_id
    req.audit["remember_me"] = remember_me
    req.audit["new_session_fp"] = fingerprint(session_id)
    cookie = f"{COOKIE}={session_id}; Path=/; Secure; HttpOnly"
    if remember_me:
        cookie += f"; Max-Age={REMEMBER_ME_AGE}"
    return Response(204, b"", None, [("Set-Cookie", cookie)])


def _logout(req: Request) -> Response:
    caller = _caller(req)
    with req.app.lock:
        if caller.session_id is not None:
            _state(req.app).sessions.pop(caller.session_id, None)
    req.audit["client_id"] = caller.user.name
    req.audit["session_ended"] = caller.session_id is not None
    headers = [("Set-Cookie", f"{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly")] if caller.session_id else []
    return Response(204, b"", None, headers)


def _group_view(name: str) -> dict[str, str]:
    return {"id": str(uuid.uuid5(_GROUP_NAMESPACE, name.casefold())), "name": name}


def _user_view(state: State, user: User, org_id: int) -> dict[str, Any]:
    privileges = ["ADMINISTRATION", "AUTHORING", "DATADOWNLOADING", "DEVELOPER"] if user.admin else [
        "AUTHORING", "DATADOWNLOADING"]
    groups = [_group_view(g) for g in user.groups]
    return {
        "id": user.id, "name": user.name, "display_name": user.display_name, "visibility": "SHARABLE",
        "author_id": user.id, "can_change_password": user.password is not None, "complete_detail": True,
        "creation_time_in_millis": user.created_ms, "current_org": state.org_view(org_id), "deleted": False,
        "deprecated": False, "account_type": "LOCAL_USER", "account_status": user.account_status,
        "email": user.email, "expiration_time_in_millis": None, "external": False, "favorite_metadata": [],
        "first_login_time_in_millis": user.created_ms, "group_mask": 4, "hidden": False, "home_liveboard": None,
        "incomplete_details": [], "is_first_login": False, "modification_time_in_millis": user.modified_ms,
        "modifier_id": user.id, "notify_on_share": True, "onboarding_experience_completed": False,
        "orgs": [state.org_view(o) for o in user.orgs], "owner_id": user.id, "parent_type": "USER",
        "privileges": privileges, "show_onboarding_experience": False, "super_user": False, "system_user": False,
        "tags": [], "tenant_id": TENANT_ID, "user_groups": groups, "user_inherited_groups": list(groups),
        "welcome_email_sent": False,
    }


def _session_user(req: Request) -> Response:
    caller = _caller(req)
    state = _state(req.app)
    with req.app.lock:
        view = _user_view(state, caller.user, caller.org_id)
    return json_response(200, view)


def _session_token(req: Request) -> Response:
    caller = _caller(req)
    app = req.app
    with app.lock:
        record = caller.token
        if record is None:  # a cookie session: hand out (and keep) a FULL token for it
            session = _state(app).sessions.get(caller.session_id or "")
            if session is None:
                raise _auth_failed("session unknown or ended")
            record = _state(app).tokens.get(session.token or "")
            if not _live(app, record, _now_ms(req)):
                record = _mint(req, caller.user, caller.org_id, ACCESS_FULL, None, DEFAULT_VALIDITY, "session")
                session.token = record.token
    assert record is not None
    req.audit["issued_token_fp"] = fingerprint(record.token)
    return json_response(200, {"token": record.token, "creation_time_in_millis": record.created_ms,
                               "expiration_time_in_millis": record.expires_ms,
                               "valid_for_user_id": caller.user.id, "valid_for_username": caller.user.name},
                         [("Cache-Control", "no-store")])


# --------------------------------------------------------------------------- validate / revoke


def _validate(req: Request) -> Response:
    caller = _caller(req)
    req.audit["client_id"] = caller.user.name
    body = _body(req)
    token = _opt_str(body, "token", required=True)
    assert token is not None
    req.audit["target_token_fp"] = fingerprint(token)
    app = req.app
    with app.lock:
        record = _state(app).tokens.get(token)
        if record is None:
            raise _invalid("token is malformed or unknown")
        if record.revoked:
            raise _invalid("token has been revoked")
        if not _live(app, record, _now_ms(req)):
            raise _invalid("token has expired")
        answer = {"creation_time_in_millis": record.created_ms, "expiration_time_in_millis": record.expires_ms,
                  "scope": _scope(record), "valid_for_user_id": record.user_id, "token_type": "BEARER"}
    return json_response(200, answer)


def _revoke_record(state: State, record: TokenRecord) -> None:
    record.revoked = True
    for session_id in [s for s, session in state.sessions.items() if session.source_token == record.token]:
        del state.sessions[session_id]


def _revoke(req: Request) -> Response:
    caller = _caller(req)
    req.audit["client_id"] = caller.user.name
    req.audit["revoked"] = 0
    body = _body(req)
    user_ref = _opt_str(body, "user_identifier")
    token = _opt_str(body, "token")
    if user_ref is None and token is None:
        raise _invalid("user_identifier or token is required")
    req.audit["target_user"] = user_ref
    req.audit["target_token_fp"] = fingerprint(token)
    app = req.app
    state = _state(app)
    now = _now_ms(req)
    with app.lock:
        target = None
        if user_ref is not None:
            target = state.user_by_ref(user_ref)
            if target is None:
                raise _invalid(f"user_identifier {user_ref[:80]!r}: no such user")
        if token is not None:
            record = state.tokens.get(token)
            if record is None or record.revoked or not _live(app, record, now):
                raise _invalid("token is unknown, expired or already revoked")
            if target is not None and record.user_id != target.id:
                raise _invalid(f"token was not issued to user {target.name}")
            if record.user_id != caller.user.id and not caller.user.admin:
                raise _forbidden("only an administrator may revoke another user's token")
            doomed = [record]
        else:
            assert target is not None
            if target.id != caller.user.id and not caller.user.admin:
                raise _forbidden("only an administrator may revoke another user's tokens")
            doomed = [r for r in state.tokens.values() if r.user_id == target.id and _live(app, r, now)]
        for record in doomed:
            _revoke_record(state, record)
    req.audit["revoked"] = len(doomed)
    return Response(204, b"", None)


# --------------------------------------------------------------------------- trusted authentication


def _auth_type(body: dict[str, Any]) -> None:
    if body.get("auth_type") != "TRUSTED_AUTH":
        raise _invalid("auth_type must be TRUSTED_AUTH")


def _search(req: Request) -> Response:
    caller = _caller(req)
    req.audit["client_id"] = caller.user.name
    _require_admin(caller)
    body = _body(req)
    _auth_type(body)
    scope = body.get("scope")
    if scope not in (None, "CLUSTER", "ORG"):
        raise _invalid("scope must be CLUSTER or ORG")
    req.audit["scope"] = scope
    state = _state(req.app)
    answer: dict[str, Any] = {"auth_type": "TRUSTED_AUTH"}
    with req.app.lock:
        if scope in (None, "CLUSTER"):
            answer["cluster_preferences"] = state.cluster.preferences()
        if scope in (None, "ORG"):
            answer["org_preferences"] = [
                {"org": state.org_view(oid), **state.org_trust.setdefault(oid, TrustedAuth()).preferences()}
                for oid in sorted(state.orgs)]
    return json_response(200, answer, [("Cache-Control", "no-store")])


def _configure(req: Request) -> Response:
    caller = _caller(req)
    req.audit["client_id"] = caller.user.name
    req.audit["changes"] = []
    _require_admin(caller)
    body = _body(req)
    _auth_type(body)
    state = _state(req.app)
    wanted: list[tuple[int | None, str]] = []  # (None: cluster | org id, status)
    cluster = body.get("cluster_preferences")
    if cluster is not None:
        if not isinstance(cluster, dict):
            raise _invalid("cluster_preferences must be an object {auth_status}")
        wanted.append((None, _status(cluster.get("auth_status"), "cluster_preferences")))
    orgs = body.get("org_preferences")
    if orgs is not None:
        if not isinstance(orgs, list) or not all(isinstance(o, dict) for o in orgs):
            raise _invalid("org_preferences must be a list of objects {org_identifier, auth_status}")
        with req.app.lock:
            for item in orgs:
                ref = item.get("org_identifier")
                if not isinstance(ref, str):
                    raise _invalid("org_preferences: org_identifier must be a string")
                org_id = state.org_ref(ref)
                if org_id is None:
                    raise _invalid(f"org_preferences: org_identifier {ref[:80]!r}: no such org")
                wanted.append((org_id, _status(item.get("auth_status"), f"org_preferences[{ref[:80]}]")))
    changes = []
    with req.app.lock:
        for org_id, status in wanted:
            trust = state.cluster if org_id is None else state.org_trust.setdefault(org_id, TrustedAuth())
            if trust.set(status):
                where = "cluster" if org_id is None else f"org:{org_id}"
                changes.append(f"{where}:{status.lower()}")
    req.audit["changes"] = changes
    return Response(204, b"", None)


# --------------------------------------------------------------------------- sample API


def _metadata_search(req: Request) -> Response:
    caller = _caller(req)
    req.audit["client_id"] = caller.user.name
    if caller.token is not None and caller.token.access_type == ACCESS_OBJECT:
        items = [{"metadata_id": caller.token.metadata_id, "metadata_type": "LIVEBOARD",
                  "metadata_name": "Shared object (simulated)"}]
        access_type = ACCESS_OBJECT
    else:
        items, access_type = [dict(i) for i in _ITEMS], ACCESS_FULL
    return json_response(200, {"user": caller.user.name, "org_id": caller.org_id, "access_type": access_type,
                               "items": items})


# --------------------------------------------------------------------------- routes


def _route(app: SimApp, method: str, path: str, operation: str, action: Callable[[Request], Response],
           token_route: bool) -> None:
    """Mount one API route: audit notes via ``inspect``, TSError -> the vendor's error envelope."""

    def inspect(req: Request) -> None:
        if token_route:
            _note_token_request(req, operation)
        else:
            _note_call(req, operation)

    def handler(req: Request) -> Response:
        try:
            return action(req)
        except TSError as exc:
            return _error_response(req, exc)

    app.add_route(method, f"{API}/{path}", handler, vendor=VENDOR, kind="token" if token_route else "api",
                  inspect=inspect, fault_queue=VENDOR)


def _issuer(kind: str) -> Callable[[Request], Response]:
    def action(req: Request) -> Response:
        return _issue(req, kind)

    return action


# --------------------------------------------------------------------------- control API


def _admin_value(body: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = body.get(name, default)
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise AdminError(f"{name} must be a {kind.__name__}")
    return value


def _sim_post_user(req: Request) -> Response:
    body = object_body(req)
    name = _admin_value(body, "name", str)
    if not name or not name.strip():
        raise AdminError("name (non-empty string) is required")
    orgs = body.get("orgs", [0])
    if not isinstance(orgs, list) or not orgs or not all(isinstance(o, int) and not isinstance(o, bool)
                                                         for o in orgs):
        raise AdminError("orgs must be a non-empty list of org ids")
    groups = body.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise AdminError("groups must be a list of strings")
    state = _state(req.app)
    now = int(time.time() * 1000)
    with req.app.lock:
        unknown = [o for o in orgs if o not in state.orgs]
        if unknown:
            raise AdminError(f"unknown orgs {unknown}; add them with POST /_sim/thoughtspot/orgs")
        old = state.user(name)
        user = User(id=old.id if old else str(uuid.uuid4()), name=name,
                    display_name=_admin_value(body, "display_name", str) or name,
                    email=_admin_value(body, "email", str), password=_admin_value(body, "password", str),
                    admin=_admin_value(body, "admin", bool, False), locked=_admin_value(body, "locked", bool, False),
                    groups=list(groups), orgs=list(dict.fromkeys(orgs)), current_org=orgs[0],
                    created_ms=old.created_ms if old else now, modified_ms=now)
        if old is not None:
            for abac in ABAC_FIELDS:
                setattr(user, abac, getattr(old, abac))
            state.users.pop(old.name.casefold(), None)
        state.users[name.casefold()] = user
    return json_response(200, {"id": user.id, "name": user.name})


def _sim_get_users(req: Request) -> Response:
    with req.app.lock:
        users = [u.describe() for u in _state(req.app).users.values()]
    return json_response(200, users)


def _sim_post_org(req: Request) -> Response:
    body = object_body(req)
    org_id = _admin_value(body, "id", int)
    name = _admin_value(body, "name", str)
    if org_id is None or org_id < 0 or not name or not name.strip():
        raise AdminError('body must be {"id": int >= 0, "name": non-empty string}')
    state = _state(req.app)
    with req.app.lock:
        if any(n.casefold() == name.casefold() and i != org_id for i, n in state.orgs.items()):
            raise AdminError(f"another org is already named {name!r}")
        state.orgs[org_id] = name
        state.org_trust.setdefault(org_id, TrustedAuth())
    return json_response(200, {"id": org_id, "name": name})


def _sim_config(req: Request) -> Response:
    body = object_body(req)
    mfa = _admin_value(body, "mfa", bool)
    state = _state(req.app)
    with req.app.lock:
        if mfa is not None:
            state.mfa = mfa
        return json_response(200, {"mfa": state.mfa})


def _sim_get_trust(req: Request) -> Response:
    state = _state(req.app)
    with req.app.lock:
        answer = {"cluster": state.cluster.describe(),
                  "orgs": {str(o): state.org_trust.setdefault(o, TrustedAuth()).describe() for o in sorted(state.orgs)}}
    return json_response(200, answer)


def _sim_set_trust(req: Request) -> Response:
    body = object_body(req)
    status = body.get("auth_status")
    if status not in (ENABLED, DISABLED):
        raise AdminError("auth_status must be ENABLED or DISABLED")
    scope = body.get("scope")
    state = _state(req.app)
    with req.app.lock:
        if scope == "cluster":
            trust = state.cluster
        else:
            org_id = int(scope) if isinstance(scope, str) and scope.isdigit() else scope
            if not isinstance(org_id, int) or isinstance(org_id, bool) or org_id not in state.orgs:
                raise AdminError('scope must be "cluster" or the id of an existing org')
            trust = state.org_trust.setdefault(org_id, TrustedAuth())
        trust.set(status)
        return json_response(200, {"key": trust.key})


def _sim_get_tokens(req: Request) -> Response:
    now = int(time.time() * 1000)
    with req.app.lock:
        tokens = [r.describe(_live(req.app, r, now)) for r in _state(req.app).tokens.values()]
    return json_response(200, tokens)


def _sim_expire_tokens(req: Request) -> Response:
    body = object_body(req)
    username = _admin_value(body, "username", str)
    now = int(time.time() * 1000)
    app = req.app
    with app.lock:
        doomed = [r for r in _state(app).tokens.values()
                  if _live(app, r, now) and (username is None or r.username.casefold() == username.casefold())]
        for record in doomed:
            record.expires_ms = now - 1
            app.tokens[record.token] = IssuedToken(VENDOR, record.username, record.expires_ms / 1000,
                                                   record.access_type)
    return json_response(200, {"expired": len(doomed)})


def register(app: SimApp) -> None:
    """Mount the API routes under ``/thoughtspot/api/rest/2.0`` and the control routes."""
    app.vendor_state[VENDOR] = State()
    for kind in ("full", "object", "custom"):
        _route(app, "POST", f"auth/token/{kind}", f"token_{kind}", _issuer(kind), token_route=True)
    for method, path, operation, action in (
            ("POST", "auth/session/login", "login", _login),
            ("POST", "auth/session/logout", "logout", _logout),
            ("GET", "auth/session/user", "session_user", _session_user),
            ("GET", "auth/session/token", "session_token", _session_token),
            ("POST", "auth/token/validate", "validate", _validate),
            ("POST", "auth/token/revoke", "revoke", _revoke),
            ("POST", "auth/search", "search", _search),
            ("POST", "auth/configure", "configure", _configure),
            ("GET", "metadata/search", "metadata_search", _metadata_search),
            ("POST", "metadata/search", "metadata_search", _metadata_search)):
        _route(app, method, path, operation, action, token_route=False)
    for method, path, control in (
            ("POST", "/users", _sim_post_user),
            ("GET", "/users", _sim_get_users),
            ("POST", "/orgs", _sim_post_org),
            ("POST", "/config", _sim_config),
            ("GET", "/trusted-auth", _sim_get_trust),
            ("POST", "/trusted-auth", _sim_set_trust),
            ("GET", "/tokens", _sim_get_tokens),
            ("POST", "/tokens/expire", _sim_expire_tokens)):
        app.add_route(method, SIM_PREFIX + path, control, vendor=None, kind="admin")


def seed_demo(app: SimApp) -> dict[str, str]:
    """Admin ``tsadmin`` (password), user ``demo-analyst``, org 1 "Sales", cluster trusted auth ENABLED."""
    state = _state(app)
    password = demo_secret()
    now = int(time.time() * 1000)
    with app.lock:
        state.orgs[1] = "Sales"
        state.org_trust.setdefault(1, TrustedAuth())
        for user in (
                User(str(uuid.uuid4()), "tsadmin", "ThoughtSpot Admin (demo)", "tsadmin@example.com", password,
                     admin=True, orgs=[0, 1], created_ms=now, modified_ms=now),
                User(str(uuid.uuid4()), "demo-analyst", "Demo Analyst", "demo-analyst@example.com",
                     groups=["Analyst"], orgs=[0, 1], created_ms=now, modified_ms=now)):
            state.users[user.name.casefold()] = user
        state.cluster.set(ENABLED)
        key = state.cluster.key
    return {
        "thoughtspot_host": app.base_url + PREFIX,
        "thoughtspot_admin_username": "tsadmin",
        "thoughtspot_admin_password": password,
        "thoughtspot_secret_key": key or "",
        "thoughtspot_username": "demo-analyst",
        "thoughtspot_org_id": "1",  # vars are strings: send {{ thoughtspot_org_id | int }}
        "thoughtspot_object_id": DEMO_OBJECT_ID,
    }
