"""ThoughtSpot modules, lookup and callback end to end against the simulated cluster."""

from __future__ import annotations

import json
import re
import sys
import uuid

import pytest
import requests

from conftest import assert_absent, assert_no_traceback, files_text

from ansible_collections.apiauth.saas.plugins.module_utils._errors import fingerprint
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import list_entries

VENDOR = "thoughtspot"


@pytest.fixture
def ts_task(run_playbook, out):
    """Run one ThoughtSpot task (module 'token', 'info' or 'trusted_auth'); returns (run, registered result)."""

    def task(module: str, options: dict, **kwargs):
        result_file = out / "result.json"
        if result_file.exists():
            result_file.unlink()
        run = run_playbook("thoughtspot.yml", extra_vars={"ts_module": module, "ts": options}, **kwargs)
        assert_no_traceback(run)
        assert result_file.exists(), run.output[-4000:]
        return run, json.loads(result_file.read_text())

    return task


def _validate(sim, token: str) -> int:
    """The status ThoughtSpot's validate call gives the token (200 valid, 400/401 not)."""
    demo = sim.demo_vars()
    response = requests.post(f"{sim.thoughtspot_url()}/api/rest/2.0/auth/token/validate", json={"token": token},
                             headers={"Authorization": f"Bearer {token}"}, verify=demo["sim_ca_path"], timeout=30)
    return response.status_code


def _calls(sim, operation: str | None = None) -> list:
    return [entry for entry in sim.audit(VENDOR) if operation is None or entry.get("operation") == operation]


def _user(sim, name: str) -> dict | None:
    return next((user for user in sim.thoughtspot_users() if user["name"].casefold() == name.casefold()), None)


def _trusted(demo: dict, **extra) -> dict:
    return dict({"username": demo["thoughtspot_username"], "secret_key": demo["thoughtspot_secret_key"]}, **extra)


@pytest.mark.smoke
@pytest.mark.parametrize("token_type, way", [("full", "secret_key"), ("full", "password"), ("object", "secret_key"),
                                             ("custom", "secret_key")])
def test_token_types_and_auth_ways(sim, ts_task, cache_dir, token_type, way):
    demo = sim.demo_vars()
    if way == "password":
        options = {"username": demo["thoughtspot_admin_username"], "password": demo["thoughtspot_admin_password"]}
    else:
        options = _trusted(demo)
    options.update(token_type=token_type, org=demo["thoughtspot_org_id"] if token_type != "custom" else "Sales")
    if token_type == "object":
        options["object_id"] = demo["thoughtspot_object_id"]
    if token_type == "custom":
        options.update(persist_option="NONE", auto_create=False,
                       filter_rules=[{"column_name": "Region", "operator": "IN", "values": ["EMEA"]}])
    run, first = ts_task("token", options, verbosity=4)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True and first["source"] == "network"
    assert first["authorization"] == f"Bearer {first['access_token']}"
    assert first["headers"]["Authorization"] == first["authorization"]
    assert first["base_url"] == sim.thoughtspot_url() + "/api/rest/2.0"
    assert first["org_id"] == 1 and first["user_id"]
    assert first["expiration_time_in_millis"] - first["creation_time_in_millis"] == 3600 * 1000
    assert first["expires_in"] > 3500 and first["expiration_time_iso"].endswith("Z")
    expected_access = {"full": "FULL", "object": "REPORT_BOOK_VIEW", "custom": "CUSTOM"}[token_type]
    assert first["scope"]["access_type"] == expected_access
    calls = _calls(sim, f"token_{token_type}")
    assert len(calls) == 1 and calls[0]["status"] == 200 and calls[0]["auth_method"] == way
    assert _validate(sim, first["access_token"]) == 200
    # The secret, the password and the token never reach the output, at -vvvv.
    assert_absent([options.get("secret_key"), options.get("password"), first["access_token"]], run)
    # The cache keeps the token encrypted under the secret, never the key or password it was got with;
    # its clear metadata names the user (the second run below is served from it).
    cached = files_text(cache_dir)
    assert first["access_token"] not in cached
    assert all(secret not in cached for secret in (options.get("secret_key"), options.get("password")) if secret)
    assert [entry["client_id"] for entry in list_entries(str(cache_dir))] == [options["username"]]

    second = ts_task("token", options)[1]
    assert second["changed"] is False and second["source"] == "file"
    assert second["access_token"] == first["access_token"]
    assert sim.token_requests(VENDOR) == 1


