# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cryptography of everything the collection keeps encrypted at rest: token entries, revoke records, hand-offs.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: the file cache, the shared (Redis) layer, the
revoke_at_end spool and the write hand-off all turn ``cache_encryption_key``
into key material and seal records the same way. One place holds the scrypt
parameters, the Fernet-key test, the HKDF labels and the envelope format, so
that a change to one of them cannot leave another user of it behind.

Master key
    ``master_key``: a Fernet key (44 characters of URL-safe base64 of 32
    bytes) gives its 32 bytes as they are; any other text is a passphrase,
    stretched with scrypt (n=2**14, r=8, p=1) over a salt the caller keeps.

Entry keys
    ``derive_entry_key``: HKDF-SHA256 over the master key (32 zero bytes
    without one) and the keyed hash of a credential's secret material, with an
    ``info`` label per purpose, so neither input alone opens anything.

Envelope (format 2, ``ENTRY_VERSION``)
    ``{"v": 2, "alg": "A256GCM", "meta": {...}, "nonce": ..., "ct": ...}``:
    ``meta`` in clear, the secret part AES-256-GCM encrypted with the entry's
    name and ``meta`` as associated data, so neither can be edited (nor the
    envelope copied under another name) without the opening failing.

cryptography (a dependency of ansible-core) is imported with this module, as
the token cache always did: every entry is encrypted, so every cache call
needs it. Without it ``HAS_CRYPTOGRAPHY`` is False and callers keep tokens in
memory only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import threading

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
except ImportError:  # pragma: no cover - depends on the controller
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

# 1: the whole document in one Fernet token (or in clear without a key), under the cache
# encryption key alone. 2: an envelope (see the module docstring). Version 1 entries are
# never read again: a miss, refetched and overwritten, and swept.
ENTRY_VERSION = 2
ENVELOPE_ALG = "A256GCM"
NONCE_BYTES = 12
# HKDF "info" labels: one derived key never serves two purposes.
KDF_LABEL_FILE = b"apiauth.saas token cache v2: entry key, file layer"
KDF_LABEL_SHARED = b"apiauth.saas token cache v2: entry key, shared layer"

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1

# (label, location, cache key, master key digest) -> 32-byte entry key: HKDF runs once per credential and process.
ENTRY_KEYS: dict = {}
_ENTRY_KEYS_LOCK = threading.Lock()


def canonical_json(value) -> bytes:
    """The one byte form of a JSON value that keys, hashes and associated data are computed over."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64(text) -> bytes | None:
    """URL-safe base64 text as bytes, or None for anything that is not."""
    if not isinstance(text, str):
        return None
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        return None


def as_fernet_key(text: str):
    """``text`` as Fernet key bytes if it is one (URL-safe base64 of 32 bytes), else None."""
    if len(text) != 44:
        return None
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        return None
    if len(raw) != 32 or base64.urlsafe_b64encode(raw).decode("ascii") != text:
        return None
    return text.encode("ascii")


def scrypt_key(passphrase: str, salt: bytes) -> bytes:
    """32 bytes stretched from a passphrase with the collection's scrypt parameters."""
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode("utf-8"))


def master_key(encryption_key: str, salt) -> bytes:
    """32 bytes of key material from ``cache_encryption_key``.

    A Fernet key is taken as it is (its 32 bytes); any other text is a
    passphrase stretched with scrypt over ``salt()`` (called only then, so a
    Fernet key needs no salt anywhere).
    """
    fernet_key = as_fernet_key(encryption_key)
    if fernet_key is not None:
        return base64.urlsafe_b64decode(fernet_key)
    return scrypt_key(encryption_key, salt())


