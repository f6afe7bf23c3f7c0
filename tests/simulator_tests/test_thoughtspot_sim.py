"""ThoughtSpot REST API v2.0 authentication simulator, over real HTTPS."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulators.fixtures import Simulator

ACCESS_OBJECT = "REPORT_BOOK_VIEW"


# --------------------------------------------------------------------------- helpers


def new_name(prefix: str = "ts") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_org_id() -> int:
    return 1000 + uuid.uuid4().int % 10**8


def fp(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def url(sim: Simulator, path: str) -> str:
    return f"{sim.thoughtspot_url()}/api/rest/2.0/{path}"


def call(sim: Simulator, sensitive: Any, method: str, path: str, body: Any = None, *, token: str | None = None,
         session: requests.Session | None = None, **kwargs: Any) -> requests.Response:
    """One request; records tokens, keys and session cookies of the answer as sensitive."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        kwargs["json"] = body
    response = (session or requests).request(method, url(sim, path), headers=headers, verify=sim.ca_path,
                                             timeout=10, **kwargs)
    cookie = response.cookies.get("JSESSIONID")
    sensitive.add(cookie)
    try:
        payload = response.json()
    except ValueError:
        return response
    if isinstance(payload, dict):
        sensitive.add(payload.get("token"))
        prefs = [payload.get("cluster_preferences") or {}] + list(payload.get("org_preferences") or [])
        for pref in prefs:
            sensitive.add(*(t.get("key") for t in pref.get("access_tokens", [])))
    return response


def ts_error(response: requests.Response, status: int, code: int) -> str:
    """Assert the vendor's error envelope; returns its debug text."""
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert message["code"] == code, message
    assert uuid.UUID(message["incident_id_guid"]) and uuid.UUID(message["trace_id_guid"])
    assert isinstance(message["debug"], str) and message["debug"]
    return message["debug"]


def last(sim: Simulator, operation: str) -> dict[str, Any]:
    return [e for e in sim.audit("thoughtspot") if e.get("operation") == operation][-1]


def add_user(sim: Simulator, sensitive: Any, prefix: str = "user", *, password: bool = True,
             **fields: Any) -> tuple[str, str | None]:
    """A fresh user (unique name); returns (name, password or None)."""
    name = new_name(prefix)
    secret = f"Pw-{uuid.uuid4().hex}:+/ !" if password else None
    sensitive.add(secret)
    if secret is not None:
        fields["password"] = secret
    sim.thoughtspot_add_user(name, **fields)
    return name, secret


def token_for(sim: Simulator, sensitive: Any, kind: str = "full", **body: Any) -> requests.Response:
    return call(sim, sensitive, "POST", f"auth/token/{kind}", body)


@pytest.fixture(name="key")
def fixture_key(sim: Simulator, sensitive: Any) -> str:
    """The cluster trusted-auth key (ENABLED since the demo seed)."""
    key = sim.thoughtspot_set_trusted_auth("cluster", "ENABLED")
    assert key
    sensitive.add(key)
    return key


@pytest.fixture(name="admin_token")
def fixture_admin_token(sim: Simulator, sensitive: Any, key: str) -> str:
    name, _pw = add_user(sim, sensitive, "admin", admin=True)
    response = token_for(sim, sensitive, username=name, secret_key=key)
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture(name="mfa")
def fixture_mfa(sim: Simulator) -> Iterator[None]:
    sim.thoughtspot_config(mfa=True)
    try:
        yield
    finally:
        sim.thoughtspot_config(mfa=False)


# --------------------------------------------------------------------------- demo


def test_demo_vars_and_seed(sim: Simulator, sensitive: Any) -> None:
    demo = sim.demo_vars()
    sensitive.add(demo["thoughtspot_admin_password"], demo["thoughtspot_secret_key"])
    assert demo["thoughtspot_host"] == sim.thoughtspot_url() == sim.base_url + "/thoughtspot"
    assert demo["thoughtspot_admin_username"] == "tsadmin" and demo["thoughtspot_username"] == "demo-analyst"
    assert demo["thoughtspot_org_id"] == "1"
    assert uuid.UUID(demo["thoughtspot_object_id"])
    assert sim.token_url("thoughtspot") == url(sim, "auth/token/full")
    users = {u["name"]: u for u in sim.thoughtspot_users()}
    assert users["tsadmin"]["admin"] is True and users["demo-analyst"]["admin"] is False
    assert all("password" not in u for u in users.values())
    trust = sim.thoughtspot_trusted_auth()
    assert trust["cluster"] == {"auth_status": "ENABLED", "key_fp": fp(demo["thoughtspot_secret_key"])}
    assert trust["orgs"]["1"]["auth_status"] == "DISABLED"

    r = token_for(sim, sensitive, "object", username=demo["thoughtspot_username"],
                  secret_key=demo["thoughtspot_secret_key"], org_id=int(demo["thoughtspot_org_id"]),
                  object_id=demo["thoughtspot_object_id"])
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == {"access_type": ACCESS_OBJECT, "org_id": 1,
                                 "metadata_id": demo["thoughtspot_object_id"]}
    r = token_for(sim, sensitive, username="tsadmin", password=demo["thoughtspot_admin_password"])
    assert r.status_code == 200 and r.json()["valid_for_username"] == "tsadmin"


