"""ThoughtTrace client administration: normalise, compare, plan, sanitize, and the flow around the API."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _thoughttrace_clients as tc
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    HTTPStatusError,
    OptionError,
    ResponseFormatError,
    TransportError,
    fingerprint,
)

SECRET = "new-client-secret-" + "Zq7" * 12
ADMIN_TOKEN = "admin-token-" + "Kp4" * 12


def _client(name="Loader", active=True, ident="c-1"):
    return {"id": ident, "name": name, "client_id": f"cid-{ident}", "active": active, "created": "2026-01-01T00:00:00Z"}


# -- normalise and compare -----------------------------------------------------


@pytest.mark.parametrize("left, right", [("Loader", "loader"), ("  Loader ", "LOADER"), ("Straße", "STRASSE")])
def test_names_compare_without_spaces_and_case(left, right):
    assert tc.normalise_name(left) == tc.normalise_name(right)


def test_find_client_matches_normalised_name():
    clients = [_client("Other", ident="c-0"), _client("Loader", ident="c-1")]
    assert tc.find_client(clients, " loader ")["id"] == "c-1"
    assert tc.find_client(clients, "missing") is None


def test_find_client_refuses_two_of_a_name():
    with pytest.raises(ApiAuthError, match="2 API clients named 'Loader'"):
        tc.find_client([_client("Loader", ident="a"), _client("loader ", ident="b")], "Loader")


def test_client_list_shapes():
    raw = [{"id": 5, "name": "Loader", "clientId": "cid", "active": False, "created": "t"}]
    expected = [{"id": "5", "name": "Loader", "client_id": "cid", "active": False, "created": "t"}]
    assert tc.clients_from_response(raw) == expected
    assert tc.clients_from_response({"clients": raw}) == expected
    with pytest.raises(ResponseFormatError):
        tc.clients_from_response({"unexpected": True})
    with pytest.raises(ResponseFormatError):
        tc.clients_from_response([{"name": "no id"}])


def test_client_from_vendor_drops_secrets():
    client = tc.client_from_vendor({"id": "1", "name": "n", "clientId": "c", "clientSecret": SECRET})
    assert SECRET not in json.dumps(client)


# -- plan ----------------------------------------------------------------------


@pytest.mark.parametrize("existing, kwargs, expected", [
    (None, {"state": "present"}, ["create"]),
    (None, {"state": "present", "active": True}, ["create"]),
    (None, {"state": "present", "active": False}, ["create", "deactivate"]),
    (None, {"state": "present", "new_secret": True}, ["create"]),
    (_client(), {"state": "present"}, []),
    (_client(), {"state": "present", "active": True}, []),
    (_client(), {"state": "present", "active": False}, ["deactivate"]),
    (_client(active=False), {"state": "present", "active": True}, ["activate"]),
    (_client(active=False), {"state": "present"}, []),
    (_client(), {"state": "present", "new_secret": True}, ["new_secret"]),
    (_client(), {"state": "present", "active": False, "new_secret": True}, ["deactivate", "new_secret"]),
    (_client(), {"state": "absent"}, ["delete"]),
    (_client(), {"state": "absent", "new_secret": True}, ["delete"]),
    (None, {"state": "absent"}, []),
])
def test_plan(existing, kwargs, expected):
    assert tc.plan(existing, **kwargs) == expected


def test_predict_for_check_mode():
    assert tc.predict(_client(), ["delete"], "Loader") == {}
    new = tc.predict(None, ["create", "deactivate"], " New ")
    assert new["name"] == "New" and new["active"] is False and new["id"] is None and "secret_fingerprint" in new
    assert tc.predict(_client(active=False), ["activate"], "Loader")["active"] is True


def test_sanitize_keeps_only_public_fields():
    shown = tc.sanitize(dict(_client(), client_secret=SECRET, secret_fingerprint="sha256:abc"))
    assert set(shown) == {"id", "name", "client_id", "active", "created", "secret_fingerprint"}
    assert tc.sanitize(None) == {}


# -- path table ----------------------------------------------------------------


def test_default_paths_and_endpoint():
    paths = tc.resolve_paths(None)
    assert paths == tc.API_PATHS
    assert tc.endpoint("https://idp.example/", paths, "new_secret", "a/b c") == \
        "https://idp.example/api/clients/a%2Fb%20c/secret"
    assert tc.endpoint("https://idp.example", paths, "list") == "https://idp.example/api/clients"


def test_path_overrides():
    paths = tc.resolve_paths({"list": "v2/clients", "delete": "/v2/clients/{id}/remove"})
    assert paths["list"] == "/v2/clients" and paths["delete"] == "/v2/clients/{id}/remove"
    assert paths["create"] == tc.API_PATHS["create"]


@pytest.mark.parametrize("overrides, message", [
    ({"lst": "/x"}, "unknown key 'lst'"),
    ({"delete": "/v2/clients"}, "must contain the placeholder"),
    ({"create": ""}, "non-empty string"),
])
def test_bad_path_overrides(overrides, message):
    with pytest.raises(OptionError, match=message):
        tc.resolve_paths(overrides)


def test_argument_spec_marks_secrets_no_log():
    spec = tc.argument_spec()
    for name, option in spec.items():
        if any(word in name for word in ("secret", "token", "key")):
            assert "no_log" in option, name
    assert spec["admin_token"]["no_log"] is True and spec["admin_client_secret"]["no_log"] is True


# -- the flow, against a fake API ----------------------------------------------


class FakeApi:
    """Stands in for ClientApi; records what was called."""

    clients: list = []
    calls: list = []
    fail_on: dict = {}

    def __init__(self, http, identity_url, paths, token):
        assert token == ADMIN_TOKEN
        self.paths = paths

    def _maybe_fail(self, operation):
        if operation in FakeApi.fail_on:
            raise FakeApi.fail_on[operation]

    def list(self):
        return [dict(client) for client in FakeApi.clients]

    def create(self, name):
        FakeApi.calls.append(("create", name))
        self._maybe_fail("create")
        client = dict(_client(name, ident="c-new"))
        FakeApi.clients.append(client)
        return dict(client, client_secret=SECRET)

    def set_active(self, client_id, active):
        FakeApi.calls.append(("activate" if active else "deactivate", client_id))
        self._maybe_fail("deactivate")

    def new_secret(self, client_id):
        FakeApi.calls.append(("new_secret", client_id))
        self._maybe_fail("new_secret")
        return SECRET

    def delete(self, client_id):
        FakeApi.calls.append(("delete", client_id))


@pytest.fixture
def fake_api(monkeypatch):
    FakeApi.clients, FakeApi.calls, FakeApi.fail_on = [], [], {}
    monkeypatch.setattr(tc, "ClientApi", FakeApi)
    return FakeApi


def _params(**overrides):
    params = {name: option.get("default") for name, option in tc.argument_spec().items()}
    params.update(name="Loader", admin_token=ADMIN_TOKEN, base_url="https://idp.example")
    params.update(overrides)
    return params


def test_create_returns_secret_once_and_writes_recovery_file(fake_api, tmp_path):
    path = tmp_path / "loader.json"
    result, holds_secret, warnings = tc.manage_client(_params(recovery_file=str(path)), check_mode=False,
                                                      diff_mode=True)
    assert holds_secret and not warnings
    assert result["changed"] and result["actions"] == ["create"]
    assert result["client_secret"] == SECRET and result["client_id"] == "cid-c-new"
    assert result["recovery_file"] == str(path)
    assert result["existing"] == {} and result["end_state"]["secret_fingerprint"] == fingerprint(SECRET)
    assert SECRET not in json.dumps(result["diff"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    record = json.loads(path.read_text())
    assert record["client_secret"] == SECRET and record["name"] == "Loader" and record["id"] == "c-new"
    assert "created" in record

    again, holds_secret, warnings = tc.manage_client(_params(), check_mode=False, diff_mode=False)
    assert not again["changed"] and not holds_secret and "client_secret" not in again and "diff" not in again
    assert fake_api.calls == [("create", "Loader")]


def test_check_mode_sends_no_mutation(fake_api):
    fake_api.clients = [_client()]
    for params in (_params(name="Other", active=False), _params(new_secret=True), _params(state="absent"),
                   _params(active=False)):
        result, holds_secret, warnings = tc.manage_client(params, check_mode=True, diff_mode=True)
        assert result["changed"] and not holds_secret and "client_secret" not in result
        assert result["diff"]["before"] != result["diff"]["after"]
    assert fake_api.calls == []


def test_unsure_create_is_not_retried_and_says_so(fake_api):
    fake_api.fail_on = {"create": TransportError("ThoughtTrace: POST https://idp.example/api/clients failed: the "
                                                 "server closed the connection without answering.", sent=True)}
    with pytest.raises(ApiAuthError) as info:
        tc.manage_client(_params(), check_mode=False, diff_mode=False)
    assert "may have been created" in str(info.value) and "rotate: always" in str(info.value)
    assert fake_api.calls == [("create", "Loader")]


def test_create_that_certainly_failed_is_a_plain_error(fake_api):
    fake_api.fail_on = {"create": HTTPStatusError("ThoughtTrace: POST ... failed: HTTP 400.", status=400)}
    with pytest.raises(ApiAuthError) as info:
        tc.manage_client(_params(), check_mode=False, diff_mode=False)
    assert "may have been" not in str(info.value)


def test_unsure_rotation_says_so(fake_api):
    fake_api.clients = [_client()]
    fake_api.fail_on = {"new_secret": HTTPStatusError("ThoughtTrace: POST ... failed: HTTP 502.", status=502)}
    with pytest.raises(ApiAuthError, match="may have been rotated"):
        tc.manage_client(_params(new_secret=True), check_mode=False, diff_mode=False)


def test_recovery_file_failure_still_returns_the_secret(fake_api, tmp_path, monkeypatch):
    # The directory passes the check made before the create call, then goes away before the secret is written.
    directory = tmp_path / "gone-dir"
    directory.mkdir(mode=0o700)
    create = FakeApi.create

    def create_then_remove_dir(self, name):
        directory.rmdir()
        return create(self, name)

    monkeypatch.setattr(FakeApi, "create", create_then_remove_dir)
    result, holds_secret, warnings = tc.manage_client(
        _params(recovery_file=str(directory / "x.json")), check_mode=False, diff_mode=False)
    assert result["failed"] and holds_secret
    assert result["client_secret"] == SECRET and "recovery_file" not in result
    assert "recovery_file" in result["msg"] and "(create)" in result["msg"] and "registered result" in result["msg"]
    assert warnings and SECRET not in warnings[0]


def test_failure_after_create_keeps_the_secret(fake_api):
    fake_api.fail_on = {"deactivate": HTTPStatusError("ThoughtTrace: POST ... failed: HTTP 500.", status=500)}
    result, holds_secret, warnings = tc.manage_client(_params(active=False), check_mode=False, diff_mode=False)
    assert result["failed"] and holds_secret and result["client_secret"] == SECRET
    assert result["actions"] == ["create"]


def test_rotate_and_deactivate_existing(fake_api):
    fake_api.clients = [_client()]
    result, holds_secret, warnings = tc.manage_client(_params(active=False, new_secret=True), check_mode=False,
                                                      diff_mode=True)
    assert holds_secret and result["client_secret"] == SECRET
    assert result["existing"]["active"] is True and result["end_state"]["active"] is False
    assert result["diff"]["after"]["secret_fingerprint"] == fingerprint(SECRET)
    assert fake_api.calls == [("deactivate", "c-1"), ("new_secret", "c-1")]


def test_delete(fake_api):
    fake_api.clients = [_client()]
    result = tc.manage_client(_params(state="absent", name="LOADER"), check_mode=False, diff_mode=False)[0]
    assert result["changed"] and result["end_state"] == {} and fake_api.calls == [("delete", "c-1")]


def test_admin_client_credentials_use_the_token_service(fake_api, monkeypatch):
    seen = {}

    class Outcome:
        record = {"access_token": ADMIN_TOKEN}
        warnings = []

    def fake_get_token(params, profile, progress=None):
        seen.update(params)
        return Outcome()

    monkeypatch.setattr(tc, "get_token", fake_get_token)
    tc.manage_client(_params(admin_token=None, admin_client_id="admin", admin_client_secret="s" * 30),
                     check_mode=True, diff_mode=False)
    assert seen["client_id"] == "admin" and seen["client_secret"] == "s" * 30
    assert seen["base_url"] == "https://idp.example" and "cache_dir" in seen


# -- the API calls, against a scripted HTTP server ---------------------------


@pytest.fixture
def api_server():
    from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import ScriptedServer

    with ScriptedServer(None) as server:
        yield server


def _api(server, paths=None):
    from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient, HttpOptions

    client = HttpClient(HttpOptions(allow_http=True, timeout=5, retries=3), vendor="ThoughtTrace",
                        sleep=lambda seconds: None)
    return client, tc.ClientApi(client, server.url("").rstrip("/") + "/idp", tc.resolve_paths(paths), ADMIN_TOKEN)


def test_api_requests_carry_bearer_token_and_json(api_server):
    from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import Reply

    api_server.script(
        Reply(200, body=[{"id": "1", "name": "Loader", "clientId": "cid", "active": True, "created": "t"}]),
        Reply(201, body={"id": "2", "name": "New", "clientId": "cid2", "clientSecret": SECRET, "active": True,
                         "created": "t"}),
        Reply(204),
        Reply(200, body={"clientSecret": SECRET + "2"}),
        Reply(204),
    )
    http, api = _api(api_server, {"delete": "/v2/clients/{id}"})
    with http:
        assert api.list()[0]["client_id"] == "cid"
        assert api.create("New")["client_secret"] == SECRET
        api.set_active("2", False)
        assert api.new_secret("2") == SECRET + "2"
        api.delete("2")
    seen = [(entry.method, entry.path) for entry in api_server.seen]
    assert seen == [("GET", "/idp/api/clients"), ("POST", "/idp/api/clients"), ("POST", "/idp/api/clients/2/deactivate"),
                    ("POST", "/idp/api/clients/2/secret"), ("DELETE", "/idp/v2/clients/2")]
    assert all(entry.headers["authorization"] == f"Bearer {ADMIN_TOKEN}" for entry in api_server.seen)
    assert json.loads(api_server.seen[1].body) == {"name": "New"}


def test_create_is_sent_at_most_once(api_server):
    from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import Reply

    api_server.script(Reply(action="close"), Reply(201, body={"id": "2", "name": "New", "clientSecret": SECRET}))
    http, api = _api(api_server)
    with http, pytest.raises(TransportError) as info:
        api.create("New")
    assert info.value.sent is True and len(api_server.seen) == 1


def test_forbidden_hints_at_admin_rights(api_server):
    from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import Reply

    api_server.script(Reply(403, body={"error": "forbidden", "error_description": "not an admin"}))
    http, api = _api(api_server)
    with http, pytest.raises(HTTPStatusError) as info:
        api.list()
    text = str(info.value)
    assert "HTTP 403" in text and "administrator" in text and ADMIN_TOKEN not in text


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thoughttrace_client,
]
