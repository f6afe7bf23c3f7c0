"""Unit tests of the OAuth 2.0 request building and response checking."""

from __future__ import annotations

import base64
import time
from urllib.parse import unquote_plus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    OptionError,
    ResponseFormatError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import (
    ASSERTION_TYPE,
    ClientCredentials,
    basic_credentials,
    build_token_request,
    normalize_scope,
    parse_token_response,
    present_record,
    token_endpoint_error,
)

TOKEN_URL = "https://idp.example.test/oauth2/token"
# Characters that RFC 6749 section 2.3.1 form-urlencoding changes.
AWKWARD_ID = "svc:reporting+ops/é"
AWKWARD_SECRET = "s3cr:t+with/odd%chars &more=still-long-enough"


def _decode_basic(header: str) -> str:
    assert header.startswith("Basic ")
    return base64.b64decode(header[len("Basic "):]).decode("utf-8")


class TestBasicCredentials:
    def test_form_encoding_encodes_before_base64(self):
        decoded = _decode_basic(basic_credentials(AWKWARD_ID, AWKWARD_SECRET))
        encoded_id, encoded_secret = decoded.split(":", 1)
        # The colon inside the id must not survive, or the server would split there.
        assert ":" not in encoded_id
        assert unquote_plus(encoded_id) == AWKWARD_ID
        assert unquote_plus(encoded_secret) == AWKWARD_SECRET
        assert " " not in decoded and "+with" not in decoded

    def test_space_becomes_plus(self):
        decoded = _decode_basic(basic_credentials("a b", "c d"))
        assert decoded == "a+b:c+d"

    def test_raw_keeps_values(self):
        decoded = _decode_basic(basic_credentials("plain-id", AWKWARD_SECRET, form_encode=False))
        assert decoded == f"plain-id:{AWKWARD_SECRET}"

    def test_raw_refuses_colon_in_id(self):
        with pytest.raises(OptionError, match="basic_auth_encoding=form"):
            basic_credentials(AWKWARD_ID, "x", form_encode=False)


class TestScope:
    @pytest.mark.parametrize(
        "given, expected",
        [
            (None, None),
            ("a b", "a b"),
            (["a", "b"], "a b"),
            (["a b", "c"], "a b c"),
            (["a", "a", "b"], "a b"),
            ([], None),
            ("", None),
        ],
    )
    def test_normalize(self, given, expected):
        assert normalize_scope(given) == expected

    def test_rejects_other_types(self):
        with pytest.raises(OptionError):
            normalize_scope(5)
        with pytest.raises(OptionError):
            normalize_scope(["a", 1])


def _creds(**kwargs) -> ClientCredentials:
    base = {"token_url": TOKEN_URL, "client_id": "client-1", "client_secret": "x" * 40}
    base.update(kwargs)
    return ClientCredentials(**base)


@pytest.fixture(scope="module")
def ec_key_pem():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


class TestBuildRequest:
    def test_client_secret_basic(self):
        req = build_token_request(_creds(scope="a b", extra_params={"audience": "api"}))
        assert req.url == TOKEN_URL
        assert req.data == {"grant_type": "client_credentials", "scope": "a b", "audience": "api"}
        assert "client_secret" not in req.data and "client_id" not in req.data
        assert _decode_basic(req.headers["Authorization"]) == f"client-1:{'x' * 40}"

    def test_client_secret_post(self):
        req = build_token_request(_creds(auth_method="client_secret_post"))
        assert "Authorization" not in req.headers
        assert req.data == {"grant_type": "client_credentials", "client_id": "client-1", "client_secret": "x" * 40}

    def test_secret_never_in_url(self):
        for method in ("client_secret_basic", "client_secret_post"):
            req = build_token_request(_creds(auth_method=method))
            assert "x" * 40 not in req.url

    def test_tls_client_auth_sends_id_only(self):
        req = build_token_request(
            _creds(auth_method="tls_client_auth", client_secret=None, has_client_cert=True)
        )
        assert req.data == {"grant_type": "client_credentials", "client_id": "client-1"}
        assert "Authorization" not in req.headers

    def test_tls_client_auth_needs_cert(self):
        with pytest.raises(OptionError, match="client_cert"):
            build_token_request(_creds(auth_method="tls_client_auth", client_secret=None))

    def test_private_key_jwt_claims(self, ec_key_pem):
        key, pem = ec_key_pem
        creds = _creds(auth_method="private_key_jwt", client_secret=None, private_key_content=pem, key_id="kid-7")
        first = build_token_request(creds)
        second = build_token_request(creds)
        assert first.data["client_assertion_type"] == ASSERTION_TYPE
        assert first.data["client_id"] == "client-1"
        assert "Authorization" not in first.headers
        header = jwt.get_unverified_header(first.data["client_assertion"])
        assert header["alg"] == "ES256" and header["kid"] == "kid-7"
        claims = jwt.decode(
            first.data["client_assertion"], key.public_key(), algorithms=["ES256"], audience=TOKEN_URL,
            issuer="client-1",
        )
        assert claims["sub"] == "client-1"
        assert 0 < claims["exp"] - claims["iat"] <= 60
        assert abs(claims["iat"] - time.time()) < 5
        other = jwt.decode(second.data["client_assertion"], options={"verify_signature": False})
        assert other["jti"] != claims["jti"], "every request needs a fresh jti"

    def test_private_key_jwt_audience_override(self, ec_key_pem):
        key, pem = ec_key_pem
        creds = _creds(auth_method="private_key_jwt", client_secret=None, private_key_content=pem,
                       assertion_audience="https://idp.example.test/")
        token = build_token_request(creds).data["client_assertion"]
        claims = jwt.decode(token, key.public_key(), algorithms=["ES256"], audience="https://idp.example.test/")
        assert claims["aud"] == "https://idp.example.test/"

    def test_private_key_jwt_wrong_algorithm(self, ec_key_pem):
        pem = ec_key_pem[1]
        creds = _creds(auth_method="private_key_jwt", client_secret=None, private_key_content=pem,
                       signing_algorithm="RS256")
        with pytest.raises(OptionError):
            build_token_request(creds)

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"client_secret": None}, "needs client_secret"),
            ({"auth_method": "private_key_jwt"}, "client_secret is not used"),
            ({"auth_method": "private_key_jwt", "client_secret": None}, "exactly one of private_key_path"),
            ({"auth_method": "private_key_jwt", "client_secret": None, "private_key_path": "/a",
              "private_key_content": "b"}, "exactly one"),
            ({"private_key_path": "/a"}, "only used with auth_method=private_key_jwt"),
            ({"auth_method": "magic"}, "auth_method must be one of"),
            ({"extra_params": {"client_secret": "y"}}, "may not set client_secret"),
            ({"token_url": ""}, "token_url is required"),
            ({"client_id": ""}, "client_id is required"),
            ({"auth_method": "private_key_jwt", "client_secret": None, "private_key_content": "k",
              "assertion_lifetime": 3600}, "assertion_lifetime"),
        ],
    )
    def test_option_errors(self, kwargs, message):
        with pytest.raises(OptionError, match=message):
            build_token_request(_creds(**kwargs))