# --------------------------------------------------------------------------- token endpoints


def test_full_token_with_secret_key_and_password(sim: Simulator, sensitive: Any, key: str) -> None:
    name, password = add_user(sim, sensitive, email="a@example.com")
    before = sim.token_requests("thoughtspot")
    r = token_for(sim, sensitive, username=name, secret_key=key, validity_time_in_sec=600)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"token", "creation_time_in_millis", "expiration_time_in_millis", "scope",
                         "valid_for_user_id", "valid_for_username"}
    assert body["expiration_time_in_millis"] - body["creation_time_in_millis"] == 600_000
    assert body["scope"] == {"access_type": "FULL", "org_id": 0, "metadata_id": None}
    assert body["valid_for_username"] == name and uuid.UUID(body["valid_for_user_id"])
    assert len(body["token"]) >= 80
    entry = last(sim, "token_full")
    assert entry["endpoint"] == "token" and entry["status"] == 200
    assert entry["client_id"] == name and entry["auth_method"] == "secret_key" and entry["secret_fp"] == fp(key)
    assert entry["token_fp"] == fp(body["token"]) and entry["org_id"] == 0
    assert entry["user_created"] is False and entry["user_updated"] == []

    r = token_for(sim, sensitive, username=name.upper(), password=password)  # names match in any case
    assert r.status_code == 200, r.text
    assert r.json()["expiration_time_in_millis"] - r.json()["creation_time_in_millis"] == 300_000
    entry = last(sim, "token_full")
    assert entry["auth_method"] == "password" and entry["secret_fp"] == fp(password)
    assert sim.token_requests("thoughtspot") == before + 2

    # secret_key wins over password when both are sent.
    r = token_for(sim, sensitive, username=name, password="wrong-password", secret_key=key)
    assert r.status_code == 200 and last(sim, "token_full")["auth_method"] == "secret_key"

    ts_error(token_for(sim, sensitive, username=name, password=password + "x"), 401, 10097)
    ts_error(token_for(sim, sensitive, username=name, secret_key=str(uuid.uuid4())), 401, 10097)
    entry = last(sim, "token_full")
    assert entry["error"] == "10097" and entry["error_description"] and entry["token_fp"] is None
    ts_error(token_for(sim, sensitive, username=name), 400, 10002)
    ts_error(token_for(sim, sensitive, username=name, secret_key=key, validity_time_in_sec=0), 400, 10002)
    ts_error(token_for(sim, sensitive, secret_key=key), 400, 10002)


def test_object_token_with_secret_key_and_password(sim: Simulator, sensitive: Any, key: str) -> None:
    name, password = add_user(sim, sensitive)
    object_id = str(uuid.uuid4())
    for credentials in ({"secret_key": key}, {"password": password}):
        r = token_for(sim, sensitive, "object", username=name, object_id=object_id, **credentials)
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == {"access_type": ACCESS_OBJECT, "org_id": 0, "metadata_id": object_id}
        assert last(sim, "token_object")["endpoint"] == "token"
    token = r.json()["token"]
    r = call(sim, sensitive, "GET", "metadata/search", token=token)
    assert r.status_code == 200
    assert r.json()["access_type"] == ACCESS_OBJECT and r.json()["items"][0]["metadata_id"] == object_id
    debug = ts_error(token_for(sim, sensitive, "object", username=name, secret_key=key), 400, 10002)
    assert "object_id" in debug
    ts_error(token_for(sim, sensitive, "object", username=name, secret_key=key, object_id=7), 400, 10002)


