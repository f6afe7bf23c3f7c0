"""End-to-end tests of the token-endpoint simulator over real HTTPS on loopback."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
import urllib.parse
import uuid
from typing import Any

import jwt
import pytest
import requests
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from simulators.fixtures import PACKAGE_DIR, Simulator, SimulatorError

GRANT = {"grant_type": "client_credentials"}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Every character that Basic form-encoding changes or that splits credentials.
SPECIAL = ":+/% &="


# --------------------------------------------------------------------------- helpers


def new_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_secret(sensitive: Any) -> str:
    secret = f"s{uuid.uuid4().hex}{SPECIAL}{uuid.uuid4().hex[:8]}"
    sensitive.add(secret)
    return secret


def fp(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def basic(client_id: str, secret: str, form: bool = True) -> dict[str, str]:
    """Authorization header; form=True is RFC 6749 §2.3.1 (form-urlencode, then base64)."""
    if form:
        client_id, secret = urllib.parse.quote_plus(client_id), urllib.parse.quote_plus(secret)
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token(sim: Simulator, sensitive: Any, vendor: str = "oauth2", **kwargs: Any) -> requests.Response:
    """POST to a token endpoint; records any issued token as sensitive."""
    timeout = kwargs.pop("timeout", 10)
    response = requests.post(sim.token_url(vendor), verify=sim.ca_path, timeout=timeout, **kwargs)
    try:
        sensitive.add(response.json().get("access_token"))
    except (ValueError, AttributeError):
        pass
    return response


def last_token_entry(sim: Simulator, vendor: str = "oauth2") -> dict[str, Any]:
    return [e for e in sim.audit(vendor) if e["endpoint"] == "token"][-1]


def assert_oauth_error(response: requests.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str)
    return body


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: Any) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def assertion(sim: Simulator, sensitive: Any, key: Any, client_id: str, alg: str = "ES256",
              kid: str | None = "k1", **overrides: Any) -> str:
    """A signed RFC 7523 client assertion; override/remove claims (value None removes)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id, "sub": client_id, "aud": sim.token_url("oauth2"),
        "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex,
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    headers = {"kid": kid} if kid else None
    signed = jwt.encode(claims, key, algorithm=alg, headers=headers)
    sensitive.add(signed)
    return signed


def jwt_form(signed: str, **extra: str) -> dict[str, str]:
    return dict(GRANT, client_assertion_type=JWT_BEARER, client_assertion=signed, **extra)


# --------------------------------------------------------------------------- server basics


def test_health_state_dir_and_demo_vars(sim: Simulator) -> None:
    answer = requests.get(sim.url("/_sim/health"), verify=sim.ca_path, timeout=5).json()
    assert answer["ok"] is True
    assert sim.base_url.startswith("https://127.0.0.1:")
    assert stat.S_IMODE(os.stat(sim.state_dir).st_mode) == 0o700
    demo = sim.demo_vars()
    expected = {
        "sim_base_url", "sim_ca_path", "oauth2_token_url", "throughline_token_url",
        "demo_basic_client_id", "demo_basic_client_secret", "demo_post_client_id", "demo_post_client_secret",
        "demo_jwt_client_id", "demo_jwt_key_path", "demo_jwt_key_id", "demo_mtls_client_id",
        "demo_mtls_cert_path", "demo_mtls_key_path", "throughline_client_id", "throughline_client_secret",
    }
    assert expected <= set(demo)
    assert demo["oauth2_token_url"] == sim.base_url + "/oauth2/token"
    assert demo["throughline_token_url"] == sim.base_url + "/throughline/oauth/token"
    assert demo["demo_jwt_key_id"] == "demo-kid-1"
    assert len(demo["demo_basic_client_secret"]) >= 48 and any(c in demo["demo_basic_client_secret"] for c in ":+/ ")
    for path in (sim.vars_path, demo["demo_jwt_key_path"], demo["demo_mtls_key_path"]):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    with open(os.path.join(sim.state_dir, "sim.json"), encoding="utf-8") as handle:
        assert json.load(handle)["ca_path"] == sim.ca_path