class TestParseResponse:
    NOW = 1_800_000_000.0

    def parse(self, body, **kwargs):
        return parse_token_response(body, vendor="IdP", requested_at=self.NOW, **kwargs)

    def test_good_response(self):
        record, expires_at = self.parse({"access_token": "tok", "token_type": "bearer", "expires_in": 3600,
                                         "scope": "a"})
        assert expires_at == self.NOW + 3600
        assert record["access_token"] == "tok" and record["lifetime"] == 3600 and record["scope"] == "a"

    @pytest.mark.parametrize("token_type", ["Bearer", "bearer", "BEARER"])
    def test_token_type_case_insensitive(self, token_type):
        record = self.parse({"access_token": "tok", "token_type": token_type, "expires_in": 60})[0]
        assert present_record(record, now=self.NOW)["authorization"] == "Bearer tok"

    def test_unexpected_token_type(self):
        with pytest.raises(ResponseFormatError, match="token_type 'mac'"):
            self.parse({"access_token": "tok", "token_type": "mac", "expires_in": 60})

    def test_numeric_string_expires_in(self):
        expires_at = self.parse({"access_token": "tok", "token_type": "Bearer", "expires_in": "120"})[1]
        assert expires_at == self.NOW + 120

    def test_missing_expires_in_means_unknown(self):
        record, expires_at = self.parse({"access_token": "tok", "token_type": "Bearer"})
        assert expires_at is None and record["expires_at"] is None

    def test_missing_scope_means_requested(self):
        record = self.parse({"access_token": "tok", "token_type": "Bearer", "expires_in": 5},
                            requested_scope="x y")[0]
        assert record["scope"] == "x y"

    @pytest.mark.parametrize(
        "body, message",
        [
            ([], "not a JSON object"),
            ({"token_type": "Bearer", "expires_in": 5}, "no access_token"),
            ({"access_token": "", "token_type": "Bearer"}, "no access_token"),
            ({"access_token": 5, "token_type": "Bearer"}, "no access_token"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": "abc"}, "not a number"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": True}, "not a number"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": [1]}, "not a number"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": 0}, "already expired"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": -5}, "already expired"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": "NaN"}, "finite"),
            ({"access_token": "t", "token_type": 7}, "invalid token_type"),
            ({"access_token": "t", "token_type": "Bearer", "expires_in": 5, "scope": {"a": 1}}, "scope"),
        ],
    )
    def test_malformed(self, body, message):
        with pytest.raises(ResponseFormatError, match=message):
            self.parse(body)

    def test_malformed_messages_do_not_echo_token(self):
        with pytest.raises(ResponseFormatError) as info:
            self.parse({"access_token": "very-secret-token-value", "token_type": "mac"})
        assert "very-secret-token-value" not in str(info.value)

    def test_present_record_times(self):
        record = self.parse({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})[0]
        shown = present_record(record, now=self.NOW + 600)
        assert shown["expires_in"] == 3000
        assert shown["expires_at_iso"].endswith("Z")


class TestErrors:
    def test_rfc6749_codes_get_hints(self):
        err = token_endpoint_error("IdP", TOKEN_URL, 400, {"error": "invalid_scope", "error_description": "nope"})
        assert "HTTP 400 invalid_scope: nope" in str(err)
        assert "check scope" in str(err)
        assert err.error_code == "invalid_scope"

    def test_vendor_hint_wins(self):
        err = token_endpoint_error("V", TOKEN_URL, 401, {"error": "invalid_client"}, {"invalid_client": "Ask V."})
        assert str(err).endswith("Ask V.")

    def test_unparsed_401_gets_client_hint(self):
        err = token_endpoint_error("V", TOKEN_URL, 401, {})
        assert "Client authentication failed" in str(err)