def test_custom_token_with_secret_key_and_password(sim: Simulator, sensitive: Any, key: str) -> None:
    org_id = new_org_id()
    org_name = new_name("Org")
    sim.thoughtspot_add_org(org_id, org_name)
    name, password = add_user(sim, sensitive, orgs=[0, org_id])
    r = token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE",
                  org_identifier=str(org_id))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "token", "org", "user", "creation_time_in_millis", "expiration_time_in_millis"}
    assert uuid.UUID(body["id"]) and body["org"] == {"id": org_id, "name": org_name}
    assert body["user"]["name"] == name and r.headers["Cache-Control"] == "no-store"
    entry = last(sim, "token_custom")
    assert entry["endpoint"] == "token" and entry["persisted"] is False and entry["org_id"] == org_id

    r = token_for(sim, sensitive, "custom", username=name, password=password, persist_option="NONE",
                  org_identifier=org_name.lower())  # an org name, any case
    assert r.status_code == 200, r.text
    assert r.json()["org"]["id"] == org_id and last(sim, "token_custom")["auth_method"] == "password"

    validate = call(sim, sensitive, "POST", "auth/token/validate", {"token": r.json()["token"]},
                    token=r.json()["token"])
    assert validate.status_code == 200 and validate.json()["scope"]["org_id"] == org_id

    debug = ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE",
                               org_identifier=org_id), 400, 10002)
    assert "org_identifier" in debug
    ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE",
                       org_identifier="no-such-org-" + name), 400, 10002)
    ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key), 400, 10002)
    ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="MERGE"), 400, 10002)
    debug = ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE",
                               groups=["Analyst"]), 400, 10002)
    assert "groups" in debug
    for bad in ({"filter_rules": {"column_name": "x"}}, {"filter_rules": ["x"]},
                {"parameter_values": [{"name": "p"}]}, {"variable_values": "v"}, {"objects": [{"type": "X"}]}):
        ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE", **bad),
                 400, 10002)


def test_custom_token_persist_options(sim: Simulator, sensitive: Any, key: str) -> None:
    name = new_name("abac")
    rule = {"column_name": "Region", "operator": "EQ", "values": ["West"]}
    other = {"column_name": "Year", "operator": "GE", "values": [2024]}
    param = {"name": "Currency", "values": ["EUR"]}

    def persisted() -> dict[str, Any]:
        return [u for u in sim.thoughtspot_users() if u["name"] == name][0]

    # auto_create defaults to true on token/custom.
    r = token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="REPLACE",
                  filter_rules=[rule], parameter_values=[param], groups=[{"identifier": "Analyst"}],
                  objects=[{"type": "LOGICAL_TABLE", "identifier": str(uuid.uuid4())}])
    assert r.status_code == 200, r.text
    entry = last(sim, "token_custom")
    assert entry["user_created"] is True and entry["persisted"] is True
    user = persisted()
    assert user["filter_rules"] == [rule] and user["parameter_values"] == [param] and user["groups"] == ["Analyst"]
    assert user["origin"] == "auto_create"

    assert token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="APPEND",
                     filter_rules=[other]).status_code == 200
    assert persisted()["filter_rules"] == [rule, other] and last(sim, "token_custom")["user_created"] is False
    assert token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE",
                     filter_rules=[rule]).status_code == 200
    assert persisted()["filter_rules"] == [rule, other] and last(sim, "token_custom")["persisted"] is False
    assert token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="REPLACE",
                     filter_rules=[other]).status_code == 200
    assert persisted()["filter_rules"] == [other] and persisted()["parameter_values"] == []
    assert token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="RESET").status_code == 200
    assert persisted()["filter_rules"] == [] and last(sim, "token_custom")["persisted"] is True

    # auto_create false: an unknown user is refused.
    ts_error(token_for(sim, sensitive, "custom", username=new_name("nobody"), secret_key=key, persist_option="NONE",
                       auto_create=False), 401, 10097)


def test_org_id_types_membership_and_org_keys(sim: Simulator, sensitive: Any, key: str) -> None:
    org_id = new_org_id()
    sim.thoughtspot_add_org(org_id, new_name("Org"))
    name, password = add_user(sim, sensitive, orgs=[0, org_id])
    outsider, _pw = add_user(sim, sensitive, "outsider")
    for bad in (str(org_id), True, 1.5):
        debug = ts_error(token_for(sim, sensitive, username=name, secret_key=key, org_id=bad), 400, 10002)
        assert "org_id" in debug
    ts_error(token_for(sim, sensitive, username=name, secret_key=key, org_id=org_id + 1), 400, 10002)
    ts_error(token_for(sim, sensitive, username=outsider, secret_key=key, org_id=org_id), 403, 10023)
    r = token_for(sim, sensitive, username=name, password=password, org_id=org_id)
    assert r.status_code == 200 and r.json()["scope"]["org_id"] == org_id

    # An org key works for that org only (and only while ENABLED there).
    org_key = sim.thoughtspot_set_trusted_auth(org_id, "ENABLED")
    assert org_key and org_key != key
    sensitive.add(org_key)
    assert token_for(sim, sensitive, username=name, secret_key=org_key, org_id=org_id).status_code == 200
    ts_error(token_for(sim, sensitive, username=name, secret_key=org_key, org_id=0), 401, 10097)
    ts_error(token_for(sim, sensitive, username=name, secret_key=org_key), 401, 10097)
    assert sim.thoughtspot_set_trusted_auth(org_id, "DISABLED") is None
    ts_error(token_for(sim, sensitive, username=name, secret_key=org_key, org_id=org_id), 401, 10097)


