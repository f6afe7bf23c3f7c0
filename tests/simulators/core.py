"""Core of the simulator: HTTPS listener, TLS material, routing, shared state.

Vendor modules never deal with sockets, faults or the audit log: they add
routes with :meth:`SimApp.add_route` and fill in ``request.audit`` fields. The
core applies faults (see :data:`FAULT_KINDS`) around token-endpoint handlers
and writes one audit line per non-admin request.

Besides the main listener (``MAIN_LISTENER``: admin API and most vendors), a
vendor may declare extra HTTPS listeners with :meth:`SimApp.add_listener`: each
gets its own port on 127.0.0.1 and its own route table, shares the CA and the
server certificate, and either accepts (``"optional"``) or demands
(``"required"``) a client certificate signed by the simulator CA. Route paths
may hold ``{name}`` segments; their values arrive in ``Request.path_params``.

Secrets policy: raw secrets, assertions and tokens are never logged, audited or
written to disk by this module; only :func:`fingerprint` values are.
"""

from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import html
import importlib
import json
import os
import re
import secrets
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import certs

ADMIN_PREFIX = "/_sim/"
MAIN_LISTENER = "main"
CLIENT_CERT_MODES = {"optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}

# Client authentication methods understood by the generic token endpoint.
AUTH_METHODS: tuple[str, ...] = (
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "tls_client_auth",
)

# Fault kinds accepted by POST /_sim/faults.
#  - "pre" faults replace the normal answer (the vendor handler does not run);
#  - "post" faults edit a successful JSON answer of the vendor handler;
#  - reset_before / reset_after / delay / clock_skew act on the connection or clock;
#  - reset_after_processing runs the handler (its side effects happen) and then
#    closes the connection without answering;
#  - graphql_error (GraphQL routes only) answers 200 {"data": null, "errors": [...]}.
#  - echo answers an error whose error_description quotes the request (body,
#    headers, query) in one rendering, as careless vendors' error pages do; the
#    answer is also kept in <state_dir>/echo/<n>.txt (0600) for the test to check.
PRE_FAULTS = frozenset({"status", "html", "not_json", "graphql_error"})
POST_FAULTS = frozenset({"truncated_json", "missing_field", "field_value"})
FAULT_KINDS = PRE_FAULTS | POST_FAULTS | frozenset(
    {"delay", "reset_before", "reset_after", "reset_after_processing", "clock_skew", "echo"})
# How an echo fault quotes the request (see _echo_text).
ECHO_RENDERS = ("body", "headers", "json", "base64", "query", "html", "location")

MAX_BODY = 1 << 20
# Idle keep-alive timeout of a connection. Long on purpose: an admin client with
# a kept-alive connection is never hit by a pending accept-time reset_before.
CONNECTION_IDLE_TIMEOUT = 120.0
HANDSHAKE_TIMEOUT = 10.0

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PATH_PARAM_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------- helpers


def fingerprint(value: str | bytes | None) -> str | None:
    """Short, non-reversible fingerprint for audit lines: ``sha256:`` + 12 hex."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    return "sha256:" + hashlib.sha256(value).hexdigest()[:12]


def cert_sha256(der: bytes) -> str:
    """Full lowercase hex SHA-256 of a DER certificate (RFC 8705 style thumbprint input)."""
    return hashlib.sha256(der).hexdigest()


def normalize_cert_fingerprint(value: str) -> str:
    """Accept ``AB:CD:..``, ``abcd..`` or ``sha256:abcd..`` and return bare lowercase hex."""
    value = value.strip().lower()
    if value.startswith("sha256:"):
        value = value[len("sha256:"):]
    return value.replace(":", "")


def load_public_key(pem: str) -> Any:
    """Public key object from a public-key PEM or a certificate PEM (ValueError otherwise)."""
    data = pem.encode("ascii", "replace")
    try:
        return serialization.load_pem_public_key(data)
    except ValueError:
        pass
    try:
        return x509.load_pem_x509_certificate(data).public_key()
    except ValueError:
        raise ValueError("public_key_pem is neither a PEM public key nor a PEM certificate") from None


def partition_of(environment: str | None = None, tenant_id: str | None = None) -> str:
    """Key under which a client id is unique: ``""``, ``"uat"``, ``"staging/eu-west-2_X"``...

    Vendors with separate environments or tenants keep separate client
    registries, so the same client id may exist in several of them.
    """
    return "/".join(part for part in (environment, tenant_id) if part)


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_file_atomic(path: str, data: bytes | str, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` via a temp file + rename, created with ``mode`` (never wider)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class AdminError(Exception):
    """Bad admin request; becomes a 400 JSON answer."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class PeerCert:
    """Verified TLS client certificate of the connection (CERT_OPTIONAL)."""

    subject_cn: str | None
    sha256: str  # lowercase hex of SHA-256 over the DER encoding


@dataclass
class Client:
    """A registered client of one vendor."""

    vendor: str
    client_id: str
    client_secret: str | None = None
    # None = every method the vendor supports and the client has material for.
    auth_methods: tuple[str, ...] | None = None
    public_key_pem: str | None = None
    kid: str | None = None
    cert_fingerprint: str | None = None
    token_lifetime: int | None = None
    scope: str | None = None
    basic_encoding: str = "form"  # "form" (RFC 6749 §2.3.1) or "raw"
    audience: str | None = None  # expected JWT "aud" instead of the token URL
    revoked: bool = False
    # Vendor-specific registration (validated by the vendor's ``admit_client``).
    environment: str | None = None  # thredd: uat|production; thrive: staging|production
    tenant_id: str | None = None  # thrive
    organisation_id: str | None = None  # thredd: signing keys live in the organisation's JWKS
    admin: bool = False  # thoughttrace: its tokens may call the client-management API

    @property
    def partition(self) -> str:
        return partition_of(self.environment, self.tenant_id)

    def allows(self, method: str) -> bool:
        if self.auth_methods is not None:
            return method in self.auth_methods
        if method in ("client_secret_basic", "client_secret_post"):
            return self.client_secret is not None
        if method == "private_key_jwt":
            return self.public_key_pem is not None or self.organisation_id is not None
        if method == "tls_client_auth":
            return self.cert_fingerprint is not None
        return False

    def describe(self) -> dict[str, Any]:
        """Admin-safe view (no secret, only its fingerprint)."""
        return {
            "vendor": self.vendor,
            "client_id": self.client_id,
            "secret_fp": fingerprint(self.client_secret),
            "auth_methods": list(self.auth_methods) if self.auth_methods is not None else None,
            "kid": self.kid,
            "has_public_key": self.public_key_pem is not None,
            "cert_fingerprint": self.cert_fingerprint,
            "token_lifetime": self.token_lifetime,
            "scope": self.scope,
            "basic_encoding": self.basic_encoding,
            "audience": self.audience,
            "revoked": self.revoked,
            "environment": self.environment,
            "tenant_id": self.tenant_id,
            "organisation_id": self.organisation_id,
            "admin": self.admin,
        }


@dataclass(frozen=True)
class IssuedToken:
    vendor: str
    client_id: str
    expires_at: float
    scope: str | None
    # Optional binding, set by vendors that need it (see ClientCredentialsEndpoint._token_binding).
    environment: str | None = None
    tenant_id: str | None = None
    listener: str | None = None
    connectivity: str | None = None
    cert_sha256: str | None = None  # RFC 8705 §3: certificate-bound token (cnf x5t#S256)


@dataclass
class Fault:
    vendor: str
    kind: str
    spec: dict[str, Any]
    remaining: int


@dataclass
class Request:
    """What a route handler sees. Handlers record findings in ``audit``."""

    app: "SimApp"
    method: str
    path: str
    query: str
    headers: Message
    body: bytes
    host: str
    peer: PeerCert | None
    vendor: str | None
    audit: dict[str, Any]
    clock_offset: float = 0.0
    listener: str = MAIN_LISTENER
    path_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def now(self) -> float:
        """Server time as seen by validation logic (shifted by a clock_skew fault)."""
        return time.time() + self.clock_offset

    def url_as_addressed(self) -> str:
        """``https://<Host header><path>``: the URL the client actually used."""
        return f"https://{self.host}{self.path}"

    def json_body(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise AdminError(f"body is not valid JSON: {exc}") from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # True: close the connection without sending anything (reset faults).
    drop_connection: bool = False


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode("utf-8"), "application/json", list(headers or []))


def oauth_error(status: int, error: str, description: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """RFC 6749 §5.2 error body."""
    return json_response(status, {"error": error, "error_description": description}, headers)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    vendor: str | None
    kind: str  # "token" | "api" | "admin"
    handler: Handler
    # Optional: fill audit fields (client_id, auth_method, fingerprints) without
    # validating anything. Run even when a fault replaces the handler's answer.
    inspect: Callable[[Request], None] | None = None
    listener: str = MAIN_LISTENER
    # Compiled form of a path with {name} segments; None for a literal path.
    pattern: re.Pattern[str] | None = None
    # Fault queue consulted for this route: the vendor for token routes, None
    # (no faults) for others unless add_route(..., fault_queue=...) names one.
    fault_queue: str | None = None


@dataclass
class Listener:
    """One HTTPS port on 127.0.0.1 with its own routes."""

    name: str
    client_cert: str = "optional"  # key of CLIENT_CERT_MODES
    vendor: str | None = None  # owning vendor (None: the main listener)
    # Copied into every audit entry of this listener (e.g. environment, connectivity).
    attrs: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    url: str | None = None  # https://127.0.0.1:<port>, once bound

    def describe(self) -> dict[str, Any]:
        return dict(self.attrs, name=self.name, url=self.url, port=self.port, client_cert=self.client_cert,
                    vendor=self.vendor)


# --------------------------------------------------------------------------- application state


class SimApp:  # pylint: disable=too-many-public-methods
    """All shared state of one simulator instance (thread-safe behind ``lock``)."""

    def __init__(self, state_dir: str, verbose: bool = False) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.verbose = verbose
        self.lock = threading.RLock()
        self.ca = trustme.CA(organization_name="apiauth.saas simulator")
        self._server_cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = os.path.join(self.state_dir, "ca.pem")
        self.audit_path = os.path.join(self.state_dir, "audit.jsonl")
        self.base_url = ""  # set once bound
        self.listeners: dict[str, Listener] = {MAIN_LISTENER: Listener(MAIN_LISTENER)}
        # (listener, method, path) -> route, for literal paths; patterned ones in order.
        self.routes: dict[tuple[str, str, str], Route] = {}
        self._pattern_routes: list[Route] = []
        self.vendors: dict[str, Any] = {}  # vendor name -> module (for seed_demo)
        # Token path of each vendor on the main listener (the first one registered).
        self.token_paths: dict[str, str] = {}
        # Per-vendor state a vendor module keeps on the app (e.g. Thredd's JWKS).
        self.vendor_state: dict[str, Any] = {}
        # Fault queues of non-token routes (e.g. "thrive-tenants"), besides the vendors.
        self.extra_fault_queues: set[str] = set()
        self._graphql_queues: set[str] = set()
        # (vendor, partition, client_id) -> client; see Client.partition.
        self.clients: dict[tuple[str, str, str], Client] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self._jtis: dict[tuple[str, str, str], float] = {}
        self._faults: dict[str, collections.deque[Fault]] = {}
        # Per queue: batches of faults waiting for next_staged_faults().
        self._staged: dict[str, collections.deque[list[Fault]]] = {}
        # A "delay" fault with "hold": true waits on this until POST /_sim/faults/release (or its seconds run out).
        self.hold_released = threading.Event()
        self._audit: list[dict[str, Any]] = []
        self._seq = 0
        self._echoes = 0
        # Bumped by clear_audit: vendor counters (e.g. THRIVE keys generated) may reset with the audit.
        self.audit_epoch = 0
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self.ca.cert_pem.write_to_path(self.ca_path)
        # Fresh audit file for each server start.
        fd = os.open(self.audit_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)

    # ---- vendors and routes

    def load_vendors(self, module_names: tuple[str, ...]) -> None:
        """Import each vendor module of this package and let it mount its routes.

        A vendor module defines ``VENDOR`` (its name, used in /_sim/ calls and
        audit entries), ``register(app)`` and optionally ``seed_demo(app)``.
        """
        package = __name__.rpartition(".")[0]
        for name in module_names:
            module = importlib.import_module(f"{package}.{name}")
            self.vendors[module.VENDOR] = module
            module.register(self)

    def add_listener(self, name: str, *, client_cert: str = "optional", vendor: str | None = None,
                     attrs: dict[str, str] | None = None) -> Listener:
        """Declare an extra HTTPS listener (bound by the CLI next to the main one)."""
        if not _NAME_RE.match(name) or name in self.listeners:
            raise ValueError(f"bad or duplicate listener name {name!r}")
        if client_cert not in CLIENT_CERT_MODES:
            raise ValueError(f"client_cert must be one of {sorted(CLIENT_CERT_MODES)}")
        listener = Listener(name, client_cert, vendor, dict(attrs or {}))
        self.listeners[name] = listener
        return listener

    def listener_url(self, name: str) -> str:
        url = self.listeners[name].url
        if not url:
            raise RuntimeError(f"listener {name!r} is not bound yet")
        return url

    def add_route(self, method: str, path: str, handler: Handler, *, vendor: str | None, kind: str = "api",
                  inspect: Callable[[Request], None] | None = None, listener: str = MAIN_LISTENER,
                  fault_queue: str | None = None) -> None:
        """Mount ``handler``; ``path`` may contain ``{name}`` segments (one path segment each).

        Token routes take faults from their vendor's queue (and ``"*"``); any
        other route only from ``fault_queue`` when given (e.g. ``"thrive-tenants"``).
        ``kind`` is the audit ``endpoint`` value; ``"graphql"`` routes also accept
        the ``graphql_error`` fault.
        """
        if listener not in self.listeners:
            raise ValueError(f"unknown listener {listener!r}")
        method = method.upper()
        pattern = None
        if _PATH_PARAM_RE.search(path):
            regex = "".join(
                f"(?P<{piece}>[^/]+)" if index % 2 else re.escape(piece)
                for index, piece in enumerate(_PATH_PARAM_RE.split(path)))
            pattern = re.compile(f"^{regex}$")
        if fault_queue is None and kind == "token":
            fault_queue = vendor
        elif fault_queue is not None:
            if not _NAME_RE.match(fault_queue) or fault_queue == "*":
                raise ValueError(f"bad fault queue name {fault_queue!r}")
            self.extra_fault_queues.add(fault_queue)
        if fault_queue is not None and kind == "graphql":
            self._graphql_queues.add(fault_queue)
        route = Route(method, path, vendor, kind, handler, inspect, listener, pattern, fault_queue)
        key = (listener, method, path)
        if key in self.routes or any(
                (r.listener, r.method, r.path) == key for r in self._pattern_routes):
            raise ValueError(f"route already registered: {key}")
        if pattern is None:
            self.routes[key] = route
        else:
            self._pattern_routes.append(route)
        if kind == "token" and vendor is not None and listener == MAIN_LISTENER:
            self.token_paths.setdefault(vendor, path)

    def _routes_for_path(self, path: str, listener: str) -> list[tuple[Route, dict[str, str]]]:
        found = [(r, {}) for (lst, _m, p), r in self.routes.items() if lst == listener and p == path]
        if found:
            return found
        for route in self._pattern_routes:
            if route.listener == listener and route.pattern is not None:
                hit = route.pattern.match(path)
                if hit:
                    params = {k: urllib.parse.unquote(v) for k, v in hit.groupdict().items()}
                    found.append((route, params))
        return found

    def match(self, method: str, path: str, listener: str = MAIN_LISTENER
              ) -> tuple[Route | None, list[str], dict[str, str]]:
        """Route for (method, path) on ``listener``, the methods allowed on that path, and path params."""
        candidates = self._routes_for_path(path, listener)
        allowed = sorted({route.method for route, _params in candidates})
        for route, params in candidates:
            if route.method == method:
                return route, allowed, params
        return None, allowed, {}

    def vendor_of_path(self, path: str, listener: str = MAIN_LISTENER) -> str | None:
        for route, _params in self._routes_for_path(path, listener):
            return route.vendor
        return self.listeners[listener].vendor if listener in self.listeners else None

    def token_vendors(self, listener: str) -> set[str]:
        """Fault queues of the routes on ``listener`` (whose reset_before may hit its connections):
        the vendors with a token endpoint there, plus queues such as ``"thrive-tenants"``."""
        routes = list(self.routes.values()) + self._pattern_routes
        return {r.fault_queue for r in routes if r.fault_queue and r.listener == listener}

    # ---- clients

    def put_client(self, client: Client) -> None:
        with self.lock:
            self.clients[(client.vendor, client.partition, client.client_id)] = client

    def get_client(self, vendor: str, client_id: str | None, partition: str = "") -> Client | None:
        """The client of ``vendor`` in ``partition`` (see :func:`partition_of`)."""
        if client_id is None:
            return None
        with self.lock:
            return self.clients.get((vendor, partition, client_id))

    def client_partitions(self, vendor: str, client_id: str | None) -> list[str]:
        """Partitions in which ``vendor`` has a client with this id (for helpful error texts)."""
        with self.lock:
            return sorted(p for (v, p, c) in self.clients if v == vendor and c == client_id)

    # ---- tokens

    def issue_token(self, vendor: str, client_id: str, lifetime: int, scope: str | None, **binding: Any) -> str:
        """New random token; ``binding`` sets the optional IssuedToken fields (environment, cert_sha256...)."""
        token = secrets.token_urlsafe(40)  # 54 url-safe characters
        with self.lock:
            self.tokens[token] = IssuedToken(vendor, client_id, time.time() + lifetime, scope, **binding)
        return token

    def lookup_token(self, token: str, vendor: str) -> IssuedToken | None:
        """The token's record if it was issued by ``vendor`` and is unexpired."""
        with self.lock:
            record = self.tokens.get(token)
        if record is None or record.vendor != vendor or record.expires_at <= time.time():
            return None
        return record

    def expire_tokens(self, vendor: str | None = None) -> int:
        with self.lock:
            doomed = [t for t, r in self.tokens.items() if vendor in (None, r.vendor)]
            for token in doomed:
                del self.tokens[token]
        return len(doomed)

    def remember_jti(self, vendor: str, client_id: str, jti: str, expires_at: float) -> bool:
        """Record an assertion id; False if it was already used (replay)."""
        now = time.time()
        with self.lock:
            # Forget ids whose assertion expired long ago (they can't be replayed anyway).
            for key in [k for k, exp in self._jtis.items() if exp < now - 600]:
                del self._jtis[key]
            key = (vendor, client_id, jti)
            if key in self._jtis:
                return False
            self._jtis[key] = expires_at
            return True

    # ---- faults

    def add_faults(self, vendor: str, faults: list[dict[str, Any]]) -> int:
        self._check_queue(vendor)
        parsed = [self._parse_fault(vendor, spec) for spec in faults]
        with self.lock:
            self._faults.setdefault(vendor, collections.deque()).extend(parsed)
        return len(parsed)

    def stage_faults(self, vendor: str, batches: list[list[dict[str, Any]]]) -> int:
        """Keep batches of faults aside; each next_staged_faults() loads one. Returns the batches staged."""
        self._check_queue(vendor)
        parsed = [[self._parse_fault(vendor, spec) for spec in batch] for batch in batches]
        with self.lock:
            staged = self._staged.setdefault(vendor, collections.deque())
            staged.extend(parsed)
            return len(staged)

    def next_staged_faults(self, vendor: str) -> tuple[int, int]:
        """Clear ``vendor``'s queue and load its next staged batch: (faults loaded, batches left)."""
        self._check_queue(vendor)
        with self.lock:
            staged = self._staged.get(vendor) or collections.deque()
            batch = staged.popleft() if staged else []
            self._faults[vendor] = collections.deque(batch)
            return len(batch), len(staged)

    def _check_queue(self, vendor: str) -> None:
        if vendor != "*" and vendor not in self.vendors and vendor not in self.extra_fault_queues:
            raise AdminError(f"unknown vendor {vendor!r}; fault queues: "
                             f"{sorted(set(self.vendors) | self.extra_fault_queues)}")

    def _parse_fault(self, vendor: str, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise AdminError("each fault must be a JSON object")
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise AdminError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise AdminError("count must be an integer >= 1")
        if spec.get("method") is not None and not isinstance(spec["method"], str):
            raise AdminError("method must be an HTTP method name (a string)")

        def number(name: str, required: bool) -> None:
            value = spec.get(name)
            if value is None and not required:
                return
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise AdminError(f"fault {kind}: {name} must be a number")

        if kind in ("status", "html"):
            status = spec.get("status", 502 if kind == "html" else None)
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise AdminError(f"fault {kind}: status must be an HTTP error code (400-599)")
            retry_after = spec.get("retry_after")
            if retry_after is not None and not isinstance(retry_after, (int, float, str)):
                raise AdminError("retry_after must be a number of seconds or an HTTP date string")
        elif kind == "delay":
            number("seconds", True)
            if not 0 <= spec["seconds"] <= 120:
                raise AdminError("delay seconds must be within 0..120")
        elif kind == "clock_skew":
            number("seconds", True)
        elif kind == "graphql_error":
            if vendor not in self._graphql_queues:
                raise AdminError(f"fault graphql_error only applies to GraphQL queues: {sorted(self._graphql_queues)}")
            if not isinstance(spec.get("message", ""), str):
                raise AdminError("fault graphql_error: message must be a string")
        elif kind == "echo":
            if spec.get("render", "body") not in ECHO_RENDERS:
                raise AdminError(f"fault echo: render must be one of {list(ECHO_RENDERS)}")
            status = spec.get("status", 400)
            if not isinstance(status, int) or not 300 <= status <= 599:
                raise AdminError("fault echo: status must be an HTTP status from 300 to 599")
        elif kind in ("missing_field", "field_value"):
            if not isinstance(spec.get("field"), str):
                raise AdminError(f"fault {kind}: field (string) is required")
            if kind == "field_value" and "value" not in spec:
                raise AdminError("fault field_value: value is required (any JSON value)")
        return Fault(vendor, kind, dict(spec), count)

    def _consume(self, queue: collections.deque[Fault]) -> Fault:
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def take_fault(self, vendor: str, wildcard: bool = True, method: str | None = None) -> Fault | None:
        """Consume one application of the next fault for a request of queue ``vendor``
        (then of ``"*"`` when ``wildcard``: token endpoints only). A fault whose spec names a
        ``method`` waits at the head of its queue for a request of that method."""
        with self.lock:
            for key in (vendor, "*") if wildcard else (vendor,):
                queue = self._faults.get(key)
                if queue:
                    wanted = queue[0].spec.get("method")
                    if wanted is not None and method is not None and wanted.upper() != method.upper():
                        continue
                    return self._consume(queue)
        return None

    def take_connection_fault(self, vendors: set[str] | None = None) -> Fault | None:
        """At accept time: consume a reset_before sitting at the head of a queue.

        The path is unknown before the TLS handshake, so this hits the next new
        connection of the listener whatever it is for. ``vendors``: the vendors
        with a token endpoint on that listener (None: any); the ``"*"`` queue
        always applies. Admin clients should keep their connection alive (the
        fixture does) to stay out of the way.
        """
        with self.lock:
            for key, queue in self._faults.items():
                if vendors is not None and key != "*" and key not in vendors:
                    continue
                if queue and queue[0].kind == "reset_before":
                    return self._consume(queue)
        return None

    def keep_echo(self, body: bytes) -> str:
        """Store an echo fault's answer (it quotes secrets: 0600) and return its path."""
        directory = os.path.join(self.state_dir, "echo")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with self.lock:
            self._echoes += 1
            path = os.path.join(directory, f"{self._echoes}.txt")
        write_file_atomic(path, body)
        return path

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._staged.clear()
            self.hold_released.set()  # nothing stays held by a fault of an earlier test
            self.hold_released = threading.Event()

    def pending_faults(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return {
                vendor: [dict(f.spec, remaining=f.remaining) for f in queue]
                for vendor, queue in self._faults.items()
                if queue
            }

    # ---- audit

    def new_audit(self, method: str | None, path: str | None, query: str, vendor: str | None,
                  endpoint: str, peer: PeerCert | None, listener: str = MAIN_LISTENER) -> dict[str, Any]:
        query_names = sorted({name for name, _v in urllib.parse.parse_qsl(query, keep_blank_values=True)})
        entry = {
            "seq": None,
            # Which audit the request began in: one still running when the audit is cleared (a delayed answer
            # the client gave up on) belongs to the audit before, and is not recorded into the next one.
            "epoch": self.audit_epoch,
            "ts": utc_now_iso(),
            "listener": listener,
            "vendor": vendor,
            "endpoint": endpoint,  # token | api | jwks | unknown | connection
            "method": method,
            "path": path,
            "status": None,
            "client_id": None,
            "auth_method": None,
            "secret_fp": None,
            "assertion_fp": None,
            "token_fp": None,
            "fault": None,
            "error": None,
            "error_description": None,
            "query_present": bool(query),
            "query_params": query_names,
            "params": [],
            "has_client_cert": peer is not None,
            # A certificate is public: full SHA-256 hex, comparable with cert_fingerprint.
            "client_cert_sha256": peer.sha256 if peer else None,
            "client_cert_cn": peer.subject_cn if peer else None,
        }
        spec = self.listeners.get(listener)
        if spec is not None:
            entry.update(spec.attrs)  # e.g. environment, connectivity of a Thredd listener
        return entry

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            if entry.get("epoch", self.audit_epoch) != self.audit_epoch:
                return
            self._seq += 1
            entry["seq"] = self._seq
            self._audit.append(entry)
            with open(self.audit_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\n")
        if self.verbose:
            print(f"{entry['ts']} {entry['method']} {entry['path']} -> {entry['status']}"
                  f"{' fault=' + entry['fault'] if entry['fault'] else ''}", file=sys.stderr, flush=True)

    def audit_entries(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self._audit]

    def clear_audit(self) -> None:
        with self.lock:
            self._audit.clear()
            self.audit_epoch += 1
            with open(self.audit_path, "w", encoding="utf-8"):
                pass

    # ---- TLS

    def server_context(self, client_cert: str = "optional") -> ssl.SSLContext:
        """Server TLS context; ``client_cert`` "optional" or "required" (see CLIENT_CERT_MODES)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server_cert.configure_cert(ctx)
        # A presented client certificate must chain to our CA (and be within its validity).
        self.ca.configure_trust(ctx)
        ctx.verify_mode = CLIENT_CERT_MODES[client_cert]
        return ctx

    def issue_client_cert(self, name: str, directory: str | None = None, *, days_valid: float | None = None,
                          expired: bool = False) -> tuple[str, str, str]:
        """Issue a client certificate (CN=name) and write ``<name>.pem`` + ``<name>.key`` (0600).

        ``directory`` defaults to ``<state_dir>/certs``. Without ``days_valid``
        and ``expired`` trustme issues it (its default validity, years); with
        ``days_valid=N`` it expires N days from now, with ``expired=True`` it
        expired yesterday (either way signed with the CA key by
        :mod:`certs`). Returns (cert_path, key_path, lowercase hex SHA-256 of
        the DER certificate).
        """
        if not _NAME_RE.match(name):
            raise AdminError("cert name must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        slug = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-") or "client"
        dns_name = f"{slug}.clients.apiauth-sim.invalid"
        if days_valid is None and not expired:
            leaf = self.ca.issue_cert(dns_name, common_name=name)
            cert_pem, key_pem = leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()
        else:
            try:
                not_before, not_after = certs.validity(days_valid, expired)
            except (ValueError, OverflowError) as exc:
                raise AdminError(str(exc)) from None
            cert_pem, key_pem = certs.issue_leaf(self.ca.cert_pem.bytes(), self.ca.private_key_pem.bytes(),
                                                 name, dns_name, not_before, not_after)
        directory = directory or os.path.join(self.state_dir, "certs")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        cert_path = os.path.join(directory, f"{name}.pem")
        key_path = os.path.join(directory, f"{name}.key")
        write_file_atomic(cert_path, cert_pem, 0o600)
        write_file_atomic(key_path, key_pem, 0o600)
        der = ssl.PEM_cert_to_DER_cert(cert_pem.decode("ascii"))
        return cert_path, key_path, cert_sha256(der)


# --------------------------------------------------------------------------- HTTP layer


def _fault_response(fault: Fault) -> Response:
    """Answer that replaces the vendor's for a PRE fault."""
    spec = fault.spec
    if fault.kind == "status":
        status = int(spec["status"])
        error = {429: "slow_down", 503: "temporarily_unavailable"}.get(status, "server_error")
        response = oauth_error(status, error, f"simulated HTTP {status}")
        if spec.get("retry_after") is not None:
            value = spec["retry_after"]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            response.headers.append(("Retry-After", str(value)))
        return response
    if fault.kind == "html":
        status = int(spec.get("status", 502))
        page = (f"<!DOCTYPE html>\n<html><head><title>{status} Error</title></head>"
                f"<body><h1>{status} Error</h1><p>The upstream gateway failed (simulated).</p></body></html>\n")
        return Response(status, page.encode("utf-8"), "text/html; charset=utf-8")
    if fault.kind == "graphql_error":
        message = spec.get("message") or "simulated GraphQL error"
        return json_response(200, {"data": None, "errors": [{"message": message}]})
    # not_json
    return Response(200, b"OK - token service is warming up (simulated, not JSON)\n", "text/plain; charset=utf-8")


def _apply_post_fault(fault: Fault, response: Response) -> Response:
    """Edit a successful JSON answer for truncated_json / missing_field / field_value."""
    if not (200 <= response.status < 300 and response.body
            and (response.content_type or "").startswith("application/json")):
        return response
    if fault.kind == "truncated_json":
        response.body = response.body[: max(1, len(response.body) // 2)]
        return response
    payload = json.loads(response.body)
    if not isinstance(payload, dict):
        return response
    # "a.b.c" names a field inside nested objects (e.g. GraphQL's data.generateApiKey.validUntil).
    *parents, name = fault.spec["field"].split(".")
    holder = payload
    for part in parents:
        holder = holder.get(part) if isinstance(holder, dict) else None
    if not isinstance(holder, dict):
        return response
    if fault.kind == "missing_field":
        holder.pop(name, None)
    else:
        holder[name] = fault.spec["value"]
    response.body = json.dumps(payload).encode("utf-8")
    return response


def _echo_text(render: str, request: Request) -> str:
    """The request as a careless vendor quotes it back, in one rendering."""
    body = request.body.decode("utf-8", "replace")
    secret_headers = [(name, value) for name, value in request.headers.items()
                      if name.lower() in ("authorization", "cookie", "x-api-key")]
    target = request.path + (f"?{request.query}" if request.query else "")
    if render == "body":
        return f"cannot process request body: {body}"
    if render == "headers":
        return "rejected headers: " + "; ".join(f"{name}: {value}" for name, value in secret_headers)
    if render == "query":
        return f"no such resource: {request.method} {target}"
    if render == "location":
        # A login redirect that carries the form it was sent on in its query.
        return f"moved to https://{request.host}{request.path}?{body}"
    if render == "base64":
        # The headers first: a long body must not push them past what a client shows.
        quoted = "; ".join(f"{name}: {value}" for name, value in secret_headers).encode("latin-1", "replace")
        encoded = base64.b64encode(request.body).decode("ascii")
        return (f"headers (base64): {base64.b64encode(quoted).decode('ascii')} request (base64): {encoded} / "
                f"{base64.urlsafe_b64encode(request.body).decode('ascii').rstrip('=')}")
    if render == "html":
        return f"<pre>{html.escape(body)}</pre>"
    # json: the decoded fields, escaped as a JSON encoder with ensure_ascii and "\/" does.
    fields: Any
    if "json" in (request.header("Content-Type") or ""):
        try:
            fields = json.loads(body)
        except ValueError:
            fields = body
    else:
        fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    quoted = {"request": fields, "headers": dict(secret_headers)}
    return "bad request " + json.dumps(quoted, ensure_ascii=True).replace("/", "\\/")


def _echo_response(fault: Fault, request: Request) -> Response:
    status = int(fault.spec.get("status", 400))
    render = fault.spec.get("render", "body")
    response = oauth_error(status, "invalid_request", _echo_text(render, request))
    if render == "location":
        response.headers.append(("Location", _echo_text(render, request).removeprefix("moved to ")))
    return response


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SimRequestHandler(BaseHTTPRequestHandler):
    """Turns HTTP requests into :class:`Request` objects and routes them."""

    protocol_version = "HTTP/1.1"  # keep-alive, so admin clients keep one connection
    server_version = "apiauth-sim/1"
    sys_version = ""
    timeout = CONNECTION_IDLE_TIMEOUT
    server: "SimServer"

    # BaseHTTPRequestHandler logs the raw request line (with any query string,
    # which might hold a secret): never do that.
    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        return

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    # ---- plumbing

    def _peer(self) -> PeerCert | None:
        getpeercert = getattr(self.connection, "getpeercert", None)
        if getpeercert is None:
            return None
        der = getpeercert(binary_form=True)
        if not der:
            return None
        info = getpeercert() or {}
        common_name = None
        for rdn in info.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    common_name = value
        return PeerCert(common_name, cert_sha256(der))

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise _BodyError(400, "malformed chunked body") from None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise _BodyError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise _BodyError(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            raise _BodyError(413, "request body too large")
        return self.rfile.read(length)

    def _drop(self) -> None:
        """Close the connection abruptly (RST), sending nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The makefile() objects hold references: close them so the fd really closes now.
        for stream in (self.rfile, self.wfile):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.connection.close()
        except OSError:
            pass

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _serve(self) -> None:
        app = self.server.app
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path or "/", split.query
        method = self.command.upper()
        peer = self._peer()
        listener = self.server.listener
        own_url = app.listeners[listener].url or app.base_url
        host = self.headers.get("Host") or own_url.removeprefix("https://")

        # The control API lives on the main listener only.
        if listener == MAIN_LISTENER and (path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/")):
            self._serve_admin(method, path, query, host, peer)
            return

        route, allowed, path_params = app.match(method, path, listener)
        vendor = route.vendor if route else app.vendor_of_path(path, listener)
        endpoint = route.kind if route else "unknown"
        if route is None and allowed:  # wrong method on a known path: report that path's kind
            other = app.match(allowed[0], path, listener)[0]
            endpoint = other.kind if other is not None else endpoint
        audit = app.new_audit(method, path, query, vendor, endpoint, peer, listener)

        fault = (app.take_fault(route.fault_queue, wildcard=route.kind == "token", method=method)
                 if route is not None and route.fault_queue else None)
        if fault is not None:
            audit["fault"] = fault.kind
            if fault.kind == "reset_before":
                # Keep-alive connection reused, so the accept-time check could not
                # fire: the closest equivalent is to drop before reading the body.
                app.record(audit)
                self._drop()
                return

        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True
            audit["status"] = exc.status
            audit["error"] = "invalid_request"
            app.record(audit)
            self._send(oauth_error(exc.status, "invalid_request", str(exc)))
            return
        except (OSError, ValueError):
            self._drop()
            return

        request = Request(app, method, path, query, self.headers, body, host, peer, vendor, audit,
                          clock_offset=float(fault.spec["seconds"]) if fault and fault.kind == "clock_skew" else 0.0,
                          listener=listener, path_params=path_params)
        if route is not None and route.inspect is not None:
            try:
                route.inspect(request)
            except Exception:  # pylint: disable=broad-except
                pass  # the handler will report malformed input properly

        if fault is not None and fault.kind == "reset_after":
            app.record(audit)
            self._drop()
            return
        if fault is not None and fault.kind == "delay":
            if fault.spec.get("hold"):
                app.hold_released.wait(float(fault.spec["seconds"]))
            else:
                time.sleep(float(fault.spec["seconds"]))

        if route is None:
            if allowed:
                response = oauth_error(405, "invalid_request", f"method {method} not allowed on {path}",
                                       [("Allow", ", ".join(allowed))])
            else:
                response = json_response(404, {"error": "not_found", "error_description": f"no route for {path}"})
        elif fault is not None and fault.kind in PRE_FAULTS:
            response = _fault_response(fault)
        elif fault is not None and fault.kind == "echo":
            response = _echo_response(fault, request)
            audit["echo_file"] = app.keep_echo(response.body)
        else:
            try:
                response = route.handler(request)
            except Exception as exc:  # pylint: disable=broad-except
                # A simulator bug must be visible to the test, not hang it.
                response = oauth_error(500, "server_error", f"simulator error: {type(exc).__name__}")
                # Type and place only: an exception message could quote request data.
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                audit["error_description"] = (
                    f"simulator bug: {type(exc).__name__} at {os.path.basename(frame.filename)}:{frame.lineno}")
            if fault is not None and fault.kind in POST_FAULTS:
                response = _apply_post_fault(fault, response)

        audit["status"] = response.status
        if response.status >= 400 and audit.get("error") is None:
            try:
                audit["error"] = json.loads(response.body).get("error")
            except (ValueError, AttributeError):
                pass
        app.record(audit)
        if fault is not None and fault.kind == "reset_after_processing":
            # The handler ran (a key was generated, a secret rotated...): the
            # client just never hears about it.
            self._drop()
            return
        self._send(response)

    def _serve_admin(self, method: str, path: str, query: str, host: str, peer: PeerCert | None) -> None:
        app = self.server.app
        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True
            self._send(json_response(exc.status, {"error": str(exc)}))
            return
        route, allowed, path_params = app.match(method, path)
        audit: dict[str, Any] = {}  # admin calls are not audited
        request = Request(app, method, path, query, self.headers, body, host, peer, None, audit,
                          path_params=path_params)
        if route is None:
            status = 405 if allowed else 404
            self._send(json_response(status, {"error": f"no admin route {method} {path}"}))
            return
        try:
            response = route.handler(request)
        except AdminError as exc:
            response = json_response(400, {"error": str(exc)})
        self._send(response)


class SimServer(ThreadingHTTPServer):
    """HTTPS server on 127.0.0.1 for one listener. TLS is done per connection in its own thread."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, app: SimApp, port: int = 0, listener: str = MAIN_LISTENER) -> None:
        self.app = app
        self.listener = listener
        spec = app.listeners[listener]
        self.ssl_context = app.server_context(spec.client_cert)
        # Faults queued for vendors served elsewhere must not hit this listener's connections.
        self.fault_vendors = app.token_vendors(listener)
        super().__init__(("127.0.0.1", port), SimRequestHandler)
        self.port = self.server_address[1]
        spec.port = self.port
        spec.url = f"https://127.0.0.1:{self.port}"
        if listener == MAIN_LISTENER:
            app.base_url = spec.url

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn): skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # Runs in the per-connection thread: reset_before check, then TLS handshake.
        fault = self.app.take_connection_fault(self.fault_vendors)
        if fault is not None:
            vendor = None if fault.vendor == "*" else fault.vendor
            entry = self.app.new_audit(None, None, "", vendor, "connection", None, self.listener)
            entry["fault"] = "reset_before"
            self.app.record(entry)
            try:
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            request.close()
            return
        try:
            # Headers and body go out in separate writes: without NODELAY, Nagle
            # plus delayed ACKs add ~40 ms to every keep-alive exchange.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            # Client rejected our cert, presented an untrusted/expired one (or, on a
            # "required" listener, none), or went away.
            if self.listener != MAIN_LISTENER:
                self._audit_handshake_failure(exc)
            try:
                request.close()
            except OSError:
                pass
            return
        super().process_request_thread(tls, client_address)

    def _audit_handshake_failure(self, exc: BaseException) -> None:
        """Extra listeners audit failed handshakes (e.g. mTLS without a client certificate)."""
        spec = self.app.listeners[self.listener]
        entry = self.app.new_audit(None, None, "", spec.vendor, "connection", None, self.listener)
        entry["error"] = "tls_handshake_failed"
        # The OpenSSL reason (e.g. PEER_DID_NOT_RETURN_A_CERTIFICATE), never request data.
        entry["error_description"] = getattr(exc, "reason", None) or type(exc).__name__
        self.app.record(entry)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that drop connections are normal here (timeouts in tests).
        exc = sys.exc_info()[1]
        if exc is None or isinstance(exc, (OSError, ssl.SSLError)):
            return
        # Not the default full traceback: messages might quote request data.
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"apiauth-sim: {type(exc).__name__} at {os.path.basename(frame.filename)}:{frame.lineno}",
              file=sys.stderr, flush=True)