def test_demo_clients_work(sim: Simulator, sensitive: Any) -> None:
    demo = sim.demo_vars()
    r = token(sim, sensitive, data=GRANT, headers=basic(demo["demo_basic_client_id"], demo["demo_basic_client_secret"]))
    assert r.status_code == 200, r.text
    r = token(sim, sensitive, data=dict(GRANT, client_id="demo-post", client_secret=demo["demo_post_client_secret"]))
    assert r.status_code == 200, r.text
    with open(demo["demo_jwt_key_path"], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    r = token(sim, sensitive, data=jwt_form(assertion(sim, sensitive, key, "demo-jwt", kid="demo-kid-1")))
    assert r.status_code == 200, r.text
    r = token(sim, sensitive, data=dict(GRANT, client_id="demo-mtls"),
              cert=(demo["demo_mtls_cert_path"], demo["demo_mtls_key_path"]))
    assert r.status_code == 200, r.text
    r = token(sim, sensitive, "throughline", data=dict(
        GRANT, client_id=demo["throughline_client_id"], client_secret=demo["throughline_client_secret"]))
    assert r.status_code == 200, r.text


def test_unknown_path_is_404_and_audited(sim: Simulator) -> None:
    r = requests.get(sim.url("/nope"), verify=sim.ca_path, timeout=5)
    assert r.status_code == 404
    assert sim.audit(path="/nope")[-1]["status"] == 404


def test_admin_rejects_bad_input(sim: Simulator) -> None:
    with pytest.raises(SimulatorError):
        sim.add_faults("oauth2", [{"kind": "teleport"}])
    with pytest.raises(SimulatorError):
        sim.add_faults("nosuchvendor", [{"kind": "not_json"}])
    with pytest.raises(SimulatorError):
        sim.add_client("oauth2", client_id="x", basic_encoding="weird")
    with pytest.raises(SimulatorError):
        sim.add_client("oauth2", client_id="x", public_key_pem="not a key")


# --------------------------------------------------------------------------- client_secret_basic / _post


def test_basic_form_encoded_secret_accepted(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    r = token(sim, sensitive, data=GRANT, headers=basic(cid, secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 40
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Pragma"] == "no-cache"
    entry = last_token_entry(sim)
    assert entry["auth_method"] == "client_secret_basic"
    assert entry["client_id"] == cid
    assert entry["secret_fp"] == fp(secret)
    assert entry["token_fp"] == fp(body["access_token"])
    assert entry["query_present"] is False and entry["has_client_cert"] is False


def test_basic_raw_secret_refused_for_form_client(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    # requests' auth=(id, secret) does NOT form-encode: the classic client bug.
    r = token(sim, sensitive, data=GRANT, auth=(cid, secret))
    assert_oauth_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_raw_basic_client_accepts_raw_and_refuses_form(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret, basic_encoding="raw")
    assert token(sim, sensitive, data=GRANT, headers=basic(cid, secret, form=False)).status_code == 200
    assert_oauth_error(token(sim, sensitive, data=GRANT, headers=basic(cid, secret)), 401, "invalid_client")
    assert last_token_entry(sim)["secret_fp"] == fp(urllib.parse.quote_plus(secret))


def test_wrong_secret_and_unknown_client(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    wrong = secret + "x"
    sensitive.add(wrong)
    assert_oauth_error(token(sim, sensitive, data=GRANT, headers=basic(cid, wrong)), 401, "invalid_client")
    assert_oauth_error(token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=wrong)),
                       401, "invalid_client")
    assert_oauth_error(token(sim, sensitive, data=GRANT, headers=basic(new_id(), secret)), 401, "invalid_client")
    assert last_token_entry(sim)["error"] == "invalid_client"


def test_client_secret_post_accepted(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret, token_lifetime=120)
    r = token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=secret, resource="https://api.example"))
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 120
    entry = last_token_entry(sim)
    assert entry["auth_method"] == "client_secret_post"
    # Extra parameters are allowed and recorded by name only.
    assert entry["params"] == ["client_id", "client_secret", "grant_type", "resource"]
    assert "api.example" not in json.dumps(entry)


def test_restricted_auth_methods(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret, auth_methods=["client_secret_post"])
    assert_oauth_error(token(sim, sensitive, data=GRANT, headers=basic(cid, secret)), 401, "invalid_client")
    assert token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=secret)).status_code == 200


