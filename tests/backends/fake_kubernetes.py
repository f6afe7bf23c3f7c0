"""A small local fake of the Kubernetes API: core/v1 Secrets only.

THIS IS A FAKE, not Kubernetes. No API server can run on the test machines (no container
runtime, no kube-apiserver package), so the secret_store role's kubernetes_secret backend is
tested against this instead: the real kubernetes.core modules and the real kubernetes Python
client talk to it over HTTP on 127.0.0.1. It serves what that client needs and no more:

* discovery: ``GET /version``, ``/api``, ``/apis``, ``/api/v1``;
* Secrets: get, list, create, replace, patch (JSON merge and strategic merge, which for a
  Secret's maps amount to the same thing), delete, with ``?dryRun=All`` honoured, 404/409
  ``Status`` answers, ``resourceVersion`` bumped only when the object changes (as the real
  server does on a no-op patch);
* a bearer token, when started with one (401 otherwise);
* ``GET /_fake/writes``: the writes that changed something, without data, so a test can
  prove a second run wrote nothing; ``GET /_fake/secrets``: the stored objects.

Not implemented: other kinds, watches, field/label selectors, server-side apply, stringData.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SECRET_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/secrets(?:/(?P<name>[^/]+))?$")

API_RESOURCES = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
         "verbs": ["create", "delete", "get", "list", "patch", "update"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["get", "list"]},
    ],
}


def _merge(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class FakeKubernetes:
    def __init__(self, token: str | None = None):
        self.token = token
        self.secrets: dict[tuple[str, str], dict] = {}
        self.writes: list[dict] = []
        self.version = 1
        self.lock = threading.Lock()

    def _normalise(self, obj: dict, namespace: str, previous: dict | None) -> dict:
        obj = copy.deepcopy(obj)
        obj["apiVersion"], obj["kind"] = "v1", "Secret"
        obj.setdefault("type", "Opaque")
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = namespace
        for key in ("labels", "annotations"):
            if not meta.get(key):
                meta.pop(key, None)
        if not obj.get("data"):
            obj.pop("data", None)
        for key in ("uid", "creationTimestamp", "resourceVersion"):
            meta.pop(key, None)
        if previous:
            for key in ("uid", "creationTimestamp", "resourceVersion"):
                meta[key] = previous["metadata"][key]
        else:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return obj

    def _store(self, key, obj, previous, verb, dry_run) -> dict:
        if previous is not None and obj == previous:
            return obj
        if dry_run:
            obj["metadata"]["resourceVersion"] = str(self.version + 1)
            return obj
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.secrets[key] = obj
        self.writes.append({"verb": verb, "namespace": key[0], "name": key[1],
                            "keys": sorted(obj.get("data", {}))})
        return obj

    def handle(self, method: str, path: str, query: dict, body) -> tuple[int, dict]:
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake", "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
        if path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        if path == "/api/v1":
            return 200, API_RESOURCES
        if path == "/_fake/writes":
            return 200, {"writes": self.writes}
        if path == "/_fake/secrets":
            return 200, {"items": list(self.secrets.values())}
        match = SECRET_PATH.match(path)
        if not match:
            return 404, _status(404, "NotFound", f"the server could not find the requested resource ({path})")
        namespace, name = match["ns"], match["name"]
        dry_run = "All" in query.get("dryRun", [])
        with self.lock:
            if name is None:
                if method == "GET":
                    items = [s for (ns, _n), s in sorted(self.secrets.items()) if ns == namespace]
                    return 200, {"kind": "SecretList", "apiVersion": "v1",
                                 "metadata": {"resourceVersion": str(self.version)}, "items": items}
                if method == "POST":
                    name = (body.get("metadata") or {}).get("name")
                    if not name:
                        return 422, _status(422, "Invalid", "metadata.name: Required value")
                    key = (namespace, name)
                    if key in self.secrets:
                        return 409, _status(409, "AlreadyExists", f'secrets "{name}" already exists')
                    return 201, self._store(key, self._normalise(body, namespace, None), None, "create", dry_run)
                return 405, _status(405, "MethodNotAllowed", method)
            key = (namespace, name)
            current = self.secrets.get(key)
            if current is None and method != "POST":
                return 404, _status(404, "NotFound", f'secrets "{name}" not found')
            if method == "GET":
                return 200, current
            if method == "PUT":
                return 200, self._store(key, self._normalise(body, namespace, current), current, "replace", dry_run)
            if method == "PATCH":
                merged = _merge(current, body)
                return 200, self._store(key, self._normalise(merged, namespace, current), current, "patch", dry_run)
            if method == "DELETE":
                if not dry_run:
                    del self.secrets[key]
                    self.writes.append({"verb": "delete", "namespace": namespace, "name": name, "keys": []})
                return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}
        return 405, _status(405, "MethodNotAllowed", method)


def make_server(port: int = 0, token: str | None = None) -> ThreadingHTTPServer:
    fake = FakeKubernetes(token)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urlsplit(self.path)
            if fake.token and not url.path.startswith("/_fake/") and \
                    self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            code, payload = fake.handle(method, url.path, parse_qs(url.query), body)
            self._send(code, payload)

        def _send(self, code: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._answer("GET")

        def do_POST(self):  # noqa: N802
            self._answer("POST")

        def do_PUT(self):  # noqa: N802
            self._answer("PUT")

        def do_PATCH(self):  # noqa: N802
            self._answer("PATCH")

        def do_DELETE(self):  # noqa: N802
            self._answer("DELETE")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.fake = fake
    return server
