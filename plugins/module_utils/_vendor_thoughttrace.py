# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ThoughtTrace's identity provider token endpoint.

Internal to the collection: no stability promise to code outside it.

ThoughtTrace documents a form POST of client_id, client_secret and
grant_type=client_credentials to ``<identity base>/connect/token``, and API calls
with ``Authorization: bearer <token>``, scheme in lower case as written there.
Nothing public describes its IdP beyond that, so every path is here, overridable.

ThoughtTrace documents its client administration only as screens (Access > API
Clients); the IdP API behind them is described on its own swagger page, not in
the admin guide. So every path lives in ``API_PATHS`` below and the
thoughttrace_client module's ``api_paths`` option overrides any of them. The
rules of what to change and when are the registration engine's
(``_thoughttrace_clients``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, with_env_fallback, merge
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    HTTPStatusError,
    OptionError,
    ResponseFormatError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile
from ansible_collections.apiauth.saas.plugins.module_utils._urls import path_segment

if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient

DEFAULT_IDENTITY_URL = "https://identity.thoughttrace.com"
TOKEN_PATH = "/connect/token"
VENDOR = "ThoughtTrace"


class ThoughtTraceVendor(VendorProfile):
    def __init__(self) -> None:
        super().__init__(
            name="thoughttrace",
            display_name="ThoughtTrace",
            auth_method="client_secret_post",
            authorization_scheme="bearer",
            error_hints={
                "invalid_client": (
                    "ThoughtTrace refused the client id and secret: check them under Access > API Clients in "
                    "ThoughtTrace, where a client can be deactivated or given a new secret."
                ),
            },
        )

    def token_url(self, params: dict) -> str:
        if params.get("token_url"):
            return params["token_url"]
        return (params.get("base_url") or DEFAULT_IDENTITY_URL).rstrip("/") + TOKEN_PATH


THOUGHTTRACE = ThoughtTraceVendor()


# The options of the thoughttrace_token module and lookup (the module adds censor_result).
OPTIONS = with_env_fallback({
    "base_url": {"type": "str", "default": DEFAULT_IDENTITY_URL, "aliases": ["identity_url"]},
    "token_url": {"type": "str", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "required": True, "no_log": True},
}, "APIAUTH_THOUGHTTRACE_", ("base_url", "token_url", "client_id", "client_secret"),
    renamed={"base_url": "identity_url"})
TOKEN_OPTIONS = merge(OPTIONS, HTTP, CACHE)
TOKEN_MUTUALLY_EXCLUSIVE: list = []


# -- the client-administration API ---------------------------------------------

# Every client-administration path, relative to base_url (the identity provider). Undocumented by
# the vendor, so kept in this one table and overridable with api_paths.
API_PATHS = {
    "list": "/api/clients",
    "create": "/api/clients",
    "deactivate": "/api/clients/{id}/deactivate",
    "activate": "/api/clients/{id}/activate",
    "new_secret": "/api/clients/{id}/secret",
    "delete": "/api/clients/{id}",
}
# The paths that name one client and so must hold the {id} placeholder.
PATHS_WITH_ID = ("deactivate", "activate", "new_secret", "delete")

# Operations, in the order they are carried out.
CREATE = "create"
ACTIVATE = "activate"
DEACTIVATE = "deactivate"
NEW_SECRET = "new_secret"
DELETE = "delete"

_ADMIN_HINT = (
    "The admin client or token lacks the rights to manage API clients: use an API client of a ThoughtTrace "
    "administrator (Access > API Clients)."
)
_AUTH_HINT = "ThoughtTrace did not accept the admin token: check admin_token, or admin_client_id and admin_client_secret."

CLIENT_OPTIONS = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "active": {"type": "bool"},
    # when_needed (None): a secret only comes with a new client; always: a new secret on every run.
    "rotate": {"type": "str", "choices": ["when_needed", "always"]},
    # The older form of rotate=always.
    "new_secret": {"type": "bool", "no_log": False},
    "admin_token": {"type": "str", "no_log": True},
    "admin_client_id": {"type": "str"},
    "admin_client_secret": {"type": "str", "no_log": True},
    "base_url": {"type": "str", "default": DEFAULT_IDENTITY_URL, "aliases": ["identity_url"]},
    "api_paths": {"type": "dict"},
    "recovery_file": {"type": "path"},
    "censor_result": {"type": "bool", "default": True},
}
with_env_fallback(CLIENT_OPTIONS, "APIAUTH_THOUGHTTRACE_", ("base_url",), renamed={"base_url": "identity_url"})
CLIENT_SPEC = merge(CLIENT_OPTIONS, HTTP, CACHE)

CLIENT_MUTUALLY_EXCLUSIVE = [("admin_token", "admin_client_id"), ("admin_token", "admin_client_secret"),
                             ("rotate", "new_secret")]
CLIENT_REQUIRED_ONE_OF = [("admin_token", "admin_client_id")]
CLIENT_REQUIRED_TOGETHER = [("admin_client_id", "admin_client_secret")]