def test_auto_create_and_updates(sim: Simulator, sensitive: Any, key: str) -> None:
    org_id = new_org_id()
    sim.thoughtspot_add_org(org_id, new_name("Org"))
    name = new_name("jit")
    ts_error(token_for(sim, sensitive, username=name, secret_key=key), 401, 10097)
    ts_error(token_for(sim, sensitive, username=name, password="pw-" + name, auto_create=True), 401, 10097)
    sensitive.add("pw-" + name)
    assert not [u for u in sim.thoughtspot_users() if u["name"] == name]

    r = token_for(sim, sensitive, username=name, secret_key=key, auto_create=True, org_id=org_id,
                  email="first@example.com", display_name="First", group_identifiers=["DataAdmin", "Analyst"])
    assert r.status_code == 200, r.text
    entry = last(sim, "token_full")
    assert entry["user_created"] is True and entry["user_updated"] == [] and entry["org_id"] == org_id
    user = [u for u in sim.thoughtspot_users() if u["name"] == name][0]
    assert user["email"] == "first@example.com" and user["display_name"] == "First"
    assert user["groups"] == ["DataAdmin", "Analyst"] and user["orgs"] == [org_id]
    assert user["id"] == r.json()["valid_for_user_id"]

    # token/full with auto_create updates what changed, and nothing when nothing changed.
    r = token_for(sim, sensitive, username=name, secret_key=key, auto_create=True, org_id=org_id,
                  email="second@example.com", display_name="First")
    assert r.status_code == 200
    assert last(sim, "token_full")["user_updated"] == ["email"]
    r = token_for(sim, sensitive, username=name, secret_key=key, auto_create=True, org_id=org_id,
                  email="second@example.com")
    assert r.status_code == 200 and last(sim, "token_full")["user_updated"] == []
    # Without auto_create nothing is updated.
    assert token_for(sim, sensitive, username=name, secret_key=key, org_id=org_id,
                     email="ignored@example.com").status_code == 200
    assert last(sim, "token_full")["user_updated"] == []
    # token/object never updates an existing user.
    r = token_for(sim, sensitive, "object", username=name, secret_key=key, auto_create=True, org_id=org_id,
                  object_id=str(uuid.uuid4()), email="third@example.com", group_identifiers=["Other"])
    assert r.status_code == 200
    entry = last(sim, "token_object")
    assert entry["user_created"] is False and entry["user_updated"] == []
    user = [u for u in sim.thoughtspot_users() if u["name"] == name][0]
    assert user["email"] == "second@example.com" and user["groups"] == ["DataAdmin", "Analyst"]
    # token/full with auto_create adds the org; token/object does not.
    ts_error(token_for(sim, sensitive, "object", username=name, secret_key=key, auto_create=True, org_id=0,
                       object_id=str(uuid.uuid4())), 403, 10023)
    assert token_for(sim, sensitive, username=name, secret_key=key, auto_create=True, org_id=0).status_code == 200
    assert last(sim, "token_full")["user_updated"] == ["orgs"]
    ts_error(token_for(sim, sensitive, username=name, secret_key=key, group_identifiers="Analyst"), 400, 10002)
    ts_error(token_for(sim, sensitive, username=name, secret_key=key, auto_create="yes"), 400, 10002)


@pytest.mark.usefixtures("mfa")
def test_mfa_refuses_password(sim: Simulator, sensitive: Any, key: str) -> None:
    name, password = add_user(sim, sensitive)
    for kind, extra in (("full", {}), ("object", {"object_id": str(uuid.uuid4())}),
                        ("custom", {"persist_option": "NONE"})):
        debug = ts_error(token_for(sim, sensitive, kind, username=name, password=password, **extra), 401, 10097)
        assert "MFA" in debug
        assert token_for(sim, sensitive, kind, username=name, secret_key=key, **extra).status_code == 200
    # secret_key wins: the password is ignored, so MFA does not apply.
    assert token_for(sim, sensitive, username=name, password=password, secret_key=key).status_code == 200
    debug = ts_error(call(sim, sensitive, "POST", "auth/session/login", {"username": name, "password": password}),
                     401, 10097)
    assert "MFA" in debug


def test_locked_user(sim: Simulator, sensitive: Any, key: str) -> None:
    name, password = add_user(sim, sensitive)
    token = token_for(sim, sensitive, username=name, secret_key=key).json()["token"]
    sim.thoughtspot_add_user(name, password=password, locked=True)
    assert [u for u in sim.thoughtspot_users() if u["name"] == name][0]["account_status"] == "LOCKED"
    ts_error(token_for(sim, sensitive, username=name, secret_key=key), 403, 10023)
    ts_error(token_for(sim, sensitive, username=name, password=password), 403, 10023)
    ts_error(token_for(sim, sensitive, "custom", username=name, secret_key=key, persist_option="NONE"), 403, 10023)
    ts_error(call(sim, sensitive, "POST", "auth/session/login", {"username": name, "password": password}), 403, 10023)
    ts_error(call(sim, sensitive, "GET", "metadata/search", token=token), 403, 10023)
    # A wrong password does not reveal the lock.
    ts_error(token_for(sim, sensitive, username=name, password=password + "x"), 401, 10097)


