"""Vendor profiles: URL and header selection, cache separation, certificate checks."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.apiauth.saas.plugins.module_utils import _certs
from ansible_collections.apiauth.saas.plugins.module_utils._errors import KeyMaterialError, OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._jws import load_private_key
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import cache_identity, credentials_from
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughttrace import THOUGHTTRACE
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thredd import (
    THREDD,
    api_headers,
    region_number,
    select_urls,
)
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import THRIVE

NOW = datetime.datetime.now(datetime.timezone.utc)


def make_cert(tmp_path, name: str, *, key=None, days_left: float = 300, days_old: float = 50,
              with_key: bool = False):
    """A self-signed certificate file valid from days_old ago until days_left from now."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=days_old))
            .not_valid_after(NOW + datetime.timedelta(days=days_left))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if with_key:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()) + pem
    path = tmp_path / f"{name}.pem"
    path.write_bytes(pem)
    return str(path)


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class TestThreddSelection:
    @pytest.mark.parametrize("environment, connectivity, base, token", [
        ("uat", "tls", "https://uat-api.thredd.com", "https://uat.threddid.com/oauth2/token"),
        ("uat", "mtls", "https://uat-mtls.thredd.com", "https://uat.threddid.com/oauth2/token"),
        ("production", "tls", "https://api.thredd.com", "https://threddid.com/oauth2/token"),
        ("production", "mtls", "https://mtls.thredd.com", "https://threddid.com/oauth2/token"),
    ])
    def test_urls(self, environment, connectivity, base, token):
        assert select_urls(environment, connectivity) == (base, token)
        params = {"environment": environment, "connectivity": connectivity}
        assert THREDD.token_url(params) == token

    def test_overrides(self):
        urls = select_urls("uat", "tls", base_url="https://cards.example/", token_url="https://id.example/connect/token")
        assert urls == ("https://cards.example", "https://id.example/connect/token")

    @pytest.mark.parametrize("value, number", [(None, 0), ("default", 0), ("EMEA", 1), ("apac", 2), (1, 1),
                                               ("2", 2), (0, 0)])
    def test_region(self, value, number):
        assert region_number(value) == number

    @pytest.mark.parametrize("value", ["us", 3, "-1", ""])
    def test_bad_region(self, value):
        with pytest.raises(OptionError, match="region must be one of"):
            region_number(value)

    def test_headers(self):
        expected = {"Authorization": "Bearer t", "X-Region": "2", "Content-Type": "application/json"}
        assert api_headers("Bearer t", 2) == expected

    def test_auth_method_mapping(self):
        assert THREDD.client_auth_method({}) == "client_secret_post"
        assert THREDD.client_auth_method({"auth_method": "private_key_jwt"}) == "private_key_jwt"
        with pytest.raises(OptionError):
            THREDD.client_auth_method({"auth_method": "client_secret_basic"})

    def test_decorate_adds_base_url_and_headers(self):
        record = {"authorization": "Bearer tok"}
        THREDD.decorate(record, {"environment": "production", "connectivity": "mtls", "region": "emea"})
        assert record["base_url"] == "https://mtls.thredd.com"
        assert record["headers"] == {"Authorization": "Bearer tok", "X-Region": "1",
                                     "Content-Type": "application/json"}
        assert (record["environment"], record["connectivity"], record["region"]) == ("production", "mtls", 1)


class TestCacheSeparation:
    """Nothing cached for one environment, connectivity, client or secret serves another."""

    BASE = {"environment": "uat", "connectivity": "tls", "client_id": "c1", "client_secret": "s" * 30,
            "token_url": "https://same.example/oauth2/token"}

    def key(self, profile, changes=None):
        params = dict(self.BASE, **(changes or {}))
        identity, secrets = cache_identity(credentials_from(params, profile), profile, params)
        return repr(sorted(identity.items())), secrets

    @pytest.mark.parametrize("change", [{"environment": "production"}, {"connectivity": "mtls"},
                                        {"client_id": "c2"}])
    def test_identity_differs_even_with_the_same_urls(self, change):
        assert self.key(THREDD, change)[0] != self.key(THREDD)[0]

    def test_secret_is_keyed(self):
        assert self.key(THREDD, {"client_secret": "t" * 30})[1] != self.key(THREDD)[1]

    def test_region_does_not_split_the_cache(self):
        assert self.key(THREDD, {"region": "apac"}) == self.key(THREDD)

    def test_thrive_tenant_and_environment(self):
        base = {"environment": "staging", "tenant_id": "eu-west-2_a"}
        first = self.key(THRIVE, base)[0]
        assert self.key(THRIVE, dict(base, tenant_id="eu-west-2_b"))[0] != first
        assert self.key(THRIVE, dict(base, environment="production"))[0] != first


