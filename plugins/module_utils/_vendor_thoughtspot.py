# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ThoughtSpot REST API v2.0: the authentication endpoints, their shapes and errors.

Internal to the collection: no stability promise to code outside it.

ThoughtSpot is not an OAuth 2.0 token endpoint: a JSON POST of a user name and
either a password or the cluster's trusted-authentication ``secret_key`` to
``/api/rest/2.0/auth/token/{full,object,custom}`` returns a bearer token with
times in epoch milliseconds. Two details of the official specification
matter here and are easy to get wrong:

* ``full`` and ``object`` take ``org_id`` as an integer and
  ``group_identifiers`` as a list of strings; ``custom`` takes
  ``org_identifier`` as a string and ``groups`` as ``[{"identifier": ...}]``.
  The plugins expose one ``org`` and one ``groups`` option and map them here.
* With ``auto_create`` a token request creates the user, and on ``full``
  updates an existing user's email, display name and groups; a ``custom``
  request with a ``persist_option`` other than ``NONE`` stores the user's
  attribute rules. Such a request changes server state, so check mode must not
  send it (``changes_state``).

Errors come in an envelope ``{"error": {"message": {"code": 10097, "debug":
...}}}``: 10002 invalid request (also an invalid or expired token), 10097
authentication failed, 10023 forbidden or account locked.

Nothing here imports Ansible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
import time

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    CheckModeSkip,
    HTTPStatusError,
    OptionError,
    Progress,
    Redactor,
    ResponseFormatError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, with_env_fallback, merge
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import secret_names
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import iso_utc, present_record
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import (
    TokenOutcome,
    http_options,
    token_cache,
)
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import redactor_for as shared_redactor_for
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import serve_cached

# The HTTP client is imported where a request is made: a ThoughtSpot token served from the cache, and every
# plugin that only reads these options (the catalogue of all token plugins), need none.
if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient

VENDOR = "ThoughtSpot"
CACHE_VENDOR = "thoughtspot"  # part of every cache key
API_BASE = "/api/rest/2.0"
PATHS = {
    "full": "auth/token/full",
    "object": "auth/token/object",
    "custom": "auth/token/custom",
    "validate": "auth/token/validate",
    "revoke": "auth/token/revoke",
    "session_user": "auth/session/user",
    "search": "auth/search",
    "configure": "auth/configure",
}
TOKEN_TYPES = ("full", "object", "custom")
PERSIST_OPTIONS = ("NONE", "APPEND", "REPLACE", "RESET")
ABAC_OPTIONS = ("filter_rules", "parameter_values", "variable_values", "objects")
# ThoughtSpot's own default is 300 s: shorter than the cache's min_ttl, so such
# a token could never be reused. One hour serves a play and a scheduled refresh.
DEFAULT_VALIDITY = 3600
# The options of the thoughtspot_token module and lookup.
OPTIONS = with_env_fallback({
    "host": {"type": "str", "required": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "secret_key": {"type": "str", "no_log": True},
    "admin_token": {"type": "str", "no_log": True},
    # token_type is its older name: the result's token_type is the OAuth one (Bearer).
    "token_kind": {"type": "str", "default": "full", "choices": list(TOKEN_TYPES), "aliases": ["token_type"],
                   "no_log": False},
    "object_id": {"type": "str"},
    "org": {"type": "str", "aliases": ["org_id", "org_identifier"]},
    "validity_time_in_sec": {"type": "int", "default": DEFAULT_VALIDITY},
    "auto_create": {"type": "bool"},
    "groups": {"type": "list", "elements": "str", "aliases": ["group_identifiers"]},
    "email": {"type": "str"},
    "display_name": {"type": "str"},
    "persist_option": {"type": "str", "choices": list(PERSIST_OPTIONS)},
    "filter_rules": {"type": "list", "elements": "dict"},
    "parameter_values": {"type": "list", "elements": "dict"},
    "variable_values": {"type": "list", "elements": "dict"},
    "objects": {"type": "list", "elements": "dict"},
    "revoke_at_end": {"type": "bool", "default": False},
}, "APIAUTH_THOUGHTSPOT_", ("host", "username", "password", "secret_key", "admin_token", "org"))
TOKEN_OPTIONS = merge(OPTIONS, HTTP, CACHE)
TOKEN_MUTUALLY_EXCLUSIVE = [("password", "secret_key")]
# Options of the thoughtspot_token module that its lookup does not have.
MODULE_OPTIONS = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "token": {"type": "str", "no_log": True},
    "revoke_all": {"type": "bool", "default": False},
}
# Every ThoughtSpot plugin's secrets: the token options, the module's own and the info module's.
SECRET_OPTIONS = secret_names(TOKEN_OPTIONS, MODULE_OPTIONS)

