"""The AWX credential types feed the plugins: injectors rendered as AWX does, real ansible-playbook runs.

Each job gets only what its credentials inject (environment variables, files, extra
variables) plus what a job template would set (the playbook's own variables); the tasks
name no vendor option. The simulator's CA comes from the job's environment, as a private
CA would come from the execution environment. Every job runs at -vvvv and its output is
scanned for the credentials' secrets.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from backends.awx_injectors import load_credential_types, render
from conftest import ROOT, assert_absent, assert_no_traceback, files_text, strong_secret

TYPES = load_credential_types()
SECRET_FIELDS = ("client_secret", "private_key_content", "secret_key", "admin_token", "admin_client_secret",
                 "password", "client_key", "cache_encryption_key")


@pytest.fixture
def awx_job(sim, run_playbook, tmp_path):
    """awx_job(playbook, credentials=[(type stem, inputs)], extra_vars=...) -> (run, env, home)."""
    counter = iter(range(1, 1000))

    def run(playbook: str, credentials: list, *, extra_vars: dict | None = None, verbosity: int = 4):
        job = tmp_path / f"job{next(counter)}"
        home = job / "home"
        home.mkdir(parents=True)
        env = {"HOME": str(home), "APIAUTH_SAAS_CA_PATH": sim.demo_vars()["sim_ca_path"]}
        variables = {}
        for stem, inputs in credentials:
            injected_env, injected_vars = render(TYPES[stem], inputs, job / "private")
            env.update(injected_env)
            variables.update(injected_vars)
        variables.update(extra_vars or {})
        # The job's cache: what the token cache credential says; none of the test's own directory.
        env.setdefault("APIAUTH_SAAS_CACHE_DIR", str(home / ".cache" / "apiauth.saas" / "tokens"))
        result = run_playbook(playbook, env=env, extra_vars=variables, verbosity=verbosity, sim_vars=False)
        assert_no_traceback(result)
        return result, env, home

    return run


def _pem(path: str) -> str:
    return Path(path).read_text()


def _cases(demo: dict) -> dict:
    thredd_uat = demo["thredd_uat_tls_url"]
    thredd_mtls = demo["thredd_uat_mtls_url"]
    return {
        "throughline": ("throughline", [("throughline", {
            "client_id": demo["throughline_client_id"], "client_secret": demo["throughline_client_secret"],
            "token_url": demo["throughline_token_url"]})]),
        "thoughttrace": ("thoughttrace", [("thoughttrace", {
            "client_id": demo["thoughttrace_client_id"], "client_secret": demo["thoughttrace_client_secret"],
            "identity_url": demo["thoughttrace_identity_url"]})]),
        "thrive": ("thrive", [("thrive", {
            "environment": "staging", "tenant_id": demo["thrive_tenant_id"], "client_id": demo["thrive_client_id"],
            "client_secret": demo["thrive_client_secret"], "base_url": demo["thrive_staging_base_url"]})]),
        "oauth2-secret": ("oauth2", [("oauth2", {
            "token_url": demo["oauth2_token_url"], "client_id": demo["demo_basic_client_id"],
            "client_secret": demo["demo_basic_client_secret"]})]),
        "oauth2-private-key-jwt": ("oauth2", [("oauth2", {
            "token_url": demo["oauth2_token_url"], "client_id": demo["demo_jwt_client_id"],
            "auth_method": "private_key_jwt", "private_key_content": _pem(demo["demo_jwt_key_path"]),
            "key_id": demo["demo_jwt_key_id"]})]),
        "oauth2-tls-client-auth": ("oauth2", [
            ("oauth2", {"token_url": demo["oauth2_token_url"], "client_id": demo["demo_mtls_client_id"],
                        "auth_method": "tls_client_auth"}),
            ("tls_client_certificate", {"client_cert": _pem(demo["demo_mtls_cert_path"]),
                                        "client_key": _pem(demo["demo_mtls_key_path"])})]),
        "thredd-secret": ("thredd", [("thredd", {
            "environment": "uat", "client_id": demo["thredd_uat_client_id"],
            "client_secret": demo["thredd_uat_client_secret"], "token_url": thredd_uat + "/oauth2/token",
            "base_url": thredd_uat})]),
        "thredd-private-key-jwt": ("thredd", [("thredd", {
            "environment": "uat", "client_id": demo["thredd_uat_jwt_client_id"], "auth_method": "private_key_jwt",
            "private_key_content": _pem(demo["thredd_signing_key_path"]), "key_id": demo["thredd_key_id"],
            "organisation_id": demo["thredd_organisation_id"], "token_url": thredd_uat + "/oauth2/token",
            "base_url": thredd_uat})]),
        "thredd-mtls": ("thredd", [
            ("thredd", {"environment": "uat", "client_id": demo["thredd_uat_client_id"],
                        "client_secret": demo["thredd_uat_client_secret"], "connectivity": "mtls",
                        "token_url": thredd_mtls + "/oauth2/token", "base_url": thredd_mtls}),
            ("tls_client_certificate", {"client_cert": _pem(demo["thredd_transport_cert_path"]),
                                        "client_key": _pem(demo["thredd_transport_key_path"])})]),
        "thoughtspot": ("thoughtspot", [("thoughtspot", {
            "host": demo["thoughtspot_host"], "secret_key": demo["thoughtspot_secret_key"],
            "username": demo["thoughtspot_username"]})]),
    }


CASES = ["throughline", "thoughttrace", "thrive", "oauth2-secret", "oauth2-private-key-jwt", "oauth2-tls-client-auth",
         "thredd-secret", "thredd-private-key-jwt", "thredd-mtls", "thoughtspot"]


@pytest.mark.parametrize("case", CASES)
def test_credentials_feed_module_and_lookup(sim, awx_job, out, case):
    vendor, credentials = _cases(sim.demo_vars())[case]
    cache_key = strong_secret("cache-")
    credentials = credentials + [("token_cache", {"cache_encryption_key": cache_key})]
    run, env, home = awx_job("awx_job.yml", credentials, extra_vars={"awx_vendor": vendor})
    assert run.rc == 0, run.output[-4000:]
    job = json.loads((out / "job.json").read_text())
    assert job["module_source"] == "network" and job["same_token"], job
    assert sim.token_requests(vendor) == 1
    inputs = credentials[0][1]
    requests = [e for e in sim.audit() if e.get("endpoint") == "token" and e.get("status") == 200]
    assert len(requests) == 1
    assert requests[0]["client_id"] == inputs.get("client_id", inputs.get("username"))
    # The cache credential: encrypted entries under the job's (empty) home, as its default says.
    cache_dir = home / ".cache" / "apiauth.saas" / "tokens"
    assert env["APIAUTH_SAAS_CACHE_DIR"] == "~/.cache/apiauth.saas/tokens"
    assert list(cache_dir.glob("*.entry"))
    assert b'"access_token"' not in b"".join(p.read_bytes() for p in cache_dir.glob("*.entry"))
    values = [value for credential in credentials for name, value in credential[1].items() if name in SECRET_FIELDS]
    assert_absent(values, run)


def test_an_empty_optional_field_means_the_plugins_default(sim, awx_job, out):
    """AWX injects '' for empty fields: the default token URL, no key, no scope, no org."""
    demo = sim.demo_vars()
    inputs = {"token_url": demo["oauth2_token_url"], "client_id": demo["demo_post_client_id"],
              "client_secret": demo["demo_post_client_secret"], "auth_method": "client_secret_post"}
    env = render(TYPES["oauth2"], inputs, out / "private")[0]
    assert env["APIAUTH_OAUTH2_PRIVATE_KEY_CONTENT"] == env["APIAUTH_OAUTH2_SCOPE"] == ""
    run = awx_job("awx_job.yml", [("oauth2", inputs)], extra_vars={"awx_vendor": "oauth2"}, verbosity=0)[0]
    assert run.rc == 0, run.output[-3000:]
    assert [e["auth_method"] for e in sim.audit("oauth2") if e.get("endpoint") == "token"] == ["client_secret_post"]


def test_tls_client_certificate_files_are_private(sim, tmp_path):
    demo = sim.demo_vars()
    env = render(TYPES["tls_client_certificate"], {"client_cert": _pem(demo["demo_mtls_cert_path"]),
                                                   "client_key": _pem(demo["demo_mtls_key_path"])},
                 tmp_path / "private")[0]
    for name in ("APIAUTH_SAAS_CLIENT_CERT", "APIAUTH_SAAS_CLIENT_KEY"):
        assert Path(env[name]).stat().st_mode & 0o077 == 0
    assert Path(env["APIAUTH_SAAS_CLIENT_KEY"]).read_text() == _pem(demo["demo_mtls_key_path"])


# The admin types feed the rotation and provisioning playbooks -----------------------------------

PLAYBOOKS = ROOT / "playbooks"


def test_thoughttrace_admin_credential_rotates_a_client(sim, run_playbook, awx_job, out, tmp_path):
    created = run_playbook("thoughttrace_client.yml", extra_vars={"tc": {"name": "awx-rotated-app"}})
    assert created.rc == 0, created.output[-3000:]
    admin_id, admin_secret = "awx-admin-" + secrets.token_hex(4), strong_secret("adm-")
    sim.add_client("thoughttrace", client_id=admin_id, client_secret=admin_secret, admin=True)
    store = out / "tt.yaml"
    run = awx_job(str(PLAYBOOKS / "rotate_thoughttrace_client.yml"), [
        ("thoughttrace_admin", {"admin_client_id": admin_id, "admin_client_secret": admin_secret,
                                "identity_url": sim.demo_vars()["thoughttrace_identity_url"]})],
        extra_vars={"thoughttrace_client_name": "awx-rotated-app", "secret_store_file_path": str(store),
                    "secret_store_file_format": "yaml"})[0]
    assert run.rc == 0, run.output[-4000:]
    callers = {e.get("client_id") for e in sim.audit("thoughttrace-admin")}
    assert admin_id in callers
    assert "client_secret" in store.read_text()
    assert_absent([admin_secret], run)


def test_thoughtspot_admin_credential_provisions_trusted_auth(sim, awx_job, out):
    admin, password = "awx-tsadmin-" + secrets.token_hex(3), strong_secret("pw-")
    sim.thoughtspot_add_user(admin, password=password, admin=True)
    store = out / "ts.json"
    run = awx_job(str(PLAYBOOKS / "provision_thoughtspot_trusted_auth.yml"), [
        ("thoughtspot_admin", {"host": sim.demo_vars()["thoughtspot_host"], "username": admin,
                               "password": password})],
        extra_vars={"secret_store_file_path": str(store)})[0]
    assert run.rc == 0, run.output[-4000:]
    assert admin in {e.get("client_id") for e in sim.audit("thoughtspot")}
    key = json.loads(store.read_text())["trusted_auth_secret_key"]
    assert_absent([password, key], run)


def test_thrive_admin_credential_generates_the_api_key(sim, awx_job, out):
    demo = sim.demo_vars()
    admin_token = sim.thrive_admin_token(demo["thrive_tenant_id"])
    store = out / "thrive.json"
    run, env = awx_job(str(PLAYBOOKS / "rotate_thrive_apikey.yml"), [
        ("thrive_admin", {"environment": "staging", "tenant_id": demo["thrive_tenant_id"],
                          "admin_token": admin_token})],
        extra_vars={"thrive_tenants_url": demo["thrive_staging_tenants_url"], "secret_store_file_path": str(store)})[:2]
    assert run.rc == 0, run.output[-4000:]
    assert env["APIAUTH_THRIVE_ADMIN_TOKEN"] == admin_token
    held = json.loads(store.read_text())
    assert held["_metadata"]["tenant_id"] == demo["thrive_tenant_id"]
    assert sim.thrive_keys("staging", demo["thrive_tenant_id"]) == 1
    assert_absent([admin_token, held["thrive_api_key"]], run, files_text(out / "private"))


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
    pytest.mark.playbook_provision_thoughtspot_trusted_auth,
    pytest.mark.playbook_rotate_thoughttrace_client,
    pytest.mark.playbook_rotate_thrive_apikey,
]