# --------------------------------------------------------------------------- validate / revoke


def test_validate(sim: Simulator, sensitive: Any, key: str) -> None:
    name, _pw = add_user(sim, sensitive)
    caller = token_for(sim, sensitive, username=name, secret_key=key).json()["token"]
    checked = token_for(sim, sensitive, "object", username=name, secret_key=key,
                        object_id="obj-1").json()["token"]
    r = call(sim, sensitive, "POST", "auth/token/validate", {"token": checked}, token=caller)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "BEARER" and body["scope"]["access_type"] == ACCESS_OBJECT
    assert set(body) == {"creation_time_in_millis", "expiration_time_in_millis", "scope", "valid_for_user_id",
                         "token_type"}
    entry = last(sim, "validate")
    assert entry["client_id"] == name and entry["token_fp"] == fp(caller)
    assert entry["target_token_fp"] == fp(checked)

    ts_error(call(sim, sensitive, "POST", "auth/token/validate", {"token": checked}), 401, 10097)
    ts_error(call(sim, sensitive, "POST", "auth/token/validate", {"token": checked}, token="not-a-token"), 401, 10097)
    ts_error(call(sim, sensitive, "POST", "auth/token/validate", {"token": "malformed!"}, token=caller), 400, 10002)
    ts_error(call(sim, sensitive, "POST", "auth/token/validate", {}, token=caller), 400, 10002)
    assert call(sim, sensitive, "POST", "auth/token/revoke", {"token": checked}, token=caller).status_code == 204
    assert "revoked" in ts_error(call(sim, sensitive, "POST", "auth/token/validate", {"token": checked},
                                      token=caller), 400, 10002)

    other, _pw = add_user(sim, sensitive)
    doomed = token_for(sim, sensitive, username=other, secret_key=key).json()["token"]
    assert sim.thoughtspot_expire_tokens(other) == 1
    assert "expired" in ts_error(call(sim, sensitive, "POST", "auth/token/validate", {"token": doomed},
                                      token=caller), 400, 10002)
    expired = [t for t in sim.thoughtspot_tokens() if t["token_fp"] == fp(doomed)][0]
    assert expired["live"] is False and expired["revoked"] is False


def test_revoke(sim: Simulator, sensitive: Any, key: str, admin_token: str) -> None:
    alice, _pw = add_user(sim, sensitive, "alice")
    bob, _pw = add_user(sim, sensitive, "bob")
    a1, a2, a3 = (token_for(sim, sensitive, username=alice, secret_key=key).json()["token"] for _attempt in range(3))
    b1 = token_for(sim, sensitive, username=bob, secret_key=key).json()["token"]
    assert call(sim, sensitive, "GET", "metadata/search", token=a1).status_code == 200

    ts_error(call(sim, sensitive, "POST", "auth/token/revoke", {}, token=a2), 400, 10002)
    ts_error(call(sim, sensitive, "POST", "auth/token/revoke", {"token": b1}, token=a2), 403, 10023)
    ts_error(call(sim, sensitive, "POST", "auth/token/revoke", {"user_identifier": bob}, token=a2), 403, 10023)
    ts_error(call(sim, sensitive, "POST", "auth/token/revoke", {"user_identifier": new_name("ghost")}, token=a2),
             400, 10002)
    ts_error(call(sim, sensitive, "POST", "auth/token/revoke", {"user_identifier": alice, "token": b1},
                  token=admin_token), 400, 10002)

    # Own token by value.
    assert call(sim, sensitive, "POST", "auth/token/revoke", {"token": a1}, token=a2).status_code == 204
    entry = last(sim, "revoke")
    assert entry["revoked"] == 1 and entry["client_id"] == alice and entry["target_token_fp"] == fp(a1)
    ts_error(call(sim, sensitive, "GET", "metadata/search", token=a1), 401, 10097)
    ts_error(call(sim, sensitive, "POST", "auth/token/revoke", {"token": a1}, token=a2), 400, 10002)

    # Another user's token, by an administrator.
    assert call(sim, sensitive, "POST", "auth/token/revoke", {"user_identifier": bob, "token": b1},
                token=admin_token).status_code == 204
    ts_error(call(sim, sensitive, "GET", "metadata/search", token=b1), 401, 10097)

    # Every live token of a user, by name or id.
    alice_id = [u for u in sim.thoughtspot_users() if u["name"] == alice][0]["id"]
    assert call(sim, sensitive, "POST", "auth/token/revoke", {"user_identifier": alice_id},
                token=admin_token).status_code == 204
    assert last(sim, "revoke")["revoked"] == 2
    for token in (a2, a3):
        ts_error(call(sim, sensitive, "GET", "metadata/search", token=token), 401, 10097)
    assert call(sim, sensitive, "GET", "metadata/search", token=admin_token).status_code == 200