def test_two_auth_methods_at_once_refused(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    r = token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=secret), headers=basic(cid, secret))
    assert_oauth_error(r, 400, "invalid_request")


def test_credentials_in_query_refused(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    r = token(sim, sensitive, params={"client_id": cid, "client_secret": secret}, data=GRANT)
    assert_oauth_error(r, 400, "invalid_request")
    entry = last_token_entry(sim)
    assert entry["query_present"] is True
    assert entry["path"] == "/oauth2/token"


@pytest.mark.parametrize(("kwargs", "status", "error"), [
    ({"json": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
    ({"data": {"client_id": "x"}}, 400, "invalid_request"),
    ({"data": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
    ({"data": "grant_type=client_credentials&grant_type=client_credentials",
      "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400, "invalid_request"),
    ({"data": GRANT}, 401, "invalid_client"),
])
def test_malformed_token_requests(sim: Simulator, sensitive: Any, kwargs: dict[str, Any], status: int,
                                  error: str) -> None:
    assert_oauth_error(token(sim, sensitive, **kwargs), status, error)


def test_token_endpoint_is_post_only(sim: Simulator) -> None:
    r = requests.get(sim.token_url("oauth2"), verify=sim.ca_path, timeout=5)
    assert r.status_code == 405
    assert r.json()["error"] == "invalid_request"


def test_scope_rules(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret, scope="read write")
    creds = dict(GRANT, client_id=cid, client_secret=secret)
    assert token(sim, sensitive, data=creds).json()["scope"] == "read write"
    assert token(sim, sensitive, data=dict(creds, scope="read")).json()["scope"] == "read"
    assert_oauth_error(token(sim, sensitive, data=dict(creds, scope="read admin")), 400, "invalid_scope")


def test_concurrent_requests(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    before = sim.token_requests("oauth2")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: token(sim, sensitive, data=GRANT, headers=basic(cid, secret)).status_code,
                              range(24)))
    assert codes == [200] * 24
    assert sim.token_requests("oauth2") == before + 24


# --------------------------------------------------------------------------- private_key_jwt


@pytest.fixture
def jwt_client(sim: Simulator, ec_key: Any) -> str:
    cid = new_id("jwt")
    sim.add_client("oauth2", client_id=cid, public_key_pem=public_pem(ec_key), kid="k1")
    return cid


def test_private_key_jwt_accepted(sim: Simulator, sensitive: Any, ec_key: Any, jwt_client: str) -> None:
    signed = assertion(sim, sensitive, ec_key, jwt_client)
    r = token(sim, sensitive, data=jwt_form(signed, client_id=jwt_client))
    assert r.status_code == 200, r.text
    entry = last_token_entry(sim)
    assert entry["auth_method"] == "private_key_jwt"
    assert entry["client_id"] == jwt_client
    assert entry["assertion_fp"] == fp(signed)
    assert entry["secret_fp"] is None


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256"])
def test_private_key_jwt_rsa_algorithms(sim: Simulator, sensitive: Any, rsa_key: Any, alg: str) -> None:
    cid = new_id("rsa")
    sim.add_client("oauth2", client_id=cid, public_key_pem=public_pem(rsa_key))
    r = token(sim, sensitive, data=jwt_form(assertion(sim, sensitive, rsa_key, cid, alg=alg, kid=None)))
    assert r.status_code == 200, r.text


def test_private_key_jwt_replay_refused(sim: Simulator, sensitive: Any, ec_key: Any, jwt_client: str) -> None:
    signed = assertion(sim, sensitive, ec_key, jwt_client)
    assert token(sim, sensitive, data=jwt_form(signed)).status_code == 200
    body = assert_oauth_error(token(sim, sensitive, data=jwt_form(signed)), 400, "invalid_client")
    assert "replay" in body["error_description"]


@pytest.mark.parametrize(("overrides", "words"), [
    ({"aud": "https://127.0.0.1:1/oauth2/token"}, "aud"),
    ({"exp": int(time.time()) - 5, "iat": int(time.time()) - 60}, "expired"),
    ({"exp": int(time.time()) + 3600}, "exp"),
    ({"iat": None}, "iat"),
    ({"exp": None}, "exp"),
    ({"jti": None}, "jti"),
    ({"iss": "someone-else"}, "iss"),
    ({"sub": "someone-else"}, "sub"),
])
def test_private_key_jwt_bad_claims(sim: Simulator, sensitive: Any, ec_key: Any, jwt_client: str,
                                    overrides: dict[str, Any], words: str) -> None:
    signed = assertion(sim, sensitive, ec_key, jwt_client, **overrides)
    body = assert_oauth_error(token(sim, sensitive, data=jwt_form(signed, client_id=jwt_client)), 401, "invalid_client")
    assert words in body["error_description"]
    assert signed not in body["error_description"]


def test_private_key_jwt_bad_signature_kid_and_alg(sim: Simulator, sensitive: Any, ec_key: Any,
                                                   jwt_client: str) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    body = assert_oauth_error(token(sim, sensitive, data=jwt_form(assertion(sim, sensitive, other, jwt_client))),
                              401, "invalid_client")
    assert "signature" in body["error_description"]
    body = assert_oauth_error(
        token(sim, sensitive, data=jwt_form(assertion(sim, sensitive, ec_key, jwt_client, kid="k2"))),
        401, "invalid_client")
    assert "kid" in body["error_description"]
    hs = assertion(sim, sensitive, "a-shared-secret-that-is-long-enough-for-hs256", jwt_client, alg="HS256")
    assert "alg" in assert_oauth_error(token(sim, sensitive, data=jwt_form(hs)), 401,
                                       "invalid_client")["error_description"]
    unsigned = assertion(sim, sensitive, None, jwt_client, alg="none")
    assert_oauth_error(token(sim, sensitive, data=jwt_form(unsigned)), 401, "invalid_client")
    wrong_type = dict(jwt_form(assertion(sim, sensitive, ec_key, jwt_client)), client_assertion_type="urn:x")
    assert_oauth_error(token(sim, sensitive, data=wrong_type), 401, "invalid_client")


def test_private_key_jwt_registered_audience(sim: Simulator, sensitive: Any, ec_key: Any) -> None:
    cid = new_id("aud")
    sim.add_client("oauth2", client_id=cid, public_key_pem=public_pem(ec_key), audience="https://issuer.example")
    ok = assertion(sim, sensitive, ec_key, cid, aud=["https://issuer.example", "other"])
    assert token(sim, sensitive, data=jwt_form(ok)).status_code == 200
    url_aud = assertion(sim, sensitive, ec_key, cid)  # token URL is not enough once an audience is set
    assert_oauth_error(token(sim, sensitive, data=jwt_form(url_aud)), 401, "invalid_client")


# --------------------------------------------------------------------------- tls_client_auth


def test_tls_client_auth(sim: Simulator, sensitive: Any, tmp_path: Any) -> None:
    cid = new_id("mtls")
    cert = sim.issue_client_cert(cid)
    other = sim.issue_client_cert(cid + "-other")
    for path in cert:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    sim.add_client("oauth2", client_id=cid, cert_fingerprint=Simulator.cert_fingerprint(cert[0]))
    form = dict(GRANT, client_id=cid)

    r = token(sim, sensitive, data=form, cert=cert)
    assert r.status_code == 200, r.text
    entry = last_token_entry(sim)
    assert entry["auth_method"] == "tls_client_auth" and entry["has_client_cert"] is True
    assert entry["client_cert_cn"] == cid
    assert entry["client_cert_sha256"] == Simulator.cert_fingerprint(cert[0])

    assert "certificate" in assert_oauth_error(token(sim, sensitive, data=form), 401,
                                               "invalid_client")["error_description"]
    assert_oauth_error(token(sim, sensitive, data=form, cert=other), 401, "invalid_client")

    # A certificate from a CA the server does not trust fails the TLS handshake.
    foreign = trustme.CA().issue_cert("intruder.example")
    cert_file, key_file = tmp_path / "f.pem", tmp_path / "f.key"
    foreign.cert_chain_pems[0].write_to_path(str(cert_file))
    foreign.private_key_pem.write_to_path(str(key_file))
    with pytest.raises(requests.exceptions.ConnectionError):
        token(sim, sensitive, data=form, cert=(str(cert_file), str(key_file)))


# --------------------------------------------------------------------------- sample endpoints


def test_sample_endpoints_accept_only_their_tokens(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    sim.add_client("throughline", client_id=cid, client_secret=secret)
    generic = token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=secret)).json()["access_token"]
    tline = token(sim, sensitive, "throughline",
                  data=dict(GRANT, client_id=cid, client_secret=secret)).json()["access_token"]

    def get(path: str, tok: str | None) -> requests.Response:
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        return requests.get(sim.url(path), headers=headers, verify=sim.ca_path, timeout=5)

    who = get("/oauth2/api/whoami", generic)
    assert who.status_code == 200 and who.json()["client_id"] == cid
    lines = get("/throughline/api/v1/helplines", tline)
    assert lines.status_code == 200 and lines.json()["helplines"]
    assert sim.audit(path="/throughline/api/v1/helplines")[-1]["token_fp"] == fp(tline)

    for path, tok in (("/oauth2/api/whoami", tline), ("/throughline/api/v1/helplines", generic),
                      ("/oauth2/api/whoami", "not-a-token"), ("/oauth2/api/whoami", None)):
        r = get(path, tok)
        assert r.status_code == 401 and r.json()["error"] == "invalid_token", (path, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")

    assert sim.expire_tokens("oauth2") >= 1
    assert get("/oauth2/api/whoami", generic).status_code == 401


def test_token_expires(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret, token_lifetime=1)
    body = token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=secret)).json()
    assert body["expires_in"] == 1
    time.sleep(1.1)
    r = requests.get(sim.url("/oauth2/api/whoami"), headers={"Authorization": "Bearer " + body["access_token"]},
                     verify=sim.ca_path, timeout=5)
    assert r.status_code == 401


# --------------------------------------------------------------------------- ThroughLine


def test_throughline_token(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id("tl"), new_secret(sensitive)
    sim.add_client("throughline", client_id=cid, client_secret=secret)
    r = token(sim, sensitive, "throughline", data=dict(GRANT, client_id=cid, client_secret=secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"  # lowercase on purpose
    assert body["expires_in"] == 7200
    assert body["scope"] == "public"
    assert last_token_entry(sim, "throughline")["path"] == "/throughline/oauth/token"
    # Only client_secret_post is supported by the vendor.
    assert_oauth_error(token(sim, sensitive, "throughline", data=GRANT, headers=basic(cid, secret)),
                       401, "invalid_client")


def test_throughline_revocation(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id("tl"), new_secret(sensitive)
    sim.add_client("throughline", client_id=cid, client_secret=secret)
    form = dict(GRANT, client_id=cid, client_secret=secret)
    sim.revoke_client("throughline", cid)
    body = assert_oauth_error(token(sim, sensitive, "throughline", data=form), 401, "invalid_client")
    assert "revoked" in body["error_description"]
    sim.revoke_client("throughline", cid, revoked=False)
    assert token(sim, sensitive, "throughline", data=form).status_code == 200


# --------------------------------------------------------------------------- faults


@pytest.fixture
def post_client(sim: Simulator, sensitive: Any) -> dict[str, str]:
    cid, secret = new_id("f"), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    return dict(GRANT, client_id=cid, client_secret=secret)


def test_fault_status_with_retry_after_and_count(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "status", "status": 503, "retry_after": 7, "count": 2}])
    before = sim.token_requests("oauth2")
    for _attempt in range(2):
        r = token(sim, sensitive, data=post_client)
        assert r.status_code == 503 and r.headers["Retry-After"] == "7"
        assert r.json()["error"]
    assert token(sim, sensitive, data=post_client).status_code == 200
    assert sim.token_requests("oauth2") == before + 3
    faulted = [e for e in sim.audit("oauth2") if e["fault"] == "status"][-2:]
    assert [e["status"] for e in faulted] == [503, 503]
    assert faulted[0]["client_id"] == post_client["client_id"]  # audited even when faulted


@pytest.mark.parametrize("status", [429, 500, 502, 504, 408])
def test_fault_status_codes(sim: Simulator, sensitive: Any, post_client: dict[str, str], status: int) -> None:
    sim.add_faults("oauth2", [{"kind": "status", "status": status}])
    r = token(sim, sensitive, data=post_client)
    assert r.status_code == status and "Retry-After" not in r.headers
    assert r.headers["Content-Type"].startswith("application/json")


def test_fault_wildcard_vendor_and_fifo(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id("tl"), new_secret(sensitive)
    sim.add_client("throughline", client_id=cid, client_secret=secret)
    form = dict(GRANT, client_id=cid, client_secret=secret)
    sim.add_faults("*", [{"kind": "status", "status": 500}, {"kind": "not_json"}])
    assert token(sim, sensitive, "throughline", data=form).status_code == 500
    assert token(sim, sensitive, "throughline", data=form).headers["Content-Type"].startswith("text/plain")
    assert token(sim, sensitive, "throughline", data=form).status_code == 200
    assert sim.pending_faults() == {}


def test_fault_html(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "html", "status": 502}])
    r = token(sim, sensitive, data=post_client)
    assert r.status_code == 502
    assert r.headers["Content-Type"].startswith("text/html") and "<html>" in r.text


def test_fault_delay(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "delay", "seconds": 1.0}])
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        token(sim, sensitive, data=post_client, timeout=0.3)
    assert time.monotonic() - started < 1.0
    assert token(sim, sensitive, data=post_client).status_code == 200


def test_a_request_still_running_when_the_audit_is_cleared_is_not_audited_after(
        sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    """A delayed answer the client gave up on ends after the next test cleared the audit: it must not count there."""
    for clear in (False, True):
        sim.clear_audit()
        sim.add_faults("oauth2", [{"kind": "delay", "seconds": 1.0}])
        with pytest.raises(requests.exceptions.ReadTimeout):
            token(sim, sensitive, data=post_client, timeout=0.2)
        if clear:
            sim.clear_audit()
        time.sleep(1.5)  # the server's delay ends and the request is recorded, or not
        # Positive control (clear False): the same late request is audited when no clear came between.
        assert sim.token_requests("oauth2") == (0 if clear else 1)


def test_fault_delay_then_answers(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "delay", "seconds": 0.5}])
    started = time.monotonic()
    assert token(sim, sensitive, data=post_client).status_code == 200
    assert time.monotonic() - started >= 0.5


def test_fault_reset_before(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "reset_before"}])
    before = sim.token_requests("oauth2")
    with pytest.raises(requests.exceptions.ConnectionError):
        token(sim, sensitive, data=post_client)
    assert sim.token_requests("oauth2") == before  # nothing was read
    assert sim.audit()[-1]["endpoint"] == "connection" and sim.audit()[-1]["fault"] == "reset_before"
    assert token(sim, sensitive, data=post_client).status_code == 200