def test_org_is_sent_as_each_endpoint_wants(sim, ts_task):
    demo = sim.demo_vars()
    result = ts_task("token", _trusted(demo, org="Sales"))[1]
    assert result["failed"] is True and "numeric id" in result["msg"]
    assert not _calls(sim), "an option error sends nothing"
    result = ts_task("token", _trusted(demo, token_type="custom", org="1", auto_create=False))[1]
    assert not result.get("failed"), result.get("msg")
    assert result["org_id"] == 1 and result["org_name"] == "Sales" and result["token_id"]


def test_auto_create_is_not_sent_in_check_mode_and_then_creates_the_user(sim, ts_task):
    demo = sim.demo_vars()
    name = f"jit-{uuid.uuid4().hex[:8]}"
    options = _trusted(demo, username=name, auto_create=True, email=f"{name}@example.com",
                       display_name="Just in time", groups=["Analyst"])
    run, checked = ts_task("token", options, check=True)
    assert checked["changed"] is True and checked["skipped_request"] is True and "access_token" not in checked
    assert "auto_create" in checked["msg"]
    assert not _calls(sim) and _user(sim, name) is None

    created = ts_task("token", options)[1]
    assert not created.get("failed"), created.get("msg")
    assert created["changed"] is True and created["username"] == name
    assert _calls(sim, "token_full")[0]["user_created"] is True
    user = _user(sim, name)
    assert user["email"] == f"{name}@example.com" and "Analyst" in user["groups"]

    # Without auto_create, an unknown user is a clean authentication failure.
    run, refused = ts_task("token", _trusted(demo, username=f"nobody-{uuid.uuid4().hex[:8]}"))
    assert refused["failed"] is True
    assert "HTTP 401" in refused["msg"] and "10097" in refused["msg"] and "auto_create" in refused["msg"]
    assert_absent([demo["thoughtspot_secret_key"]], run)


def test_custom_token_persisting_rules_changes_the_user_and_respects_check_mode(sim, ts_task):
    demo = sim.demo_vars()
    name = f"abac-{uuid.uuid4().hex[:8]}"
    sim.thoughtspot_add_user(name, orgs=[0, 1])
    options = _trusted(demo, username=name, token_type="custom", org="Sales", auto_create=False,
                       persist_option="REPLACE", groups=["Analyst"],
                       filter_rules=[{"column_name": "Region", "operator": "IN", "values": ["APAC"]}],
                       parameter_values=[{"name": "Currency", "values": ["EUR"]}])
    checked = ts_task("token", options, check=True)[1]
    assert checked["skipped_request"] is True and not _calls(sim)
    result = ts_task("token", options)[1]
    assert not result.get("failed"), result.get("msg")
    call = _calls(sim, "token_custom")[0]
    assert call["persisted"] is True


def test_revoke_then_validate(sim, ts_task):
    demo = sim.demo_vars()
    token = ts_task("token", _trusted(demo, org="1"))[1]["access_token"]
    run, info = ts_task("info", {"token": token}, verbosity=4)
    assert info["valid"] is True and info["user"]["name"] == demo["thoughtspot_username"]
    assert_absent([token], run)
    assert info["scope"]["org_id"] == 1 and info["token_fingerprint"] == fingerprint(token)

    checked = ts_task("token", {"state": "absent", "token": token}, check=True)[1]
    assert checked["changed"] is True and checked["revoked"] is False
    assert not _calls(sim, "revoke") and _validate(sim, token) == 200

    run, revoked = ts_task("token", {"state": "absent", "token": token}, verbosity=4)
    assert revoked["changed"] is True and revoked["revoked"] is True
    assert len(_calls(sim, "revoke")) == 1
    assert_absent([token], run)
    assert _validate(sim, token) != 200
    info = ts_task("info", {"token": token})[1]
    assert not info.get("failed") and info["valid"] is False and "user" not in info

    again = ts_task("token", {"state": "absent", "token": token})[1]
    assert not again.get("failed") and again["changed"] is False
    assert len(_calls(sim, "revoke")) == 1, "an invalid token is not revoked again"


