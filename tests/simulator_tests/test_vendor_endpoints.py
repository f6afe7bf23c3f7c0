"""Thredd (extra listeners, mTLS, org JWKS), ThoughtTrace, THRIVE and certificate validity, over real HTTPS."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import stat
import time
import urllib.parse
import uuid
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from simulators.fixtures import Simulator, SimulatorError, make_self_signed_cert

GRANT = {"grant_type": "client_credentials"}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LISTENERS = [("uat", "tls"), ("uat", "mtls"), ("production", "tls"), ("production", "mtls")]


# --------------------------------------------------------------------------- helpers


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_secret(sensitive: Any) -> str:
    secret = f"s{uuid.uuid4().hex}:+/% &={uuid.uuid4().hex[:8]}"
    sensitive.add(secret)
    return secret


def fp(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def post(sim: Simulator, sensitive: Any, url: str, **kwargs: Any) -> requests.Response:
    """POST to a token URL; records any issued token as sensitive."""
    response = requests.post(url, verify=sim.ca_path, timeout=10, **kwargs)
    try:
        sensitive.add(response.json().get("access_token"))
    except (ValueError, AttributeError):
        pass
    return response


def get(sim: Simulator, url: str, token: str | None = None, scheme: str = "Bearer", **kwargs: Any) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    return requests.get(url, headers=headers, verify=sim.ca_path, timeout=10, **kwargs)


def assert_oauth_error(response: requests.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str)
    return body


def last_entry(sim: Simulator, vendor: str, endpoint: str = "token") -> dict[str, Any]:
    return [e for e in sim.audit(vendor) if e["endpoint"] == endpoint][-1]


def public_pem(key: Any) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def signed_assertion(sensitive: Any, key: Any, client_id: str, aud: Any, kid: str | None, alg: str = "RS256",
                     **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    signed = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)
    sensitive.add(signed)
    return signed


def jwt_form(signed: str, **extra: str) -> dict[str, str]:
    return dict(GRANT, client_assertion_type=JWT_BEARER, client_assertion=signed, **extra)


def load_cert(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def not_after(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def days_left(cert: x509.Certificate) -> float:
    return (not_after(cert) - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def transport(sim: Simulator) -> tuple[str, str]:
    """A CA-signed transport certificate (any CA-signed cert is accepted by clients without cert_fingerprint)."""
    return sim.issue_client_cert(new_id("transport"), days_valid=30)


@pytest.fixture(scope="module")
def other_transport(sim: Simulator) -> tuple[str, str]:
    return sim.issue_client_cert(new_id("transport-b"), days_valid=30)


def thredd_secret_client(sim: Simulator, sensitive: Any, environment: str, **extra: Any) -> dict[str, str]:
    cid, secret = new_id(f"thredd-{environment}"), new_secret(sensitive)
    sim.add_client("thredd", client_id=cid, client_secret=secret, environment=environment, **extra)
    return dict(GRANT, client_id=cid, client_secret=secret)


def thredd_token(sim: Simulator, sensitive: Any, environment: str, connectivity: str, form: dict[str, str],
                 cert: tuple[str, str] | None = None) -> requests.Response:
    return post(sim, sensitive, sim.thredd_token_url(environment, connectivity), data=form, cert=cert)


def products(sim: Simulator, environment: str, connectivity: str, token: str | None, region: str | None = "0",
             cert: tuple[str, str] | None = None) -> requests.Response:
    headers = {"X-Region": region} if region is not None else {}
    return get(sim, sim.thredd_url(environment, connectivity) + "/core/api/v1/products", token,
               headers=headers, cert=cert)


# --------------------------------------------------------------------------- demo vars and listeners


def test_demo_vars_of_new_vendors(sim: Simulator) -> None:
    demo = sim.demo_vars()
    for environment, connectivity in LISTENERS:
        url = demo[f"thredd_{environment}_{connectivity}_url"]
        assert url == sim.thredd_url(environment, connectivity)
        assert url.startswith("https://127.0.0.1:") and not url.endswith("/") and url != sim.base_url
    assert len({sim.thredd_url(e, c) for e, c in LISTENERS}) == 4
    assert demo["thredd_jwks_base_url"] == sim.base_url + "/thredd/jwks"
    assert demo["thredd_key_id"] == "demo-thredd-kid" and demo["thredd_organisation_id"] == "demo-org-1"
    assert demo["thoughttrace_identity_url"] == sim.base_url + "/thoughttrace"
    assert demo["thrive_staging_base_url"] == sim.base_url + "/thrive/staging"
    assert demo["thrive_production_base_url"] == sim.base_url + "/thrive/production"
    assert demo["thrive_tenant_id"] == "eu-west-2_DemoTenant1"
    for key in ("thredd_signing_key_path", "thredd_signing_cert_path", "thredd_transport_cert_path",
                "thredd_transport_key_path"):
        assert stat.S_IMODE(os.stat(demo[key]).st_mode) == 0o600, key
    with open(demo["thredd_signing_key_path"], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    signing = load_cert(demo["thredd_signing_cert_path"])
    assert signing.public_key().public_numbers() == key.public_key().public_numbers()
    assert 349 < days_left(signing) <= 350
    transport = load_cert(demo["thredd_transport_cert_path"])
    with open(sim.ca_path, "rb") as handle:
        assert transport.issuer == x509.load_pem_x509_certificate(handle.read()).subject
    assert 349 < days_left(transport) <= 350
    assert sim.listener_url("main") == sim.base_url
    with pytest.raises(SimulatorError):
        sim.listener_url("nope")
    with pytest.raises(SimulatorError):
        sim.token_url("thredd")


def test_demo_clients_of_new_vendors(sim: Simulator, sensitive: Any) -> None:
    demo = sim.demo_vars()
    cert = (demo["thredd_transport_cert_path"], demo["thredd_transport_key_path"])
    uat = dict(GRANT, client_id=demo["thredd_uat_client_id"], client_secret=demo["thredd_uat_client_secret"])
    prod = dict(GRANT, client_id=demo["thredd_production_client_id"],
                client_secret=demo["thredd_production_client_secret"])
    for environment, form in (("uat", uat), ("production", prod)):
        assert thredd_token(sim, sensitive, environment, "tls", form).status_code == 200
        r = thredd_token(sim, sensitive, environment, "mtls", form, cert)
        assert r.status_code == 200, r.text
        assert products(sim, environment, "mtls", r.json()["access_token"], "1", cert).status_code == 200

    with open(demo["thredd_signing_key_path"], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    url = sim.thredd_token_url("uat", "tls")
    signed = signed_assertion(sensitive, key, demo["thredd_uat_jwt_client_id"], url, demo["thredd_key_id"])
    assert post(sim, sensitive, url, data=jwt_form(signed)).status_code == 200

    r = post(sim, sensitive, sim.url("/thoughttrace/connect/token"), data=dict(
        GRANT, client_id=demo["thoughttrace_client_id"], client_secret=demo["thoughttrace_client_secret"]))
    assert r.status_code == 200, r.text
    r = post(sim, sensitive, demo["thrive_staging_base_url"] + "/oauth2/token/" + demo["thrive_tenant_id"],
             data=dict(GRANT, client_id=demo["thrive_client_id"], client_secret=demo["thrive_client_secret"]))
    assert r.status_code == 200 and r.json()["scope"] == "api/read api/write", r.text


# --------------------------------------------------------------------------- Thredd: listeners, token, API


@pytest.mark.parametrize(("environment", "connectivity"), LISTENERS)
def test_thredd_listener_token_and_api(sim: Simulator, sensitive: Any, transport: tuple[str, str],
                                       environment: str, connectivity: str) -> None:
    form = thredd_secret_client(sim, sensitive, environment)
    cert = transport if connectivity == "mtls" else None
    r = thredd_token(sim, sensitive, environment, connectivity, form, cert)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) >= 40 and "scope" not in body
    assert r.headers["Cache-Control"] == "no-store"
    entry = last_entry(sim, "thredd")
    assert entry["listener"] == f"thredd-{environment}-{connectivity}"
    assert (entry["environment"], entry["connectivity"]) == (environment, connectivity)
    assert entry["auth_method"] == "client_secret_post" and entry["path"] == "/oauth2/token"
    assert entry["token_bound_to_cert"] is (connectivity == "mtls")

    tok = body["access_token"]
    for region in ("0", "1", "2"):
        r = products(sim, environment, connectivity, tok, region, cert)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["region"] == int(region) and isinstance(answer["region"], int)
        assert (answer["environment"], answer["connectivity"]) == (environment, connectivity)
        assert answer["client_id"] == form["client_id"] and len(answer["products"]) == 2
    api_entry = last_entry(sim, "thredd", "api")
    assert api_entry["region"] == 2 and api_entry["listener"] == f"thredd-{environment}-{connectivity}"
    assert api_entry["token_fp"] == fp(tok)

    for region in (None, "3", "EMEA", ""):
        r = products(sim, environment, connectivity, tok, region, cert)
        assert r.status_code == 400, (region, r.text)
        assert "X-Region" in r.json()["error_description"]
    assert last_entry(sim, "thredd", "api")["region"] == ""
    assert products(sim, environment, connectivity, None, "0", cert).status_code == 401


def test_thredd_listener_routes_are_separate(sim: Simulator) -> None:
    # The generic provider's paths are not served on a Thredd listener, nor the admin API.
    assert get(sim, sim.thredd_url("uat", "tls") + "/oauth2/api/whoami").status_code == 404
    assert get(sim, sim.thredd_url("uat", "tls") + "/_sim/health").status_code == 404
    r = get(sim, sim.thredd_token_url("uat", "tls"))
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_thredd_mtls_requires_a_client_certificate(sim: Simulator, sensitive: Any, transport: tuple[str, str],
                                                   tmp_path: Any) -> None:
    form = thredd_secret_client(sim, sensitive, "uat")
    with pytest.raises(requests.exceptions.ConnectionError):
        thredd_token(sim, sensitive, "uat", "mtls", form)
    refused = [e for e in sim.audit("thredd") if e["endpoint"] == "connection"][-1]
    assert refused["listener"] == "thredd-uat-mtls" and refused["error"] == "tls_handshake_failed"
    # The same request over plain TLS needs no certificate; over mTLS the transport cert works.
    assert thredd_token(sim, sensitive, "uat", "tls", form).status_code == 200
    assert thredd_token(sim, sensitive, "uat", "mtls", form, transport).status_code == 200
    # An expired CA-signed certificate fails the handshake too.
    expired = sim.issue_client_cert(new_id("expired"), expired=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        thredd_token(sim, sensitive, "uat", "mtls", form, expired)


def test_thredd_token_bound_to_transport_certificate(sim: Simulator, sensitive: Any, transport: tuple[str, str],
                                                     other_transport: tuple[str, str]) -> None:
    form = thredd_secret_client(sim, sensitive, "production")
    tok = thredd_token(sim, sensitive, "production", "mtls", form, transport).json()["access_token"]
    assert products(sim, "production", "mtls", tok, "0", transport).status_code == 200
    body = assert_oauth_error(products(sim, "production", "mtls", tok, "0", other_transport), 401, "invalid_token")
    assert "bound" in body["error_description"]
    # A bound token without its certificate is refused on the TLS host of the same environment too.
    assert_oauth_error(products(sim, "production", "tls", tok, "0"), 401, "invalid_token")
    # A token from the TLS token endpoint is not bound: the mTLS API refuses it.
    plain = thredd_token(sim, sensitive, "production", "tls", form).json()["access_token"]
    assert products(sim, "production", "tls", plain).status_code == 200
    assert_oauth_error(products(sim, "production", "mtls", plain, "0", transport), 401, "invalid_token")


def test_thredd_registered_cert_fingerprint(sim: Simulator, sensitive: Any, transport: tuple[str, str],
                                            other_transport: tuple[str, str]) -> None:
    form = thredd_secret_client(sim, sensitive, "uat", cert_fingerprint=Simulator.cert_fingerprint(transport[0]))
    assert thredd_token(sim, sensitive, "uat", "mtls", form, transport).status_code == 200
    body = assert_oauth_error(thredd_token(sim, sensitive, "uat", "mtls", form, other_transport), 401,
                              "invalid_client")
    assert "transport certificate" in body["error_description"]


def test_thredd_environments_are_separate(sim: Simulator, sensitive: Any) -> None:
    uat = thredd_secret_client(sim, sensitive, "uat")
    tok = thredd_token(sim, sensitive, "uat", "tls", uat).json()["access_token"]
    body = assert_oauth_error(products(sim, "production", "tls", tok), 401, "invalid_token")
    assert body == {"error": "invalid_token", "error_description": "token was not issued for this environment"}
    # Production needs new credentials: the UAT client is unknown there.
    body = assert_oauth_error(thredd_token(sim, sensitive, "production", "tls", uat), 401, "invalid_client")
    assert "production" in body["error_description"]
    # The same client id may exist in both environments, with its own secret in each.
    prod_secret = new_secret(sensitive)
    sim.add_client("thredd", client_id=uat["client_id"], client_secret=prod_secret, environment="production")
    prod = dict(uat, client_secret=prod_secret)
    assert thredd_token(sim, sensitive, "production", "tls", prod).status_code == 200
    assert_oauth_error(thredd_token(sim, sensitive, "production", "tls", uat), 401, "invalid_client")
    assert thredd_token(sim, sensitive, "uat", "tls", uat).status_code == 200
    sim.revoke_client("thredd", uat["client_id"], environment="uat")
    assert "revoked" in assert_oauth_error(thredd_token(sim, sensitive, "uat", "tls", uat), 401,
                                           "invalid_client")["error_description"]
    assert thredd_token(sim, sensitive, "production", "tls", prod).status_code == 200


def test_thredd_refuses_basic_and_missing_credentials(sim: Simulator, sensitive: Any) -> None:
    form = thredd_secret_client(sim, sensitive, "uat")
    creds = (form["client_id"], form["client_secret"])
    r = post(sim, sensitive, sim.thredd_token_url("uat", "tls"), data=GRANT, auth=creds)
    body = assert_oauth_error(r, 401, "invalid_client")
    assert "body" in body["error_description"] and "Basic" in body["error_description"]
    assert last_entry(sim, "thredd")["auth_method"] == "client_secret_basic"
    assert_oauth_error(thredd_token(sim, sensitive, "uat", "tls", dict(GRANT, client_id=form["client_id"])),
                       401, "invalid_client")
    wrong = dict(form, client_secret=form["client_secret"] + "x")
    sensitive.add(wrong["client_secret"])
    assert_oauth_error(thredd_token(sim, sensitive, "uat", "tls", wrong), 401, "invalid_client")


def test_thredd_faults_and_token_count_cover_every_listener(sim: Simulator, sensitive: Any,
                                                            transport: tuple[str, str]) -> None:
    uat, prod = thredd_secret_client(sim, sensitive, "uat"), thredd_secret_client(sim, sensitive, "production")
    before = sim.token_requests("thredd")
    sim.add_faults("thredd", [{"kind": "status", "status": 503, "retry_after": 2, "count": 2}])
    r = thredd_token(sim, sensitive, "uat", "tls", uat)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert thredd_token(sim, sensitive, "production", "mtls", prod, transport).status_code == 503
    assert thredd_token(sim, sensitive, "production", "mtls", prod, transport).status_code == 200
    assert sim.token_requests("thredd") == before + 3
    faulted = [e for e in sim.audit("thredd") if e["fault"] == "status"][-2:]
    assert [e["listener"] for e in faulted] == ["thredd-uat-tls", "thredd-production-mtls"]
    assert faulted[0]["client_id"] == uat["client_id"]

    # An accept-time reset queued for Thredd hits the next new Thredd connection, not the main listener.
    sim.add_faults("thredd", [{"kind": "reset_before"}])
    assert get(sim, sim.url("/nope")).status_code == 404
    with pytest.raises(requests.exceptions.ConnectionError):
        thredd_token(sim, sensitive, "uat", "tls", uat)
    assert sim.pending_faults() == {}
    assert thredd_token(sim, sensitive, "uat", "tls", uat).status_code == 200


# --------------------------------------------------------------------------- Thredd: private_key_jwt + JWKS


@pytest.fixture
def thredd_jwt_client(sim: Simulator, rsa_key: Any) -> dict[str, str]:
    cid, org, kid = new_id("thredd-jwt"), new_id("org"), new_id("kid")
    sim.add_client("thredd", client_id=cid, environment="uat", organisation_id=org, public_key_pem=public_pem(rsa_key),
                   kid=kid)
    return {"client_id": cid, "organisation_id": org, "kid": kid}


def test_thredd_private_key_jwt_against_org_jwks(sim: Simulator, sensitive: Any, rsa_key: Any,
                                                 thredd_jwt_client: dict[str, str]) -> None:
    cid, org, kid = thredd_jwt_client["client_id"], thredd_jwt_client["organisation_id"], thredd_jwt_client["kid"]
    url = sim.thredd_token_url("uat", "tls")
    signed = signed_assertion(sensitive, rsa_key, cid, url, kid)
    r = post(sim, sensitive, url, data=jwt_form(signed))  # client_id in the body is optional
    assert r.status_code == 200, r.text
    entry = last_entry(sim, "thredd")
    assert entry["auth_method"] == "private_key_jwt" and entry["client_id"] == cid
    assert entry["assertion_fp"] == fp(signed)
    assert post(sim, sensitive, url, data=jwt_form(
        signed_assertion(sensitive, rsa_key, cid, url, kid), client_id=cid)).status_code == 200

    # Replay, a missing kid, an unknown kid, another listener's URL as aud: all refused.
    assert "replay" in assert_oauth_error(post(sim, sensitive, url, data=jwt_form(signed)), 400,
                                          "invalid_client")["error_description"]
    no_kid = signed_assertion(sensitive, rsa_key, cid, url, None)
    assert "kid" in assert_oauth_error(post(sim, sensitive, url, data=jwt_form(no_kid)), 401,
                                       "invalid_client")["error_description"]
    unknown = signed_assertion(sensitive, rsa_key, cid, url, "no-such-kid")
    assert "not found" in assert_oauth_error(post(sim, sensitive, url, data=jwt_form(unknown)), 401,
                                             "invalid_client")["error_description"]
    wrong_aud = signed_assertion(sensitive, rsa_key, cid, sim.thredd_token_url("uat", "mtls"), kid)
    assert "aud" in assert_oauth_error(post(sim, sensitive, url, data=jwt_form(wrong_aud)), 401,
                                       "invalid_client")["error_description"]

    # The org publishes a different key under the same kid: the signature no longer verifies.
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    published = sim.publish_jwks(org, [{"kid": kid, "public_key_pem": public_pem(impostor)}])
    assert [k["kid"] for k in published] == [kid]
    body = assert_oauth_error(post(sim, sensitive, url, data=jwt_form(
        signed_assertion(sensitive, rsa_key, cid, url, kid))), 401, "invalid_client")
    assert "signature" in body["error_description"]
    assert post(sim, sensitive, url, data=jwt_form(
        signed_assertion(sensitive, impostor, cid, url, kid))).status_code == 200
    # Dropping the kid leaves nothing to verify with.
    assert sim.delete_jwk(org, kid) == 1
    assert_oauth_error(post(sim, sensitive, url, data=jwt_form(
        signed_assertion(sensitive, impostor, cid, url, kid))), 401, "invalid_client")


def test_thredd_private_key_jwt_audience_mtls_and_environment(sim: Simulator, sensitive: Any, rsa_key: Any,
                                                              transport: tuple[str, str]) -> None:
    cid, org, kid = new_id("thredd-jwt"), new_id("org"), "k-ec"
    ec_key = ec.generate_private_key(ec.SECP256R1())
    sim.add_client("thredd", client_id=cid, environment="production", organisation_id=org,
                   public_key_pem=public_pem(ec_key), kid=kid, audience="https://threddid.com/oauth2/token")
    url = sim.thredd_token_url("production", "mtls")
    for aud in ("https://threddid.com/oauth2/token", url, [url, "other"]):
        signed = signed_assertion(sensitive, ec_key, cid, aud, kid, alg="ES256")
        r = post(sim, sensitive, url, data=jwt_form(signed), cert=transport)
        assert r.status_code == 200, (aud, r.text)
    tok = r.json()["access_token"]
    assert products(sim, "production", "mtls", tok, "2", transport).json()["client_id"] == cid
    # The published alg must match the assertion's.
    rs = signed_assertion(sensitive, rsa_key, cid, url, kid, alg="RS256")
    assert "alg" in assert_oauth_error(post(sim, sensitive, url, data=jwt_form(rs), cert=transport), 401,
                                       "invalid_client")["error_description"]
    # The production client does not exist in UAT.
    uat_url = sim.thredd_token_url("uat", "tls")
    signed = signed_assertion(sensitive, ec_key, cid, uat_url, kid, alg="ES256")
    assert_oauth_error(post(sim, sensitive, uat_url, data=jwt_form(signed)), 401, "invalid_client")


def test_thredd_jwks_endpoint(sim: Simulator, rsa_key: Any, thredd_jwt_client: dict[str, str]) -> None:
    org, kid = thredd_jwt_client["organisation_id"], thredd_jwt_client["kid"]
    ec_key = ec.generate_private_key(ec.SECP384R1())
    sim.add_client("thredd", client_id=new_id("thredd-jwt2"), environment="uat", organisation_id=org,
                   public_key_pem=public_pem(ec_key), kid="second")
    r = get(sim, sim.thredd_jwks_url(org))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    keys = {k["kid"]: k for k in r.json()["keys"]}
    assert set(keys) == {kid, "second"}
    rsa_jwk, ec_jwk = keys[kid], keys["second"]
    assert {k: rsa_jwk[k] for k in ("kty", "use", "alg")} == {"kty": "RSA", "use": "sig", "alg": "RS256"}
    assert {k: ec_jwk[k] for k in ("kty", "use", "alg", "crv")} == {
        "kty": "EC", "use": "sig", "alg": "ES384", "crv": "P-384"}
    for jwk in (rsa_jwk, ec_jwk):
        assert not {"d", "p", "q"} & set(jwk)
        for member in ("n", "e", "x", "y"):
            assert "=" not in jwk.get(member, "") and "+" not in jwk.get(member, "")

    def b64int(text: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")

    numbers = rsa_key.public_key().public_numbers()
    assert (b64int(rsa_jwk["n"]), b64int(rsa_jwk["e"])) == (numbers.n, numbers.e)
    assert len(base64.urlsafe_b64decode(ec_jwk["x"] + "==")) == 48
    assert b64int(ec_jwk["y"]) == ec_key.public_key().public_numbers().y
    assert jwt.PyJWK(rsa_jwk).key.public_numbers() == numbers  # a standard library reads it too

    entry = last_entry(sim, "thredd", "jwks")
    assert entry["status"] == 200 and entry["listener"] == "main"
    assert get(sim, sim.thredd_jwks_url(new_id("no-org"))).status_code == 404
    assert sim.demo_vars()["thredd_jwks_base_url"] + "/demo-org-1/jwks.json" == sim.thredd_jwks_url("demo-org-1")
    assert [k["kid"] for k in get(sim, sim.thredd_jwks_url("demo-org-1")).json()["keys"]] == ["demo-thredd-kid"]


def test_thredd_admin_validation(sim: Simulator, rsa_key: Any) -> None:
    with pytest.raises(SimulatorError, match="environment"):
        sim.add_client("thredd", client_id="x", client_secret="y")
    with pytest.raises(SimulatorError, match="environment"):
        sim.add_client("thredd", client_id="x", client_secret="y", environment="staging")
    with pytest.raises(SimulatorError, match="organisation_id"):
        sim.add_client("thredd", client_id="x", environment="uat", public_key_pem=public_pem(rsa_key), kid="k")
    with pytest.raises(SimulatorError, match="only"):
        sim.add_client("thredd", client_id="x", client_secret="y", environment="uat",
                       auth_methods=["client_secret_basic"])
    with pytest.raises(SimulatorError, match="private"):
        sim.publish_jwks("org-x", [dict(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key, as_dict=True), kid="k")])
    with pytest.raises(SimulatorError, match="kid"):
        sim.publish_jwks("org-x", [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}])
    with pytest.raises(SimulatorError, match="does not use"):
        sim.add_client("oauth2", client_id="x", client_secret="y", environment="uat")


# --------------------------------------------------------------------------- ThoughtTrace


def test_thoughttrace_token_and_lowercase_bearer(sim: Simulator, sensitive: Any) -> None:
    cid, secret = new_id("tt"), new_secret(sensitive)
    sim.add_client("thoughttrace", client_id=cid, client_secret=secret)
    r = post(sim, sensitive, sim.token_url("thoughttrace"), data=dict(GRANT, client_id=cid, client_secret=secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "api"
    assert sim.token_url("thoughttrace") == sim.base_url + "/thoughttrace/connect/token"
    api = sim.url("/thoughttrace/api/v1/workspaces")
    for scheme in ("bearer", "Bearer", "BEARER"):
        r = get(sim, api, body["access_token"], scheme=scheme)
        assert r.status_code == 200 and r.json()["client_id"] == cid and r.json()["workspaces"], scheme
    assert get(sim, api, "not-a-token", scheme="bearer").status_code == 401
    assert get(sim, api).status_code == 401
    assert last_entry(sim, "thoughttrace")["auth_method"] == "client_secret_post"
    # Body only, like ThroughLine; a deactivated client is a revoked one.
    assert_oauth_error(post(sim, sensitive, sim.token_url("thoughttrace"), data=GRANT, auth=(cid, secret)),
                       401, "invalid_client")
    sim.revoke_client("thoughttrace", cid)
    assert_oauth_error(post(sim, sensitive, sim.token_url("thoughttrace"),
                            data=dict(GRANT, client_id=cid, client_secret=secret)), 401, "invalid_client")


# --------------------------------------------------------------------------- THRIVE


@pytest.fixture
def thrive_client(sim: Simulator, sensitive: Any) -> dict[str, str]:
    cid, secret, tenant = new_id("thrive"), new_secret(sensitive), f"eu-west-2_{uuid.uuid4().hex[:9]}"
    sim.add_client("thrive", client_id=cid, client_secret=secret, environment="staging", tenant_id=tenant,
                   scope="api/read api/write")
    return {"client_id": cid, "client_secret": secret, "tenant_id": tenant}


def basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1 Basic header (form-urlencoded id and secret)."""
    raw = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def test_thrive_token_per_tenant_and_environment(sim: Simulator, sensitive: Any,
                                                 thrive_client: dict[str, str]) -> None:
    cid, secret, tenant = thrive_client["client_id"], thrive_client["client_secret"], thrive_client["tenant_id"]
    url = sim.thrive_token_url("staging", tenant)
    assert url == sim.token_url("thrive", tenant_id=tenant)
    r = post(sim, sensitive, url, data=GRANT, headers=basic(cid, secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "api/read api/write"  # nothing requested: the client's whole set
    entry = last_entry(sim, "thrive")
    assert entry["auth_method"] == "client_secret_basic" and entry["tenant_id"] == tenant
    assert entry["environment"] == "staging" and entry["path"] == f"/thrive/staging/oauth2/token/{tenant}"
    r = post(sim, sensitive, url, data=dict(GRANT, client_id=cid, client_secret=secret, scope="api/write"))
    assert r.status_code == 200 and r.json()["scope"] == "api/write"

    for wrong_url in (sim.thrive_token_url("staging", "eu-west-2_Other"), sim.thrive_token_url("production", tenant)):
        body = assert_oauth_error(post(sim, sensitive, wrong_url, data=GRANT, headers=basic(cid, secret)),
                                  401, "invalid_client")
        assert "tenant" in body["error_description"]
    assert get(sim, sim.url(f"/thrive/sandbox/oauth2/token/{tenant}")).status_code == 404


@pytest.mark.parametrize(("requested", "status"), [
    ("api/read", 200), ("api/read api/write", 200), ("api/all", 400), ("api/webhooks", 400),
    ("api/read api/admin", 400),
])
def test_thrive_scope_subset(sim: Simulator, sensitive: Any, thrive_client: dict[str, str], requested: str,
                             status: int) -> None:
    form = dict(GRANT, client_id=thrive_client["client_id"], client_secret=thrive_client["client_secret"],
                scope=requested)
    r = post(sim, sensitive, sim.thrive_token_url("staging", thrive_client["tenant_id"]), data=form)
    if status == 200:
        assert r.status_code == 200 and r.json()["scope"] == requested
    else:
        assert_oauth_error(r, 400, "invalid_scope")


def test_thrive_api_scope_and_environment(sim: Simulator, sensitive: Any, thrive_client: dict[str, str]) -> None:
    cid, secret, tenant = thrive_client["client_id"], thrive_client["client_secret"], thrive_client["tenant_id"]
    url = sim.thrive_token_url("staging", tenant)

    def token_for(scope: str) -> str:
        form = dict(GRANT, client_id=cid, client_secret=secret, scope=scope)
        return post(sim, sensitive, url, data=form).json()["access_token"]

    api = sim.url("/thrive/staging/api/v1/users")
    r = get(sim, api, token_for("api/read"))
    assert r.status_code == 200 and r.json()["tenant_id"] == tenant and r.json()["users"]
    r = get(sim, api, token_for("api/write"))
    assert_oauth_error(r, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert_oauth_error(get(sim, sim.url("/thrive/production/api/v1/users"), token_for("api/read")),
                       401, "invalid_token")

    # api/all is enough for the API; a production client works on production only.
    prod_id, prod_secret = new_id("thrive-prod"), new_secret(sensitive)
    sim.add_client("thrive", client_id=prod_id, client_secret=prod_secret, environment="production", tenant_id=tenant)
    prod_basic = basic(prod_id, prod_secret)
    r = post(sim, sensitive, sim.thrive_token_url("production", tenant), data=GRANT, headers=prod_basic)
    assert r.status_code == 200 and r.json()["scope"] == "api/all"
    assert get(sim, sim.url("/thrive/production/api/v1/users"), r.json()["access_token"]).status_code == 200
    assert_oauth_error(post(sim, sensitive, url, data=GRANT, headers=prod_basic), 401, "invalid_client")


def test_thrive_admin_validation(sim: Simulator) -> None:
    with pytest.raises(SimulatorError, match="tenant_id"):
        sim.add_client("thrive", client_id="x", client_secret="y", environment="staging")
    with pytest.raises(SimulatorError, match="environment"):
        sim.add_client("thrive", client_id="x", client_secret="y", environment="uat", tenant_id="t")
    with pytest.raises(SimulatorError, match="scopes"):
        sim.add_client("thrive", client_id="x", client_secret="y", environment="staging", tenant_id="t",
                       scope="api/read admin")


# --------------------------------------------------------------------------- certificates with chosen validity


def test_client_cert_with_days_valid(sim: Simulator, sensitive: Any) -> None:
    cert_path, key_path = sim.issue_client_cert(new_id("ten-days"), days_valid=10)
    for path in (cert_path, key_path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cert = load_cert(cert_path)
    assert 9.9 < days_left(cert) <= 10
    with open(sim.ca_path, "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    assert cert.issuer == ca.subject
    # Accepted wherever a CA-signed certificate is: the mTLS listener and tls_client_auth.
    form = thredd_secret_client(sim, sensitive, "uat")
    assert thredd_token(sim, sensitive, "uat", "mtls", form, (cert_path, key_path)).status_code == 200
    cid = new_id("mtls10")
    sim.add_client("oauth2", client_id=cid, cert_fingerprint=Simulator.cert_fingerprint(cert_path))
    assert post(sim, sensitive, sim.token_url("oauth2"), data=dict(GRANT, client_id=cid),
                cert=(cert_path, key_path)).status_code == 200


def test_expired_client_cert(sim: Simulator, sensitive: Any) -> None:
    cert_path, key_path = sim.issue_client_cert(new_id("expired"), expired=True)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert days_left(load_cert(cert_path)) < 0
    cid = new_id("mtls-exp")
    sim.add_client("oauth2", client_id=cid, cert_fingerprint=Simulator.cert_fingerprint(cert_path))
    with pytest.raises(requests.exceptions.ConnectionError):
        post(sim, sensitive, sim.token_url("oauth2"), data=dict(GRANT, client_id=cid), cert=(cert_path, key_path))
    long_ago = load_cert(sim.issue_client_cert(new_id("expired-long"), days_valid=5, expired=True)[0])
    assert days_left(long_ago) < 0
    with pytest.raises(SimulatorError):
        sim.issue_client_cert(new_id("bad"), days_valid=-1)


def test_make_self_signed_cert(rsa_key: Any) -> None:
    key_pem = private_pem(rsa_key)
    soon = x509.load_pem_x509_certificate(make_self_signed_cert(key_pem, days_valid=7).encode())
    assert 6.9 < days_left(soon) <= 7
    assert soon.public_key().public_numbers() == rsa_key.public_key().public_numbers()
    assert soon.issuer == soon.subject
    gone = x509.load_pem_x509_certificate(make_self_signed_cert(key_pem.decode(), expired=True).encode())
    assert days_left(gone) < 0
    other = ec.generate_private_key(ec.SECP256R1())
    mismatched = x509.load_pem_x509_certificate(make_self_signed_cert(private_pem(other), 350).encode())
    assert mismatched.public_key().public_numbers() != rsa_key.public_key().public_numbers()
    with pytest.raises(ValueError):
        make_self_signed_cert(key_pem)
