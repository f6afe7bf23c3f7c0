"""An attacker of the token cache who holds the cache encryption key but not the client secret.

They also hold the Redis password, a dump of every key and value on the server and of every cache
directory (its HMAC key and salt files included). This code tries every key the collection has
ever derived from that material: Fernet with the cache key, with the scrypt-derived key, with the
HKDF keys of the shared layer's earlier format, and AES-GCM with the present derivation fed with
everything but the secret. Used by the test_adversarial_cachecrypt tests; its positive control is
that it opens what the collection's earlier format wrote.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SHARED_PREFIX = "apiauth.saas:v1:"
LABELS = (b"apiauth.saas token cache v2: entry key, file layer",
          b"apiauth.saas token cache v2: entry key, shared layer")
OLD_SHARED_INFO = b"apiauth.saas shared token cache v1 "


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _hkdf(ikm: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


def masters(encryption_key: str, salts: list) -> list:
    """The 32-byte master keys the encryption key gives: as a Fernet key, or stretched with each salt."""
    found = []
    try:
        raw = base64.urlsafe_b64decode(encryption_key.encode())
        if len(raw) == 32:
            found.append(raw)
    except ValueError:
        pass
    for salt in salts:
        found.append(Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(encryption_key.encode()))
    return found


def attacker_keys(encryption_key: str, salts: list, hmac_keys: list, names: list) -> list:
    """Every 32-byte key the attacker can make without the client secret."""
    bases = masters(encryption_key, salts)
    keys = []
    for master in bases:
        keys.append(master)
        for purpose in (b"entries", b"entry keys"):
            keys.append(_hkdf(master, OLD_SHARED_INFO + purpose))
    # The present derivation fed with everything but the secret: nothing, zeros, the entry's own
    # name, the HMAC keys of the dump, and their keyed hash of an empty or null secret list.
    guesses = [b"", b"\0" * 32] + [bytes.fromhex(name) for name in names if len(name) == 64] + list(hmac_keys)
    for hmac_key in hmac_keys:
        for doc in (b"[]", b"[null]", b'[["s",""]]', b"[null,null]"):
            guesses.append(hmac.new(hmac_key, doc, hashlib.sha256).digest())
    shared_masters = [_hkdf(m, OLD_SHARED_INFO + b"entries") for m in bases]
    for master in bases + shared_masters + [b""]:
        for guess in guesses:
            for label in LABELS:
                keys.append(_hkdf((master or b"\0" * 32) + guess, label))
    return keys


def attack(blob: bytes, name: str, keys: list):
    """The plaintext of ``blob`` if any key opens it (a Fernet token, an envelope, or clear), else None."""
    for key in keys:
        try:
            return Fernet(base64.urlsafe_b64encode(key)).decrypt(blob)
        except (InvalidToken, ValueError):
            pass
    try:
        document = json.loads(blob)
    except ValueError:
        return blob if b"access_token" in blob else None
    if not isinstance(document, dict) or "ct" not in document:
        return blob if b"access_token" in blob else None
    nonce = base64.urlsafe_b64decode(document["nonce"])
    ciphertext = base64.urlsafe_b64decode(document["ct"])
    for aad in (_canonical({"v": document["v"], "name": name, "meta": document["meta"]}), None, b""):
        for key in keys:
            try:
                return AESGCM(key).decrypt(nonce, ciphertext, aad)
            except (InvalidTag, ValueError):
                pass
    return None


def open_directory_dump(encryption_key: str, files: dict) -> dict:
    """entry name -> plaintext, for each entry of a cache directory dump (relative name -> bytes) that opens."""
    salts = [files[".salt"]] if ".salt" in files else []
    hmac_keys = [files[".hmac_key"]] if ".hmac_key" in files else []
    names = [n[: -len(".entry")] for n in files if n.endswith(".entry")]
    keys = attacker_keys(encryption_key, salts, hmac_keys, names)
    opened = {}
    for name in names:
        plain = attack(files[name + ".entry"], name, keys)
        if plain is not None:
            opened[name] = plain
    return opened


def open_server_dump(encryption_key: str, values: dict) -> dict:
    """entry name -> plaintext, for each entry of a Redis dump (key name -> value) that opens."""
    salt = values.get(SHARED_PREFIX + "salt")
    salts = [salt] if salt else []
    entries = {n[len(SHARED_PREFIX + "entry:"):]: v for n, v in values.items()
               if n.startswith(SHARED_PREFIX + "entry:") and v}
    # The shared HMAC key, which earlier and present code derive from the encryption key alone.
    hmac_keys = [_hkdf(m, OLD_SHARED_INFO + b"entry keys") for m in masters(encryption_key, salts)]
    keys = attacker_keys(encryption_key, salts, hmac_keys, list(entries))
    opened = {}
    for name, blob in entries.items():
        plain = attack(blob, name, keys)
        if plain is not None:
            opened[name] = plain
    return opened


def token_forms(token: str) -> list:
    """The token as it could sit in a file: raw, JSON-escaped, percent-encoded, hex, base64 at three alignments."""
    data = token.encode()
    forms = [data, json.dumps(token)[1:-1].encode(), quote(token, safe="").encode(), data.hex().encode()]
    for shift in range(3):
        chunk = data[shift:shift + 24]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.append(encode(chunk)[4:28])
    return forms