# --------------------------------------------------------------------------- trusted-auth configuration


def test_search_and_configure(sim: Simulator, sensitive: Any, key: str, admin_token: str) -> None:
    org_id = new_org_id()
    org_name = new_name("Org")
    sim.thoughtspot_add_org(org_id, org_name)
    plain, _pw = add_user(sim, sensitive)
    plain_token = token_for(sim, sensitive, username=plain, secret_key=key).json()["token"]
    ts_error(call(sim, sensitive, "POST", "auth/search", {"auth_type": "TRUSTED_AUTH"}, token=plain_token), 403, 10023)
    ts_error(call(sim, sensitive, "POST", "auth/configure",
                  {"auth_type": "TRUSTED_AUTH", "cluster_preferences": {"auth_status": "DISABLED"}},
                  token=plain_token), 403, 10023)
    ts_error(call(sim, sensitive, "POST", "auth/search", {"auth_type": "TRUSTED_AUTH"}), 401, 10097)

    def search(scope: str | None = None) -> dict[str, Any]:
        body = {"auth_type": "TRUSTED_AUTH"} if scope is None else {"auth_type": "TRUSTED_AUTH", "scope": scope}
        r = call(sim, sensitive, "POST", "auth/search", body, token=admin_token)
        assert r.status_code == 200, r.text
        return r.json()

    def org_pref(answer: dict[str, Any]) -> dict[str, Any]:
        return [p for p in answer["org_preferences"] if p["org"]["id"] == org_id][0]

    both = search()
    assert both["auth_type"] == "TRUSTED_AUTH"
    assert both["cluster_preferences"] == {"auth_status": "ENABLED", "access_tokens": [{"key": key}]}
    assert org_pref(both) == {"org": {"id": org_id, "name": org_name}, "auth_status": "DISABLED",
                              "access_tokens": []}
    assert set(search("CLUSTER")) == {"auth_type", "cluster_preferences"}
    assert set(search("ORG")) == {"auth_type", "org_preferences"}
    ts_error(call(sim, sensitive, "POST", "auth/search", {"auth_type": "BASIC"}, token=admin_token), 400, 10002)
    ts_error(call(sim, sensitive, "POST", "auth/search", {"auth_type": "TRUSTED_AUTH", "scope": "USER"},
                  token=admin_token), 400, 10002)

    def configure(body: dict[str, Any]) -> requests.Response:
        return call(sim, sensitive, "POST", "auth/configure", dict(body, auth_type="TRUSTED_AUTH"),
                    token=admin_token)

    enable = {"org_preferences": [{"org_identifier": str(org_id), "auth_status": "ENABLED"}],
              "cluster_preferences": {"auth_status": "ENABLED"}}
    assert configure(enable).status_code == 204
    assert last(sim, "configure")["changes"] == [f"org:{org_id}:enabled"]
    first_key = org_pref(search("ORG"))["access_tokens"][0]["key"]
    assert uuid.UUID(first_key) and first_key != key
    assert configure(enable).status_code == 204
    assert last(sim, "configure")["changes"] == []
    assert org_pref(search("ORG"))["access_tokens"] == [{"key": first_key}]
    assert search("CLUSTER")["cluster_preferences"]["access_tokens"] == [{"key": key}]
    assert sim.thoughtspot_trusted_auth()["orgs"][str(org_id)] == {"auth_status": "ENABLED", "key_fp": fp(first_key)}

    disable = {"org_preferences": [{"org_identifier": org_name, "auth_status": "DISABLED"}]}
    assert configure(disable).status_code == 204
    assert last(sim, "configure")["changes"] == [f"org:{org_id}:disabled"]
    assert org_pref(search())["access_tokens"] == [] and org_pref(search())["auth_status"] == "DISABLED"
    assert configure(disable).status_code == 204 and last(sim, "configure")["changes"] == []
    assert configure(enable).status_code == 204
    assert org_pref(search())["access_tokens"][0]["key"] != first_key  # a new key after DISABLED

    ts_error(configure({"org_preferences": [{"org_identifier": new_name("nowhere"), "auth_status": "ENABLED"}]}),
             400, 10002)
    ts_error(configure({"org_preferences": [{"org_identifier": org_id, "auth_status": "ENABLED"}]}), 400, 10002)
    ts_error(configure({"cluster_preferences": {"auth_status": "ON"}}), 400, 10002)
    # A refused request changes nothing, even partly.
    ts_error(configure({"cluster_preferences": {"auth_status": "DISABLED"},
                        "org_preferences": [{"org_identifier": org_name, "auth_status": "MAYBE"}]}), 400, 10002)
    assert search("CLUSTER")["cluster_preferences"]["auth_status"] == "ENABLED"
    entries = [e for e in sim.audit("thoughtspot") if e.get("operation") in ("search", "configure")]
    assert entries and all(key not in str(e) and first_key not in str(e) for e in entries)