def hkdf(material: bytes, label: bytes) -> bytes:
    """32 bytes of HKDF-SHA256 over ``material`` for the purpose ``label``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


def warm_up() -> None:
    """Run HKDF-SHA256 and AES-256-GCM once, on a throwaway all-zero key and no secret.

    OpenSSL looks an algorithm up the first time a process uses it, and that
    costs a new Ansible worker about 3 ms of the 6 ms of its first lookup
    call from the file cache. The callback apiauth.saas.preload calls this in
    the main process, so that the workers forked after it inherit the lookups
    done (docs/benchmarks.md).
    """
    if not HAS_CRYPTOGRAPHY:
        return
    box = AESGCM(hkdf(bytes(32), b"apiauth.saas: warm-up, never a key"))
    nonce = bytes(NONCE_BYTES)
    box.decrypt(nonce, box.encrypt(nonce, b"", b""), b"")


def derive_entry_key(master: bytes | None, mac: bytes, label: bytes) -> bytes:
    """The AES-256 key of one credential's entries: HKDF-SHA256 over the master key AND the secret's keyed hash.

    Neither input alone is enough: the master key (``cache_encryption_key``) is
    the same for every credential of a fleet, and the keyed hash needs the
    credential's secret. Without a master key (a local cache without
    ``cache_encryption_key``) the entry is still unreadable to whoever lacks
    the secret. ``label`` keeps the keys of different layers apart.
    """
    return hkdf((master if master else b"\0" * 32) + mac, label)


def memo_entry_key(memo: tuple, derive) -> bytes:
    """``derive()`` once per ``memo`` and process: a warm hit costs no derivation after the first."""
    with _ENTRY_KEYS_LOCK:
        held = ENTRY_KEYS.get(memo)
    if held is None:
        held = derive()
        with _ENTRY_KEYS_LOCK:
            ENTRY_KEYS[memo] = held
    return held


def secret_document(secrets) -> bytes:
    """The canonical bytes of a credential's secret material (text, bytes or nulls), never stored."""
    if isinstance(secrets, (str, bytes)) or not isinstance(secrets, (list, tuple)):
        raise OptionError("The token cache secrets must be a list of text values or nulls.")
    parts = []
    for secret in secrets:
        if secret is None:
            parts.append(None)
        elif isinstance(secret, str):
            parts.append(["s", secret])
        elif isinstance(secret, (bytes, bytearray)):
            parts.append(["b", base64.b64encode(bytes(secret)).decode("ascii")])
        else:
            raise OptionError("The token cache secrets must be a list of text values or nulls.")
    return canonical_json(parts)


def secret_mac(secrets_doc: bytes, hmac_key: bytes) -> bytes:
    """The keyed hash of the secret material: what the cache key and the entry key are made from."""
    return hmac.new(hmac_key, secrets_doc, hashlib.sha256).digest()


def key_from_mac(identity_doc: bytes, mac: bytes) -> str:
    """The hex cache key of a canonical request identity and the keyed hash of its secrets."""
    outer = b'{"identity":' + identity_doc + b',"secrets":"' + mac.hex().encode("ascii") + b'","v":1}'
    return hashlib.sha256(outer).hexdigest()


def client_ref(hmac_key: bytes, client_id: str) -> str:
    """A keyed hash naming a client without showing its id: what the shared layer keeps instead of the id."""
    return "hmac-sha256:" + hmac.new(hmac_key, b"client_id\0" + client_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _aad(name: str, meta: dict) -> bytes:
    # The clear metadata and the entry's name are authenticated with the
    # ciphertext: an edited expiry or an entry copied under another name does
    # not decrypt.
    return canonical_json({"v": ENTRY_VERSION, "name": name, "meta": meta})


def seal_envelope(key: bytes, name: str, meta: dict, secret: dict) -> bytes:
    """An envelope: ``meta`` in clear, ``secret`` encrypted (AES-256-GCM) under ``key``, both bound to ``name``."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, canonical_json(secret), _aad(name, meta))
    return canonical_json({"v": ENTRY_VERSION, "alg": ENVELOPE_ALG, "meta": meta, "nonce": b64(nonce),
                           "ct": b64(ciphertext)})


def json_object(raw) -> dict | None:
    """``raw`` parsed as one JSON object, or None for anything else (empty, another format, damaged)."""
    if not raw or raw[:1] != b"{":
        return None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _envelope(raw: bytes):
    """The parsed envelope document (not decrypted), or None for anything else (an older format too)."""
    document = json_object(raw)
    if document is None or document.get("v") != ENTRY_VERSION or document.get("alg") != ENVELOPE_ALG:
        return None
    meta = document.get("meta")
    if not isinstance(meta, dict) or not isinstance(document.get("ct"), str) or \
            not isinstance(document.get("nonce"), str):
        return None
    return document


def open_envelope(raw: bytes, key: bytes, name: str):
    """The decrypted secret part of an envelope, or None: another format, key or name, or damaged."""
    document = _envelope(raw)
    if document is None:
        return None
    nonce, ciphertext = unb64(document["nonce"]), unb64(document["ct"])
    if nonce is None or ciphertext is None or len(nonce) != NONCE_BYTES:
        return None
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, _aad(name, document["meta"]))
    except (InvalidTag, ValueError, TypeError):
        return None
    return json_object(plain)


def envelope_metadata(raw: bytes) -> dict | None:
    """The clear metadata of an envelope, without decrypting anything; None for anything but an envelope.

    Not authenticated until the entry is decrypted: good for a report, not for
    deciding to serve a token.
    """
    document = _envelope(raw)
    if document is None:
        return None
    meta = document["meta"]
    out = {}
    for name in ("vendor", "host", "client_id", "client_ref"):
        value = meta.get(name)
        out[name] = value if isinstance(value, str) else None
    for name in ("expires_at", "obtained_at"):
        value = meta.get(name)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        out[name] = float(value) if ok else None
    return out
