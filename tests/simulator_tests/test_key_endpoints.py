"""THRIVE tenant API keys (GraphQL + HTTP Basic) and ThoughtTrace client management, over real HTTPS."""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

import jwt
import pytest
import requests

from simulators.fixtures import Simulator, SimulatorError

MUTATION = ('mutation { generateApiKey(tokenType: "permanent", services: ["api-service"]) '
            '{ validUntil, apiKey } }')
MUTATION_VARS = ("mutation Gen($type: String!, $services: [String!]!) "
                 "{ generateApiKey(tokenType: $type, services: $services) { validUntil apiKey } }")


# --------------------------------------------------------------------------- helpers


def new_tenant() -> str:
    return f"eu-west-2_T{uuid.uuid4().hex[:10]}"


def admin_token(sim: Simulator, sensitive: Any, tenant: str, expires_in: int = 3600) -> str:
    token = sim.thrive_admin_token(tenant, expires_in=expires_in)
    sensitive.add(token)
    return token


def gql(sim: Simulator, sensitive: Any, token: str | None, query: str, variables: dict[str, Any] | None = None,
        environment: str = "staging", correlation_id: str | None = "auto", **extra: Any) -> requests.Response:
    headers: dict[str, str] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if correlation_id == "auto":
        correlation_id = str(uuid.uuid4())
    if correlation_id is not None:
        headers["correlation-id"] = correlation_id
    body: dict[str, Any] = {"query": query, **extra}
    if variables is not None:
        body["variables"] = variables
    response = requests.post(sim.thrive_tenants_url(environment), json=body, headers=headers,
                             verify=sim.ca_path, timeout=10)
    try:
        data = response.json().get("data") or {}
        sensitive.add((data.get("generateApiKey") or {}).get("apiKey"))
    except (ValueError, AttributeError):
        pass
    return response


def me(sim: Simulator, tenant: str, api_key: str, environment: str = "staging") -> requests.Response:
    return requests.get(sim.thrive_me_url(environment), auth=(tenant, api_key), verify=sim.ca_path, timeout=10)


