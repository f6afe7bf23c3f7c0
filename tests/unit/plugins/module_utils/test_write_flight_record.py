# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hand-off record of a write that makes a secret: the shared envelope, and what it refuses."""

from __future__ import annotations

import base64
import os
import secrets

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _write_flight as wf
from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import envelope_metadata

FERNET_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
PASSPHRASE = "a passphrase, not a Fernet key"


def _record():
    return {"v": 1, "written_at": 1_700_000_000.5, "secret": {"api_key": "key-" + secrets.token_hex(16)}}


@pytest.mark.parametrize("key", [FERNET_KEY, PASSPHRASE], ids=["fernet-key", "passphrase"])
def test_sealed_record_round_trips_and_holds_no_secret_in_clear(key):
    record = _record()
    data = wf.seal(record, key)
    assert record["secret"]["api_key"].encode() not in data
    assert wf.unseal(data, key) == record
    # The envelope of _cache_crypto, after the format 2 marker.
    assert data.startswith(b"apiauth.saas hand-off v2 sealed\n")
    assert envelope_metadata(data.split(b"\n", 1)[1]) is not None
    assert wf.unseal(data, key + "x") is None
    assert wf.unseal(data, None) is None


def test_plain_record_only_without_a_key():
    record = _record()
    data = wf.seal(record, None)
    assert wf.unseal(data, None) == record
    assert wf.unseal(data, FERNET_KEY) is None


def test_edited_salt_or_ciphertext_is_not_read():
    record = _record()
    data = wf.seal(record, PASSPHRASE)
    assert wf.unseal(data, PASSPHRASE) == record  # positive control: the untouched record reads
    edited = data.replace(b'"salt":"', b'"salt":"A', 1)
    assert edited != data and wf.unseal(edited, PASSPHRASE) is None
    flipped = bytearray(data)
    flipped[-10] ^= 0x01
    assert wf.unseal(bytes(flipped), PASSPHRASE) is None


def test_a_format_1_record_is_never_read():
    """A Fernet record an earlier version wrote: not read (it lives HANDOFF_TTL at most)."""
    from cryptography.fernet import Fernet  # pylint: disable=import-outside-toplevel

    from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import hkdf, master_key  # pylint: disable=import-outside-toplevel

    record = _record()
    derived = hkdf(master_key(FERNET_KEY, lambda: b""), b"apiauth.saas write hand-off v1")
    token = Fernet(base64.urlsafe_b64encode(derived)).encrypt(wf._canonical(record))  # pylint: disable=protected-access
    old = b"apiauth.saas hand-off v1 sealed\n" + wf._canonical({"salt": None, "token": token.decode()})  # pylint: disable=protected-access
    # Positive control: the old record is the old scheme's, and opens with it.
    assert Fernet(base64.urlsafe_b64encode(derived)).decrypt(token) == wf._canonical(record)  # pylint: disable=protected-access
    assert wf.unseal(old, FERNET_KEY) is None
