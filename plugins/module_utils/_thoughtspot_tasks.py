# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ThoughtSpot modules do: get or revoke a token, inspect one, manage trusted authentication.

Internal to the collection: no stability promise to code outside it.

Each function takes the module's options as a dict and returns
``(result, holds_secret, warnings)``; the action plugins and the module files
both call them, so a task behaves the same wherever it runs. Nothing here
imports Ansible beyond the argument spec helpers.
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, with_env_fallback, connection_options, merge
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    HTTPStatusError,
    OptionError,
    Progress,
    ResponseFormatError,
    fingerprint,
)
from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import iso_utc
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import http_options, progress_fields
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import (
    VENDOR,
    CheckModeSkip,
    ThoughtSpotApi,
    cached_token,
    forget_token,
    get_thoughtspot_token,
    normalise_host,
    redactor_for,
)

# -- thoughtspot_token ----------------------------------------------------------


def token_task(params: dict, *, check_mode: bool, cache_dir: str | None = None, on_new_token=None,
               progress=None) -> tuple:
    """state=present: a token (cached); state=absent: revoke one. See the module's documentation.

    ``progress`` (an ``_errors.Progress``) gets the notes of the task's requests
    (retries at -v); its ``attempts`` and ``waited`` are in the result.
    """
    if params.get("state") == "absent":
        return revoke_task(params, check_mode=check_mode, cache_dir=cache_dir, progress=progress)
    for name in ("token", "revoke_all"):
        if params.get(name):
            raise OptionError(f"{name} is only used with state=absent.")
    try:
        outcome = get_thoughtspot_token(params, check_mode=check_mode, cache_dir=cache_dir, progress=progress)
    except CheckModeSkip as exc:
        return {"changed": True, "skipped_request": True, "msg": str(exc)}, False, []
    if outcome.source == "network" and on_new_token is not None:
        on_new_token(outcome.record)
    result = dict(outcome.record, source=outcome.source, changed=outcome.source == "network",
                  **outcome.progress_fields())
    return result, True, outcome.warnings


def revoke_task(params: dict, *, check_mode: bool, cache_dir: str | None = None, progress=None) -> tuple:
    """Revoke the given token, or the token the same options got from the cache, or all of a user's tokens.

    Idempotent: a token ThoughtSpot already considers invalid or expired is
    reported as unchanged. The token is validated first, so check mode and the
    changed flag tell the truth without revoking anything.
    """
    redactor = redactor_for(params)
    if progress is None:
        progress = Progress()
    progress.mask_with(redactor)
    host = normalise_host(params.get("host"))
    token = params.get("token")
    has_credentials = bool(params.get("username") and (params.get("password") or params.get("secret_key")))
    warnings: list = []
    if params.get("revoke_all"):
        if not params.get("username"):
            raise OptionError("revoke_all=true needs username, the user whose tokens are revoked.")
        if token:
            raise OptionError("Give token or revoke_all=true, not both.")
    elif not token and not has_credentials:
        raise OptionError(
            "state=absent needs the token to revoke (token), or the options that got it (username with secret_key "
            "or password) so the cached token is revoked, or revoke_all=true with username."
        )
    try:
        held = cached_token(params, cache_dir) if has_credentials else None
        if not token and has_credentials and not params.get("revoke_all"):
            token = held
            if token is None:
                return {"changed": False, "revoked": False, **progress_fields(progress.attempts, progress.waited),
                        "msg": "No token of these options is in the cache: nothing to revoke."}, False, warnings
        redactor.add(token)
        with HttpClient(http_options(params), vendor=VENDOR, redactor=redactor, progress=progress) as http:
            api = ThoughtSpotApi(http, host)
            if params.get("revoke_all"):
                result = _revoke_all(params, api, check_mode, cache_dir, redactor, progress)
            else:
                result = _revoke_one(params, api, token, check_mode)
        result.update(progress_fields(progress.attempts, progress.waited))
        # The cache must not serve a revoked token again.
        if has_credentials and not check_mode and (params.get("revoke_all") or (held is not None and held == token)):
            forget_token(params, cache_dir)
        return result, False, warnings
    except ApiAuthError as exc:
        raise exc.redacted(redactor) from None


def _revoke_one(params: dict, api: ThoughtSpotApi, token: str, check_mode: bool) -> dict:
    bearer = params.get("admin_token")
    details = api.validate(token, bearer=bearer)
    shown = {"token_fingerprint": fingerprint(token)}
    if details is None:
        return dict(shown, changed=False, revoked=False, msg="The token is already invalid or expired.")
    if check_mode:
        return dict(shown, changed=True, revoked=False, msg="Check mode: the token is valid and would be revoked.")
    revoked = api.revoke(bearer=bearer or token, token=token, user_identifier=params.get("username"))
    return dict(shown, changed=revoked, revoked=revoked,
                msg="The token was revoked." if revoked else "The token was already invalid.")


