# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scriptable HTTP(S) server on 127.0.0.1 for the transport tests.

Each test queues the answers it wants (status, headers, body, a delay, or
hanging up without answering) and afterwards reads what the server saw. TLS
is optional: pass an ``ssl.SSLContext`` (e.g. configured by trustme). The
handshake runs in the connection's thread, so a failed handshake neither blocks
the server nor prints a traceback; it is recorded in ``handshake_errors``.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: object = b""  # bytes, str, or anything JSON-serialisable (sent as JSON)
    delay: float = 0.0  # seconds to wait before answering
    action: str = "reply"  # "reply", "close" (hang up, no answer) or "reset" (TCP RST)
    content_length: bool = True  # False: no Content-Length, body ends at EOF

    def encoded_body(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict  # lower-case names
    body: bytes
    peer_cert: dict | None = None


class _HandshakeFailed(Exception):
    """Ends a connection whose TLS handshake failed (already recorded)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        self.request.settimeout(10)
        context = self.server.ssl_context
        if context is not None:
            tls = context.wrap_socket(self.request, server_side=True, do_handshake_on_connect=False)
            try:
                tls.do_handshake()
            except OSError as exc:  # ssl.SSLError included
                self.server.owner.handshake_errors.append(exc)
                # With TLS 1.3 the client learns that its certificate was refused
                # only when it reads after sending; closing at once could turn
                # our alert into a reset. Give it a moment to read the alert.
                self.server.owner.stopping.wait(0.3)
                tls.close()
                raise _HandshakeFailed() from None
            self.request = tls
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        # The server closes the socket it accepted, which wrap_socket detached:
        # the TLS socket is ours to close.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.close()

    def log_message(self, *_args) -> None:  # keep pytest output clean
        pass

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        peer = None
        if isinstance(self.connection, ssl.SSLSocket):
            peer = self.connection.getpeercert() or None
        owner.seen.append(Seen(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            peer_cert=peer,
        ))
        reply = owner.next_reply()
        if reply.delay:
            owner.stopping.wait(reply.delay)
        self.close_connection = True
        if reply.action == "close":
            return
        if reply.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        payload = reply.encoded_body()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.content_length:
                self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout test): nothing to do
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, ssl_context, owner) -> None:
        self.ssl_context = ssl_context
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        # Handshake failures are recorded by the handler; stay quiet for the rest
        # too (a client that gave up mid-answer is what several tests do).
        pass


class ScriptedServer:
    """``with ScriptedServer(ctx) as server: server.script(Reply(503), Reply(200))``."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.ssl_context = ssl_context
        self.seen: list = []
        self.handshake_errors: list = []
        self.stopping = threading.Event()
        self._replies: deque = deque()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), ssl_context, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def script(self, *replies: Reply) -> "ScriptedServer":
        with self._lock:
            self._replies.extend(replies)
        return self

    def next_reply(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return Reply(599, body={"error": "unscripted", "error_description": "no reply queued"})

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def start(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ScriptedServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def closed_port() -> int:
    """A local port that nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