class TestThreddChecks:
    def test_mtls_needs_transport_certificate(self):
        with pytest.raises(OptionError, match="transport certificate in client_cert"):
            THREDD.check({"environment": "uat", "connectivity": "mtls"}, [])

    def test_transport_certificate_expiring_soon_warns(self, tmp_path):
        cert = make_cert(tmp_path, "transport", days_left=10, with_key=True)
        warnings = []
        THREDD.check({"environment": "uat", "connectivity": "mtls", "client_cert": cert}, warnings)
        assert len(warnings) == 1 and "transport certificate" in warnings[0] and "expires in" in warnings[0]

    def test_warning_window_is_an_option(self, tmp_path):
        cert = make_cert(tmp_path, "transport", days_left=10)
        warnings = []
        THREDD.check({"connectivity": "mtls", "client_cert": cert, "certificate_warn_days": 5}, warnings)
        assert warnings == []

    def test_expired_transport_certificate_fails(self, tmp_path):
        cert = make_cert(tmp_path, "transport", days_left=-1)
        with pytest.raises(KeyMaterialError, match="expired on"):
            THREDD.check({"connectivity": "mtls", "client_cert": cert}, [])

    def test_signing_certificate_checked_and_matched(self, tmp_path):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = make_cert(tmp_path, "signing", key=key, days_left=20)
        params = {"auth_method": "private_key_jwt", "key_id": "kid-1", "private_key_content": key_pem(key), "signing_cert_path": cert}
        warnings = []
        THREDD.check(params, warnings)
        assert any("signing certificate" in w for w in warnings)

        other = make_cert(tmp_path, "other", days_left=200)
        with pytest.raises(KeyMaterialError, match="does not belong to the private key"):
            THREDD.check(dict(params, signing_cert_path=other), [])

        expired = make_cert(tmp_path, "old", key=key, days_left=-3)
        with pytest.raises(KeyMaterialError, match="signing certificate .* expired"):
            THREDD.check(dict(params, signing_cert_path=expired), [])

    def test_signing_certificate_needs_private_key_jwt(self, tmp_path):
        cert = make_cert(tmp_path, "signing")
        with pytest.raises(OptionError, match="only used with auth_method=private_key_jwt"):
            THREDD.check({"signing_cert_path": cert}, [])

    @pytest.mark.parametrize("params, message", [
        ({"jwks_preflight": True}, "needs auth_method=private_key_jwt"),
        ({"jwks_preflight": True, "auth_method": "private_key_jwt"}, "needs key_id"),
        ({"jwks_preflight": True, "auth_method": "private_key_jwt", "key_id": "k"}, "org, the Thredd organisation id"),
    ])
    def test_preflight_options(self, params, message):
        with pytest.raises(OptionError, match=message):
            THREDD.check(params, [])


class TestCertificates:
    def test_not_yet_valid(self, tmp_path):
        cert = make_cert(tmp_path, "future", days_old=-2, days_left=300)
        with pytest.raises(KeyMaterialError, match="not valid before"):
            _certs.check_validity(cert, what="transport certificate")

    def test_healthy_certificate_is_quiet(self, tmp_path):
        cert = make_cert(tmp_path, "fine", days_left=200)
        assert _certs.check_validity(cert, what="transport certificate") is None

    def test_der_certificate(self, tmp_path):
        cert = make_cert(tmp_path, "pem", days_left=5)
        der = tmp_path / "cert.der"
        der.write_bytes(x509.load_pem_x509_certificate(open(cert, "rb").read())
                        .public_bytes(serialization.Encoding.DER))
        assert "expires in" in _certs.check_validity(str(der), what="signing certificate")

    @pytest.mark.parametrize("content", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n"
                                         b"-----END CERTIFICATE-----\n"])
    def test_unreadable(self, tmp_path, content):
        path = tmp_path / "bad.pem"
        path.write_bytes(content)
        with pytest.raises(KeyMaterialError, match="no readable X.509 certificate"):
            _certs.check_validity(str(path), what="transport certificate")

    def test_missing_file(self, tmp_path):
        with pytest.raises(KeyMaterialError, match="Cannot read the transport certificate"):
            _certs.check_validity(str(tmp_path / "nope.pem"), what="transport certificate")

    def test_matches_key(self, tmp_path):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = make_cert(tmp_path, "mine", key=key)
        assert _certs.certificate_matches_key(cert, load_private_key(content=key_pem(key)), what="c")
        other = ec.generate_private_key(ec.SECP256R1())
        assert not _certs.certificate_matches_key(cert, load_private_key(content=key_pem(other)), what="c")


class TestThoughtTraceAndThrive:
    def test_thoughttrace_urls_and_scheme(self):
        assert THOUGHTTRACE.token_url({}) == "https://identity.thoughttrace.com/connect/token"
        assert THOUGHTTRACE.token_url({"base_url": "https://idp.example/"}) == "https://idp.example/connect/token"
        assert THOUGHTTRACE.token_url({"token_url": "https://x/t"}) == "https://x/t"
        assert THOUGHTTRACE.authorization_scheme == "bearer"
        assert THOUGHTTRACE.client_auth_method({}) == "client_secret_post"

    @pytest.mark.parametrize("environment, url", [
        ("production", "https://public.api.learn.link/oauth2/token/eu-west-2_Ab1"),
        ("staging", "https://public.api.learnstaging.link/oauth2/token/eu-west-2_Ab1"),
    ])
    def test_thrive_token_url(self, environment, url):
        assert THRIVE.token_url({"environment": environment, "tenant_id": "eu-west-2_Ab1"}) == url

    def test_thrive_base_url_override(self):
        assert THRIVE.token_url({"environment": "staging", "tenant_id": "eu-west-2_T1", "base_url": "https://sim/thrive/"}) \
            == "https://sim/thrive/oauth2/token/eu-west-2_T1"

    @pytest.mark.parametrize("tenant", ["", "a/b", "x?y=1", "a b"])
    def test_thrive_bad_tenant(self, tenant):
        with pytest.raises(OptionError, match="tenant_id"):
            THRIVE.token_url({"environment": "staging", "tenant_id": tenant})

    def test_thrive_scope(self):
        THRIVE.check({"scope": ["api/read", "api/write"]}, [])
        THRIVE.check({"scope": "api/all"}, [])
        with pytest.raises(OptionError, match="no scope admin"):
            THRIVE.check({"scope": ["api/read admin"]}, [])


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thredd_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thrive_token,
]
