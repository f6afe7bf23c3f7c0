"""Adversarial: vendors that quote the request back, and values that must not reach a URL or a user.

Real playbooks at -vvvv with ANSIBLE_LOG_PATH set, against the HTTPS simulator.
Each test has a positive control: the simulator's echoed answer (kept in its
state directory) really held the encoded secret, the audit log shows the
request that was (or was not) made, or the file really had the mode.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
from pathlib import Path

import pytest

from conftest import assert_no_traceback, strong_secret
from secret_forms import assert_no_secret_form, secret_forms_in

RENDERS = ["body", "headers", "json", "base64", "html", "location"]
# Per fault queue: how many module loops (one request per render) and which renders its lookups get.
QUEUES = {
    "oauth2": (3, ["headers"]),
    "throughline": (1, ["body"]),
    "thoughttrace": (1, []),
    "thredd": (1, []),
    "thrive": (1, []),
    "thoughtspot": (1, ["json"]),
}


def _secret(prefix: str) -> str:
    # Characters that every encoding changes: form (+ / space % &), JSON and HTML (" \ < &), UTF-8.
    return strong_secret(prefix) + '"\\<é☃𝄞'


def _echoed(entry: dict) -> str:
    """The error_description the simulator sent back (what a parser shows)."""
    body = Path(entry["echo_file"]).read_text(encoding="utf-8")
    return json.loads(body)["error_description"]


def test_echoing_vendors_never_show_an_encoded_secret(sim, run_playbook):
    secrets_by_vendor = {vendor: _secret(f"{vendor}-") for vendor in QUEUES}
    for vendor, (loops, lookups) in QUEUES.items():
        sim.add_faults(vendor, [{"kind": "echo", "render": render} for render in RENDERS * loops + lookups])
    user = "echo-user"
    run = run_playbook("echo.yml", verbosity=4, extra_vars={
        "echo_renders": RENDERS,
        "echo_client_id": "echo-client",
        "echo_oauth2_secret": secrets_by_vendor["oauth2"],
        "echo_throughline_secret": secrets_by_vendor["throughline"],
        "echo_thoughttrace_secret": secrets_by_vendor["thoughttrace"],
        "echo_thredd_secret": secrets_by_vendor["thredd"],
        "echo_thrive_secret": secrets_by_vendor["thrive"],
        "echo_thoughtspot_user": user,
        "echo_thoughtspot_password": secrets_by_vendor["thoughtspot"],
    })
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert "PLAYBOOK: echo.yml" in run.log and "task path:" in run.log, "the log has the -vvvv detail"

    # Positive control: every echo was served, and between them the answers quoted each
    # secret percent-encoded, base64-encoded (Basic header or body), JSON-escaped and HTML-escaped.
    assert sim.pending_faults() == {}
    echoes = [entry for entry in sim.audit() if entry.get("fault") == "echo"]
    assert len(echoes) == sum(loops * len(RENDERS) + len(lookups) for loops, lookups in QUEUES.values())
    for vendor, secret in secrets_by_vendor.items():
        entries = [entry for entry in echoes if entry["vendor"] == vendor]
        quoted = [_echoed(entry) for entry in entries]
        forms = {form for text in quoted for form in secret_forms_in(secret, text)}
        assert "base64" in forms, (vendor, forms)
        if vendor == "thoughtspot" or any(entry["auth_method"] == "client_secret_post" for entry in entries):
            # A secret in the body: quoted percent-encoded, JSON-escaped and HTML-escaped too.
            assert "json" in forms, (vendor, forms)
            assert any(form.startswith("html") for form in forms), (vendor, forms)
            if vendor != "thoughtspot":  # a form body; ThoughtSpot's is JSON
                assert forms & {"percent", "percent-plus"}, (vendor, forms)
        # The raw text of an echo does not hold the secret as it is: only an encoding does.
        if vendor != "thoughtspot":  # ThoughtSpot's JSON body carries the password unencoded
            assert not any(secret in text for text in quoted), vendor
    # The vendor's text reached the user (so masking, not silence, is what hides the secret).
    assert run.output.count("cannot process request body:") >= 8
    assert run.output.count("rejected headers:") >= 6
    assert "bad request {" in run.output

    assert_no_secret_form(secrets_by_vendor.values(), run.stdout, "stdout")
    assert_no_secret_form(secrets_by_vendor.values(), run.stderr, "stderr")
    assert_no_secret_form(secrets_by_vendor.values(), run.log, "ansible.log")

    # The client assertion (private_key_jwt) is a secret too: its signature never shows.
    bodies = [_echoed(entry) for entry in echoes if entry["vendor"] == "oauth2"]
    assertions = [urllib.parse.parse_qs(text.removeprefix("cannot process request body: ")).get("client_assertion")
                  for text in bodies if text.startswith("cannot process request body: client_assertion")
                  or (text.startswith("cannot process") and "client_assertion=" in text)]
    assert assertions and all(assertions), "positive control: an assertion was echoed"
    signatures = [value[0].rpartition(".")[2] for value in assertions]
    assert_no_secret_form(signatures, run.output, "output")


def test_a_secret_in_a_redirect_location_is_masked(sim, run_playbook):
    """A vendor that redirects to a URL whose query carries the form it was sent (status 302)."""
    secret = _secret("redirect-")
    # The client_secret_basic task gets a 404 echo of the headers, the client_secret_post task the redirect.
    sim.add_faults("oauth2", [{"kind": "echo", "render": "headers", "status": 404},
                              {"kind": "echo", "render": "location", "status": 302}])
    run = run_playbook("echo.yml", verbosity=4, extra_vars={
        "echo_renders": ["only"], "echo_client_id": "echo-client", "echo_oauth2_secret": secret,
        "echo_throughline_secret": _secret("unused-"), "echo_thoughttrace_secret": _secret("unused-"),
        "echo_thredd_secret": _secret("unused-"), "echo_thrive_secret": _secret("unused-"),
        "echo_thoughtspot_user": "nobody", "echo_thoughtspot_password": _secret("unused-"),
    })
    assert run.rc == 0, run.output[-3000:]
    echoes = [entry for entry in sim.audit("oauth2") if entry.get("fault") == "echo"]
    assert [entry["status"] for entry in echoes] == [404, 302]
    # Positive control: the Location's query held the form-encoded secret, the other answer the Basic header.
    assert "percent-plus" in secret_forms_in(secret, _echoed(echoes[1]))
    assert "base64" in secret_forms_in(secret, _echoed(echoes[0]))
    assert "HTTP 302 invalid_request: moved to https://" in run.output
    assert "HTTP 404 invalid_request: rejected headers: Authorization: " in run.output
    assert_no_secret_form([secret], run.stdout + run.stderr + run.log)


# --- values that become URL path segments -------------------------------------------------------

@pytest.mark.parametrize("tenant", [".", "..", "eu-west-2_A/../B", "eu-west-2_A%2FB", "eu-west-2_Ténant", "a b"])
def test_thrive_token_refuses_a_tenant_id_that_is_not_one_path_segment(sim, run_playbook, out, tenant):
    run = run_playbook("adversarial_paths.yml", verbosity=4, extra_vars={"path_tenant": tenant})
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    result = json.loads((out / "result.json").read_text())
    assert result["failed"] and result["msg"].startswith("tenant_id must be a THRIVE tenant id"), result
    # Nothing was sent: not to the tenant's path, not to any other.
    assert sim.audit() == []


def test_thrive_token_with_a_valid_tenant_makes_the_request(sim, run_playbook, out):
    """Positive control of the test above: the same task with the seeded tenant reaches its per-tenant path."""
    tenant = sim.demo_vars()["thrive_tenant_id"]
    run = run_playbook("adversarial_paths.yml", extra_vars={"path_tenant": tenant})
    assert run.rc == 0
    assert json.loads((out / "result.json").read_text())["failed"] is False
    assert [entry["path"] for entry in sim.audit("thrive")] == [f"/thrive/staging/oauth2/token/{tenant}"]


def _apikey(sim, run_playbook, out, *, tenant: str, token_tenant: str) -> dict:
    run = run_playbook("thrive_apikey.yml", verbosity=4, extra_vars={
        "thrive_tenant_id": tenant, "k": {"admin_token": sim.thrive_admin_token(token_tenant)}})
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    return json.loads((out / "result.json").read_text())


@pytest.mark.parametrize("tenant", ["eu-west-2_A/B", "..", "eu-west-2_A?x=1"])
def test_thrive_apikey_refuses_a_malformed_tenant_id(sim, run_playbook, out, tenant):
    result = _apikey(sim, run_playbook, out, tenant=tenant, token_tenant="eu-west-2_A")
    assert result["failed"] and result["msg"].startswith("tenant_id must be a THRIVE tenant id"), result
    assert sim.graphql_mutations() == 0 and sim.audit("thrive-tenants") == []


def test_thrive_apikey_refuses_a_tenant_that_is_not_the_admin_tokens(sim, run_playbook, out):
    result = _apikey(sim, run_playbook, out, tenant="eu-west-2_Victim1", token_tenant="eu-west-2_Mine1")
    assert result["failed"], result
    assert "tenant_id eu-west-2_Victim1 is not the tenant of admin_token" in result["msg"]
    assert "nothing was sent" in result["msg"]
    assert sim.graphql_mutations() == 0
    assert sim.thrive_keys("staging", "eu-west-2_Mine1") == 0 and sim.thrive_keys("staging", "eu-west-2_Victim1") == 0


def test_thrive_apikey_with_the_admin_tokens_tenant_makes_the_key(sim, run_playbook, out):
    """Positive control of the two tests above."""
    result = _apikey(sim, run_playbook, out, tenant="eu-west-2_Mine1", token_tenant="eu-west-2_Mine1")
    assert not result["failed"] and result["generated"], result
    assert sim.graphql_mutations() == 1 and sim.thrive_keys("staging", "eu-west-2_Mine1") == 1


# --- private keys open to other users -----------------------------------------------------------

@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_a_private_key_open_to_others_is_warned_about_once(sim, run_playbook, tmp_path, mode):
    key_file = tmp_path / "shared-key.pem"
    key_text = Path(sim.demo_vars()["demo_jwt_key_path"]).read_text()
    key_file.write_text(key_text)
    key_file.chmod(mode)
    run = run_playbook("key_modes.yml", verbosity=4, extra_vars={"key_file": str(key_file)})
    assert run.rc == 0, run.output[-3000:]
    # Positive control: the file kept its mode through the run, and the key was really used (3 tokens).
    assert os.stat(key_file).st_mode & 0o777 == mode
    assert sim.token_requests("oauth2") == 3
    warned = f"private_key_path {key_file} has mode {mode:04o}"
    if mode == 0o600:
        assert warned.split(" has mode")[0] + " has mode" not in run.output
        return
    # From the module and the lookup alike, but shown once in the run.
    shown = run.stdout + run.stderr
    assert shown.count(warned) == 1, shown[-4000:]
    assert "open to its group" in shown
    assert ("and every user" in shown) == bool(mode & 0o004)
    for line in key_text.splitlines():
        if len(line) >= 20:
            assert line not in run.output


def test_a_private_key_open_to_others_is_warned_about_by_the_lookup_alone(sim, run_playbook, tmp_path):
    key_file = tmp_path / "k8s-mounted-key.pem"
    key_file.write_text(Path(sim.demo_vars()["demo_jwt_key_path"]).read_text())
    key_file.chmod(0o644)
    run = run_playbook("key_modes.yml", verbosity=4, extra_vars={"key_file": str(key_file), "only_lookup": True})
    assert run.rc == 0, run.output[-3000:]
    assert sim.token_requests("oauth2") == 1  # positive control: the lookup used the key
    assert (run.stdout + run.stderr).count(f"private_key_path {key_file} has mode 0644, open to its group and every user") == 1


@pytest.mark.parametrize("render", ["headers", "json", "base64"])
def test_management_apis_that_echo_never_show_the_admin_token(sim, run_playbook, out, render):
    """thrive_apikey's GraphQL endpoint and thoughttrace_client's management API quote the admin bearer token."""
    admin_token = sim.thrive_admin_token(sim.demo_vars()["thrive_tenant_id"])
    sim.add_faults("thrive-tenants", [{"kind": "echo", "render": render}])
    sim.add_faults("thoughttrace-admin", [{"kind": "echo", "render": render}])
    thrive = run_playbook("thrive_apikey.yml", verbosity=4, extra_vars={"k": {"admin_token": admin_token}})
    trace = run_playbook("thoughttrace_client.yml", verbosity=4, extra_vars={"tc": {"name": "echo-admin-client"}})
    for run in (thrive, trace):
        assert run.rc == 0, run.output[-3000:]
        assert_no_traceback(run)
    echoes = {entry["vendor"]: _echoed(entry) for entry in sim.audit() if entry.get("fault") == "echo"}
    assert set(echoes) == {"thrive-tenants", "thoughttrace-admin"}
    # The ThoughtTrace bearer token was fetched by the task itself: the echo is where the test learns it.
    quoted = echoes["thoughttrace-admin"]
    if render == "base64":
        quoted = base64.b64decode(quoted.split()[2]).decode("latin-1")
    bearer = quoted.split("Bearer ", 1)[1].split('"')[0].split(";")[0].split()[0] if "Bearer " in quoted else None
    assert bearer and len(bearer) >= 20, "positive control: the management API saw the bearer token"
    assert secret_forms_in(admin_token, echoes["thrive-tenants"]), "positive control: THRIVE quoted the admin token"
    assert secret_forms_in(bearer, echoes["thoughttrace-admin"])
    secret = sim.demo_vars()["thoughttrace_admin_client_secret"]
    for run in (thrive, trace):
        assert_no_secret_form([admin_token, bearer, secret], run.output)
    assert json.loads((out / "result.json").read_text())["failed"] is True


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
]