# --------------------------------------------------------------------------- sessions


def test_session_login_user_token_logout(sim: Simulator, sensitive: Any) -> None:
    org_id = new_org_id()
    sim.thoughtspot_add_org(org_id, new_name("Org"))
    name, password = add_user(sim, sensitive, orgs=[0, org_id], email="s@example.com", groups=["Analyst"])
    ts_error(call(sim, sensitive, "POST", "auth/session/login", {"username": name, "password": "nope"}), 401, 10097)
    ts_error(call(sim, sensitive, "POST", "auth/session/login", {}), 400, 10002)
    ts_error(call(sim, sensitive, "POST", "auth/session/login", {"username": name, "password": password,
                                                                 "org_identifier": 1}), 400, 10002)
    ts_error(call(sim, sensitive, "GET", "auth/session/user"), 401, 10097)

    with requests.Session() as session:
        r = call(sim, sensitive, "POST", "auth/session/login",
                 {"username": name, "password": password, "org_identifier": str(org_id), "remember_me": True},
                 session=session)
        assert r.status_code == 204, r.text
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("JSESSIONID=") and "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        entry = last(sim, "login")
        assert entry["client_id"] == name and entry["secret_fp"] == fp(password) and entry["org_id"] == org_id

        r = call(sim, sensitive, "GET", "auth/session/user", session=session)
        assert r.status_code == 200, r.text
        user = r.json()
        assert user["name"] == name and user["current_org"]["id"] == org_id and user["email"] == "s@example.com"
        assert {o["id"] for o in user["orgs"]} == {0, org_id} and user["account_type"] == "LOCAL_USER"
        assert user["account_status"] == "ACTIVE" and "ADMINISTRATION" not in user["privileges"]
        assert [g["name"] for g in user["user_groups"]] == ["Analyst"]
        assert "password" not in user and password not in r.text

        r = call(sim, sensitive, "GET", "auth/session/token", session=session)
        assert r.status_code == 200, r.text
        issued = r.json()
        assert set(issued) == {"token", "creation_time_in_millis", "expiration_time_in_millis", "valid_for_user_id",
                               "valid_for_username"}
        assert issued["valid_for_username"] == name
        again = call(sim, sensitive, "GET", "auth/session/token", session=session).json()
        assert again["token"] == issued["token"]
        search = call(sim, sensitive, "GET", "metadata/search", token=issued["token"])
        assert search.status_code == 200 and search.json()["org_id"] == org_id
        assert call(sim, sensitive, "GET", "metadata/search", session=session).status_code == 200

        assert call(sim, sensitive, "POST", "auth/session/logout", session=session).status_code == 204
        assert last(sim, "logout")["session_ended"] is True
        session.cookies.set("JSESSIONID", cookie.split(";")[0].split("=", 1)[1])  # replay the ended session
        ts_error(call(sim, sensitive, "GET", "auth/session/user", session=session), 401, 10097)


def test_session_login_with_bearer_ends_on_revoke(sim: Simulator, sensitive: Any, key: str) -> None:
    name, _pw = add_user(sim, sensitive, password=False)
    token = token_for(sim, sensitive, username=name, secret_key=key).json()["token"]
    with requests.Session() as session:
        r = call(sim, sensitive, "POST", "auth/session/login", token=token, session=session)
        assert r.status_code == 204, r.text
        assert last(sim, "login")["auth_method"] == "bearer"
        r = call(sim, sensitive, "GET", "auth/session/token", session=session)
        assert r.status_code == 200 and r.json()["valid_for_username"] == name
        me = call(sim, sensitive, "GET", "auth/session/user", session=session)
        assert me.status_code == 200 and me.json()["name"] == name
        assert call(sim, sensitive, "POST", "auth/token/revoke", {"token": token}, token=token).status_code == 204
        ts_error(call(sim, sensitive, "GET", "auth/session/user", session=session), 401, 10097)
    ts_error(call(sim, sensitive, "POST", "auth/session/login", token=token), 401, 10097)


# --------------------------------------------------------------------------- sample API, faults, audit


