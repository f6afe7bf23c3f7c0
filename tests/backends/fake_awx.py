"""A small local fake of the AWX API: credential types only.

THIS IS A FAKE, not AWX. AWX cannot run on the test machines (no container runtime, no
PostgreSQL, no receptor), so playbooks/register_awx_credential_types.yml is tested against this:
the real awx.awx credential_type module talks to it over HTTP on 127.0.0.1. It serves what
that module needs and no more:

* ``GET /api/v2/credential_types/?name=...`` (list, filtered by name), ``POST`` (create),
  ``PATCH`` and ``DELETE /api/v2/credential_types/<id>/``;
* a bearer token (401 otherwise), and AWX's ``X-API-Product-*`` headers;
* a definition AWX would refuse (tests/backends/awx_injectors.check_definition) gets a 400;
* ``GET /_fake/credential_types``: the stored objects; ``GET /_fake/writes``: how many
  requests changed something.

Not implemented: other resources, pagination, username/password logins, RBAC.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from backends.awx_injectors import check_definition

ITEM = re.compile(r"^/api/v2/credential_types/(?P<id>\d+)/$")
FIELDS = ("name", "description", "kind", "inputs", "injectors")


class FakeAwx:
    def __init__(self, token: str) -> None:
        self.token = token
        self.types: dict = {}
        self.writes = 0
        self._next = 1
        self._lock = threading.Lock()

    def item(self, number: int) -> dict:
        stored = copy.deepcopy(self.types[number])
        stored.update(id=number, type="credential_type", url=f"/api/v2/credential_types/{number}/", managed=False,
                      related={}, summary_fields={})
        return stored


def make_server(port: int, *, token: str) -> ThreadingHTTPServer:
    state = FakeAwx(token)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            return

        def _send(self, status: int, body=None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-API-Product-Name", "AWX")
            self.send_header("X-API-Product-Version", "24.6.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {state.token}":
                return True
            self._send(401, {"detail": "Authentication credentials were not provided."})
            return False

        def do_GET(self):  # noqa: N802
            parts = urlsplit(self.path)
            if parts.path == "/_fake/credential_types":
                return self._send(200, [state.item(n) for n in sorted(state.types)])
            if parts.path == "/_fake/writes":
                return self._send(200, {"writes": state.writes})
            if not self._authorized():
                return None
            if parts.path == "/api/v2/credential_types/":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                found = [state.item(n) for n in sorted(state.types)
                         if "name" not in query or state.types[n]["name"] == query["name"]]
                return self._send(200, {"count": len(found), "next": None, "previous": None, "results": found})
            match = ITEM.match(parts.path)
            if match and int(match["id"]) in state.types:
                return self._send(200, state.item(int(match["id"])))
            return self._send(404, {"detail": "Not found."})

        def do_POST(self):  # noqa: N802
            if not self._authorized():
                return None
            if urlsplit(self.path).path != "/api/v2/credential_types/":
                return self._send(404, {"detail": "Not found."})
            body = self._body()
            problems = check_definition(body)
            if problems:
                return self._send(400, {"__all__": problems})
            with state._lock:  # pylint: disable=protected-access
                if any(t["name"] == body["name"] and t["kind"] == body["kind"] for t in state.types.values()):
                    return self._send(400, {"__all__": ["Credential type with this Name and Kind already exists."]})
                number = state._next  # pylint: disable=protected-access
                state._next += 1  # pylint: disable=protected-access
                state.types[number] = {name: body.get(name, "") for name in FIELDS}
                state.writes += 1
            return self._send(201, state.item(number))

        def _existing(self):
            """The id of the credential type the path names, or None once 401 or 404 is sent."""
            if not self._authorized():
                return None
            match = ITEM.match(urlsplit(self.path).path)
            if not match or int(match["id"]) not in state.types:
                self._send(404, {"detail": "Not found."})
                return None
            return int(match["id"])

        def do_PATCH(self):  # noqa: N802
            number = self._existing()
            if number is None:
                return None
            merged = dict(state.types[number], **{k: v for k, v in self._body().items() if k in FIELDS})
            problems = check_definition(merged)
            if problems:
                return self._send(400, {"__all__": problems})
            with state._lock:  # pylint: disable=protected-access
                state.types[number] = merged
                state.writes += 1
            return self._send(200, state.item(number))

        def do_DELETE(self):  # noqa: N802
            number = self._existing()
            if number is None:
                return None
            with state._lock:  # pylint: disable=protected-access
                del state.types[number]
                state.writes += 1
            return self._send(204)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.state = state
    return server
