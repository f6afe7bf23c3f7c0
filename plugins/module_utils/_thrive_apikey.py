# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""THRIVE API keys: generated at most once, only when no valid key is known.

Internal to the collection: no stability promise to code outside it.

THRIVE generates a key with a GraphQL mutation sent with an admin's browser
token (a JWT that expires every 60 minutes) and a correlation id. It has no API
to list, revoke or rotate keys, and shows a key once. So:

- whether to generate is decided from the key already held (from the secrets
  store) and its validUntil, never by asking THRIVE;
- the mutation goes out at most once per run: never retried once it may have
  reached the server, since a retry could mint a second key;
- the document is fixed and the caller's values travel as GraphQL variables,
  so no service name or token type can change the operation;
- the recovery file is checked before the mutation is sent, and a key found
  in the answer is written there before anything else about the answer is
  judged (a missing validUntil, GraphQL errors beside the data...);
- runs that overlap for one tenant make one key between them (``_write_flight``):
  the second keeps the key the first made.
"""

from __future__ import annotations

import datetime
import os
import time
import uuid
from dataclasses import dataclass

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    GraphQLError,
    OptionError,
    ResponseFormatError,
    TransportError,
    fingerprint,
)
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import secret_names
from ansible_collections.apiauth.saas.plugins.module_utils._recovery import (
    RecoveryFileError,
    check_recovery_file,
    write_fallback,
    write_recovery_file,
)
# Some of these are only re-exported: they lived here before the vendor's facts moved to _vendor_thrive.
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import (  # noqa: F401  # pylint: disable=unused-import
    ADMIN_TOKEN_HELP,
    ADMIN_TOKEN_MARGIN,
    MUTATION,
    TENANTS_URLS,
    error_messages,
    result_of,
    admin_token_expiry,
    admin_token_tenant,
    basic_authorization,
    build_request,
    check_admin_token,
    check_token_tenant,
    APIKEY_SPEC,
    check_tenant_id,
    parse_response,
    received_key,
)
from ansible_collections.apiauth.saas.plugins.module_utils._write_flight import WriteFlight


def parse_valid_until(value) -> float | None:
    """validUntil as epoch seconds: ISO 8601 text (THRIVE's form) or a number of seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise OptionError(f"current_valid_until {text!r} is neither an ISO 8601 time nor epoch seconds.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


@dataclass
class Plan:
    generate: bool
    reason: str


def plan(*, current_api_key: str | None, current_valid_until, renew_before: int, rotate: str,
         now: float | None = None) -> Plan:
    now = time.time() if now is None else now
    if rotate == "always":
        return Plan(True, "rotate=always asks for a new key")
    if not current_api_key:
        return Plan(True, "no current API key was given")
    valid_until = parse_valid_until(current_valid_until)
    if valid_until is None:
        return Plan(False, "the current key is kept: its validity is unknown (give current_valid_until "
                           "so it can be renewed before it expires)")
    left = valid_until - now
    if left > renew_before:
        return Plan(False, f"the current key stays valid for {int(left // 86400)} more days, past renew_before")
    if left <= 0:
        return Plan(True, "the current key has expired")
    return Plan(True, f"the current key expires within renew_before ({int(left)} s left)")


def fallback_recovery_path(tenant_id: str, cache_dir: str | None = None) -> str:
    """A private directory beside the token cache, ``<cache_dir>/../recovery/``, checked like it."""
    from ansible_collections.apiauth.saas.plugins.module_utils._recovery import (  # pylint: disable=import-outside-toplevel
        fallback_directory,
    )

    return os.path.join(fallback_directory(cache_dir), f"thrive-{tenant_id}-{int(time.time())}.json")


def save_key(params: dict, record: dict) -> str:
    """Write the new key to recovery_file, or to a private fallback file if that fails.

    Raises RecoveryFileError when recovery_file failed, naming the fallback
    file when that worked; the caller still holds the key either way.
    """
    wanted = params.get("recovery_file")
    if wanted:
        try:
            return write_recovery_file(wanted, record)
        except RecoveryFileError as exc:
            try:
                fallback = write_fallback(f"thrive-{record['tenant_id']}", record, params.get("cache_dir"))
            except ApiAuthError as second:
                raise RecoveryFileError(f"{exc} The fallback recovery directory failed too: {second}") from None
            raise RecoveryFileError(
                f"{exc} The new API key was saved to {fallback} instead (mode 0600): move it to your secrets "
                "store; do not generate another."
            ) from None
    return ""


def _key_maybe_lost(exc: ApiAuthError) -> ApiAuthError:
    return ApiAuthError(
        f"{exc.message} The generateApiKey mutation may have reached THRIVE and generated a key that "
        "was never received. It was not sent again.",
        hint="THRIVE has no API to list keys: the key you already hold stays valid; generate again only "
             "once you are sure, for example with rotate=always.",
    )


def _received(result: dict, api_key: str, valid_until, tenant_id: str, before: dict) -> None:
    result.update(api_key=api_key, valid_until=valid_until, username=tenant_id, password=api_key,
                  authorization=basic_authorization(tenant_id, api_key),
                  diff={"before": before, "after": {"api_key_fingerprint": fingerprint(api_key),
                                                    "valid_until": valid_until}})


def _key_at_risk(result: dict, exc: ApiAuthError, where: str) -> dict:
    """A failed result that still carries the key (censored by the action), saying where else it is, if anywhere."""
    failed = dict(result, failed=True)
    failed["msg"] = (f"{exc} THRIVE generated a new API key ({where}); it is in this task's registered result "
                     "(api_key): store it before it is lost, and do not generate another.")
    return failed


def _valid_until_warning(raw, warnings: list):
    """THRIVE's validUntil as returned: unknown (None) costs a warning, never the key."""
    if raw is None:
        warnings.append("THRIVE did not say when the new API key expires (validUntil is null or missing): "
                        "valid_until is null and the key is treated as one that does not expire; give "
                        "current_valid_until or use rotate=always to renew it.")
        return None
    try:
        parse_valid_until(raw)
    except OptionError:
        warnings.append("THRIVE's validUntil of the new API key is not a time: valid_until is null and the key is "
                        "treated as one that does not expire.")
        return None
    return raw


def generate_or_keep(params: dict, *, client_factory, check_mode: bool, now: float | None = None,
                     progress=None) -> dict:
    """The module's work. Returns the result (the key in it when generated or kept).

    ``progress`` (an ``_errors.Progress``) gets the notes of a wait for another
    run that is generating a key for the same tenant.

    A result with ``failed: true`` still holding ``api_key`` means a key was
    received but could not be saved or judged: the caller fails the task with it,
    censored.
    """
    tenant_id = check_tenant_id(params["tenant_id"])
    correlation_id = params.get("correlation_id") or str(uuid.uuid4())
    decision = plan(current_api_key=params.get("current_api_key"),
                    current_valid_until=params.get("current_valid_until"),
                    renew_before=int(params.get("renew_before") or 0), rotate=params.get("rotate") or "when_needed",
                    now=now)
    current = params.get("current_api_key")
    before = {"api_key_fingerprint": fingerprint(current) if current else None,
              "valid_until": params.get("current_valid_until")}
    result = {"changed": decision.generate, "generated": False, "reason": decision.reason,
              "tenant_id": tenant_id, "correlation_id": correlation_id}
    if not decision.generate:
        result.update(api_key=current, valid_until=params.get("current_valid_until"), username=tenant_id,
                      password=current, authorization=basic_authorization(tenant_id, current),
                      diff={"before": before, "after": before})
        return result
    # The admin token is checked before anything, in check mode too: its
    # expiry is what most often stops a rotation.
    check_admin_token(params["admin_token"], now)
    check_token_tenant(params["admin_token"], tenant_id)
    if check_mode:
        result["diff"] = {"before": before, "after": {"api_key_fingerprint": "(new key)", "valid_until": "(new)"}}
        return result
    url, body, headers = build_request(params, correlation_id)
    # Where the key will go is proved writable while nothing exists yet.
    if params.get("recovery_file"):
        check_recovery_file(params["recovery_file"])
    target = {"write": "thrive.generateApiKey", "url": url, "environment": params["environment"],
              "tenant_id": tenant_id, "token_type": body["variables"]["tokenType"],
              "services": sorted(body["variables"]["services"])}
    warnings: list = []
    with WriteFlight(params, target, what="THRIVE API key", about=f"tenant {tenant_id}",
                     progress=progress) as flight:
        handed = flight.handed_off()
        if handed is not None:
            result = _from_other_run(params, result, handed, before, flight.waited)
        else:
            result = _generate(params, result, url, body, headers, client_factory, before, warnings)
            if result.get("generated"):
                flight.hand_off({"api_key": result["api_key"], "valid_until": result["valid_until"],
                                 "correlation_id": correlation_id})
        warnings.extend(flight.warnings)
    if warnings:
        result["warnings"] = warnings
    return result


def _from_other_run(params: dict, result: dict, handed: dict, before: dict, waited: bool) -> dict:
    """The key another run generated for this tenant while this one was on its way: kept, not made again."""
    api_key, valid_until = handed.get("api_key"), handed.get("valid_until")
    tenant_id = result["tenant_id"]
    result.update(changed=False, generated=False,
                  reason=("another run generated this key moments ago (correlation id "
                          f"{handed.get('correlation_id')}) while this one {'waited for it' if waited else 'started'}; "
                          "it is kept instead of generating a second"))
    _received(result, api_key, valid_until, tenant_id, before)
    if params.get("recovery_file"):
        record = {"tenant_id": tenant_id, "api_key": api_key, "valid_until": valid_until,
                  "correlation_id": handed.get("correlation_id"), "environment": params["environment"]}
        try:
            result["recovery_file"] = save_key(params, record)
        except ApiAuthError as exc:
            return _key_at_risk(result, exc, "for another run, which holds it too")
    return result


def _generate(params, result, url, body, headers, client_factory, before, warnings) -> dict:
    tenant_id = result["tenant_id"]
    client = client_factory()
    try:
        try:
            response = client.request("POST", url, json=body, headers=headers, idempotent=False, expected=(200,))
            answer = response.json()
        except TransportError as exc:
            if exc.sent:
                raise _key_maybe_lost(exc) from None
            raise
        except ResponseFormatError as exc:
            # A 200 we cannot read may still carry a key THRIVE made.
            raise _key_maybe_lost(exc) from None
    finally:
        client.close()
    api_key = received_key(answer)
    if api_key is None:
        try:
            parse_response(answer)
        except GraphQLError:
            raise  # THRIVE refused: no key was made
        except ResponseFormatError as exc:
            raise _key_maybe_lost(exc) from None
        raise _key_maybe_lost(ResponseFormatError("THRIVE: the generateApiKey response has no apiKey."))
    # The key is in hand: it goes to disk before anything else about the answer is judged.
    raw_valid_until = result_of(answer).get("validUntil")
    if not isinstance(raw_valid_until, str) or not raw_valid_until:
        raw_valid_until = None
    record = {"tenant_id": tenant_id, "api_key": api_key, "valid_until": raw_valid_until,
              "correlation_id": result["correlation_id"], "environment": params["environment"]}
    result["changed"] = True
    result["generated"] = True
    _received(result, api_key, raw_valid_until, tenant_id, before)
    try:
        recovery = save_key(params, record)
    except ApiAuthError as exc:
        return _key_at_risk(result, exc, "but it could not be written to recovery_file")
    if recovery:
        result["recovery_file"] = recovery
    where = f"it is in {recovery}" if recovery else "it is in this task's registered result (api_key) only"
    try:
        parse_response(answer)
    except ApiAuthError as exc:
        return _key_at_risk(result, exc, f"{where}, but the answer is not what THRIVE sends")
    valid_until = _valid_until_warning(raw_valid_until, warnings)
    if valid_until is None and raw_valid_until is not None:
        _received(result, api_key, None, tenant_id, before)
    if answer.get("errors"):
        warnings.append("THRIVE answered generateApiKey with a key and GraphQL errors: "
                        + "; ".join(error_messages(answer["errors"])) + ". The key was kept.")
    return result


SECRET_OPTIONS = secret_names(APIKEY_SPEC)


def apikey_task(params: dict, *, check_mode: bool, diff_mode: bool, progress=None) -> tuple:
    """The thrive_apikey task, ``(result, holds_secret, warnings)``: the action plugin and the module both run it.

    A result with ``failed: true`` holds a key that was received but not saved
    or judged: the caller fails the task with it, censored.
    """
    from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient  # pylint: disable=import-outside-toplevel
    from ansible_collections.apiauth.saas.plugins.module_utils._token_service import (  # pylint: disable=import-outside-toplevel
        http_options,
        redactor_for,
    )

    redactor = redactor_for(params, SECRET_OPTIONS)
    if progress is not None:
        progress.mask_with(redactor)

    def client_factory():
        return HttpClient(http_options(params), vendor="THRIVE", redactor=redactor, progress=progress)

    result = generate_or_keep(params, client_factory=client_factory, check_mode=check_mode, progress=progress)
    if not diff_mode:
        result.pop("diff", None)
    warnings = result.pop("warnings", [])
    if result.get("failed"):
        # The key was received but not saved or judged: the failed result keeps it, censored.
        result["msg"] = redactor.redact(result["msg"])
        warnings = warnings + [result["msg"]]
    return result, bool(result.get("api_key")), warnings