def test_sample_api_and_forgotten_tokens(sim: Simulator, sensitive: Any, key: str) -> None:
    name, _pw = add_user(sim, sensitive)
    token = token_for(sim, sensitive, username=name, secret_key=key).json()["token"]
    r = call(sim, sensitive, "GET", "metadata/search", token=token)
    assert r.status_code == 200 and r.json()["user"] == name and r.json()["items"]
    assert call(sim, sensitive, "POST", "metadata/search", {}, token=token).status_code == 200
    ts_error(call(sim, sensitive, "GET", "metadata/search"), 401, 10097)
    ts_error(call(sim, sensitive, "GET", "metadata/search", headers={"Authorization": f"Basic {token}"}), 401, 10097)
    assert sim.expire_tokens("thoughtspot") >= 1  # DELETE /_sim/tokens forgets ThoughtSpot tokens too
    ts_error(call(sim, sensitive, "GET", "metadata/search", token=token), 401, 10097)


def test_bodies_must_be_json_objects(sim: Simulator, sensitive: Any, key: str) -> None:
    name, _pw = add_user(sim, sensitive)
    target = url(sim, "auth/token/full")
    r = requests.post(target, data={"username": name, "secret_key": key}, verify=sim.ca_path, timeout=10)
    ts_error(r, 400, 10002)
    ts_error(requests.post(target, json=[name], verify=sim.ca_path, timeout=10), 400, 10002)
    r = requests.post(target, data=b"{not json", headers={"Content-Type": "application/json"}, verify=sim.ca_path,
                      timeout=10)
    ts_error(r, 400, 10002)


def test_faults_from_the_thoughtspot_queue(sim: Simulator, sensitive: Any, key: str) -> None:
    name, _pw = add_user(sim, sensitive)
    sim.add_faults("thoughtspot", [{"kind": "status", "status": 503}])
    r = token_for(sim, sensitive, username=name, secret_key=key)
    assert r.status_code == 503
    entry = last(sim, "token_full")
    assert entry["fault"] == "status" and entry["client_id"] == name and entry["secret_fp"] == fp(key)
    r = token_for(sim, sensitive, username=name, secret_key=key)
    assert r.status_code == 200
    token = r.json()["token"]

    # Non-token routes take faults from the same queue.
    sim.add_faults("thoughtspot", [{"kind": "status", "status": 502}, {"kind": "html", "status": 504}])
    assert call(sim, sensitive, "POST", "auth/token/validate", {"token": token}, token=token).status_code == 502
    entry = last(sim, "validate")
    assert entry["fault"] == "status" and entry["client_id"] == name and entry["token_fp"] == fp(token)
    assert call(sim, sensitive, "GET", "metadata/search", token=token).status_code == 504
    assert call(sim, sensitive, "GET", "metadata/search", token=token).status_code == 200
    assert sim.pending_faults() == {}

    # A post-processing fault: the token is issued although the answer is cut.
    sim.add_faults("thoughtspot", [{"kind": "truncated_json"}])
    before = len([t for t in sim.thoughtspot_tokens() if t["username"] == name])
    r = token_for(sim, sensitive, username=name, secret_key=key)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert len([t for t in sim.thoughtspot_tokens() if t["username"] == name]) == before + 1


def test_no_secret_in_audit(sim: Simulator, sensitive: Any, key: str, admin_token: str) -> None:
    name, password = add_user(sim, sensitive)
    seen = [key, password, admin_token]
    for kind, extra in (("full", {}), ("object", {"object_id": "o"}), ("custom", {"persist_option": "NONE"})):
        for credentials in ({"secret_key": key}, {"password": password}):
            r = token_for(sim, sensitive, kind, username=name, **credentials, **extra)
            assert r.status_code == 200, r.text
            seen.append(r.json()["token"])
    with requests.Session() as session:
        assert call(sim, sensitive, "POST", "auth/session/login", {"username": name, "password": password},
                    session=session).status_code == 204
        seen.append(session.cookies["JSESSIONID"])
        seen.append(call(sim, sensitive, "GET", "auth/session/token", session=session).json()["token"])
    answer = call(sim, sensitive, "POST", "auth/search", {"auth_type": "TRUSTED_AUTH"}, token=admin_token).json()
    seen.append(answer["cluster_preferences"]["access_tokens"][0]["key"])
    assert call(sim, sensitive, "POST", "auth/token/validate", {"token": seen[3]}, token=admin_token).status_code == 200
    assert call(sim, sensitive, "POST", "auth/token/revoke", {"token": seen[3]}, token=admin_token).status_code == 204
    with open(sim.audit_log, encoding="utf-8") as handle:
        audit = handle.read()
    assert name in audit
    leaked = [i for i, value in enumerate(seen) if value in audit]
    assert not leaked, f"values {leaked} appear verbatim in the audit"
    for control in (sim.thoughtspot_users(), sim.thoughtspot_tokens(), sim.thoughtspot_trusted_auth()):
        assert not [v for v in seen if v in str(control)]