def test_fault_reset_before_on_kept_alive_connection(sim: Simulator, sensitive: Any,
                                                     post_client: dict[str, str]) -> None:
    # No new connection to reset: the server drops the request unanswered instead.
    with requests.Session() as session:
        first = session.post(sim.token_url("oauth2"), data=post_client, verify=sim.ca_path, timeout=10)
        sensitive.add(first.json()["access_token"])
        sim.add_faults("oauth2", [{"kind": "reset_before"}])
        with pytest.raises(requests.exceptions.ConnectionError):
            session.post(sim.token_url("oauth2"), data=post_client, verify=sim.ca_path, timeout=10)
    assert last_token_entry(sim)["fault"] == "reset_before"
    assert sim.pending_faults() == {}


def test_fault_reset_after(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "reset_after"}])
    with pytest.raises(requests.exceptions.ConnectionError):
        token(sim, sensitive, data=post_client)
    entry = last_token_entry(sim)
    assert entry["fault"] == "reset_after" and entry["client_id"] == post_client["client_id"]
    assert token(sim, sensitive, data=post_client).status_code == 200


def test_fault_truncated_json(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "truncated_json"}])
    r = token(sim, sensitive, data=post_client)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(r.text)
    assert r.text.startswith("{")


def test_fault_not_json(sim: Simulator, sensitive: Any, post_client: dict[str, str]) -> None:
    sim.add_faults("oauth2", [{"kind": "not_json"}])
    r = token(sim, sensitive, data=post_client)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(ValueError):
        r.json()