def resolve_paths(overrides: dict | None) -> dict:
    """The path table with the user's overrides, checked."""
    paths = dict(API_PATHS)
    for key, value in (overrides or {}).items():
        if key not in API_PATHS:
            raise OptionError(f"api_paths has an unknown key '{key}'; the keys are: {', '.join(API_PATHS)}.")
        if not isinstance(value, str) or not value.strip():
            raise OptionError(f"api_paths.{key} must be a non-empty string.")
        value = value.strip()
        if key in PATHS_WITH_ID and "{id}" not in value:
            raise OptionError(f"api_paths.{key} must contain the placeholder {{id}} for the client's id.")
        paths[key] = value if value.startswith("/") else "/" + value
    return paths


_ANY_ID = re.compile(r"[^\x00-\x1f\x7f]{1,256}")


def endpoint(identity_url: str, paths: dict, key: str, client_id=None) -> str:
    """The URL of one operation; an id is percent-encoded into its path."""
    path = paths[key]
    if client_id is not None:
        # The id comes from ThoughtTrace's own list: checked all the same, so an
        # id such as ".." or "a/b" cannot send a write to another path.
        # ThoughtTrace documents no form for it: any text, encoded whole, but never a dot segment.
        path = path.replace("{id}", path_segment(str(client_id), what=f"{VENDOR}: the id of a client in its list",
                                                 pattern=_ANY_ID, form="an identifier other than '.' and '..'",
                                                 error_class=ResponseFormatError))
    return identity_url.rstrip("/") + path


def client_from_vendor(item) -> dict:
    """A vendor client record in this module's shape, without anything secret."""
    if not isinstance(item, dict) or item.get("id") in (None, "") or not isinstance(item.get("name"), str):
        raise ResponseFormatError(f"{VENDOR}: a client in the list has no id or name.")
    return {
        "id": str(item["id"]),
        "name": item["name"],
        "client_id": item.get("clientId", item.get("client_id")),
        "active": bool(item.get("active", True)),
        "created": item.get("created"),
    }


def clients_from_response(data) -> list:
    """The client list from a list response: a JSON array, or an object wrapping one."""
    if isinstance(data, dict):
        for key in ("clients", "items", "data", "value"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise ResponseFormatError(f"{VENDOR}: the client list is not a JSON array.")
    return [client_from_vendor(item) for item in data]


# -- the API -------------------------------------------------------------------


class ClientApi:
    """Calls of the ThoughtTrace client-administration API, with an admin bearer token."""

    def __init__(self, client: HttpClient, identity_url: str, paths: dict, token: str) -> None:
        self._http = client
        self._base = identity_url
        self._paths = paths
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        # Called with (client, secret) the moment a create answer holds a secret.
        self.on_secret = None

    def _call(self, method: str, key: str, *, client_id=None, json=None, expected=(200,), idempotent=True):
        url = endpoint(self._base, self._paths, key, client_id)
        try:
            return self._http.request(method, url, json=json, headers=self._headers, expected=expected,
                                      idempotent=idempotent)
        except HTTPStatusError as exc:
            if exc.status == 403:
                exc.hint = _ADMIN_HINT
            elif exc.status == 401:
                exc.hint = _AUTH_HINT
            raise

    def list(self) -> list:
        return clients_from_response(self._call("GET", "list").json())

    def create(self, name: str) -> dict:
        """Create a client; its record with ``client_secret``.

        A secret in the answer is handed to ``on_secret`` (when set) before the
        rest of the answer is judged, so a malformed answer cannot lose it.
        """
        data = self._call("POST", "create", json={"name": name}, expected=(200, 201), idempotent=False).json()
        secret = secret_in(data)
        if secret is not None and self.on_secret is not None:
            self.on_secret({"id": data.get("id"), "client_id": data.get("clientId", data.get("client_id")),
                            "name": data.get("name") if isinstance(data.get("name"), str) else name,
                            "created": data.get("created")}, secret)
        if secret is None or data.get("id") in (None, ""):
            raise ResponseFormatError(f"{VENDOR}: the answer to the create call has no id or clientSecret.")
        return dict(client_from_vendor(data), client_secret=secret)

    def set_active(self, client_id: str, active: bool) -> None:
        self._call("POST", ACTIVATE if active else DEACTIVATE, client_id=client_id, expected=(200, 204))

    def new_secret(self, client_id: str) -> str:
        data = self._call("POST", NEW_SECRET, client_id=client_id, expected=(200, 201), idempotent=False).json()
        secret = secret_in(data)
        if secret is None:
            raise ResponseFormatError(f"{VENDOR}: the answer to the new-secret call has no clientSecret.")
        return secret

    def delete(self, client_id: str) -> None:
        self._call("DELETE", DELETE, client_id=client_id, expected=(200, 204, 404))


def secret_in(data) -> str | None:
    """The client secret in an answer, if there is one, whatever else the answer holds or lacks."""
    secret = data.get("clientSecret") if isinstance(data, dict) else None
    if isinstance(secret, (int, float)) and not isinstance(secret, bool):
        secret = str(secret)
    return secret if isinstance(secret, str) and secret else None
