# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compact JWS signing for RFC 7523 client assertions (``private_key_jwt``).

Internal to the collection: no stability promise to code outside it.

Only the ``cryptography`` library is used here, on purpose: the test simulators
verify the assertions with PyJWT, so signer and verifier are two independent
implementations of RFC 7515 / RFC 7518.

Every exception raised by this module is an ``ApiAuthError`` whose text is safe
to show: it may name an option or a file path, never key material or a
passphrase.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import os
import re
import secrets
import time

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    KeyMaterialError,
    MissingLibraryError,
    OptionError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._pem import MAX_MATERIAL_BYTES, read_material

# cryptography is imported by the code that signs or reads a key, not with this module: the option specs
# import it for SUPPORTED_ALGORITHMS on every token call, and a cached token needs no signing, while each
# new worker process would pay for the import (docs/benchmarks.md).
HAS_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None

SUPPORTED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")

# RFC 7518 section 3.3: RSA keys of 2048 bits or more.
MIN_RSA_BITS = 2048

MIN_LIFETIME = 1
MAX_LIFETIME = 600

# A private key file is a few kilobytes at most; refuse to slurp anything huge.
_MAX_KEY_FILE_BYTES = MAX_MATERIAL_BYTES

_PATH_OPTION = "private_key_path"
_CONTENT_OPTION = "private_key_content"
_PASSPHRASE_OPTION = "private_key_passphrase"

_PURPOSE = "to sign private_key_jwt client assertions"

# alg -> (key kind, hash name, curve for EC or None)
_ALG_TABLE = {
    "RS256": ("RSA", "SHA256", None),
    "RS384": ("RSA", "SHA384", None),
    "RS512": ("RSA", "SHA512", None),
    "PS256": ("RSA", "SHA256", None),
    "ES256": ("EC", "SHA256", "P-256"),
    "ES384": ("EC", "SHA384", "P-384"),
}

# JOSE curve name -> (cryptography curve class name, coordinate size in bytes, default alg)
_CURVES = {
    "P-256": ("secp256r1", 32, "ES256"),
    "P-384": ("secp384r1", 48, "ES384"),
}

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\n.*?-----END \1-----",
    re.DOTALL,
)
_B64URL_CHARS = re.compile(r"^[A-Za-z0-9_-]*$")
# Long base64 text (no dot, dash, underscore or tilde) with a long run between
# slashes is key text, not a file name: such a value is not echoed in errors.
_BASE64_BLOB = re.compile(r"^[A-Za-z0-9+/=]{40,}$")
_BASE64_RUN = 24


def _require_cryptography() -> None:
    if not HAS_CRYPTOGRAPHY:
        raise MissingLibraryError("cryptography", _PURPOSE)


# --------------------------------------------------------------------------
# base64url (RFC 7515 section 2: no padding)
# --------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url text without ``=`` padding."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode base64url text, with or without padding.

    Raises ``ValueError`` (never with the input in its text) when the input is
    not base64url: callers turn that into the error that fits their context.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("not base64url: non-ASCII characters") from None
    if not isinstance(text, str):
        raise ValueError("not base64url: expected text")
    text = text.rstrip("=")
    if not _B64URL_CHARS.match(text):
        raise ValueError("not base64url: unexpected characters")
    if len(text) % 4 == 1:
        raise ValueError("not base64url: impossible length")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _int_to_b64url(value: int, length: int | None = None) -> str:
    if length is None:
        length = max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(length, "big"))


# --------------------------------------------------------------------------
# Signing keys
# --------------------------------------------------------------------------


