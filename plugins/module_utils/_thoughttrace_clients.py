# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ThoughtTrace API clients: look up, compare, then create, (de)activate, rotate or delete.

Internal to the collection: no stability promise to code outside it.

ThoughtTrace documents its client administration only as screens (Access > API
Clients); the IdP API behind them is described on its own swagger page, not in
the admin guide. So every path lives in ``API_PATHS`` below and the module's
``api_paths`` option overrides any of them.

The flow is normalise -> compare -> plan -> act -> sanitize. The planning
functions are pure, so they are unit-tested without a server. Nothing here
imports Ansible beyond the argument spec helpers.

A client secret is shown once, by the create and new-secret calls. Those two
requests are sent at most once (never retried after they may have reached the
server). The recovery file, when one is set, is checked before either is
sent, and a received secret is written there before anything else about the
answer is judged. Runs that overlap for one client make one secret between
them (``_write_flight``): the second, once the first is done, looks the
client up again and keeps the secret the first received.
"""

from __future__ import annotations

import datetime

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import connection_options, merge
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    HTTPStatusError,
    Redactor,
    ResponseFormatError,
    TransportError,
    fingerprint,
)
from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import secret_names
from ansible_collections.apiauth.saas.plugins.module_utils._recovery import check_recovery_file, write_recovery_file
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import get_token, http_options, redactor_for
# Some of these are only re-exported: they lived here before the vendor's facts moved to _vendor_thoughttrace.
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughttrace import (  # noqa: F401  # pylint: disable=unused-import
    ACTIVATE,
    API_PATHS,
    CLIENT_MUTUALLY_EXCLUSIVE as MUTUALLY_EXCLUSIVE,
    CLIENT_OPTIONS,
    CLIENT_REQUIRED_ONE_OF as REQUIRED_ONE_OF,
    CLIENT_REQUIRED_TOGETHER as REQUIRED_TOGETHER,
    CLIENT_SPEC,
    CREATE,
    DEACTIVATE,
    DEFAULT_IDENTITY_URL,
    DELETE,
    NEW_SECRET,
    PATHS_WITH_ID,
    THOUGHTTRACE,
    VENDOR,
    ClientApi,
    client_from_vendor,
    clients_from_response,
    endpoint,
    resolve_paths,
    secret_in,
)
from ansible_collections.apiauth.saas.plugins.module_utils._write_flight import WriteFlight

SECRET_OPTIONS = secret_names(CLIENT_SPEC)


def argument_spec() -> dict:
    """The options of apiauth.saas.thoughttrace_client, shared by the module and its action plugin."""
    return merge(CLIENT_SPEC)


# -- pure helpers --------------------------------------------------------------


def wants_new_secret(params: dict) -> bool:
    """rotate=always, or its older form new_secret=true."""
    return params.get("rotate") == "always" or bool(params.get("new_secret"))


def normalise_name(name) -> str:
    """The form two client names are compared in: ThoughtTrace shows names as typed."""
    return str(name or "").strip().casefold()


def find_client(clients: list, name: str) -> dict | None:
    """The one client whose name matches ``name`` (normalised), or None."""
    wanted = normalise_name(name)
    matches = [client for client in clients if normalise_name(client.get("name")) == wanted]
    if len(matches) > 1:
        ids = ", ".join(str(client["id"]) for client in matches)
        raise ApiAuthError(
            f"{VENDOR} has {len(matches)} API clients named '{name.strip()}' (ids {ids}); "
            "this module cannot tell which one to manage.",
            hint="Rename or delete the extra ones in ThoughtTrace (Access > API Clients).",
        )
    return matches[0] if matches else None


def plan(existing: dict | None, *, state: str, active: bool | None = None, new_secret: bool = False) -> list:
    """The operations that bring ``existing`` (None: no such client) to the desired state."""
    if state == "absent":
        return [DELETE] if existing else []
    if existing is None:
        # A new client comes with its own secret: new_secret has nothing to add.
        return [CREATE, DEACTIVATE] if active is False else [CREATE]
    operations = []
    if active is not None and bool(existing.get("active")) != active:
        operations.append(ACTIVATE if active else DEACTIVATE)
    if new_secret:
        operations.append(NEW_SECRET)
    return operations


def sanitize(client: dict | None) -> dict:
    """A client as results and diffs show it: never a secret, at most its fingerprint."""
    if not client:
        return {}
    shown = {key: client.get(key) for key in ("id", "name", "client_id", "active", "created")}
    if client.get("secret_fingerprint"):
        shown["secret_fingerprint"] = client["secret_fingerprint"]
    return shown


def predict(existing: dict | None, operations: list, name: str) -> dict:
    """The client after ``operations``, without asking the server: for check mode."""
    if DELETE in operations:
        return {}
    state = dict(existing) if existing else {"id": None, "name": name.strip(), "client_id": None, "active": True,
                                             "created": None}
    for operation in operations:
        if operation == ACTIVATE:
            state["active"] = True
        elif operation == DEACTIVATE:
            state["active"] = False
        elif operation in (CREATE, NEW_SECRET):
            state["secret_fingerprint"] = "(new secret, made when not in check mode)"
    return state


def _now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _token_params(params: dict) -> dict:
    """The options of apiauth.saas.thoughttrace_token that give the admin token."""
    token_params = connection_options(params)
    token_params.update(base_url=params.get("base_url"), client_id=params.get("admin_client_id"),
                        client_secret=params.get("admin_client_secret"))
    return token_params


def _admin_token(params: dict, warnings: list, progress=None) -> str:
    if params.get("admin_token"):
        return params["admin_token"]
    outcome = get_token(_token_params(params), THOUGHTTRACE, progress=progress)
    warnings.extend(outcome.warnings)
    return outcome.record["access_token"]


def _maybe_sent(exc: ApiAuthError) -> bool:
    """Whether a failed create or new-secret request may still have been carried out."""
    if isinstance(exc, TransportError):
        return exc.sent
    return isinstance(exc, HTTPStatusError) and exc.status >= 500


class _Run:
    """One task: what was found, done and received, so a failure can still report it."""

    def __init__(self, params: dict, check_mode: bool, diff_mode: bool, progress=None) -> None:
        self.params = params
        self.progress = progress  # an _errors.Progress: retries and waits shown at -v
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.name = params["name"]
        self.warnings: list = []
        self.done: list = []
        self.secret: str | None = None
        self.secret_record: dict = {}
        self.recovery_path: str | None = None
        self.handed_over = False
        self.redactor: Redactor | None = None

    def _received(self, client: dict, secret: str, when_key: str, operation: str | None = None) -> None:
        """Keep a new secret, so that from now on even a failure returns it, and put it on disk at once."""
        if operation is not None and operation not in self.done:
            self.done.append(operation)  # carried out: the vendor answered with its secret
        self.secret = secret
        if self.redactor is not None:
            self.redactor.add(secret)
        self.secret_record = {"client_id": client.get("client_id"), "client_secret": secret,
                              "name": client.get("name"), "id": client.get("id"),
                              when_key: client.get("created") if when_key == "created" else _now_iso()}
        self._save()

    def _save(self) -> None:
        """Put the secret on disk before anything else can fail."""
        if self.params.get("recovery_file"):
            self.recovery_path = write_recovery_file(self.params["recovery_file"], self.secret_record)

    def execute(self, redactor: Redactor) -> dict:
        params = self.params
        self.redactor = redactor
        paths = resolve_paths(params.get("api_paths"))
        identity_url = (params.get("base_url") or DEFAULT_IDENTITY_URL).rstrip("/")
        if self.progress is not None:
            self.progress.mask_with(redactor)
        token = _admin_token(params, self.warnings, self.progress)
        redactor.add(token)
        if params["state"] == "absent" and wants_new_secret(params):
            self.warnings.append("rotate=always is ignored with state=absent.")
        with HttpClient(http_options(params), vendor=VENDOR, redactor=redactor, progress=self.progress) as http:
            api = ClientApi(http, identity_url, paths, token)
            existing = find_client(api.list(), self.name)
            operations = self._plan(existing)
            if self.check_mode:
                after = predict(existing, operations, self.name)
            elif CREATE in operations or NEW_SECRET in operations:
                existing, operations, after = self._make_secret(api, identity_url, existing, operations, redactor)
            else:
                after = self._apply(api, existing, operations, redactor)
        result = {"changed": bool(operations), "actions": list(operations), "existing": sanitize(existing),
                  "end_state": sanitize(after)}
        if self.handed_over:
            result["reason"] = ("another run created this client or gave it a new secret moments ago, while this one "
                                "was on its way; its secret is returned instead of making another")
        if self.diff_mode:
            result["diff"] = {"before": sanitize(existing), "after": sanitize(after)}
        return result

    def _plan(self, existing: dict | None) -> list:
        return plan(existing, state=self.params["state"], active=self.params.get("active"),
                    new_secret=wants_new_secret(self.params))

    def _make_secret(self, api: ClientApi, identity_url: str, existing, operations: list, redactor: Redactor):
        """Create or rotate under the single flight of this client: (existing, operations, after)."""
        # Where the secret will go is proved writable while nothing is made yet.
        if self.params.get("recovery_file"):
            check_recovery_file(self.params["recovery_file"])
        target = {"write": "thoughttrace.client", "identity_url": identity_url, "name": normalise_name(self.name)}
        with WriteFlight(self.params, target, what=f"{VENDOR} client secret", about=f"the client '{self.name.strip()}'",
                         progress=self.progress) as flight:
            try:
                handed = flight.handed_off()
                if flight.waited or handed is not None:
                    # Another run held the flight: look again, it may have made the client or its secret.
                    existing = find_client(api.list(), self.name)
                    operations = self._plan(existing)
                if (handed is not None and existing is not None and str(handed.get("id")) == existing["id"]
                        and isinstance(handed.get("client_secret"), str) and handed["client_secret"]):
                    # The client another run just made, or gave a new secret: keep its secret, make none.
                    operations = [op for op in operations if op != NEW_SECRET]
                    self.handed_over = True
                    self._received(existing, handed["client_secret"], "received_at")
                after = self._apply(api, existing, operations, redactor, flight=flight)
            finally:
                self.warnings.extend(flight.warnings)
        return existing, operations, after

    def _apply(self, api: ClientApi, existing: dict | None, operations: list, redactor: Redactor,
               flight: WriteFlight | None = None) -> dict:
        current = dict(existing) if existing else None
        if self.handed_over and current is not None:
            current["secret_fingerprint"] = fingerprint(self.secret)
        for operation in operations:
            if operation == CREATE:
                current = self._create(api)
            elif operation in (ACTIVATE, DEACTIVATE):
                api.set_active(current["id"], operation == ACTIVATE)
                current["active"] = operation == ACTIVATE
            elif operation == NEW_SECRET:
                current = self._rotate(api, current)
            elif operation == DELETE:
                api.delete(current["id"])
                current = None
            if operation not in self.done:
                self.done.append(operation)
            if operation in (CREATE, NEW_SECRET) and flight is not None:
                flight.hand_off({"id": current.get("id"), "client_id": current.get("client_id"),
                                 "client_secret": self.secret, "made": operation})
        return current or {}

    def _create(self, api: ClientApi) -> dict:
        name = self.name.strip()
        # The secret is saved the moment it is in hand, before the rest of the answer is judged.
        api.on_secret = lambda client, secret: self._received(client, secret, "created", CREATE)
        try:
            created = api.create(name)
        except HTTPStatusError as exc:
            if exc.status == 409:
                raise ApiAuthError(
                    f"{VENDOR} refused to create the API client '{name}': a client of that name exists (HTTP 409), "
                    "although it was not in the list a moment before.",
                    hint="Another run may have created it: run the task again to manage it.",
                ) from None
            if _maybe_sent(exc):
                raise self._unsure(exc, "created") from None
            raise
        except TransportError as exc:
            if _maybe_sent(exc):
                raise self._unsure(exc, "created") from None
            raise
        except ResponseFormatError as exc:
            if self.secret is not None:
                raise  # the secret was received and saved: the failure returns it
            # A success answer we cannot read: the client exists, its secret is lost.
            raise self._unsure(exc, "created") from None
        secret = created.pop("client_secret")
        created["secret_fingerprint"] = fingerprint(secret)
        if self.secret != secret:  # not already saved by on_secret
            self._received(created, secret, "created", CREATE)
        return created

    def _rotate(self, api: ClientApi, current: dict) -> dict:
        try:
            secret = api.new_secret(current["id"])
        except (HTTPStatusError, TransportError) as exc:
            if _maybe_sent(exc):
                raise self._unsure(exc, "rotated") from None
            raise
        except ResponseFormatError as exc:
            raise self._unsure(exc, "rotated") from None
        current = dict(current, secret_fingerprint=fingerprint(secret))
        self._received(current, secret, "rotated_at", NEW_SECRET)
        return current

    def _unsure(self, exc: ApiAuthError, what: str) -> ApiAuthError:
        name = self.name.strip()
        if what == "created":
            advice = (f"Check Access > API Clients in ThoughtTrace before running the task again: if '{name}' is "
                      "there, its secret was lost, so run the task with rotate: always to get a new one.")
        else:
            advice = (f"Check ThoughtTrace before running the task again: the secret of '{name}' may have been "
                      "replaced, so the old one may no longer work; run the task again with rotate: always to "
                      "get a secret you know.")
        return ApiAuthError(
            f"{exc.message} The API client '{name}' may have been {what} anyway; the request was not sent again.",
            hint=advice,
        )

    def secret_fields(self) -> dict:
        if self.secret is None:
            return {}
        fields = {"client_id": self.secret_record.get("client_id"), "client_secret": self.secret}
        if self.recovery_path:
            fields["recovery_file"] = self.recovery_path
        return fields


def manage_client(params: dict, *, check_mode: bool, diff_mode: bool, progress=None) -> tuple:
    """Run one task. Returns (result, holds_secret, warnings); raises ApiAuthError when no secret is at stake.

    Once a secret has been received, a later failure (a recovery file that
    cannot be written, a deactivate call refused) is returned as a failed
    result that still carries the secret, so the registered variable keeps it.
    ``progress`` (an ``_errors.Progress``) gets the notes of retries and of a
    wait for another run that is making a secret for the same client.
    """
    run = _Run(params, check_mode, diff_mode, progress)
    redactor = redactor_for(params, SECRET_OPTIONS)
    try:
        result = run.execute(redactor)
    except ApiAuthError as exc:
        exc.redacted(redactor)
        if run.secret is None:
            raise
        done = ", ".join(run.done) or "a secret was received"
        where = f" and in {run.recovery_path}" if run.recovery_path else ""
        message = (f"{exc} The API client '{run.name.strip()}' was changed before the failure ({done}): its new "
                   f"secret is in this task's registered result (client_secret){where}; save it before it is lost.")
        result = {"failed": True, "changed": True, "actions": list(run.done), "msg": message}
        result.update(run.secret_fields())
        # The result is censored because it holds the secret; warnings stay visible.
        return result, True, run.warnings + [message]
    result.update(run.secret_fields())
    return result, run.secret is not None, run.warnings
