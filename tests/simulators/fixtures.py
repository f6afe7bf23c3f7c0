"""Python API for tests: run the simulator in a subprocess and drive /_sim/.

    sim = Simulator.start(tmp_path / "sim")
    sim.add_client("oauth2", client_id="c1", client_secret="s3cr:t+/")
    requests.post(sim.token_url("oauth2"), data={...}, verify=sim.ca_path)
    assert sim.token_requests("oauth2") == 1
    sim.stop()

    # Vendors on their own listeners / with per-tenant paths:
    sim.thredd_token_url("uat", "mtls")      # https://127.0.0.1:<port>/oauth2/token
    sim.thrive_token_url("staging", "eu-west-2_X")

The :class:`Simulator` needs only ``requests`` and the stdlib in the test
process (the server side, with trustme/PyJWT, runs in the child: ``python
tests/simulators serve``); :func:`make_self_signed_cert` also needs
``cryptography``, imported when called.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse
from typing import Any

import requests

from .varsfile import read_vars_file

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class SimulatorError(RuntimeError):
    pass


class Simulator:
    """A running simulator subprocess. Use :meth:`start`; call :meth:`stop` (or use ``with``)."""

    def __init__(self, state_dir: str, info: dict[str, Any], process: subprocess.Popen[bytes], log_path: str) -> None:
        self.state_dir = state_dir
        self.base_url: str = info["base_url"]
        self.port: int = info["port"]
        self.ca_path: str = info["ca_path"]
        self.audit_log: str = info["audit_log"]
        self.vars_path: str = info["vars_path"]
        self.log_path = log_path  # the server's stdout/stderr (never holds secrets)
        self.process = process
        # One kept-alive connection for admin calls: a pending reset_before hits
        # the next *new* connection, which must be the code under test, not us.
        self._admin = requests.Session()
        self._token_paths: dict[str, str] = {}
        self._listeners: dict[str, str] = dict(info.get("listeners") or {})

    # ---- lifecycle

    @classmethod
    def start(cls, state_dir: str | os.PathLike[str], *, port: int = 0, timeout: float = 30.0,
              verbose: bool = False) -> "Simulator":
        """Start ``python tests/simulators serve`` and wait until it answers /_sim/health."""
        state_dir = os.path.abspath(os.fspath(state_dir))
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        sim_json = os.path.join(state_dir, "sim.json")
        if os.path.exists(sim_json):
            os.unlink(sim_json)
        log_path = os.path.join(state_dir, "server.log")
        command = [sys.executable, PACKAGE_DIR, "serve", "--state-dir", state_dir, "--port", str(port)]
        if verbose:
            command.append("--verbose")
        with open(log_path, "wb") as log:
            # The child outlives this block (it has its own copy of the fd).
            process = subprocess.Popen(  # pylint: disable=consider-using-with
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        info: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SimulatorError(f"simulator exited with {process.returncode}: {cls._tail(log_path)}")
            try:
                with open(sim_json, encoding="utf-8") as handle:
                    candidate = json.load(handle)
                if candidate.get("pid") == process.pid:
                    info = candidate
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        if info is None:
            process.kill()
            process.wait()
            raise SimulatorError(f"simulator did not start within {timeout} s: {cls._tail(log_path)}")
        sim = cls(state_dir, info, process, log_path)
        try:
            health = sim._call("GET", "/_sim/health")
        except Exception:
            sim.stop()
            raise
        sim._token_paths = {name: v["token_path"] for name, v in health["vendors"].items() if v.get("token_path")}
        sim._listeners = {name: v["url"] for name, v in health.get("listeners", {}).items()}
        return sim

    def stop(self) -> None:
        self._admin.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _tail(path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read()[-2000:]
        except OSError:
            return ""

    # ---- admin calls

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        url = self.base_url + path
        for attempt in (1, 2):
            try:
                # verify= per call: REQUESTS_CA_BUNDLE in the environment would
                # override a Session-level verify setting.
                response = self._admin.request(method, url, json=payload, timeout=15, verify=self.ca_path)
                break
            except requests.ConnectionError:
                # Only a connection reset before the request was read gets here
                # (e.g. an accept-time reset_before); nothing was processed.
                if attempt == 2:
                    raise
        if response.status_code >= 400:
            raise SimulatorError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json()

    def url(self, path: str) -> str:
        return self.base_url + path

    def token_url(self, vendor: str, **path_params: str) -> str:
        """Full token endpoint URL of a vendor on the main listener (e.g. ``.../throughline/oauth/token``).

        Paths with ``{name}`` segments need them as keywords; Thredd's token
        endpoints live on its own listeners: use :meth:`thredd_token_url`.
        """
        path = self._token_paths.get(vendor)
        if path is None:
            if vendor == "thredd":
                raise SimulatorError("thredd has one token endpoint per listener: use thredd_token_url(env, conn)")
            raise KeyError(vendor)
        try:
            return self.base_url + path.format(**path_params)
        except KeyError as exc:
            raise SimulatorError(f"token_url({vendor!r}) needs {exc.args[0]}=... (path {path})") from None

    def listener_url(self, name: str) -> str:
        """``https://127.0.0.1:<port>`` of a listener ("main", "thredd-uat-mtls", ...), no trailing slash."""
        try:
            return self._listeners[name]
        except KeyError:
            raise SimulatorError(f"no listener {name!r}; known: {sorted(self._listeners)}") from None

    def listeners(self) -> dict[str, str]:
        """Every listener's name and base URL."""
        return dict(self._listeners)

    def thredd_url(self, environment: str, connectivity: str) -> str:
        """Base URL of a Thredd listener: environment "uat"|"production", connectivity "tls"|"mtls"."""
        return self.listener_url(f"thredd-{environment}-{connectivity}")

    def thredd_token_url(self, environment: str, connectivity: str) -> str:
        return self.thredd_url(environment, connectivity) + "/oauth2/token"

    def thredd_jwks_url(self, organisation_id: str) -> str:
        """An organisation's JWKS (served on the main listener)."""
        return f"{self.base_url}/thredd/jwks/{organisation_id}/jwks.json"

    def thrive_token_url(self, environment: str, tenant_id: str) -> str:
        """THRIVE token URL of a tenant: environment "staging"|"production"."""
        return f"{self.base_url}/thrive/{environment}/oauth2/token/{tenant_id}"

    # ---- THRIVE tenant API keys (GraphQL) and ThoughtTrace client management

    def thrive_tenants_url(self, environment: str) -> str:
        """THRIVE GraphQL tenants endpoint (``generateApiKey``): environment "staging"|"production"."""
        return f"{self.base_url}/thrive/{environment}/tenants"

    def thrive_me_url(self, environment: str) -> str:
        """THRIVE sample API taking HTTP Basic tenant_id:apiKey."""
        return f"{self.base_url}/thrive/{environment}/api/v1/me"

    def thrive_admin_token(self, tenant_id: str, *, expires_in: int = 3600) -> str:
        """A THRIVE admin console JWT for ``tenant_id`` (negative ``expires_in``: already expired)."""
        return self._call("POST", "/_sim/thrive/admin-token", {"tenant_id": tenant_id, "expires_in": expires_in})["token"]

    def thrive_keys(self, environment: str, tenant_id: str) -> int:
        """How many API keys were generated for the tenant in that environment since the audit was
        last cleared (stored, whether or not the client ever saw the answer)."""
        query = urllib.parse.urlencode({"environment": environment, "tenant_id": tenant_id})
        return self._call("GET", f"/_sim/thrive/keys?{query}")["count"]

    def graphql_mutations(self) -> int:
        """How many ``generateApiKey`` requests reached the THRIVE tenants endpoint (any outcome)."""
        return sum(1 for e in self.audit("thrive-tenants")
                   if e.get("endpoint") == "graphql" and e.get("operation") == "generateApiKey")

    def thoughttrace_clients_url(self) -> str:
        """ThoughtTrace client-management collection URL (admin bearer token needed)."""
        return f"{self.base_url}/thoughttrace/api/clients"

    def thoughttrace_clients(self) -> list[dict[str, Any]]:
        """Clients created through the ThoughtTrace management API (no secrets; ``secret_fp``)."""
        return self._call("GET", "/_sim/thoughttrace/clients")

    # ---- ThoughtSpot REST API v2.0 (auth endpoints under thoughtspot_url() + "/api/rest/2.0/")

    def thoughtspot_url(self) -> str:
        """The simulated cluster's ``host`` (``<base_url>/thoughtspot``, no trailing slash)."""
        return f"{self.base_url}/thoughtspot"

    def thoughtspot_add_user(self, name: str, **fields: Any) -> dict[str, Any]:
        """Create/replace a user (id and ABAC state kept): password, admin (bool), locked (bool),
        orgs (list of int, default [0]), email, display_name, groups (list of str). Returns {id, name}."""
        return self._call("POST", "/_sim/thoughtspot/users", dict(fields, name=name))

    def thoughtspot_users(self) -> list[dict[str, Any]]:
        """Every user (no passwords; groups, orgs, account_status, persisted ABAC rules and values)."""
        return self._call("GET", "/_sim/thoughtspot/users")

    def thoughtspot_add_org(self, org_id: int, name: str) -> dict[str, Any]:
        """Add (or rename) an org; its trusted authentication starts DISABLED."""
        return self._call("POST", "/_sim/thoughtspot/orgs", {"id": org_id, "name": name})

    def thoughtspot_config(self, *, mfa: bool | None = None) -> dict[str, Any]:
        """Cluster settings (``mfa``: refuse username/password token requests and logins); returns them."""
        return self._call("POST", "/_sim/thoughtspot/config", {} if mfa is None else {"mfa": mfa})

    def thoughtspot_trusted_auth(self) -> dict[str, Any]:
        """``{"cluster": {"auth_status", "key_fp"}, "orgs": {"<id>": {...}}}`` (key fingerprints only)."""
        return self._call("GET", "/_sim/thoughtspot/trusted-auth")

    def thoughtspot_set_trusted_auth(self, scope: str | int, auth_status: str) -> str | None:
        """Set trusted auth of ``"cluster"`` or an org id to ENABLED (keeps an existing key) or
        DISABLED (removes it); returns the key (None when disabled)."""
        return self._call("POST", "/_sim/thoughtspot/trusted-auth",
                          {"scope": scope, "auth_status": auth_status})["key"]

    def thoughtspot_tokens(self) -> list[dict[str, Any]]:
        """Issued tokens: token_fp, username, org_id, access_type, kind, expires_ms, revoked, live."""
        return self._call("GET", "/_sim/thoughtspot/tokens")

    def thoughtspot_expire_tokens(self, username: str | None = None) -> int:
        """Expire every live token (or ``username``'s); returns how many."""
        return self._call("POST", "/_sim/thoughtspot/tokens/expire",
                          {} if username is None else {"username": username})["expired"]

    def admin_mutations(self, vendor: str) -> int:
        """Requests that reached a management API of ``vendor`` ("thoughttrace-admin",
        "thrive-tenants") and could change something: every operation except list / queries."""
        return sum(1 for e in self.audit(vendor)
                   if (e.get("endpoint") == "admin" and e.get("operation") not in (None, "list"))
                   or (e.get("endpoint") == "graphql" and e.get("operation_type") == "mutation"))

    def add_client(self, vendor: str, **fields: Any) -> dict[str, Any]:
        """Register/replace a client: client_id, client_secret, auth_methods, public_key_pem, kid,
        cert_fingerprint, token_lifetime, scope, basic_encoding ("form"|"raw"), audience, revoked;
        thredd: environment ("uat"|"production", required), organisation_id; thrive: environment
        ("staging"|"production") and tenant_id (both required); thoughttrace: admin (bool)."""
        return self._call("POST", "/_sim/clients", dict(fields, vendor=vendor))["client"]

    def revoke_client(self, vendor: str, client_id: str, revoked: bool = True, *, environment: str | None = None,
                      tenant_id: str | None = None) -> None:
        """Flip the revoked flag of an existing client, keeping its credentials
        (thredd/thrive clients: pass their environment / tenant_id too)."""
        body: dict[str, Any] = {"vendor": vendor, "client_id": client_id, "revoked": revoked}
        if environment is not None:
            body["environment"] = environment
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        self._call("POST", "/_sim/clients", body)

    def publish_jwks(self, organisation_id: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """REPLACE a Thredd organisation's published JWKS. Each key: a public JWK, or
        ``{"kid", "public_key_pem", "alg"?}`` (converted server-side). Returns the published JWKs."""
        return self._call("POST", "/_sim/jwks", {"organisation_id": organisation_id, "keys": keys})["keys"]

    def delete_jwk(self, organisation_id: str, kid: str | None = None) -> int:
        """Remove one kid from an organisation's JWKS, or (kid None) the whole organisation."""
        return self._call("DELETE", "/_sim/jwks", {"organisation_id": organisation_id, "kid": kid})["removed"]

    def clients(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_sim/clients")

    def add_faults(self, vendor: str, faults: list[dict[str, Any]]) -> None:
        """Queue faults (FIFO) for ``vendor``'s token endpoint, or every vendor with ``"*"``;
        also the queues "thrive-tenants" (GraphQL) and "thoughttrace-admin" (management API)."""
        self._call("POST", "/_sim/faults", {"vendor": vendor, "faults": faults})

    def stage_faults(self, vendor: str, batches: list[list[dict[str, Any]]]) -> int:
        """Keep batches of faults aside for ``vendor``; ``GET /_sim/faults/next?vendor=`` loads
        the next one into the queue (after clearing it). Returns the batches staged."""
        return self._call("POST", "/_sim/faults/staged", {"vendor": vendor, "batches": batches})["staged"]

    def pending_faults(self) -> dict[str, list[dict[str, Any]]]:
        return self._call("GET", "/_sim/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sim/faults")

    def release_held(self) -> None:
        """Let requests held by a ``{"kind": "delay", "hold": true, "seconds": max}`` fault go on."""
        self._call("POST", "/_sim/faults/release")

    def audit(self, vendor: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Audit entries (oldest first), optionally only one vendor's / one path's."""
        entries = self._call("GET", "/_sim/audit")
        return [e for e in entries
                if (vendor is None or e.get("vendor") == vendor) and (path is None or e.get("path") == path)]

    def clear_audit(self) -> None:
        self._call("DELETE", "/_sim/audit")

    def token_requests(self, vendor: str | None = None) -> int:
        """How many requests reached a token endpoint (connection-level resets not included)."""
        return sum(1 for e in self.audit(vendor) if e.get("endpoint") == "token")

    def expire_tokens(self, vendor: str | None = None) -> int:
        """Forget issued tokens so the sample APIs reject them; returns how many."""
        return self._call("DELETE", "/_sim/tokens", {"vendor": vendor})["expired"]

    def issue_client_cert(self, name: str, *, days_valid: float | None = None,
                          expired: bool = False) -> tuple[str, str]:
        """Client (transport) certificate signed by the simulator CA: (cert_path, key_path), both 0600.

        ``days_valid=N``: expires N days from now; ``expired=True``: expired
        yesterday (the TLS handshake then fails wherever it is presented).
        """
        body: dict[str, Any] = {"name": name}
        if days_valid is not None:
            body["days_valid"] = days_valid
        if expired:
            body["expired"] = True
        answer = self._call("POST", "/_sim/certs", body)
        return answer["cert_path"], answer["key_path"]

    @staticmethod
    def cert_fingerprint(cert_path: str) -> str:
        """Lowercase hex SHA-256 of a PEM certificate's DER (what ``cert_fingerprint`` expects)."""
        with open(cert_path, encoding="ascii") as handle:
            der = ssl.PEM_cert_to_DER_cert(handle.read())
        return hashlib.sha256(der).hexdigest()

    def demo_vars(self) -> dict[str, str]:
        """The seeded demo Ansible vars (same content as ``<state_dir>/demo-vars.yml``)."""
        return read_vars_file(self.vars_path)


def make_self_signed_cert(private_key_pem: str | bytes, days_valid: float | None = None, expired: bool = False,
                          common_name: str = "apiauth-sim signing certificate") -> str:
    """PEM of a self-signed certificate for ``private_key_pem``'s public key (no server needed).

    For signing certificates (Thredd private_key_jwt): valid ``days_valid``
    days from now, or already expired (``expired=True``). To get one that does
    NOT match a key, pass another key.
    """
    # Imported here: the rest of this module needs no cryptography.
    from . import certs  # pylint: disable=import-outside-toplevel

    not_before, not_after = certs.validity(days_valid, expired)
    return certs.self_signed(private_key_pem, common_name, not_before, not_after)
