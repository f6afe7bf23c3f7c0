"""Real playbooks against the HTTPS simulator: auth methods, cache, faults, errors, secrets."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import ROOT, assert_absent, assert_no_traceback, files_text, strong_secret

TOKEN_PATHS = ("/oauth2/token", "/throughline/oauth/token")


def token_requests(sim, vendor=None) -> int:
    return sim.token_requests(vendor)


def _out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return out


def _demo_secrets(sim) -> list:
    demo = sim.demo_vars()
    values = [demo[k] for k in demo if k.endswith(("_secret", "_password", "_secret_key"))]
    for key in demo:
        if key.endswith("_key_path"):  # private keys: demo_jwt_key, demo_mtls_key, thredd_signing_key...
            values.append(Path(demo[key]).read_text())
    return values


@pytest.mark.smoke
def test_every_auth_method_module_and_lookup(sim, run_playbook, tmp_path):
    out = _out(tmp_path)
    run = run_playbook("auth_methods.yml")
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    # One request per credential: the lookups and the API calls reused the tokens.
    assert token_requests(sim, "oauth2") == 4
    assert token_requests(sim, "throughline") == 1
    methods = sorted(e["auth_method"] for e in sim.audit() if e["path"] in TOKEN_PATHS)
    assert methods == ["client_secret_basic", "client_secret_post", "client_secret_post",
                       "private_key_jwt", "tls_client_auth"]
    assert not any(e["query_present"] for e in sim.audit()), "nothing may travel in a URL query"
    tokens = json.loads((out / "tokens.json").read_text())
    assert len(set(tokens)) == 5
    # Censored by default: no token in the task output, though the play used them.
    assert_absent(tokens + _demo_secrets(sim), run)


@pytest.mark.smoke
def test_fleet_one_request_per_credential_and_idempotent_rerun(sim, run_playbook, tmp_path):
    out = _out(tmp_path)
    python = sys.executable
    inventory = "[fleet]\n" + "".join(
        f"host{n:02d} ansible_connection=local ansible_python_interpreter={python}\n" for n in range(1, 31)
    )
    first = run_playbook("fleet.yml", inventory=inventory, forks=10)
    assert first.rc == 0, first.output[-4000:]
    assert token_requests(sim, "throughline") == 1
    assert token_requests(sim, "oauth2") == 1
    # 30 new files, and one "new token": the other 29 hosts got it from the cache.
    assert first.total("changed") == 31
    contents = {p.name: p.read_text() for p in out.glob("host*.ini")}
    assert len(contents) == 30 and len(set(contents.values())) == 1

    sim.clear_audit()
    second = run_playbook("fleet.yml", inventory=inventory, forks=10)
    assert second.rc == 0, second.output[-4000:]
    assert token_requests(sim) == 0, "a second run while tokens are fresh asks for nothing"
    assert second.total("changed") == 0
    assert {p.name: p.read_text() for p in out.glob("host*.ini")} == contents


def test_force_refresh_and_min_ttl(sim, run_playbook, tmp_path):
    out = _out(tmp_path)
    first = run_playbook("fetch.yml")
    assert first.rc == 0 and json.loads((out / "result.json").read_text())["source"] == "network"
    again = run_playbook("fetch.yml")
    assert json.loads((out / "result.json").read_text())["source"] in ("file", "memory")
    # A token with an hour left does not satisfy a two-hour min_ttl: refetched.
    longer = run_playbook("fetch.yml", extra_vars={"fetch_min_ttl": 7200})
    result = json.loads((out / "result.json").read_text())
    assert result["source"] == "network" and result["changed"] is True
    assert "less than min_ttl" in longer.output
    nocache = run_playbook("fetch.yml", extra_vars={"fetch_cache": False})
    assert json.loads((out / "result.json").read_text())["source"] == "network"
    assert token_requests(sim, "oauth2") == 3
    for run in (first, again, longer, nocache):
        assert_no_traceback(run)


def test_rotated_secret_never_reuses_old_token(sim, run_playbook, tmp_path):
    out = _out(tmp_path)
    old, new = strong_secret("old-"), strong_secret("new-")
    sim.add_client("oauth2", client_id="rotating-client", client_secret=old)
    assert run_playbook("fetch.yml", extra_vars={"fetch_client_id": "rotating-client",
                                                 "fetch_client_secret": old}).rc == 0
    sim.add_client("oauth2", client_id="rotating-client", client_secret=new)
    run = run_playbook("fetch.yml", extra_vars={"fetch_client_id": "rotating-client", "fetch_client_secret": new})
    assert run.rc == 0
    assert json.loads((out / "result.json").read_text())["source"] == "network"
    assert token_requests(sim, "oauth2") == 2


RECOVERED = [
    [{"kind": "status", "status": 429, "retry_after": 1}],
    [{"kind": "status", "status": 503, "count": 2}],
    [{"kind": "status", "status": 500}, {"kind": "status", "status": 502}, {"kind": "status", "status": 504}],
    [{"kind": "status", "status": 408}],
    [{"kind": "html", "status": 502}],
    [{"kind": "reset_before"}],
    [{"kind": "reset_after"}],
    [{"kind": "delay", "seconds": 3}],
]


def _fault_id(faults) -> str:
    return "+".join(f"{x['kind']}{x.get('status', '')}{x.get('field', '')}{x.get('value', '')}" for x in faults)


@pytest.mark.parametrize("faults", RECOVERED, ids=_fault_id)
def test_transient_faults_are_retried(sim, run_playbook, tmp_path, faults):
    out = _out(tmp_path)
    sim.add_faults("oauth2", faults)
    run = run_playbook("fetch.yml", extra_vars={"fetch_timeout": 2, "fetch_retries": 3})
    assert_no_traceback(run)
    result = json.loads((out / "result.json").read_text())
    assert not result["failed"], result["msg"]
    assert result["source"] == "network"


FATAL = [
    ([{"kind": "status", "status": 503, "count": 10}], r"HTTP 503"),
    ([{"kind": "truncated_json"}], "not JSON|JSON"),
    ([{"kind": "not_json"}], "JSON"),
    ([{"kind": "missing_field", "field": "access_token"}], "no access_token"),
    ([{"kind": "field_value", "field": "expires_in", "value": "abc"}], "not a number"),
    ([{"kind": "field_value", "field": "expires_in", "value": 0}], "already expired"),
    ([{"kind": "field_value", "field": "expires_in", "value": -5}], "already expired"),
    ([{"kind": "field_value", "field": "token_type", "value": "mac"}], "token_type"),
    ([{"kind": "status", "status": 429, "retry_after": 3600}], "wait|Retry-After|429"),
]


@pytest.mark.parametrize("faults, message", FATAL, ids=lambda v: v if isinstance(v, str) else _fault_id(v))
def test_unrecoverable_faults_fail_cleanly(sim, run_playbook, tmp_path, faults, message):
    out = _out(tmp_path)
    sim.add_faults("oauth2", faults)
    run = run_playbook("fetch.yml", extra_vars={"fetch_timeout": 2, "fetch_retries": 2}, verbosity=4)
    assert_no_traceback(run)
    result = json.loads((out / "result.json").read_text())
    assert result["failed"], "the task should fail"
    assert re.search(message, result["msg"]), result["msg"]
    assert "OAuth 2.0 provider" in result["msg"]
    assert_absent(_demo_secrets(sim), run)
    assert token_requests(sim, "oauth2") <= 3, "retries are bounded"


def test_missing_expires_in_is_used_but_not_cached(sim, run_playbook, tmp_path):
    out = _out(tmp_path)
    sim.add_faults("oauth2", [{"kind": "missing_field", "field": "expires_in", "count": 2}])
    first = run_playbook("fetch.yml")
    assert json.loads((out / "result.json").read_text())["source"] == "network"
    assert "is not cached" in first.output
    run_playbook("fetch.yml")
    assert json.loads((out / "result.json").read_text())["source"] == "network"
    assert token_requests(sim, "oauth2") == 2


def _unknown_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.smoke
def test_bad_input_fails_clearly_without_secrets(sim, run_playbook, tmp_path, cache_dir):
    _out(tmp_path)
    wrong, revoked_secret = strong_secret("wrong-"), strong_secret("revoked-")
    unknown_key = _unknown_key_pem()
    garbage = "-----BEGIN PRIVATE KEY-----\n" + strong_secret("garbage") + "\n-----END PRIVATE KEY-----\n"
    sim.add_client("throughline", client_id="revoked-app", client_secret=revoked_secret, revoked=True)
    run = run_playbook(
        "errors.yml",
        extra_vars={"wrong_secret": wrong, "revoked_client_id": "revoked-app",
                    "revoked_client_secret": revoked_secret, "unknown_private_key": unknown_key,
                    "garbage_key": garbage},
        verbosity=4,
    )
    assert run.rc == 0, run.output[-6000:]
    assert_no_traceback(run)
    assert_absent([wrong, revoked_secret, unknown_key, garbage.splitlines()[1]] + _demo_secrets(sim), run,
                  files_text(cache_dir))


@pytest.mark.smoke
def test_vvvv_and_log_show_no_secret_and_encrypted_cache_hides_tokens(sim, run_playbook, tmp_path, cache_dir):
    out = _out(tmp_path)
    key = strong_secret("cache-key-")
    run = run_playbook("auth_methods.yml", verbosity=4, env={"APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": key},
                       extra_vars={"apiauth_saas_cache_encryption_key": key})
    assert run.rc == 0, run.output[-4000:]
    assert run.log, "ANSIBLE_LOG_PATH was written"
    tokens = json.loads((out / "tokens.json").read_text())
    cache_files = files_text(cache_dir)
    assert cache_files, "the cache was written"
    assert_absent(tokens + _demo_secrets(sim) + [key], run, cache_files)


def test_censor_result_can_be_turned_off(sim, run_playbook, tmp_path):
    _out(tmp_path)
    hidden = run_playbook("censor.yml", extra_vars={"censor": True}, verbosity=1)
    shown = run_playbook("censor.yml", extra_vars={"censor": False}, verbosity=1)
    assert hidden.rc == 0 and shown.rc == 0, shown.output[-3000:]
    assert "output has been hidden" in hidden.stdout
    assert '"access_token"' not in hidden.stdout
    assert '"access_token"' in shown.stdout


@pytest.mark.smoke
def test_check_and_diff_mode_fetch_without_showing_secrets(sim, run_playbook, tmp_path, cache_dir):
    out = _out(tmp_path)
    run = run_playbook("auth_methods.yml", check=True, diff=True, verbosity=4)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    # A token request changes nothing at the vendor, so check mode fetches too.
    assert token_requests(sim) == 5
    assert_absent(json.loads((out / "tokens.json").read_text()) + _demo_secrets(sim), run)


def test_lookup_options_from_env_vars_and_ini(sim, run_playbook, tmp_path):
    _out(tmp_path)
    demo = sim.demo_vars()
    cfg = tmp_path / "ansible.cfg"
    # A secret in ansible.cfg must be ignored: secrets never come from ini.
    cfg.write_text(
        "[apiauth_throughline]\n"
        f"token_url = {demo['throughline_token_url']}\n"
        f"client_id = {demo['throughline_client_id']}\n"
        f"client_secret = {demo['throughline_client_secret']}\n"
        "[apiauth_saas]\n"
        f"ca_path = {demo['sim_ca_path']}\n"
    )
    without_secret = run_playbook("lookup_env.yml", cfg=str(cfg))
    assert without_secret.rc != 0
    assert "client_secret" in without_secret.output
    with_env = run_playbook("lookup_env.yml", cfg=str(cfg),
                            env={"APIAUTH_THROUGHLINE_CLIENT_SECRET": demo["throughline_client_secret"]})
    assert with_env.rc == 0, with_env.output[-3000:]
    assert token_requests(sim, "throughline") == 1


@pytest.mark.parametrize("field, value", [("token_type", None), ("expires_in", "3600"), ("expires_in", 1800.5)])
def test_lenient_but_valid_responses_are_accepted(sim, run_playbook, tmp_path, field, value):
    out = _out(tmp_path)
    fault = ({"kind": "missing_field", "field": field} if value is None
             else {"kind": "field_value", "field": field, "value": value})
    sim.add_faults("oauth2", [fault])
    run = run_playbook("fetch.yml")
    assert_no_traceback(run)
    result = json.loads((out / "result.json").read_text())
    assert not result["failed"], result["msg"]
    assert result["source"] == "network" and result["expires_in"] > 0


def test_clock_skew_on_signed_assertion_fails_cleanly(sim, run_playbook, tmp_path):
    """A server whose clock runs far ahead sees our short-lived assertion as expired."""
    _out(tmp_path)
    sim.add_faults("oauth2", [{"kind": "clock_skew", "seconds": 900, "count": 5}])
    run = run_playbook("clock_skew.yml", verbosity=3)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    entries = [e for e in sim.audit("oauth2") if e["endpoint"] == "token"]
    assert entries and all(e["auth_method"] == "private_key_jwt" for e in entries)
    assert len(entries) == 1, "a refused assertion is not retried"


def _write_key(path: Path, key, passphrase: str | None = None) -> str:
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    path.chmod(0o600)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_private_key_jwt_every_algorithm_and_encrypted_key(sim, run_playbook, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa

    _out(tmp_path)
    passphrase = strong_secret("passphrase-")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [
        ("jwt-rs256", rsa_key, None, None),  # algorithm defaults from the key: RS256
        ("jwt-rs384", rsa_key, "RS384", None),
        ("jwt-rs512", rsa_key, "RS512", None),
        ("jwt-ps256", rsa_key, "PS256", passphrase),
        ("jwt-es384", ec.generate_private_key(ec.SECP384R1()), None, None),  # defaults to ES384
    ]
    clients = []
    for client_id, key, alg, secret in cases:
        key_path = tmp_path / f"{client_id}.pem"
        public_pem = _write_key(key_path, key, secret)
        sim.add_client("oauth2", client_id=client_id, public_key_pem=public_pem, kid=f"kid-{client_id}",
                       auth_methods=["private_key_jwt"])
        entry = {"client_id": client_id, "key_path": str(key_path), "kid": f"kid-{client_id}"}
        if alg:
            entry["alg"] = alg
        if secret:
            entry["passphrase"] = secret
        clients.append(entry)
    run = run_playbook("jwt_keys.yml", extra_vars={"jwt_clients": clients}, verbosity=4)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert_absent([passphrase] + [Path(c["key_path"]).read_text() for c in clients], run)
    assert token_requests(sim, "oauth2") == len(cases)


def test_scope_extra_params_and_basic_encodings(sim, run_playbook, tmp_path):
    _out(tmp_path)
    scoped, awkward = strong_secret("scoped-"), strong_secret("awkward-")
    sim.add_client("oauth2", client_id="scoped-client", client_secret=scoped, scope="api.read api.write")
    sim.add_client("oauth2", client_id="raw-client", client_secret=awkward, basic_encoding="raw")
    sim.add_client("oauth2", client_id="form-client", client_secret=awkward, basic_encoding="form")
    run = run_playbook("client_options.yml", extra_vars={"scoped_secret": scoped, "raw_secret": awkward},
                       verbosity=4)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert_absent([scoped, awkward], run)
    first = [e for e in sim.audit("oauth2") if e["endpoint"] == "token"][0]
    assert first["params"] == ["audience", "grant_type", "scope"]


def test_demo_playbook_shows_no_secret(sim, run_playbook, tmp_path):
    """The demo at -vvvv: tokens go to app.ini (their destination) and nowhere else."""
    state = tmp_path / "demo-state"
    state.mkdir(mode=0o700)  # as the simulator makes it for `make demo`: recovery files need a private directory
    vars_file = tmp_path / "demo-vars.json"
    vars_file.write_text(json.dumps(sim.demo_vars()))
    env = {"APIAUTH_SIM_VARS": str(vars_file), "APIAUTH_SIM_STATE_DIR": str(state)}
    run = run_playbook(str(ROOT / "playbooks" / "demo.yml"), verbosity=4, env=env)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    app_ini = (state / "app.ini").read_text()
    tokens = [line.split("=", 1)[1].strip().split()[-1] for line in app_ini.splitlines() if "=" in line]
    assert len(tokens) == 2 and all(len(t) >= 20 for t in tokens)
    # Generated secrets have one destination each: their recovery files.
    generated = [json.loads((state / "thrive-apikey.json").read_text())["api_key"],
                 json.loads((state / "thoughttrace-client.json").read_text())["client_secret"]]
    assert all(len(secret) >= 20 for secret in generated)
    # The store (secret_store, file backend) keeps them; app_config delivered every vendor's token.
    store = json.loads((state / "store" / "credentials.json").read_text())
    assert store["thrive_api_key"] == generated[0] and store["thoughttrace_client_secret"] == generated[1]
    assert (state / "store" / "credentials.json").stat().st_mode & 0o777 == 0o600
    app_files = {name: (state / "app" / name).read_text() for name in ("app.ini", "app.env", "thrive.json")}
    assert all((state / "app" / name).stat().st_mode & 0o777 == 0o600 for name in app_files)
    assert generated[0] in app_files["thrive.json"] and generated[1] in app_files["app.env"]
    delivered = [line.split("=", 1)[1].strip().strip('"').split()[-1]
                 for text in app_files.values() for line in text.splitlines() if "=" in line]
    delivered += list(json.loads(app_files["thrive.json"])["thrive"].values())
    assert len(delivered) >= 7 and all(len(value) >= 20 for value in delivered)
    # The cache here is not encrypted, so it holds tokens by design; the output must not.
    assert_absent(tokens + generated + delivered + _demo_secrets(sim), run)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.throughline_token,
    pytest.mark.playbook_demo,
]