def _revoke_all(params: dict, api: ThoughtSpotApi, check_mode: bool, cache_dir, redactor, progress) -> dict:
    user = params["username"]
    if check_mode:
        return {"changed": True, "revoked": False,
                "msg": f"Check mode: every token of the user '{user}' would be revoked."}
    bearer = params.get("admin_token")
    if not bearer:
        if not (params.get("password") or params.get("secret_key")):
            raise OptionError("revoke_all=true needs admin_token, or secret_key or password to get a token of the user.")
        present = dict(params, state="present")
        bearer = get_thoughtspot_token(present, cache_dir=cache_dir, progress=progress).record["access_token"]
        redactor.add(bearer)
    api.revoke(bearer=bearer, user_identifier=user)
    # ThoughtSpot does not say how many tokens it revoked, so this always reports a change.
    return {"changed": True, "revoked": True, "msg": f"Every token of the user '{user}' was revoked."}


# -- thoughtspot_token_info ------------------------------------------------------

INFO_OPTIONS = with_env_fallback({
    "host": {"type": "str", "required": True},
    "token": {"type": "str", "required": True, "no_log": True},
    "admin_token": {"type": "str", "no_log": True},
    "read_user": {"type": "bool", "default": True},
}, "APIAUTH_THOUGHTSPOT_", ("host", "admin_token"))

USER_FIELDS = ("id", "name", "display_name", "email", "account_type", "account_status", "current_org", "orgs",
               "privileges", "user_groups", "tenant_id", "expiration_time_in_millis")


def info_argument_spec() -> dict:
    # CACHE too, unused: module_defaults of the saas group give it to every member.
    return merge(INFO_OPTIONS, HTTP, CACHE)