def test_a_revoke_shows_its_retries_at_v_and_counts_them(sim, ts_task):
    demo = sim.demo_vars()
    token = ts_task("token", _trusted(demo))[1]["access_token"]
    sim.add_faults(VENDOR, [{"kind": "status", "status": 503}, {"kind": "status", "status": 503}])
    run, revoked = ts_task("token", {"state": "absent", "token": token}, verbosity=4)
    assert revoked["revoked"] is True and _validate(sim, token) != 200
    # Control: ThoughtSpot really answered 503 twice before the check of the token went through.
    assert [call.get("status") for call in _calls(sim, "validate")][:2] == [503, 503], _calls(sim, "validate")
    retries = re.findall(r"ThoughtSpot: POST https://127\.0\.0\.1:\d+/\S*/api/rest/2\.0/auth/token/validate: "
                         r"HTTP 503 Service Unavailable, attempt (\d) of 4; retrying in [\d.]+ s", run.stdout)
    assert retries == ["1", "2"], run.stdout[-4000:]
    assert revoked["attempts"] == 4 and revoked["waited"] > 0  # three checks of the token, then the revoke
    assert_absent([token], run)


def test_absent_with_the_same_options_revokes_the_cached_token(sim, ts_task):
    demo = sim.demo_vars()
    options = _trusted(demo)
    first = ts_task("token", options)[1]
    revoked = ts_task("token", dict(options, state="absent"))[1]
    assert revoked["changed"] is True and revoked["token_fingerprint"] == fingerprint(first["access_token"])
    assert _validate(sim, first["access_token"]) != 200
    # The cache no longer serves the revoked token.
    fresh = ts_task("token", options)[1]
    assert fresh["source"] == "network" and fresh["access_token"] != first["access_token"]
    nothing = ts_task("token", dict(options, state="absent", username="someone-else"))[1]
    assert nothing["changed"] is False and "nothing to revoke" in nothing["msg"]


def test_revoke_all_tokens_of_a_user(sim, ts_task):
    demo = sim.demo_vars()
    name = f"many-{uuid.uuid4().hex[:8]}"
    sim.thoughtspot_add_user(name)
    tokens = [ts_task("token", _trusted(demo, username=name, validity_time_in_sec=3600 + n))[1]["access_token"]
              for n in range(2)]
    admin = ts_task("token", {"username": demo["thoughtspot_admin_username"],
                              "password": demo["thoughtspot_admin_password"]})[1]["access_token"]
    result = ts_task("token", {"state": "absent", "username": name, "revoke_all": True, "admin_token": admin})[1]
    assert result["changed"] is True and result["revoked"] is True
    assert all(_validate(sim, token) != 200 for token in tokens)
    assert _validate(sim, admin) == 200


def test_trusted_auth_enable_idempotent_disable(sim, ts_task):
    demo = sim.demo_vars()
    org_id = 100 + int(uuid.uuid4().int % 100000)
    org_name = f"Org {org_id}"
    sim.thoughtspot_add_org(org_id, org_name)
    name = f"member-{org_id}"
    sim.thoughtspot_add_user(name, orgs=[org_id])

    run, checked = ts_task("trusted_auth", {"org": org_name}, check=True, diff=True)
    assert checked["changed"] is True and "secret_key" not in checked
    assert not _calls(sim, "configure"), "check mode sends no change"
    assert "DISABLED" in run.stdout and "ENABLED" in run.stdout, "the diff is shown"

    run, enabled = ts_task("trusted_auth", {"org": org_name}, verbosity=4)
    assert enabled["changed"] is True and enabled["auth_status"] == "ENABLED"
    assert enabled["org"] == {"id": org_id, "name": org_name} and enabled["scope"] == "org"
    key = enabled["secret_key"]
    assert enabled["key_fingerprint"] == fingerprint(key)
    assert_absent([key, demo["thoughtspot_admin_password"]], run)

    again = ts_task("trusted_auth", {"org": str(org_id)})[1]
    assert again["changed"] is False and again["secret_key"] == key
    # One configure call in all: the second run only read.
    assert [call["changes"] for call in _calls(sim, "configure")] == [[f"org:{org_id}:enabled"]]

    token = ts_task("token", {"username": name, "secret_key": key, "org": str(org_id)})[1]
    assert not token.get("failed"), token.get("msg")

    disabled = ts_task("trusted_auth", {"org": org_name, "state": "absent"})[1]
    assert disabled["changed"] is True and disabled["auth_status"] == "DISABLED" and "secret_key" not in disabled
    refused = ts_task("token", {"username": name, "secret_key": key, "org": str(org_id), "min_ttl": 0,
                                "validity_time_in_sec": 3601})[1]
    assert refused["failed"] is True and "10097" in refused["msg"]
    assert ts_task("trusted_auth", {"org": org_name, "state": "absent"})[1]["changed"] is False