@pytest.mark.parametrize("field", ["expires_in", "access_token", "token_type"])
def test_fault_missing_field(sim: Simulator, sensitive: Any, post_client: dict[str, str], field: str) -> None:
    sim.add_faults("oauth2", [{"kind": "missing_field", "field": field}])
    body = token(sim, sensitive, data=post_client).json()
    assert field not in body
    if "access_token" in body:  # still a real, usable token
        r = requests.get(sim.url("/oauth2/api/whoami"), headers={"Authorization": "Bearer " + body["access_token"]},
                         verify=sim.ca_path, timeout=5)
        assert r.status_code == 200


@pytest.mark.parametrize("value", ["abc", 0, -5, "3600", 1.5, None])
def test_fault_field_value(sim: Simulator, sensitive: Any, post_client: dict[str, str], value: Any) -> None:
    sim.add_faults("oauth2", [{"kind": "field_value", "field": "expires_in", "value": value}])
    body = token(sim, sensitive, data=post_client).json()
    assert body["expires_in"] == value and type(body["expires_in"]) is type(value)


@pytest.mark.parametrize(("skew", "words"), [(1000, "expired"), (-1000, "iat")])
def test_fault_clock_skew(sim: Simulator, sensitive: Any, ec_key: Any, jwt_client: str, skew: int,
                          words: str) -> None:
    sim.add_faults("oauth2", [{"kind": "clock_skew", "seconds": skew}])
    body = assert_oauth_error(token(sim, sensitive, data=jwt_form(assertion(sim, sensitive, ec_key, jwt_client))),
                              401, "invalid_client")
    assert words in body["error_description"]
    assert last_token_entry(sim)["fault"] == "clock_skew"
    assert token(sim, sensitive, data=jwt_form(assertion(sim, sensitive, ec_key, jwt_client))).status_code == 200