def _millis_iso(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return iso_utc(value / 1000.0)


def info_task(params: dict) -> tuple:
    """Validate a token and, when valid, read the user it belongs to. Never changes anything."""
    redactor = redactor_for(params)
    host = normalise_host(params.get("host"))
    token = params["token"]
    try:
        with HttpClient(http_options(params), vendor=VENDOR, redactor=redactor) as http:
            api = ThoughtSpotApi(http, host)
            details = api.validate(token, bearer=params.get("admin_token"))
            result = {"changed": False, "token_fingerprint": fingerprint(token), "valid": details is not None}
            if details is None:
                result["reason"] = "ThoughtSpot says the token is invalid, expired or revoked."
                return result, False, []
            scope = details.get("scope")
            result.update(
                creation_time_in_millis=details.get("creation_time_in_millis"),
                expiration_time_in_millis=details.get("expiration_time_in_millis"),
                creation_time_iso=_millis_iso(details.get("creation_time_in_millis")),
                expiration_time_iso=_millis_iso(details.get("expiration_time_in_millis")),
                scope=scope if isinstance(scope, dict) else None,
                user_id=details.get("valid_for_user_id"),
                token_type=details.get("token_type"),
            )
            if params.get("read_user", True):
                user = api.session_user(token)
                result["user"] = {name: user.get(name) for name in USER_FIELDS if name in user}
        return result, False, []
    except ApiAuthError as exc:
        raise exc.redacted(redactor) from None


# -- thoughtspot_trusted_auth ----------------------------------------------------

TRUSTED_AUTH_OPTIONS = with_env_fallback({
    "host": {"type": "str", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "org": {"type": "str"},
    "admin_token": {"type": "str", "no_log": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "censor_result": {"type": "bool", "default": True},
}, "APIAUTH_THOUGHTSPOT_", ("host", "admin_token", "username", "password"))
TRUSTED_AUTH_MUTUALLY_EXCLUSIVE = [("admin_token", "username"), ("admin_token", "password")]
TRUSTED_AUTH_REQUIRED_ONE_OF = [("admin_token", "username")]
TRUSTED_AUTH_REQUIRED_TOGETHER = [("username", "password")]

ENABLED = "ENABLED"
DISABLED = "DISABLED"


def trusted_auth_argument_spec() -> dict:
    return merge(TRUSTED_AUTH_OPTIONS, HTTP, CACHE)


def _preference(entry, where: str) -> tuple:
    """(auth_status, key) of one cluster or org preference of auth/search."""
    if not isinstance(entry, dict):
        raise ResponseFormatError(f"{VENDOR}: auth/search returned no {where} preferences.")
    status = str(entry.get("auth_status") or DISABLED).upper()
    keys = [item.get("key") for item in entry.get("access_tokens") or [] if isinstance(item, dict)]
    keys = [key for key in keys if isinstance(key, str) and key]
    return status, (keys[0] if keys else None)


def _org_matches(entry: dict, org: str) -> bool:
    org_info = entry.get("org") if isinstance(entry.get("org"), dict) else {}
    wanted = org.strip()
    return str(org_info.get("id")) == wanted or str(org_info.get("name") or "").casefold() == wanted.casefold()


def read_trusted_auth(api: ThoughtSpotApi, bearer: str, org: str | None) -> dict:
    """The current state: auth_status, the key (or None) and, for an org, its id and name."""
    body = {"auth_type": "TRUSTED_AUTH", "scope": "ORG" if org else "CLUSTER"}
    data = api.post("search", body, bearer=bearer).json()
    if not isinstance(data, dict):
        raise ResponseFormatError(f"{VENDOR}: the answer to auth/search is not a JSON object.")
    if not org:
        status, key = _preference(data.get("cluster_preferences"), "cluster")
        return {"auth_status": status, "key": key, "org": None}
    entries = [entry for entry in data.get("org_preferences") or [] if isinstance(entry, dict)]
    matches = [entry for entry in entries if _org_matches(entry, org)]
    if not matches:
        raise OptionError(f"{VENDOR} has no org '{org}' (by id or name) in its trusted authentication settings.")
    status, key = _preference(matches[0], "org")
    org_info = matches[0].get("org")
    return {"auth_status": status, "key": key, "org": {"id": org_info.get("id"), "name": org_info.get("name")}}


def _shown(state: dict) -> dict:
    return {"auth_status": state["auth_status"],
            "key_fingerprint": fingerprint(state["key"]) if state.get("key") else None}


def _admin_bearer(params: dict, warnings: list) -> str:
    if params.get("admin_token"):
        return params["admin_token"]
    token_params = connection_options(params)
    token_params.update(host=params["host"], username=params["username"], password=params["password"],
                        token_kind="full")
    outcome = get_thoughtspot_token(token_params)
    warnings.extend(outcome.warnings)
    return outcome.record["access_token"]


def trusted_auth_task(params: dict, *, check_mode: bool, diff_mode: bool) -> tuple:
    """Enable (state=present) or disable trusted authentication; return the secret key when enabled."""
    redactor = redactor_for(params)
    host = normalise_host(params.get("host"))
    org = params.get("org")
    org = org.strip() if isinstance(org, str) and org.strip() else None
    want = ENABLED if params.get("state", "present") == "present" else DISABLED
    warnings: list = []
    try:
        bearer = _admin_bearer(params, warnings)
        redactor.add(bearer)
        with HttpClient(http_options(params), vendor=VENDOR, redactor=redactor) as http:
            api = ThoughtSpotApi(http, host)
            before = read_trusted_auth(api, bearer, org)
            redactor.add(before["key"])
            needed = before["auth_status"] != want or (want == ENABLED and not before["key"])
            if not needed or check_mode:
                after = dict(before)
                if needed:
                    after = {"auth_status": want, "org": before["org"],
                             "key": before["key"] if want == ENABLED else None}
            else:
                body = {"auth_type": "TRUSTED_AUTH"}
                if org:
                    body["org_preferences"] = [{"org_identifier": org, "auth_status": want}]
                else:
                    body["cluster_preferences"] = {"auth_status": want}
                try:
                    api.post("configure", body, bearer=bearer, expected=(200, 204))
                except HTTPStatusError as exc:
                    if exc.status == 403:
                        exc.hint = "Configuring trusted authentication needs an administrator's token."
                    raise
                after = read_trusted_auth(api, bearer, org)
                redactor.add(after["key"])
                if after["auth_status"] != want or (want == ENABLED and not after["key"]):
                    raise ResponseFormatError(
                        f"{VENDOR} accepted the change but auth/search still shows {after['auth_status']}"
                        + (" without a key." if want == ENABLED else ".")
                    )
        result = {"changed": needed, "auth_status": after["auth_status"], "scope": "org" if org else "cluster",
                  "org": after["org"], "key_fingerprint": _shown(after)["key_fingerprint"]}
        if check_mode and needed and want == ENABLED and not before["key"]:
            result["key_fingerprint"] = "(a new key, made when not in check mode)"
        if diff_mode:
            diff_after = _shown(after)
            if result["key_fingerprint"] != diff_after["key_fingerprint"]:
                diff_after["key_fingerprint"] = result["key_fingerprint"]
            result["diff"] = {"before": _shown(before), "after": diff_after}
        if after.get("key"):
            result["secret_key"] = after["key"]
        return result, "secret_key" in result, warnings
    except ApiAuthError as exc:
        raise exc.redacted(redactor) from None


def module_token_task(params: dict, *, check_mode: bool) -> tuple:
    """token_task for the module file run on its own, where revoke_at_end has no callback to rely on."""
    if params.get("revoke_at_end"):
        raise OptionError("revoke_at_end=true needs the action plugin and the callback apiauth.saas.revoke_at_end: "
                          "run the module as a task of ansible-playbook.")
    return token_task(params, check_mode=check_mode)
