"""Thredd, ThoughtTrace and THRIVE end to end against the simulator."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import assert_absent, assert_no_traceback, strong_secret
from simulators.fixtures import make_self_signed_cert

REGIONS = {"default": 0, "emea": 1, "apac": 2}


def _out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return out


def _result(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "out" / "result.json").read_text())


def _rsa_key_file(path: Path) -> tuple:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return str(path), pem.decode(), public


@pytest.fixture
def prod_jwt_client(sim, tmp_path):
    """A production private_key_jwt client with its own organisation, key and signing certificate."""
    key_path, key_pem, public = _rsa_key_file(tmp_path / "prod-signing.key")
    cert = tmp_path / "prod-signing.pem"
    cert.write_text(make_self_signed_cert(key_pem, 350))
    sim.add_client("thredd", client_id="prod-jwt-client", environment="production", organisation_id="prod-org",
                   public_key_pem=public, kid="prod-kid")
    return {"client_id": "prod-jwt-client", "key_path": key_path, "key_id": "prod-kid", "signing_cert": str(cert),
            "jwks_url": f"{sim.base_url}/thredd/jwks/prod-org/jwks.json", "key_pem": key_pem}


def _thredd_case(sim, demo, prod_jwt, environment, connectivity, auth_method, region) -> dict:
    case = {"environment": environment, "connectivity": connectivity, "auth_method": auth_method,
            "region": region, "region_number": REGIONS[region], "url": sim.thredd_url(environment, connectivity)}
    if auth_method == "client_secret":
        prefix = "thredd_uat" if environment == "uat" else "thredd_production"
        case.update(client_id=demo[f"{prefix}_client_id"], client_secret=demo[f"{prefix}_client_secret"])
    elif environment == "uat":
        case.update(client_id=demo["thredd_uat_jwt_client_id"], key_path=demo["thredd_signing_key_path"],
                    key_id=demo["thredd_key_id"], signing_cert=demo["thredd_signing_cert_path"],
                    jwks_url=f"{demo['thredd_jwks_base_url']}/{demo['thredd_organisation_id']}/jwks.json")
    else:
        case.update({k: prod_jwt[k] for k in ("client_id", "key_path", "key_id", "signing_cert", "jwks_url")})
    return case


@pytest.mark.smoke
def test_thredd_every_combination_calls_the_api(sim, run_playbook, tmp_path, prod_jwt_client):
    out = _out(tmp_path)
    demo = sim.demo_vars()
    cases = [_thredd_case(sim, demo, prod_jwt_client, *combo) for combo in itertools.product(
        ("uat", "production"), ("tls", "mtls"), ("client_secret", "private_key_jwt"), tuple(REGIONS))]
    run = run_playbook("thredd_matrix.yml", extra_vars={"thredd_cases": cases}, verbosity=4)
    assert run.rc == 0, run.output[-5000:]
    assert_no_traceback(run)
    # One token per environment x connectivity x auth method: the region only changes a header.
    assert sim.token_requests("thredd") == 8
    token_calls = [e for e in sim.audit("thredd") if e.get("endpoint") == "token"]
    assert sorted({(e["environment"], e["connectivity"]) for e in token_calls}) == [
        ("production", "mtls"), ("production", "tls"), ("uat", "mtls"), ("uat", "tls")]
    tokens = json.loads((out / "tokens.json").read_text())
    assert len(set(tokens)) == 8
    secrets = [demo["thredd_uat_client_secret"], demo["thredd_production_client_secret"],
               Path(demo["thredd_signing_key_path"]).read_text(), prod_jwt_client["key_pem"],
               Path(demo["thredd_transport_key_path"]).read_text()]
    assert_absent(tokens + secrets, run)


def test_thredd_switching_environment_never_reuses_a_token(sim, run_playbook, tmp_path):
    _out(tmp_path)
    demo = sim.demo_vars()
    uat = {"environment": "uat", "client_id": demo["thredd_uat_client_id"],
           "client_secret": demo["thredd_uat_client_secret"], "url": sim.thredd_url("uat", "tls")}
    prod = {"environment": "production", "client_id": demo["thredd_production_client_id"],
            "client_secret": demo["thredd_production_client_secret"], "url": sim.thredd_url("production", "tls")}
    digests = []
    for case in (uat, prod, uat, prod):
        assert run_playbook("thredd_fetch.yml", extra_vars={"t": case}).rc == 0
        result = _result(tmp_path)
        assert not result["failed"], result["msg"]
        digests.append(result["token_sha256"])
    assert digests[0] == digests[2] and digests[1] == digests[3] and digests[0] != digests[1]
    assert sim.token_requests("thredd") == 2


def test_thredd_same_urls_other_environment_gets_its_own_token(sim, run_playbook, tmp_path):
    """Even with token_url and base_url overridden to one place, UAT never serves production."""
    _out(tmp_path)
    demo = sim.demo_vars()
    base = {"client_id": demo["thredd_uat_client_id"], "client_secret": demo["thredd_uat_client_secret"],
            "url": sim.thredd_url("uat", "tls")}
    assert run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, environment="uat")}).rc == 0
    assert run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, environment="production")}).rc == 0
    assert sim.token_requests("thredd") == 2


def test_thredd_mtls_certificates_checked_before_any_request(sim, run_playbook, tmp_path):
    _out(tmp_path)
    demo = sim.demo_vars()
    case = {"connectivity": "mtls", "client_id": demo["thredd_uat_client_id"],
            "client_secret": demo["thredd_uat_client_secret"], "url": sim.thredd_url("uat", "mtls")}

    run = run_playbook("thredd_fetch.yml", extra_vars={"t": case})
    assert "needs the Thredd transport certificate" in _result(tmp_path)["msg"]
    assert_no_traceback(run)

    expired_cert, expired_key = sim.issue_client_cert("expired-transport", expired=True)
    run_playbook("thredd_fetch.yml", extra_vars={"t": dict(case, client_cert=expired_cert, client_key=expired_key)})
    result = _result(tmp_path)
    assert result["failed"] and "transport certificate" in result["msg"] and "expired on" in result["msg"]

    assert sim.token_requests("thredd") == 0, "nothing is sent with a missing or expired certificate"

    soon_cert, soon_key = sim.issue_client_cert("soon-transport", days_valid=10)
    run = run_playbook("thredd_fetch.yml", extra_vars={"t": dict(case, client_cert=soon_cert, client_key=soon_key)})
    result = _result(tmp_path)
    assert not result["failed"], result["msg"]
    assert "transport certificate" in run.output and "expires in" in run.output
    assert sim.token_requests("thredd") == 1


def test_thredd_wrong_keys_fail_clearly(sim, run_playbook, tmp_path):
    _out(tmp_path)
    demo = sim.demo_vars()
    org = demo["thredd_organisation_id"]
    jwks_url = f"{demo['thredd_jwks_base_url']}/{org}/jwks.json"
    stranger_path, stranger_pem = _rsa_key_file(tmp_path / "stranger.key")[:2]
    base = {"auth_method": "private_key_jwt", "client_id": demo["thredd_uat_jwt_client_id"],
            "key_id": demo["thredd_key_id"], "url": sim.thredd_url("uat", "tls")}

    # A key whose public half Thredd does not publish: the preflight says so before the token call.
    run = run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, key_path=stranger_path, jwks_url=jwks_url)})
    result = _result(tmp_path)
    assert result["failed"] and "is not the public half of the private key" in result["msg"]
    assert sim.token_requests("thredd") == 0
    assert_absent([stranger_pem], run)

    # An unknown key id in the JWKS.
    signing_key = demo["thredd_signing_key_path"]
    run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, key_path=signing_key, key_id="no-such-kid",
                                                           jwks_url=jwks_url)})
    assert "is not published in the organisation's JWKS" in _result(tmp_path)["msg"]

    # Without the preflight, Thredd itself refuses the assertion: a clean invalid_client.
    run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, key_path=stranger_path)})
    result = _result(tmp_path)
    assert result["failed"] and "HTTP 401 invalid_client" in result["msg"] and "Thredd" in result["msg"]

    # A signing certificate that belongs to another key, or has expired, fails before any request.
    before = sim.token_requests("thredd")
    other_cert = tmp_path / "other.pem"
    other_cert.write_text(make_self_signed_cert(stranger_pem, 300))
    run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, key_path=signing_key,
                                                           signing_cert=str(other_cert))})
    assert "does not belong to the private key" in _result(tmp_path)["msg"]
    expired_cert = tmp_path / "expired.pem"
    expired_cert.write_text(make_self_signed_cert(Path(demo["thredd_signing_key_path"]).read_text(), 10,
                                                  expired=True))
    run_playbook("thredd_fetch.yml", extra_vars={"t": dict(base, key_path=signing_key,
                                                           signing_cert=str(expired_cert))})
    result = _result(tmp_path)
    assert "signing certificate" in result["msg"] and "expired on" in result["msg"]
    assert sim.token_requests("thredd") == before


def test_thredd_uat_credentials_refused_by_production(sim, run_playbook, tmp_path):
    _out(tmp_path)
    demo = sim.demo_vars()
    run = run_playbook("thredd_fetch.yml", extra_vars={"t": {
        "environment": "production", "client_id": demo["thredd_uat_client_id"],
        "client_secret": demo["thredd_uat_client_secret"], "url": sim.thredd_url("production", "tls")}})
    result = _result(tmp_path)
    assert result["failed"] and "production needs its own credentials" in result["msg"]
    assert_absent([demo["thredd_uat_client_secret"]], run)


@pytest.mark.smoke
def test_thoughttrace_and_thrive(sim, run_playbook, tmp_path):
    out = _out(tmp_path)
    wrong = strong_secret("wrong-")
    run = run_playbook("other_vendors.yml", extra_vars={"wrong_secret": wrong}, verbosity=4)
    assert run.rc == 0, run.output[-5000:]
    assert_no_traceback(run)
    demo = sim.demo_vars()
    tokens = json.loads((out / "tokens.json").read_text())
    assert_absent(tokens + [wrong, demo["thoughttrace_client_secret"], demo["thrive_client_secret"]], run)
    assert sim.token_requests("thoughttrace") == 2  # one good, one refused
    thrive_calls = [e for e in sim.audit("thrive") if e.get("endpoint") == "token"]
    assert thrive_calls[0]["auth_method"] == "client_secret_basic"


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
]