# --------------------------------------------------------------------------- audit hygiene and CLI


def test_audit_file_matches_memory_and_has_no_secrets(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id(), new_secret(sensitive)
    sim.add_client("oauth2", client_id=cid, client_secret=secret)
    token(sim, sensitive, data=dict(GRANT, client_id=cid, client_secret=secret))
    token(sim, sensitive, params={"client_secret": secret}, data=GRANT)
    with open(sim.audit_log, encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert lines[-2:] == sim.audit()[-2:]
    required = {"ts", "vendor", "method", "path", "status", "client_id", "auth_method", "secret_fp", "token_fp",
                "fault", "error", "query_present", "has_client_cert", "params"}
    assert all(required <= set(entry) for entry in lines)
    assert not [e for e in lines if e["path"] and e["path"].startswith("/_sim/")]
    assert not sensitive.leaks([sim.audit_log, sim.log_path])


def test_clear_audit(sim: Simulator) -> None:
    requests.get(sim.url("/nope"), verify=sim.ca_path, timeout=5)
    sim.clear_audit()
    assert sim.audit() == []
    with open(sim.audit_log, encoding="utf-8") as handle:
        assert handle.read() == ""


def test_cli_run_passes_env_and_exit_code(tmp_path: Any) -> None:
    state = tmp_path / "run-state"
    script = (
        "import os, sys, json, requests\n"
        "base = os.environ['APIAUTH_SIM_BASE_URL']\n"
        "r = requests.get(base + '/_sim/health', verify=os.environ['APIAUTH_SIM_CA_PATH'], timeout=5)\n"
        "assert r.json()['ok'] is True\n"
        "assert os.path.isfile(os.environ['APIAUTH_SIM_VARS'])\n"
        "assert os.environ['APIAUTH_SIM_STATE_DIR'] == " + repr(str(state)) + "\n"
        "sys.exit(7)\n"
    )
    done = subprocess.run([sys.executable, PACKAGE_DIR, "run", "--state-dir", str(state), "--",
                           sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 7, done.stderr
    assert not (state / "sim.json").exists()  # removed on shutdown
    secret_values = [v for k, v in _read_vars(state / "demo-vars.yml").items() if k.endswith("_secret")]
    assert secret_values and not any(v in done.stdout + done.stderr for v in secret_values)


def _read_vars(path: Any) -> dict[str, str]:
    from simulators.varsfile import read_vars_file  # pylint: disable=import-outside-toplevel

    return read_vars_file(str(path))
