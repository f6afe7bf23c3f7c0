# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_jws.py.

Tokens are signed with the module (cryptography only) and verified with PyJWT,
an independent implementation.
"""

from __future__ import annotations

import json
import os

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from ansible_collections.apiauth.saas.plugins.module_utils import _jws
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    KeyMaterialError,
    MissingLibraryError,
    OptionError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._jws import (
    SUPPORTED_ALGORITHMS,
    SigningKey,
    b64url_decode,
    b64url_encode,
    client_assertion_claims,
    load_private_key,
    make_client_assertion,
    sign,
)

PASSPHRASE = "correct horse battery staple"
CLIENT_ID = "client-0123456789"
AUDIENCE = "https://idp.example.test/oauth2/token"

NO_ENC = serialization.NoEncryption()


def _pem(key, fmt=serialization.PrivateFormat.PKCS8, passphrase=None) -> bytes:
    enc = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else NO_ENC
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)


def _der(key, fmt=serialization.PrivateFormat.PKCS8, passphrase=None) -> bytes:
    enc = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else NO_ENC
    return key.private_bytes(serialization.Encoding.DER, fmt, enc)


def _segments(token: str):
    header, payload, signature = token.split(".")
    return (
        json.loads(b64url_decode(header)),
        json.loads(b64url_decode(payload)),
        b64url_decode(signature),
    )


# --------------------------------------------------------------------------
# Keys, generated once per module
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def p256_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def p384_key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def keys(rsa_key, p256_key, p384_key):
    return {"RSA": rsa_key, "P-256": p256_key, "P-384": p384_key}


@pytest.fixture(scope="module")
def signing_keys(keys):
    return {name: load_private_key(content=_pem(key)) for name, key in keys.items()}


ALG_TO_KEY = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "ES256": "P-256",
    "ES384": "P-384",
}


# --------------------------------------------------------------------------
# Signing, verified with PyJWT
# --------------------------------------------------------------------------


def test_supported_algorithms_constant():
    assert SUPPORTED_ALGORITHMS == ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")
    assert set(ALG_TO_KEY) == set(SUPPORTED_ALGORITHMS)


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_sign_verifies_with_pyjwt(alg, keys, signing_keys):
    name = ALG_TO_KEY[alg]
    key = signing_keys[name]
    token = make_client_assertion(
        client_id=CLIENT_ID, audience=AUDIENCE, key=key, algorithm=alg, key_id="kid-1", lifetime=120
    )
    header = jwt.get_unverified_header(token)
    assert header == {"alg": alg, "typ": "JWT", "kid": "kid-1"}

    claims = jwt.decode(
        token,
        keys[name].public_key(),
        algorithms=[alg],
        audience=AUDIENCE,
        issuer=CLIENT_ID,
        options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]},
    )
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti"}
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] == 120
    assert isinstance(claims["iat"], int)
    assert claims["jti"]

    # PyJWT must also refuse the token for the wrong algorithm family.
    with pytest.raises(jwt.InvalidTokenError):
        other = "ES256" if alg.startswith(("RS", "PS")) else "RS256"
        jwt.decode(token, keys[name].public_key(), algorithms=[other], audience=AUDIENCE)


@pytest.mark.parametrize("alg,size", [("ES256", 32), ("ES384", 48)])
def test_ecdsa_signature_is_fixed_size_raw_r_s(alg, size, keys, signing_keys):
    name = ALG_TO_KEY[alg]
    # Sign until r or s is short (a leading zero byte, odds 1 in 128 per token):
    # the raw form must still be zero-padded to the full size, and verify.
    for _attempt in range(3000):
        token = sign({"a": 1}, signing_keys[name], algorithm=alg)
        raw = _segments(token)[2]
        assert len(raw) == 2 * size
        if raw[0] == 0 or raw[size] == 0:
            break
    else:  # pragma: no cover - odds of never hitting one are about 1e-10
        pytest.fail("no signature with a short r or s was produced")
    assert jwt.decode(token, keys[name].public_key(), algorithms=[alg]) == {"a": 1}


def test_rsa_signature_length(signing_keys):
    for alg in ("RS256", "RS384", "RS512", "PS256"):
        token = sign({"a": 1}, signing_keys["RSA"], algorithm=alg)
        assert len(_segments(token)[2]) == 256


def test_rs256_is_deterministic_and_ps256_is_not(signing_keys):
    claims = {"k": "v"}
    assert sign(claims, signing_keys["RSA"], algorithm="RS256") == sign(claims, signing_keys["RSA"], algorithm="RS256")
    assert sign(claims, signing_keys["RSA"], algorithm="PS256") != sign(claims, signing_keys["RSA"], algorithm="PS256")


def test_compact_serialization(signing_keys):
    token = sign({"iss": "x", "n": [1, 2]}, signing_keys["P-256"], key_id="k")
    head, body, sig = token.split(".")
    assert "=" not in token
    for part in (head, body, sig):
        assert set(part) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert b64url_decode(head) == b'{"alg":"ES256","typ":"JWT","kid":"k"}'
    assert b64url_decode(body) == b'{"iss":"x","n":[1,2]}'


def test_header_without_kid(signing_keys):
    token = sign({"a": 1}, signing_keys["RSA"])
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    token = sign({"a": 1}, signing_keys["RSA"], key_id="")
    assert "kid" not in jwt.get_unverified_header(token)


def test_extra_headers(signing_keys):
    token = sign({"a": 1}, signing_keys["RSA"], key_id="k1", extra_headers={"x5t#S256": "abc"})
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "k1", "x5t#S256": "abc"}
    with pytest.raises(OptionError, match="alg"):
        sign({"a": 1}, signing_keys["RSA"], extra_headers={"alg": "none"})
    with pytest.raises(OptionError, match="key id"):
        sign({"a": 1}, signing_keys["RSA"], key_id="k1", extra_headers={"kid": "k2"})
    token = sign({"a": 1}, signing_keys["RSA"], extra_headers={"kid": "k3"})
    assert jwt.get_unverified_header(token)["kid"] == "k3"


def test_sign_rejects_bad_input(signing_keys):
    with pytest.raises(OptionError):
        sign({"a": object()}, signing_keys["RSA"])
    with pytest.raises(OptionError):
        sign({"a": float("nan")}, signing_keys["RSA"])
    with pytest.raises(OptionError):
        sign(["not", "a", "dict"], signing_keys["RSA"])
    with pytest.raises(OptionError):
        sign({"a": 1}, "not a key")
    with pytest.raises(OptionError):
        sign({"a": 1}, signing_keys["RSA"], key_id=5)


def test_signing_key_wraps_cryptography_key(rsa_key):
    key = SigningKey(rsa_key)
    token = sign({"a": 1}, key)
    assert jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"]) == {"a": 1}


# --------------------------------------------------------------------------
# Algorithm choice and mismatches
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kind,curve,size,default",
    [
        ("RSA", "RSA", None, 2048, "RS256"),
        ("P-256", "EC", "P-256", 256, "ES256"),
        ("P-384", "EC", "P-384", 384, "ES384"),
    ],
)
def test_key_properties_and_default_algorithm(name, kind, curve, size, default, signing_keys, keys):
    key = signing_keys[name]
    assert (key.kind, key.curve, key.key_size) == (kind, curve, size)
    assert key.default_algorithm() == default
    token = sign({"a": 1}, key)
    assert jwt.get_unverified_header(token)["alg"] == default
    jwt.decode(token, keys[name].public_key(), algorithms=[default])


@pytest.mark.parametrize(
    "name,alg",
    [
        ("RSA", "ES256"),
        ("RSA", "ES384"),
        ("P-256", "RS256"),
        ("P-256", "PS256"),
        ("P-256", "ES384"),
        ("P-384", "ES256"),
        ("P-384", "RS512"),
    ],
)
def test_algorithm_key_mismatch(name, alg, signing_keys):
    key = signing_keys[name]
    with pytest.raises(KeyMaterialError, match=alg):
        key.check_algorithm(alg)
    with pytest.raises(KeyMaterialError):
        sign({"a": 1}, key, algorithm=alg)


@pytest.mark.parametrize("alg", ["HS256", "none", "rs256", "ES512", "PS384", "", 256])
def test_unknown_algorithm(alg, signing_keys):
    with pytest.raises(OptionError) as info:
        signing_keys["RSA"].check_algorithm(alg)
    assert not isinstance(info.value, KeyMaterialError)
    for supported in SUPPORTED_ALGORITHMS:
        assert supported in str(info.value)
    with pytest.raises(OptionError):
        make_client_assertion(client_id=CLIENT_ID, audience=AUDIENCE, key=signing_keys["RSA"], algorithm=alg)


def test_check_algorithm_returns_alg(signing_keys):
    assert signing_keys["RSA"].check_algorithm("PS256") == "PS256"
    assert signing_keys["P-384"].check_algorithm("ES384") == "ES384"


# --------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------


def test_client_assertion_claims():
    claims = client_assertion_claims(client_id=CLIENT_ID, audience=AUDIENCE, now=1700000000.9, jti="abc")
    assert claims == {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": AUDIENCE,
        "iat": 1700000000,
        "exp": 1700000060,
        "jti": "abc",
    }
    assert "nbf" not in claims


def test_claims_use_current_time():
    import time

    before = int(time.time())
    claims = client_assertion_claims(client_id=CLIENT_ID, audience=AUDIENCE, lifetime=300)
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 300


def test_jti_is_unique(signing_keys):
    jtis = {client_assertion_claims(client_id=CLIENT_ID, audience=AUDIENCE)["jti"] for _attempt in range(200)}
    assert len(jtis) == 200
    tokens = [
        make_client_assertion(client_id=CLIENT_ID, audience=AUDIENCE, key=signing_keys["P-256"], now=1700000000)
        for _attempt in range(5)
    ]
    assert len({_segments(t)[1]["jti"] for t in tokens}) == 5
    assert len(set(tokens)) == 5


@pytest.mark.parametrize("lifetime", [1, 600])
def test_lifetime_bounds_accepted(lifetime):
    claims = client_assertion_claims(client_id=CLIENT_ID, audience=AUDIENCE, lifetime=lifetime, now=100)
    assert claims["exp"] == 100 + lifetime


@pytest.mark.parametrize("lifetime", [0, -1, 601, 3600, 1.5, "60", True, None])
def test_lifetime_rejected(lifetime):
    with pytest.raises(OptionError):
        client_assertion_claims(client_id=CLIENT_ID, audience=AUDIENCE, lifetime=lifetime)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"client_id": "", "audience": AUDIENCE},
        {"client_id": None, "audience": AUDIENCE},
        {"client_id": CLIENT_ID, "audience": ""},
        {"client_id": CLIENT_ID, "audience": ["a", "b"]},
        {"client_id": CLIENT_ID, "audience": AUDIENCE, "now": "now"},
        {"client_id": CLIENT_ID, "audience": AUDIENCE, "jti": ""},
    ],
)
def test_claims_bad_input(kwargs):
    with pytest.raises(OptionError):
        client_assertion_claims(**kwargs)


def test_expired_assertion_is_refused_by_pyjwt(keys, signing_keys):
    token = make_client_assertion(
        client_id=CLIENT_ID, audience=AUDIENCE, key=signing_keys["RSA"], now=1000000000, lifetime=60
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, keys["RSA"].public_key(), algorithms=["RS256"], audience=AUDIENCE)


# --------------------------------------------------------------------------
# Public JWK
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name,alg", [("RSA", "RS256"), ("RSA", "PS256"), ("P-256", "ES256"), ("P-384", "ES384")])
def test_public_jwk_verifies_with_pyjwt(name, alg, signing_keys):
    key = signing_keys[name]
    jwk = key.public_jwk(kid="abc")
    assert jwk["kid"] == "abc"
    public = jwt.PyJWK(jwk, algorithm=alg).key
    token = sign({"a": 1}, key, algorithm=alg)
    assert jwt.decode(token, public, algorithms=[alg]) == {"a": 1}


def test_public_jwk_members(signing_keys, keys):
    rsa_jwk = signing_keys["RSA"].public_jwk()
    assert set(rsa_jwk) == {"kty", "n", "e"}
    assert rsa_jwk["kty"] == "RSA" and rsa_jwk["e"] == "AQAB"
    assert len(b64url_decode(rsa_jwk["n"])) == 256
    assert int.from_bytes(b64url_decode(rsa_jwk["n"]), "big") == keys["RSA"].public_key().public_numbers().n
    for name, size in (("P-256", 32), ("P-384", 48)):
        jwk = signing_keys[name].public_jwk()
        assert set(jwk) == {"kty", "crv", "x", "y"}
        assert jwk["kty"] == "EC" and jwk["crv"] == name
        assert len(b64url_decode(jwk["x"])) == size
        assert len(b64url_decode(jwk["y"])) == size
        assert "=" not in jwk["x"] + jwk["y"]


def test_ec_coordinates_keep_leading_zeros():
    # Find a P-256 key whose x coordinate is short, and check it is zero-padded.
    for _attempt in range(5000):
        key = ec.generate_private_key(ec.SECP256R1())
        if key.public_key().public_numbers().x.bit_length() <= 248:
            break
    else:  # pragma: no cover - odds of this are about 3 in 10^9
        pytest.skip("no short coordinate found")
    jwk = SigningKey(key).public_jwk()
    raw = b64url_decode(jwk["x"])
    assert len(raw) == 32 and raw[0] == 0


def test_jwk_thumbprint_rfc7638_example():
    # RFC 7638 section 3.1 example key and thumbprint.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn"
        "1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    numbers = rsa.RSAPublicNumbers(65537, int.from_bytes(b64url_decode(n), "big"))

    class _Stub:  # only the public half is needed for a thumbprint
        def public_key(self):
            return numbers.public_key()

    key = SigningKey.__new__(SigningKey)
    key._key, key.kind, key.curve, key.key_size = _Stub(), "RSA", None, 2048
    assert key.jwk_thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --------------------------------------------------------------------------
# Loading keys
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["RSA", "P-256", "P-384"])
@pytest.mark.parametrize(
    "encoding,fmt",
    [
        ("PEM", serialization.PrivateFormat.PKCS8),
        ("PEM", serialization.PrivateFormat.TraditionalOpenSSL),
        ("DER", serialization.PrivateFormat.PKCS8),
        ("DER", serialization.PrivateFormat.TraditionalOpenSSL),
    ],
)
def test_load_formats(name, encoding, fmt, keys, tmp_path):
    raw = _pem(keys[name], fmt) if encoding == "PEM" else _der(keys[name], fmt)
    from_content = load_private_key(content=raw)
    path = tmp_path / "key"
    path.write_bytes(raw)
    from_path = load_private_key(path=str(path))
    expected = SigningKey(keys[name]).public_jwk()
    assert from_content.public_jwk() == expected
    assert from_path.public_jwk() == expected


def test_load_pem_as_text_crlf_indented_and_bundled(keys, rsa_key):
    pem = _pem(keys["P-256"]).decode()
    assert load_private_key(content=pem).curve == "P-256"
    assert load_private_key(content=pem.replace("\n", "\r\n")).curve == "P-256"
    indented = "\n".join("    " + line for line in pem.splitlines())
    assert load_private_key(content=indented).curve == "P-256"
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    bundle = "Bag Attributes: something\n" + public + pem
    assert load_private_key(content=bundle).curve == "P-256"


@pytest.mark.parametrize(
    "encoding,fmt",
    [
        ("PEM", serialization.PrivateFormat.PKCS8),
        ("PEM", serialization.PrivateFormat.TraditionalOpenSSL),
        ("DER", serialization.PrivateFormat.PKCS8),
    ],
)
def test_encrypted_key(encoding, fmt, p256_key):
    maker = _pem if encoding == "PEM" else _der
    raw = maker(p256_key, fmt, PASSPHRASE)

    key = load_private_key(content=raw, passphrase=PASSPHRASE)
    assert key.public_jwk() == SigningKey(p256_key).public_jwk()
    assert load_private_key(content=raw, passphrase=PASSPHRASE.encode()).curve == "P-256"

    with pytest.raises(KeyMaterialError, match="is encrypted: set private_key_passphrase"):
        load_private_key(content=raw)
    with pytest.raises(KeyMaterialError, match="private_key_passphrase"):
        load_private_key(content=raw, passphrase="")
    with pytest.raises(KeyMaterialError, match="could not be decrypted"):
        load_private_key(content=raw, passphrase="wrong passphrase")


def test_passphrase_for_unencrypted_key(keys):
    with pytest.raises(KeyMaterialError, match="not encrypted"):
        load_private_key(content=_pem(keys["RSA"]), passphrase=PASSPHRASE)
    with pytest.raises(KeyMaterialError, match="not encrypted"):
        load_private_key(content=_der(keys["RSA"]), passphrase=PASSPHRASE)


def test_path_and_content_both_or_neither(keys, tmp_path):
    path = tmp_path / "key.pem"
    path.write_bytes(_pem(keys["RSA"]))
    with pytest.raises(OptionError, match="private_key_path and private_key_content"):
        load_private_key(path=str(path), content=_pem(keys["RSA"]))
    with pytest.raises(OptionError) as info:
        load_private_key()
    assert "private_key_path" in str(info.value) and "private_key_content" in str(info.value)
    with pytest.raises(OptionError):
        load_private_key(passphrase=PASSPHRASE)


def test_unreadable_paths(tmp_path):
    missing = tmp_path / "nope" / "key.pem"
    with pytest.raises(KeyMaterialError) as info:
        load_private_key(path=str(missing))
    assert str(missing) in str(info.value) and "no such file" in str(info.value)

    with pytest.raises(KeyMaterialError) as info:
        load_private_key(path=str(tmp_path))
    assert str(tmp_path) in str(info.value) and "directory" in str(info.value)

    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    with pytest.raises(KeyMaterialError, match="empty"):
        load_private_key(path=str(empty))

    with pytest.raises(OptionError):
        load_private_key(path="")
    with pytest.raises(OptionError):
        load_private_key(path=123)
    with pytest.raises(OptionError):
        load_private_key(path=b"/etc/key.pem")


def test_key_text_given_as_path_is_not_echoed(keys):
    pem = _pem(keys["RSA"]).decode()
    with pytest.raises(KeyMaterialError, match="private_key_content") as info:
        load_private_key(path=pem)
    body = pem.splitlines()[1]
    assert body not in str(info.value)


@pytest.mark.parametrize(
    "line",
    [
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDCDDxSVaYNkftP",
        "/Kh3zwSBkGivM5SRF9X+KsR7qD1aryZ8uEJoDAKjKwsU+clF3FmS3Thb8zsEJ0r9",
        "vM5SRF9X+K/R7qD1aryZ8uEJoDAKjKwsU+clF3FmS3Thb8zsEJ0r9abc/d==",
    ],
)
def test_base64_line_given_as_path_is_not_echoed(line):
    with pytest.raises(KeyMaterialError, match="private_key_path") as info:
        load_private_key(path=line)
    assert line not in str(info.value)
    assert "not shown" in str(info.value)


def test_ordinary_paths_are_named_in_errors():
    for path in (
        "relative/dir/client-key.pem",
        "/etc/apiauth/keys/client_private_key_for_service_xyz",
        "/home/ansible/secrets/oauthclient/privatekey",
    ):
        with pytest.raises(KeyMaterialError) as info:
            load_private_key(path=path)
        assert path in str(info.value)


def test_path_accepts_pathlike_and_tilde(keys, tmp_path, monkeypatch):
    path = tmp_path / "key.pem"
    path.write_bytes(_pem(keys["P-384"]))
    assert load_private_key(path=path).curve == "P-384"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_private_key(path="~/key.pem").curve == "P-384"


def test_oversized_file(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"A" * (2 * 1024 * 1024))
    with pytest.raises(KeyMaterialError, match="too large"):
        load_private_key(path=str(big))


@pytest.mark.parametrize(
    "content,match",
    [
        ("garbage", "not a PEM or DER private key"),
        (b"\x00\x01\x02garbage", "not a PEM or DER private key"),
        (b"\x30\x03\x02\x01\x00", "not a PEM or DER private key"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a PEM private key"),
        ("-----BEGIN PRIVATE KEY-----\nMIIE", "BEGIN/END"),
        ("/etc/ssl/private/key.pem", "private_key_path"),
        ("", "empty"),
        ("  \n", "empty"),
    ],
)
def test_garbage_content(content, match):
    with pytest.raises(KeyMaterialError, match=match):
        load_private_key(content=content)


def test_truncated_pem(keys):
    pem = _pem(keys["RSA"]).decode()
    lines = pem.splitlines()
    damaged = "\n".join(lines[:5] + lines[-1:]) + "\n"
    with pytest.raises(KeyMaterialError, match="damaged"):
        load_private_key(content=damaged)


def test_public_key_or_certificate_only(rsa_key):
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyMaterialError, match="no private key.*PUBLIC KEY"):
        load_private_key(content=public)


def test_two_private_keys(keys):
    with pytest.raises(KeyMaterialError, match="2 private keys"):
        load_private_key(content=_pem(keys["RSA"]) + _pem(keys["P-256"]))


def test_openssh_format(p256_key):
    raw = p256_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    with pytest.raises(KeyMaterialError, match="OpenSSH"):
        load_private_key(content=raw)


def test_content_type_checks():
    with pytest.raises(OptionError):
        load_private_key(content=12345)
    with pytest.raises(OptionError):
        load_private_key(content="x", passphrase=12345)


# --------------------------------------------------------------------------
# Unsupported keys
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_1024():
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def test_rsa_too_small(rsa_1024):
    with pytest.raises(KeyMaterialError) as info:
        load_private_key(content=_pem(rsa_1024))
    text = str(info.value)
    assert "1024" in text and "2048" in text and "RFC 7518 section 3.3" in text
    with pytest.raises(KeyMaterialError):
        SigningKey(rsa_1024)


@pytest.mark.parametrize(
    "make,match",
    [
        (ed25519.Ed25519PrivateKey.generate, "Ed25519"),
        (lambda: ec.generate_private_key(ec.SECP521R1()), "secp521r1"),
        (lambda: ec.generate_private_key(ec.SECP256K1()), "secp256k1"),
        (lambda: dsa.generate_private_key(key_size=1024), "DSA"),
    ],
)
def test_unsupported_key_types(make, match):
    key = make()
    with pytest.raises(KeyMaterialError, match=match):
        load_private_key(content=_pem(key))


def test_wrong_object_for_signing_key():
    with pytest.raises(KeyMaterialError):
        SigningKey("not a key")


# --------------------------------------------------------------------------
# Error messages never carry secrets
# --------------------------------------------------------------------------


def _secret_fragments(pem: bytes, passphrase: str):
    fragments = {passphrase}
    for line in pem.decode().splitlines():
        if line and not line.startswith("-----"):
            fragments.add(line.strip())
    return fragments


def test_error_messages_do_not_leak_secrets(keys, rsa_1024, p256_key, tmp_path):
    encrypted = _pem(p256_key, passphrase=PASSPHRASE)
    plain = _pem(keys["RSA"])
    small = _pem(rsa_1024)
    ed = _pem(ed25519.Ed25519PrivateKey.generate())
    damaged = b"\n".join(plain.splitlines()[:-3] + plain.splitlines()[-1:])
    cases = [
        {"content": encrypted},
        {"content": encrypted, "passphrase": "not " + PASSPHRASE},
        {"content": encrypted.decode(), "passphrase": PASSPHRASE + "!"},
        {"content": plain, "passphrase": PASSPHRASE},
        {"content": small},
        {"content": ed},
        {"content": damaged},
        {"content": plain.decode().replace("-----BEGIN", "-----BEGI")},
        {"content": plain + small},
        {"content": PASSPHRASE},
        {"content": plain, "path": "/nonexistent"},
        {"path": plain.decode()},
        {"path": plain.decode()},
    ]
    secrets_seen = set()
    for raw in (encrypted, plain, small, ed):
        secrets_seen |= _secret_fragments(raw, PASSPHRASE)
    path = tmp_path / "enc.pem"
    path.write_bytes(encrypted)
    cases.append({"path": str(path)})
    cases.append({"path": str(path), "passphrase": "wrong-" + PASSPHRASE})

    for kwargs in cases:
        with pytest.raises(ApiAuthError) as info:
            load_private_key(**kwargs)
        err = info.value
        text = " ".join([str(err), repr(err), err.message, err.hint or ""] + [str(a) for a in err.args])
        for fragment in secrets_seen:
            assert fragment not in text, kwargs
        # No chained cryptography exception with details hangs off the error.
        assert err.__cause__ is None
        assert err.__suppress_context__ is True or err.__context__ is None

    key = load_private_key(content=encrypted, passphrase=PASSPHRASE)
    assert PASSPHRASE not in repr(key)
    for fragment in secrets_seen:
        assert fragment not in repr(key)


# --------------------------------------------------------------------------
# base64url helpers and the missing library
# --------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xff\xfe\xfd", bytes(range(256))])
def test_b64url_roundtrip(data):
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data
    assert b64url_decode(text + "=" * (-len(text) % 4)) == data
    assert b64url_decode(text.encode()) == data


def test_b64url_known_values():
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"


@pytest.mark.parametrize("text", ["a", "ab+c", "ab/c", "ab c", "é", 12])
def test_b64url_decode_rejects(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_missing_cryptography(monkeypatch, keys):
    key = SigningKey(keys["RSA"])
    monkeypatch.setattr(_jws, "HAS_CRYPTOGRAPHY", False)
    with pytest.raises(MissingLibraryError) as info:
        load_private_key(content=_pem(keys["RSA"]))
    assert info.value.library == "cryptography"
    assert "private_key_jwt" in str(info.value)
    with pytest.raises(MissingLibraryError):
        sign({"a": 1}, key)


def test_module_has_no_ansible_imports():
    source_path = _jws.__file__
    with open(source_path, encoding="utf-8") as handle:
        source = handle.read()
    assert "import ansible." not in source and "from ansible." not in source
    assert "jwt" not in {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert os.path.basename(source_path) == "_jws.py"