CODE_INVALID = "10002"
CODE_AUTH_FAILED = "10097"
CODE_FORBIDDEN = "10023"

ERROR_HINTS = {
    CODE_AUTH_FAILED: (
        "ThoughtSpot did not accept the credentials: check username and secret_key (trusted authentication must "
        "be enabled, see apiauth.saas.thoughtspot_trusted_auth) or password. A user that does not exist yet needs "
        "auto_create=true. Clusters with multi-factor authentication refuse passwords: use secret_key."
    ),
    CODE_FORBIDDEN: (
        "ThoughtSpot refused the request as forbidden: the account may be locked, the user may not belong to the "
        "org, or the caller lacks the administration privilege this call needs."
    ),
    CODE_INVALID: "ThoughtSpot rejected the request as invalid; the text above says which field.",
}


# -- pure helpers --------------------------------------------------------------


def normalise_host(host) -> str:
    """The cluster's base URL without a trailing slash or the API prefix."""
    if not isinstance(host, str) or not host.strip():
        raise OptionError("host must be the base URL of the ThoughtSpot cluster, for example https://example.thoughtspot.cloud.")
    host = host.strip().rstrip("/")
    if host.endswith(API_BASE):
        host = host[: -len(API_BASE)].rstrip("/")
    return host


def api_url(host: str, key: str) -> str:
    return f"{host}{API_BASE}/{PATHS[key]}"


def parse_error(response) -> dict:
    """ThoughtSpot's error envelope as the HTTP layer's ``error``/``error_description``."""
    try:
        data = json.loads(response.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, dict):
        result = {}
        code = message.get("code")
        if isinstance(code, (int, str)) and not isinstance(code, bool):
            result["error"] = str(code)
        debug = message.get("debug")
        if isinstance(debug, str) and debug.strip():
            result["error_description"] = debug
        return result
    from ansible_collections.apiauth.saas.plugins.module_utils._http import default_error_parser  # pylint: disable=import-outside-toplevel

    return default_error_parser(response)


def error_code(exc: ApiAuthError) -> str | None:
    return exc.vendor_error.get("error") if isinstance(exc, HTTPStatusError) else None


def org_id_of(org) -> int:
    """``org`` as the integer ``org_id`` that full and object tokens need."""
    if isinstance(org, bool):
        raise OptionError("org must be the org's numeric id for token_kind=full or object.")
    if isinstance(org, int):
        return org
    text = str(org).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    raise OptionError(
        f"org must be the org's numeric id for token_kind=full or object (got '{text}'); ThoughtSpot takes an org "
        "name only for token_kind=custom."
    )


def _list_of_objects(value, name: str) -> list:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise OptionError(f"{name} must be a list of dictionaries, as ThoughtSpot's auth/token/custom describes.")
    return [dict(item) for item in value]