def test_trusted_auth_needs_an_administrator(sim, ts_task):
    demo = sim.demo_vars()
    user_token = ts_task("token", _trusted(demo))[1]["access_token"]
    run, result = ts_task("trusted_auth", {"admin_token": user_token})
    assert result["failed"] is True and "HTTP 403" in result["msg"] and "10023" in result["msg"]
    assert_absent([user_token], run)
    result = ts_task("trusted_auth", {"username": demo["thoughtspot_admin_username"], "password": "wrong-password-x"})[1]
    assert result["failed"] is True and "10097" in result["msg"]


def test_bad_credentials_locked_accounts_and_mfa(sim, ts_task):
    demo = sim.demo_vars()
    wrong = "not-the-password-" + uuid.uuid4().hex
    run, result = ts_task("token", {"username": demo["thoughtspot_admin_username"], "password": wrong}, verbosity=4)
    assert result["failed"] is True and "HTTP 401" in result["msg"] and "10097" in result["msg"]
    assert_absent([wrong], run)

    name = f"locked-{uuid.uuid4().hex[:8]}"
    password = "Locked-" + uuid.uuid4().hex
    sim.thoughtspot_add_user(name, password=password, locked=True)
    result = ts_task("token", {"username": name, "password": password})[1]
    assert result["failed"] is True and "HTTP 403" in result["msg"] and "locked" in result["msg"]

    sim.thoughtspot_config(mfa=True)
    try:
        result = ts_task("token", {"username": demo["thoughtspot_admin_username"],
                                   "password": demo["thoughtspot_admin_password"], "validity_time_in_sec": 3602})[1]
        assert result["failed"] is True and "secret_key" in result["msg"]
        assert not ts_task("token", _trusted(demo, validity_time_in_sec=3602))[1].get("failed")
    finally:
        sim.thoughtspot_config(mfa=False)

    result = ts_task("token", {"username": "x", "secret_key": "k" * 20, "password": "p" * 20})[1]
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


def test_server_errors_are_retried_and_malformed_answers_are_clean(sim, ts_task):
    demo = sim.demo_vars()
    sim.add_faults(VENDOR, [{"kind": "status", "status": 503, "count": 1}])
    result = ts_task("token", _trusted(demo, validity_time_in_sec=3603))[1]
    assert not result.get("failed"), result.get("msg")
    sim.add_faults(VENDOR, [{"kind": "not_json"}])
    result = ts_task("token", _trusted(demo, validity_time_in_sec=3604))[1]
    assert result["failed"] is True and "ThoughtSpot" in result["msg"]


def test_lookup_outputs(sim, run_playbook, out):
    run = run_playbook("thoughtspot_lookup.yml")
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    data = json.loads((out / "lookup.json").read_text())
    assert data["authorization"] == f"Bearer {data['token']}"
    assert data["headers"]["Authorization"] == data["authorization"]
    assert data["record"]["username"] == sim.demo_vars()["thoughtspot_username"]
    assert data["user"]["name"] == sim.demo_vars()["thoughtspot_username"]
    assert sim.token_requests(VENDOR) == 1, "module and lookup share the cache"


def test_revoke_at_end(sim, run_playbook, out):
    hosts = "".join(f"h{n} ansible_connection=local ansible_python_interpreter={sys.executable}\n" for n in range(3))
    run = run_playbook("thoughtspot_revoke_at_end.yml", inventory=hosts, verbosity=4,
                       env={"ANSIBLE_CALLBACKS_ENABLED": "apiauth.saas.revoke_at_end"})
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    tokens = {json.loads((out / f"{host}.json").read_text())["access_token"] for host in ("h0", "h1", "h2")}
    assert len(tokens) == 1, "one token for the whole run"
    assert sim.token_requests(VENDOR) == 1
    assert "revoked 1 ThoughtSpot token(s)" in run.stdout
    token = tokens.pop()
    assert _validate(sim, token) != 200
    assert_absent([token, sim.demo_vars()["thoughtspot_secret_key"]], run)
    # Without the callback, the task says how to enable it.
    run = run_playbook("thoughtspot_revoke_at_end.yml")
    assert run.rc != 0 and "callbacks_enabled" in run.output
    assert_no_traceback(run)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughtspot_token_info,
    pytest.mark.thoughtspot_trusted_auth,
    pytest.mark.revoke_at_end,
]