class SigningKey:
    """A private key that can sign JWS: RSA (>= 2048 bits), EC P-256 or EC P-384.

    Build one with ``load_private_key``; wrapping a ``cryptography`` private key
    object directly is also allowed (``SigningKey(private_key)``) and applies the
    same checks. The repr never shows key material.
    """

    __slots__ = ("_key", "kind", "curve", "key_size")

    def __init__(self, private_key) -> None:
        _require_cryptography()
        from cryptography.hazmat.primitives.asymmetric import ec, rsa  # pylint: disable=import-outside-toplevel

        if isinstance(private_key, rsa.RSAPrivateKey):
            if private_key.key_size < MIN_RSA_BITS:
                raise KeyMaterialError(
                    f"The RSA private key has {private_key.key_size} bits; RSA keys need at least "
                    f"{MIN_RSA_BITS} bits (RFC 7518 section 3.3).",
                    hint="Generate a new key of 2048 bits or more.",
                )
            self.kind = "RSA"
            self.curve = None
            self.key_size = private_key.key_size
        elif isinstance(private_key, ec.EllipticCurvePrivateKey):
            curve = None
            for jose_name, (cls_name, _size, _alg) in _CURVES.items():
                if private_key.curve.name == cls_name:
                    curve = jose_name
            if curve is None:
                raise KeyMaterialError(
                    f"The EC private key uses the curve {private_key.curve.name}, which is not supported.",
                    hint="Use an EC key on P-256 (ES256) or P-384 (ES384), or an RSA key.",
                )
            self.kind = "EC"
            self.curve = curve
            self.key_size = private_key.curve.key_size
        else:
            raise KeyMaterialError(
                f"Unsupported private key type ({_describe_key_type(private_key)}).",
                hint="Use an RSA key (2048 bits or more) or an EC key on P-256 or P-384; "
                f"supported algorithms: {', '.join(SUPPORTED_ALGORITHMS)}.",
            )
        self._key = private_key

    def __repr__(self) -> str:
        if self.kind == "EC":
            return f"<SigningKey EC {self.curve}>"
        return f"<SigningKey RSA {self.key_size}>"

    def default_algorithm(self) -> str:
        """RS256 for RSA, ES256 for P-256, ES384 for P-384."""
        if self.kind == "RSA":
            return "RS256"
        return _CURVES[self.curve][2]

    def check_algorithm(self, alg) -> str:
        """Return ``alg`` when this key can sign with it, else raise.

        An algorithm outside ``SUPPORTED_ALGORITHMS`` raises ``OptionError``; a
        supported one that does not fit this key raises ``KeyMaterialError``.
        """
        if not isinstance(alg, str) or alg not in _ALG_TABLE:
            shown = alg if isinstance(alg, str) and len(alg) <= 20 else type(alg).__name__
            raise OptionError(
                f"Unsupported signing algorithm '{shown}'.",
                hint=f"Supported algorithms: {', '.join(SUPPORTED_ALGORITHMS)} (names are case-sensitive).",
            )
        kind, _hash, curve = _ALG_TABLE[alg]
        if kind != self.kind:
            fits = self._fitting_algorithms()
            raise KeyMaterialError(
                f"The signing algorithm {alg} needs an {kind} key, but the private key is "
                f"{self._describe()}.",
                hint=f"Algorithms that fit this key: {', '.join(fits)}.",
            )
        if curve is not None and curve != self.curve:
            raise KeyMaterialError(
                f"The signing algorithm {alg} needs an EC key on {curve}, but the private key is "
                f"{self._describe()}.",
                hint=f"Use {self.default_algorithm()} with this key.",
            )
        return alg

    def public_key(self):
        """The ``cryptography`` public key object."""
        return self._key.public_key()

    def public_jwk(self, kid: str | None = None) -> dict:
        """The public half as a JWK (RFC 7517 / RFC 7518 section 6)."""
        numbers = self._key.public_key().public_numbers()
        if self.kind == "RSA":
            jwk = {"kty": "RSA", "n": _int_to_b64url(numbers.n), "e": _int_to_b64url(numbers.e)}
        else:
            size = _CURVES[self.curve][1]
            jwk = {
                "kty": "EC",
                "crv": self.curve,
                "x": _int_to_b64url(numbers.x, size),
                "y": _int_to_b64url(numbers.y, size),
            }
        if kid is not None:
            jwk["kid"] = kid
        return jwk

    def jwk_thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint of the public JWK, base64url (a common ``kid``)."""
        jwk = self.public_jwk()
        members = ("e", "kty", "n") if self.kind == "RSA" else ("crv", "kty", "x", "y")
        canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
        from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel

        digest = hashes.Hash(hashes.SHA256())
        digest.update(canonical.encode("ascii"))
        return b64url_encode(digest.finalize())

    def _describe(self) -> str:
        if self.kind == "EC":
            return f"an EC key on {self.curve}"
        return f"an RSA key of {self.key_size} bits"

    def _fitting_algorithms(self) -> list:
        return [
            alg
            for alg, (kind, _hash, curve) in _ALG_TABLE.items()
            if kind == self.kind and (curve is None or curve == self.curve)
        ]

    def _sign_input(self, alg: str, signing_input: bytes) -> bytes:
        # pylint: disable-next=import-outside-toplevel
        from cryptography.hazmat.primitives.asymmetric import ec, padding
        from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
        # pylint: disable-next=import-outside-toplevel
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        _kind, hash_name, _curve = _ALG_TABLE[alg]
        hash_alg = getattr(hashes, hash_name)()
        if self.kind == "RSA":
            if alg.startswith("PS"):
                pad = padding.PSS(mgf=padding.MGF1(getattr(hashes, hash_name)()), salt_length=hash_alg.digest_size)
            else:
                pad = padding.PKCS1v15()
            return self._key.sign(signing_input, pad, hash_alg)
        der = self._key.sign(signing_input, ec.ECDSA(hash_alg))
        r, s = decode_dss_signature(der)
        size = _CURVES[self.curve][1]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _describe_key_type(private_key) -> str:
    name = type(private_key).__name__
    # cryptography's classes are named like Ed25519PrivateKey / DSAPrivateKey.
    for suffix in ("PrivateKey", "Key"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name.lstrip("_") or "unknown"


# --------------------------------------------------------------------------
# Loading keys
# --------------------------------------------------------------------------


def load_private_key(
    *,
    path: str | None = None,
    content: str | bytes | None = None,
    passphrase: str | bytes | None = None,
) -> SigningKey:
    """Load a PEM (PKCS#8 or traditional RSA/EC) or DER private key.

    Exactly one of ``path`` and ``content`` must be given. An empty passphrase
    counts as no passphrase. Every failure raises an ``OptionError`` (usually
    its ``KeyMaterialError`` subclass) whose text names the option or the path,
    never the key or the passphrase.
    """
    if path is not None and content is not None:
        raise OptionError(
            f"{_PATH_OPTION} and {_CONTENT_OPTION} are mutually exclusive.",
            hint="Set only one of them.",
        )
    if path is None and content is None:
        raise OptionError(
            f"A private key is needed to sign the client assertion: set {_PATH_OPTION} or {_CONTENT_OPTION}."
        )

    if passphrase is not None and not isinstance(passphrase, (str, bytes)):
        raise OptionError(f"{_PASSPHRASE_OPTION} must be a string.")
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if not passphrase:
        passphrase = None

    if path is not None:
        data, source = _read_key_file(path)
    else:
        source = f"The private key in {_CONTENT_OPTION}"
        if isinstance(content, str):
            data = content.encode("utf-8")
        elif isinstance(content, (bytes, bytearray)):
            data = bytes(content)
        else:
            raise OptionError(f"{_CONTENT_OPTION} must be a string.")
        if not data.strip():
            raise KeyMaterialError(f"{_CONTENT_OPTION} is empty.")

    _require_cryptography()
    private_key = _parse_key(data, passphrase, source, from_content=path is None)
    return SigningKey(private_key)


def _read_key_file(path):
    if not isinstance(path, (str, os.PathLike)):
        raise OptionError(f"{_PATH_OPTION} must be a string.")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise OptionError(f"{_PATH_OPTION} must be a string.")
    path = os.path.expanduser(path)
    if not path:
        raise OptionError(f"{_PATH_OPTION} is empty.")
    if "-----BEGIN" in path or "\n" in path or len(path) > 4096:
        # Key text put in the wrong option: never echo it back.
        raise KeyMaterialError(
            f"{_PATH_OPTION} does not look like a file path; it seems to hold key text.",
            hint=f"Put the key itself in {_CONTENT_OPTION}, or set {_PATH_OPTION} to the key file's path.",
        )
    if _BASE64_BLOB.match(path) and max(len(part) for part in path.split("/")) >= _BASE64_RUN:
        # One line of base64 key text, most likely: name the option, not the value.
        where = f"{_PATH_OPTION} (its value looks like base64 key text, so it is not shown)"
    else:
        where = f"{_PATH_OPTION} '{path}'"
    try:
        if os.path.isdir(path):
            raise KeyMaterialError(f"Cannot read {where}: it is a directory, not a key file.")
        data = read_material(path, _MAX_KEY_FILE_BYTES)
    except FileNotFoundError:
        raise KeyMaterialError(f"Cannot read {where}: no such file.") from None
    except PermissionError:
        raise KeyMaterialError(
            f"Cannot read {where}: permission denied.",
            hint="Make the file readable by the user that runs Ansible on the controller.",
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise KeyMaterialError(f"Cannot read {where}: {reason}.") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise KeyMaterialError(f"{where} is too large to be a private key file.")
    if not data.strip():
        raise KeyMaterialError(f"{where} is empty.")
    return data, f"The private key in {where}"


def _select_pem_block(data: bytes, source: str) -> bytes:
    """Pick the one private key block out of a PEM bundle (key + certificate, say)."""
    blocks = [(m.group(1).decode("ascii"), m.group(0)) for m in _PEM_BLOCK.finditer(data)]
    keys = [(label, block) for label, block in blocks if label.endswith("PRIVATE KEY")]
    if not keys:
        labels = sorted({label for label, _block in blocks})
        if labels:
            raise KeyMaterialError(
                f"{source} holds no private key (found PEM blocks: {', '.join(labels)}).",
                hint="Provide the private key itself, not a certificate, public key or request.",
            )
        raise KeyMaterialError(
            f"{source} is not a valid PEM private key (the BEGIN/END lines are broken).",
        )
    if len(keys) > 1:
        raise KeyMaterialError(f"{source} holds {len(keys)} private keys; provide exactly one.")
    label, block = keys[0]
    if label == "OPENSSH PRIVATE KEY":
        raise KeyMaterialError(
            f"{source} is in the OpenSSH format, which is not supported.",
            hint="Convert it to PKCS#8 PEM, for example with 'ssh-keygen -p -m PKCS8 -f FILE'.",
        )
    return block


def _parse_key(data: bytes, passphrase, source: str, *, from_content: bool):
    from cryptography.exceptions import UnsupportedAlgorithm  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    if b"-----BEGIN" in data:
        # Indented or CRLF text (pasted into YAML, say) is still a valid key.
        data = b"\n".join(line.strip() for line in data.splitlines()) + b"\n"
        data = _select_pem_block(data, source)
        loader = serialization.load_pem_private_key
        what = "a PEM private key"
    else:
        loader = serialization.load_der_private_key
        what = "a PEM or DER private key"

    # First without a passphrase: TypeError then means "encrypted", whatever
    # the format, without relying on the wording of the library's messages.
    try:
        key = loader(data, password=None)
    except TypeError:
        encrypted = True
    except UnsupportedAlgorithm:
        raise _unsupported_error(source) from None
    except (ValueError, IndexError, OverflowError):
        raise _garbled_error(source, what, from_content) from None
    except Exception:  # any other surprise from the backend must not escape raw
        raise _garbled_error(source, what, from_content) from None
    else:
        encrypted = False

    if not encrypted:
        if passphrase is not None:
            raise KeyMaterialError(
                f"{source} is not encrypted, but {_PASSPHRASE_OPTION} is set.",
                hint=f"Remove {_PASSPHRASE_OPTION}, or use the encrypted key it belongs to.",
            )
        return key

    if passphrase is None:
        raise KeyMaterialError(f"{source} is encrypted: set {_PASSPHRASE_OPTION}.")
    try:
        return loader(data, password=passphrase)
    except UnsupportedAlgorithm:
        raise _unsupported_error(source) from None
    except Exception:
        raise KeyMaterialError(
            f"{source} could not be decrypted with {_PASSPHRASE_OPTION}: "
            "the passphrase is wrong or the key is damaged.",
        ) from None


def _unsupported_error(source: str) -> KeyMaterialError:
    return KeyMaterialError(
        f"{source} uses a key type or an encryption cipher that the cryptography library cannot load.",
        hint="Use an RSA (2048 bits or more) or EC P-256/P-384 key in PKCS#8 PEM, encrypted with AES if at all.",
    )


def _garbled_error(source: str, what: str, from_content: bool) -> KeyMaterialError:
    hint = "Check that the file holds a private key and was copied whole."
    if from_content:
        hint = (
            f"{_CONTENT_OPTION} must hold the key itself (PEM text with its BEGIN/END lines); "
            f"to read a file, use {_PATH_OPTION}."
        )
    return KeyMaterialError(f"{source} is not {what}, or it is damaged.", hint=hint)


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


def _json_segment(value: dict, what: str) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise OptionError(f"The JWS {what} cannot be encoded as JSON.") from None
    return b64url_encode(text.encode("utf-8"))


def sign(
    claims: dict,
    key: SigningKey,
    *,
    algorithm: str | None = None,
    key_id: str | None = None,
    extra_headers: dict | None = None,
) -> str:
    """Sign ``claims`` into a compact JWS (``header.payload.signature``).

    The header is ``{"alg", "typ": "JWT", "kid"}`` (``kid`` only when
    ``key_id`` is given) plus ``extra_headers``, which may not set ``alg``
    and may set ``kid`` only when ``key_id`` is not given.
    """
    _require_cryptography()
    if not isinstance(key, SigningKey):
        raise OptionError("sign() needs a SigningKey; load one with load_private_key().")
    if not isinstance(claims, dict):
        raise OptionError("The JWT claims must be a mapping.")
    alg = key.check_algorithm(algorithm if algorithm is not None else key.default_algorithm())

    header = {"alg": alg, "typ": "JWT"}
    if key_id is not None:
        if not isinstance(key_id, str):
            raise OptionError("The key id (kid) must be a string.")
        if key_id:
            header["kid"] = key_id
    if extra_headers:
        if not isinstance(extra_headers, dict):
            raise OptionError("Extra JWS header fields must be a mapping.")
        if "alg" in extra_headers:
            raise OptionError("Extra JWS header fields may not set 'alg'; use the algorithm argument.")
        if "kid" in extra_headers and "kid" in header and extra_headers["kid"] != header["kid"]:
            raise OptionError("The key id is given twice with different values (key_id and header 'kid').")
        header.update(extra_headers)

    signing_input = (_json_segment(header, "header") + "." + _json_segment(claims, "claims")).encode("ascii")
    try:
        signature = key._sign_input(alg, signing_input)
    except Exception:
        raise KeyMaterialError(f"Signing with {alg} failed: the private key cannot be used for it.") from None
    return signing_input.decode("ascii") + "." + b64url_encode(signature)


def client_assertion_claims(
    *,
    client_id: str,
    audience: str,
    lifetime: int = 60,
    now: float | None = None,
    jti: str | None = None,
) -> dict:
    """Claims of an RFC 7523 section 3 client assertion.

    ``iss`` and ``sub`` are the client id, ``aud`` the audience (normally the
    token endpoint URL), ``iat`` the current time in whole seconds, ``exp``
    ``iat + lifetime`` and ``jti`` a fresh random id unless one is given.
    """
    if not isinstance(client_id, str) or not client_id:
        raise OptionError("The client id of a client assertion must be a non-empty string.")
    if not isinstance(audience, str) or not audience:
        raise OptionError("The audience of a client assertion must be a non-empty string.")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise OptionError("The client assertion lifetime must be a whole number of seconds.")
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise OptionError(
            f"The client assertion lifetime must be between {MIN_LIFETIME} and {MAX_LIFETIME} seconds, "
            f"not {lifetime}."
        )
    if now is None:
        now = time.time()
    elif isinstance(now, bool) or not isinstance(now, (int, float)):
        raise OptionError("The current time for a client assertion must be a number of seconds.")
    if jti is None:
        jti = secrets.token_urlsafe(24)
    elif not isinstance(jti, str) or not jti:
        raise OptionError("The jti of a client assertion must be a non-empty string.")
    issued_at = int(now)
    return {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": jti,
    }


def make_client_assertion(
    *,
    client_id: str,
    audience: str,
    key: SigningKey,
    algorithm: str | None = None,
    key_id: str | None = None,
    lifetime: int = 60,
    now: float | None = None,
) -> str:
    """A signed RFC 7523 client assertion, ready for ``client_assertion``."""
    claims = client_assertion_claims(client_id=client_id, audience=audience, lifetime=lifetime, now=now)
    return sign(claims, key, algorithm=algorithm, key_id=key_id)