def token_request(params: dict) -> tuple[str, dict]:
    """The endpoint key and JSON body of a token request, with the options mapped as each type wants."""
    kind = params.get("token_kind") or "full"
    if kind not in TOKEN_TYPES:
        raise OptionError(f"token_kind must be one of {', '.join(TOKEN_TYPES)}.")
    username = params.get("username")
    if not isinstance(username, str) or not username.strip():
        raise OptionError("username is required to request a ThoughtSpot token.")
    password, secret_key = params.get("password"), params.get("secret_key")
    if bool(password) == bool(secret_key):
        raise OptionError("Give exactly one of secret_key (trusted authentication, preferred) and password.")
    body: dict = {"username": username}
    if secret_key:
        body["secret_key"] = secret_key
    else:
        body["password"] = password
    validity = params.get("validity_time_in_sec")
    validity = DEFAULT_VALIDITY if validity is None else validity
    if isinstance(validity, bool) or not isinstance(validity, int) or validity <= 0:
        raise OptionError("validity_time_in_sec must be a whole number of seconds above 0.")
    body["validity_time_in_sec"] = validity
    org = params.get("org")
    if org is not None and str(org).strip() != "":
        if kind == "custom":
            body["org_identifier"] = str(org).strip()
        else:
            body["org_id"] = org_id_of(org)
    for name in ("email", "display_name"):
        if params.get(name) is not None:
            body[name] = params[name]
    auto_create = params.get("auto_create")
    # Sent explicitly: the API's default differs between the types (custom: true).
    body["auto_create"] = (kind == "custom") if auto_create is None else bool(auto_create)
    groups = params.get("groups")
    if groups is not None:
        groups = [str(group) for group in groups]
        if kind == "custom":
            body["groups"] = [{"identifier": group} for group in groups]
        else:
            body["group_identifiers"] = groups
    object_id = params.get("object_id")
    if kind == "object":
        if not object_id:
            raise OptionError("token_kind=object needs object_id, the GUID of the object the token may view.")
        body["object_id"] = object_id
    elif object_id:
        raise OptionError("object_id is only used with token_kind=object.")
    abac = [name for name in ABAC_OPTIONS if params.get(name) is not None]
    if kind == "custom":
        persist = (params.get("persist_option") or "NONE").upper()
        if persist not in PERSIST_OPTIONS:
            raise OptionError(f"persist_option must be one of {', '.join(PERSIST_OPTIONS)}.")
        body["persist_option"] = persist
        for name in abac:
            body[name] = _list_of_objects(params[name], name)
    else:
        if abac or params.get("persist_option"):
            names = ", ".join(abac + (["persist_option"] if params.get("persist_option") else []))
            raise OptionError(f"{names} only apply to token_kind=custom.")
    return kind, body


def changes_state(kind: str, body: dict) -> bool:
    """Whether sending this token request may create or change a user (so not in check mode)."""
    return bool(body.get("auto_create")) or (kind == "custom" and body.get("persist_option") != "NONE")


def _millis(data: dict, name: str, required: bool):
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResponseFormatError(f"{VENDOR}: the token response has no numeric {name}.")
    return int(value)


def _named(data: dict, name: str) -> dict:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def parse_token(data, kind: str, requested_at: float) -> tuple[dict, float | None]:
    """A token response as the engine's record (times in seconds, like every other vendor) and its expiry."""
    if not isinstance(data, dict):
        raise ResponseFormatError(f"{VENDOR}: the token response is not a JSON object.")
    token = data.get("token")
    if not isinstance(token, str) or not token.strip():
        raise ResponseFormatError(f"{VENDOR}: the token response has no token.")
    created = _millis(data, "creation_time_in_millis", False)
    expires = _millis(data, "expiration_time_in_millis", False)
    lifetime = None
    if expires is not None:
        # Measured between the server's own two times, then counted from when
        # the request left: a skewed server clock cannot stretch a lifetime.
        lifetime = (expires - created) / 1000.0 if created is not None else expires / 1000.0 - requested_at
        if lifetime <= 0:
            raise ResponseFormatError(f"{VENDOR}: the token response says the token has already expired.")
    if kind == "custom":
        org, user = _named(data, "org"), _named(data, "user")
        scope = {"access_type": "CUSTOM", "org_id": org.get("id"), "metadata_id": None}
        user_id, username, org_name, token_id = user.get("id"), user.get("name"), org.get("name"), data.get("id")
    else:
        scope = dict(_named(data, "scope")) or None
        user_id, username, org_name, token_id = data.get("valid_for_user_id"), data.get("valid_for_username"), None, None
    expires_at = None if lifetime is None else requested_at + lifetime
    record = {
        "access_token": token,
        "token_type": "Bearer",
        "scope": scope,
        "obtained_at": int(requested_at),
        "expires_at": None if expires_at is None else int(expires_at),
        "lifetime": None if lifetime is None else int(lifetime),
        "creation_time_in_millis": created,
        "expiration_time_in_millis": expires,
        "user_id": user_id,
        "username": username,
        "org_id": (scope or {}).get("org_id"),
        "org_name": org_name,
        "token_id": token_id,
    }
    return record, expires_at