def graphql_error(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None, body
    assert body["errors"] and isinstance(body["errors"][0]["message"], str)
    return body["errors"][0]["message"]


def parse_iso(value: str) -> datetime.datetime:
    assert value.endswith("Z"), value
    return datetime.datetime.fromisoformat(value[:-1] + "+00:00")


# --------------------------------------------------------------------------- THRIVE GraphQL


def test_generate_inline_and_use_with_basic(sim: Simulator, sensitive: Any) -> None:
    tenant = new_tenant()
    token = admin_token(sim, sensitive, tenant)
    before = sim.graphql_mutations()
    correlation = str(uuid.uuid4())
    response = gql(sim, sensitive, token, MUTATION, correlation_id=correlation)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    key = body["data"]["generateApiKey"]
    assert len(key["apiKey"]) >= 40
    days = (parse_iso(key["validUntil"]) - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    assert 364.9 < days <= 365.01
    assert sim.thrive_keys("staging", tenant) == 1
    assert sim.thrive_keys("production", tenant) == 0
    assert sim.graphql_mutations() == before + 1

    entry = [e for e in sim.audit("thrive-tenants") if e["endpoint"] == "graphql"][-1]
    assert entry["operation"] == "generateApiKey" and entry["operation_type"] == "mutation"
    assert entry["correlation_id"] == correlation and entry["tenant_id"] == tenant
    assert entry["fault"] is None and entry["status"] == 200
    assert entry["token_fp"].startswith("sha256:") and entry["api_key_fp"].startswith("sha256:")
    assert token not in str(entry) and key["apiKey"] not in str(entry)

    ok = me(sim, tenant, key["apiKey"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["tenant_id"] == tenant and ok.json()["services"] == ["api-service"]
    assert me(sim, tenant, key["apiKey"] + "x").status_code == 401
    assert me(sim, new_tenant(), key["apiKey"]).status_code == 401
    assert me(sim, tenant, key["apiKey"], environment="production").status_code == 401
    assert requests.get(sim.thrive_me_url("staging"), verify=sim.ca_path, timeout=10).status_code == 401
    api_entries = [e for e in sim.audit("thrive-tenants") if e["endpoint"] == "api"]
    assert api_entries[-1]["tenant_id"] is None and api_entries[-1]["auth_method"] == "none"
    assert api_entries[-2]["tenant_id"] == tenant and api_entries[-2]["status"] == 401
    assert api_entries[-2]["environment"] == "production" and key["apiKey"] not in str(api_entries)


def test_generate_with_variables_temporary(sim: Simulator, sensitive: Any) -> None:
    tenant = new_tenant()
    token = admin_token(sim, sensitive, tenant)
    response = gql(sim, sensitive, token, MUTATION_VARS, environment="production", operationName="Gen",
                   variables={"type": "temporary", "services": ["api-service", "reporting-service"]})
    assert response.status_code == 200, response.text
    key = response.json()["data"]["generateApiKey"]
    hours = (parse_iso(key["validUntil"]) - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 3600
    assert 23.9 < hours <= 24.01
    assert sim.thrive_keys("production", tenant) == 1
    assert me(sim, tenant, key["apiKey"], "production").json()["services"] == ["api-service", "reporting-service"]
    # Plain query works too and is not a mutation.
    ping = gql(sim, sensitive, token, "{ ping }")
    assert ping.json() == {"data": {"ping": "pong"}}


@pytest.mark.parametrize("case", ["missing", "bad_signature", "not_a_jwt", "expired", "no_correlation",
                                  "bad_correlation"])
def test_auth_failures(sim: Simulator, sensitive: Any, case: str) -> None:
    tenant = new_tenant()
    token = admin_token(sim, sensitive, tenant, expires_in=-60 if case == "expired" else 3600)
    correlation: str | None = "auto"
    if case == "missing":
        token = None
    elif case == "bad_signature":
        claims = jwt.decode(token, options={"verify_signature": False})
        token = jwt.encode(claims, "not-the-server-secret-but-long-enough-for-hs256!", algorithm="HS256")
        sensitive.add(token)
    elif case == "not_a_jwt":
        token = "abc.def.ghi"
    elif case == "no_correlation":
        correlation = None
    elif case == "bad_correlation":
        correlation = "not-a-uuid"
    response = gql(sim, sensitive, token, MUTATION, correlation_id=correlation)
    if case in ("no_correlation", "bad_correlation"):
        assert response.status_code == 400, response.text
        assert "correlation-id" in response.json()["errors"][0]["message"]
    else:
        assert response.status_code == 401, response.text
        expected = "token expired" if case == "expired" else "Unauthorized"
        assert response.json() == {"errors": [{"message": expected}]}
    assert sim.thrive_keys("staging", tenant) == 0


@pytest.mark.parametrize("query, variables, fragment", [
    (MUTATION.replace('"permanent"', '"forever"'), None, "tokenType"),
    (MUTATION.replace('"api-service"', '"billing-service"'), None, "billing-service"),
    (MUTATION_VARS, {"type": "permanent", "services": []}, "services"),
    ("mutation { generateApiKey(tokenType: \"permanent\" { apiKey } }", None, "Syntax Error"),
    ("mutation { generateApiKey(tokenType: \"permanent\", services: [\"api-service\"]) { secret } }", None,
     "secret"),
    ("mutation { deleteEverything }", None, "deleteEverything"),
    (MUTATION_VARS, {"type": "permanent"}, "services"),
])
def test_graphql_errors_are_http_200(sim: Simulator, sensitive: Any, query: str, variables: Any,
                                     fragment: str) -> None:
    tenant = new_tenant()
    response = gql(sim, sensitive, admin_token(sim, sensitive, tenant), query, variables)
    assert fragment in graphql_error(response)
    assert sim.thrive_keys("staging", tenant) == 0


def test_bad_http_body_is_400(sim: Simulator, sensitive: Any) -> None:
    token = admin_token(sim, sensitive, new_tenant())
    response = requests.post(sim.thrive_tenants_url("staging"), data=b"{not json",
                             headers={"Authorization": f"Bearer {token}", "correlation-id": str(uuid.uuid4()),
                                      "Content-Type": "application/json"}, verify=sim.ca_path, timeout=10)
    assert response.status_code == 400 and response.json()["errors"]


def test_graphql_error_fault(sim: Simulator, sensitive: Any) -> None:
    tenant = new_tenant()
    token = admin_token(sim, sensitive, tenant)
    sim.add_faults("thrive-tenants", [{"kind": "graphql_error", "message": "Internal server error (simulated)"}])
    response = gql(sim, sensitive, token, MUTATION)
    assert response.json() == {"data": None, "errors": [{"message": "Internal server error (simulated)"}]}
    assert sim.thrive_keys("staging", tenant) == 0
    entry = [e for e in sim.audit("thrive-tenants") if e["endpoint"] == "graphql"][-1]
    assert entry["fault"] == "graphql_error" and entry["operation"] == "generateApiKey"
    # Next one is normal again; the fault is refused on queues without GraphQL.
    assert gql(sim, sensitive, token, MUTATION).json()["data"]["generateApiKey"]["apiKey"]
    with pytest.raises(SimulatorError):
        sim.add_faults("thoughttrace-admin", [{"kind": "graphql_error"}])


def test_status_fault_on_tenants(sim: Simulator, sensitive: Any) -> None:
    tenant = new_tenant()
    sim.add_faults("thrive-tenants", [{"kind": "status", "status": 503}])
    assert gql(sim, sensitive, admin_token(sim, sensitive, tenant), MUTATION).status_code == 503
    assert sim.thrive_keys("staging", tenant) == 0


def test_reset_after_processing_generates_key(sim: Simulator, sensitive: Any) -> None:
    tenant = new_tenant()
    token = admin_token(sim, sensitive, tenant)
    before = sim.graphql_mutations()
    sim.add_faults("thrive-tenants", [{"kind": "reset_after_processing"}])
    with pytest.raises(requests.ConnectionError):
        gql(sim, sensitive, token, MUTATION)
    assert sim.thrive_keys("staging", tenant) == 1
    assert sim.graphql_mutations() == before + 1
    entry = [e for e in sim.audit("thrive-tenants") if e["endpoint"] == "graphql"][-1]
    assert entry["fault"] == "reset_after_processing" and entry["status"] == 200


# --------------------------------------------------------------------------- ThoughtTrace client management


def tt_token(sim: Simulator, sensitive: Any, client_id: str, secret: str) -> requests.Response:
    response = requests.post(sim.token_url("thoughttrace"), verify=sim.ca_path, timeout=10,
                             data={"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret})
    try:
        sensitive.add(response.json().get("access_token"))
    except (ValueError, AttributeError):
        pass
    return response


@pytest.fixture(scope="module")
def tt_admin(sim: Simulator, sensitive: Any) -> str:
    """Bearer token of a ThoughtTrace admin client."""
    client_id, secret = f"tt-admin-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex}"
    sensitive.add(secret)
    sim.add_client("thoughttrace", client_id=client_id, client_secret=secret, admin=True)
    response = tt_token(sim, sensitive, client_id, secret)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def tt(sim: Simulator, sensitive: Any, token: str | None, method: str, suffix: str = "",
       **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, sim.thoughttrace_clients_url() + suffix, headers=headers,
                                verify=sim.ca_path, timeout=10, **kwargs)
    try:
        payload = response.json()
        if isinstance(payload, dict):
            sensitive.add(payload.get("clientSecret"))
    except ValueError:
        pass
    return response


def test_thoughttrace_client_lifecycle(sim: Simulator, sensitive: Any, tt_admin: str) -> None:
    name = f"Reporting {uuid.uuid4().hex[:6]}"
    before = sim.admin_mutations("thoughttrace-admin")
    created = tt(sim, sensitive, tt_admin, "POST", json={"name": f"  {name} "})
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["name"] == name and client["active"] is True and client["clientSecret"]
    assert set(client) == {"id", "name", "clientId", "clientSecret", "active", "created"}
    cid, secret, ref = client["clientId"], client["clientSecret"], client["id"]

    listed = tt(sim, sensitive, tt_admin, "GET").json()
    mine = [c for c in listed if c["id"] == ref]
    assert mine and "clientSecret" not in mine[0] and mine[0]["clientId"] == cid
    assert all("clientSecret" not in c and secret not in str(c) for c in sim.thoughttrace_clients())

    dup = tt(sim, sensitive, tt_admin, "POST", json={"name": name.upper()})
    assert dup.status_code == 409 and dup.json()["error"] == "conflict"
    assert tt(sim, sensitive, tt_admin, "POST", json={"name": "   "}).status_code == 400

    assert tt_token(sim, sensitive, cid, secret).status_code == 200
    assert tt(sim, sensitive, tt_admin, "POST", f"/{ref}/deactivate").status_code == 204
    refused = tt_token(sim, sensitive, cid, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert [c for c in sim.thoughttrace_clients() if c["id"] == ref][0]["active"] is False
    assert tt(sim, sensitive, tt_admin, "POST", f"/{ref}/activate").status_code == 204
    assert tt_token(sim, sensitive, cid, secret).status_code == 200

    rotated = tt(sim, sensitive, tt_admin, "POST", f"/{ref}/secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["clientSecret"]
    assert new_secret != secret
    assert tt_token(sim, sensitive, cid, secret).status_code == 401
    assert tt_token(sim, sensitive, cid, new_secret).status_code == 200

    assert tt(sim, sensitive, tt_admin, "DELETE", f"/{ref}").status_code == 204
    assert tt_token(sim, sensitive, cid, new_secret).status_code == 401
    for method, suffix in (("DELETE", f"/{ref}"), ("POST", f"/{ref}/activate"), ("POST", "/nope/secret")):
        missing = tt(sim, sensitive, tt_admin, method, suffix)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"

    # create, 2 x failed create, deactivate, activate, new_secret, delete, 3 x 404 = 10; lists not counted.
    assert sim.admin_mutations("thoughttrace-admin") == before + 10
    entries = [e for e in sim.audit("thoughttrace-admin") if e.get("target_id") == ref]
    assert [e["operation"] for e in entries][:5] == ["create", "deactivate", "activate", "new_secret", "delete"]
    assert all(e["endpoint"] == "admin" and e["target_client_id"] == cid for e in entries[:5])
    assert secret not in str(entries) and new_secret not in str(entries)


def test_thoughttrace_admin_auth(sim: Simulator, sensitive: Any) -> None:
    assert tt(sim, sensitive, None, "GET").status_code == 401
    assert tt(sim, sensitive, "not-a-token", "GET").status_code == 401
    client_id, secret = f"tt-user-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex}"
    sensitive.add(secret)
    sim.add_client("thoughttrace", client_id=client_id, client_secret=secret)
    user_token = tt_token(sim, sensitive, client_id, secret).json()["access_token"]
    forbidden = tt(sim, sensitive, user_token, "POST", json={"name": "nope"})
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "insufficient_scope"
    with pytest.raises(SimulatorError):
        sim.add_client("throughline", client_id="x", client_secret="y", admin=True)


def test_thoughttrace_reset_after_processing(sim: Simulator, sensitive: Any, tt_admin: str) -> None:
    name = f"Once {uuid.uuid4().hex[:6]}"
    before = sim.admin_mutations("thoughttrace-admin")
    sim.add_faults("thoughttrace-admin", [{"kind": "reset_after_processing"}])
    with pytest.raises(requests.ConnectionError):
        tt(sim, sensitive, tt_admin, "POST", json={"name": name})
    created = [c for c in sim.thoughttrace_clients() if c["name"] == name]
    assert len(created) == 1
    assert sim.admin_mutations("thoughttrace-admin") == before + 1

    ref, old_fp = created[0]["id"], created[0]["secret_fp"]
    sim.add_faults("thoughttrace-admin", [{"kind": "reset_after_processing"}])
    with pytest.raises(requests.ConnectionError):
        tt(sim, sensitive, tt_admin, "POST", f"/{ref}/secret")
    assert [c for c in sim.thoughttrace_clients() if c["id"] == ref][0]["secret_fp"] != old_fp
    assert sim.admin_mutations("thoughttrace-admin") == before + 2


def test_demo_vars_for_key_endpoints(sim: Simulator, sensitive: Any) -> None:
    vars_ = sim.demo_vars()
    assert vars_["thrive_staging_tenants_url"] == sim.thrive_tenants_url("staging")
    assert vars_["thrive_production_tenants_url"] == sim.thrive_tenants_url("production")
    claims = jwt.decode(vars_["thrive_admin_token"], options={"verify_signature": False})
    sensitive.add(vars_["thrive_admin_token"])
    assert claims["tenant_id"] == "eu-west-2_DemoTenant1" and 3000 < claims["exp"] - time.time() <= 3600
    token = tt_token(sim, sensitive, vars_["thoughttrace_admin_client_id"], vars_["thoughttrace_admin_client_secret"])
    assert tt(sim, sensitive, token.json()["access_token"], "GET").status_code == 200


def test_key_count_follows_audit_clear(sim: Simulator, sensitive: Any) -> None:
    tenant = new_tenant()
    token = admin_token(sim, sensitive, tenant)
    key = gql(sim, sensitive, token, MUTATION).json()["data"]["generateApiKey"]["apiKey"]
    assert sim.thrive_keys("staging", tenant) == 1
    sim.clear_audit()
    assert sim.thrive_keys("staging", tenant) == 0 and sim.graphql_mutations() == 0
    assert me(sim, tenant, key).status_code == 200  # the key itself stays valid