def decorate(record: dict, host: str) -> dict:
    """What a caller needs besides the token: ISO times, the API base URL, ready headers."""
    out = dict(record)
    for millis, iso in (("creation_time_in_millis", "creation_time_iso"),
                        ("expiration_time_in_millis", "expiration_time_iso")):
        out[iso] = None if record.get(millis) is None else iso_utc(record[millis] / 1000.0)
    out["base_url"] = host + API_BASE
    out["headers"] = {"Authorization": record["authorization"], "Accept": "application/json"}
    return out


# -- the API -------------------------------------------------------------------


class ThoughtSpotApi:
    """The authentication calls of one cluster, over one HttpClient."""

    def __init__(self, http: HttpClient, host: str) -> None:
        self._http = http
        self.host = host

    def post(self, key: str, body: dict, *, bearer: str | None = None, expected=(200,)):
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return self._http.request("POST", api_url(self.host, key), json=body, headers=headers, expected=expected,
                                  error_parser=parse_error)

    def get(self, key: str, *, bearer: str):
        headers = {"Accept": "application/json", "Authorization": f"Bearer {bearer}"}
        return self._http.request("GET", api_url(self.host, key), headers=headers, expected=(200,),
                                  error_parser=parse_error)

    def request_token(self, kind: str, body: dict, *, bearer: str | None = None):
        try:
            return self.post(kind, body, bearer=bearer).json()
        except HTTPStatusError as exc:
            hint = ERROR_HINTS.get(error_code(exc) or "")
            if hint is None and exc.status in (401, 403):
                hint = ERROR_HINTS[CODE_AUTH_FAILED if exc.status == 401 else CODE_FORBIDDEN]
            if hint and exc.status < 500:
                exc.hint = hint
            raise

    def validate(self, token: str, *, bearer: str | None = None) -> dict | None:
        """The token's details, or None when ThoughtSpot says it is invalid or expired.

        Without an admin bearer the token vouches for itself; a 401 then means
        the token itself is no longer accepted, which is the same answer.
        """
        try:
            data = self.post("validate", {"token": token}, bearer=bearer or token).json()
        except HTTPStatusError as exc:
            if exc.status == 400 and error_code(exc) in (CODE_INVALID, None):
                return None
            if exc.status == 401 and not bearer:
                return None
            if exc.status == 401:
                exc.hint = "ThoughtSpot did not accept admin_token: get a fresh one."
            raise
        if not isinstance(data, dict):
            raise ResponseFormatError(f"{VENDOR}: the answer to auth/token/validate is not a JSON object.")
        return data

    def revoke(self, *, bearer: str, token: str | None = None, user_identifier: str | None = None) -> bool:
        """Revoke; False when ThoughtSpot says the token is already invalid (nothing to do)."""
        body = {}
        if user_identifier:
            body["user_identifier"] = user_identifier
        if token:
            body["token"] = token
        try:
            self.post("revoke", body, bearer=bearer, expected=(200, 204))
        except HTTPStatusError as exc:
            if token and exc.status == 400 and error_code(exc) in (CODE_INVALID, None):
                return False
            if token and exc.status == 401 and bearer == token:
                return False  # the token could not even vouch for itself: it is gone
            if exc.status == 403:
                exc.hint = ("Only the token's own user or an administrator may revoke it: give admin_token, "
                            "a token of a user with the administration privilege.")
            raise
        return True

    def session_user(self, bearer: str) -> dict:
        data = self.get("session_user", bearer=bearer).json()
        if not isinstance(data, dict):
            raise ResponseFormatError(f"{VENDOR}: the answer to auth/session/user is not a JSON object.")
        return data


# -- tokens through the cache --------------------------------------------------


def redactor_for(params: dict) -> Redactor:
    return shared_redactor_for(params, SECRET_OPTIONS)


def cache_identity(host: str, kind: str, body: dict) -> tuple[dict, list]:
    """Everything that makes two token requests ask for the same token; the secret only as a keyed hash."""
    public = {name: value for name, value in body.items() if name not in ("password", "secret_key")}
    identity = {"vendor": CACHE_VENDOR, "host": host, "token_type": kind, "request": public}
    way = "secret_key" if body.get("secret_key") else "password"
    return identity, [way, body.get(way)]


def _cache_entry(params: dict, cache_dir: str | None) -> tuple:
    """(host, kind, body, cache, identity, secrets) of the token these options ask for."""
    host = normalise_host(params.get("host"))
    kind, body = token_request(params)
    identity, secrets = cache_identity(host, kind, body)
    return host, kind, body, token_cache(params, cache_dir), identity, secrets


def get_thoughtspot_token(params: dict, *, check_mode: bool = False, cache_dir: str | None = None,
                          progress: Progress | None = None) -> TokenOutcome:
    """Options in, token out: memory, the file cache, then one request.

    In check mode a request that may create or change a user is not sent:
    CheckModeSkip is raised instead (a cached token is still served).
    ``progress`` as for ``_token_service.get_token``.
    """
    redactor = redactor_for(params)
    if progress is None:
        progress = Progress()
    progress.mask_with(redactor)
    try:
        host, kind, body, cache, identity, secrets = _cache_entry(params, cache_dir)

        def fetch():
            if check_mode and changes_state(kind, body):
                raise CheckModeSkip(
                    f"Check mode: no token was requested, because a {kind} token request with "
                    + ("auto_create" if body.get("auto_create") else f"persist_option={body.get('persist_option')}")
                    + f" may create or change the ThoughtSpot user '{body['username']}'."
                )
            requested_at = time.time()
            from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient  # pylint: disable=import-outside-toplevel

            with HttpClient(http_options(params), vendor=VENDOR, redactor=redactor, progress=progress) as http:
                data = ThoughtSpotApi(http, host).request_token(kind, body, bearer=params.get("admin_token"))
            return parse_token(data, kind, requested_at)

        result, warnings = serve_cached(cache, identity, secrets, fetch, params, vendor=VENDOR, redactor=redactor,
                                        short_lived_advice="raise validity_time_in_sec or lower min_ttl",
                                        progress=progress)
        record = decorate(present_record(result.record), host)
        return TokenOutcome(record=record, source=result.source, warnings=warnings, attempts=progress.attempts,
                            waited=progress.waited)
    except ApiAuthError as exc:
        raise exc.redacted(redactor) from None


def cached_token(params: dict, cache_dir: str | None = None) -> str | None:
    """The token this task's options would be served from the cache, without any request; None if none."""
    cache, identity, secrets = _cache_entry(params, cache_dir)[3:]
    record = cache.peek(identity, secrets)
    return record.get("access_token") if record else None


def forget_token(params: dict, cache_dir: str | None = None) -> None:
    cache, identity, secrets = _cache_entry(params, cache_dir)[3:]
    cache.invalidate(identity, secrets)
