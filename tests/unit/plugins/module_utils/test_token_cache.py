# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the token cache (memory, file and network layers)."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _token_cache as tc
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    CacheError,
    MissingLibraryError,
    OptionError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import (
    CacheResult,
    TokenCache,
    default_cache_dir,
)

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
)

IDENTITY = {
    "vendor": "thoughtspot",
    "token_url": "https://idp.example.test/oauth/token",
    "client_id": "svc-reporting",
    "auth_method": "client_secret_post",
    "scope": "read write",
    "audience": "https://api.example.test",
}
SECRET = "S3cr3t-Client-Secret-Value-7f1c2e9a"
SECRETS = [SECRET, None]
TOKEN = "eyJhbGciOi.access-token-body.signature-0a1b2c3d"
FAR_FUTURE = 4102444800.0  # 2100-01-01


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Fetcher:
    """A fetch callable that counts its calls and hands out numbered tokens."""

    def __init__(self, lifetime=3600.0, clock=time.time, prefix=TOKEN):
        self.calls = 0
        self.lifetime = lifetime
        self.clock = clock
        self.prefix = prefix

    def __call__(self):
        self.calls += 1
        expires_at = None if self.lifetime is None else self.clock() + self.lifetime
        record = {"access_token": f"{self.prefix}-{self.calls}", "token_type": "Bearer"}
        return record, expires_at


@pytest.fixture(autouse=True)
def _fresh_memory():
    tc.clear_memory()
    tc._LAST_SWEEP.clear()
    yield
    tc.clear_memory()


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "cache" / "tokens")


def all_files(root):
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            yield os.path.join(dirpath, name)


def entry_path(cache: TokenCache, identity=None, secrets=None) -> str:
    identity = IDENTITY if identity is None else identity
    secrets = SECRETS if secrets is None else secrets
    return os.path.join(cache.directory, cache.key_for(identity, secrets) + ".entry")


def read_bytes(path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- layers -------------------------------------------------------------------------


def _child_script(tmp_path):
    """A script run by a brand-new interpreter: import the module, call the cache twice."""
    collections = tmp_path / "collections"
    link = collections / "ansible_collections" / "apiauth" / "saas"
    link.parent.mkdir(parents=True)
    os.symlink(REPO_ROOT, str(link))
    return textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(collections)!r})
        from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
        calls = []
        def fetch():
            calls.append(1)
            return {{"access_token": "from-child"}}, {FAR_FUTURE!r}
        cache = TokenCache(cache_dir=sys.argv[1])
        identity, secrets = json.loads(sys.argv[2]), json.loads(sys.argv[3])
        first = cache.get_or_fetch(identity, secrets, fetch)
        second = cache.get_or_fetch(identity, secrets, fetch)
        print(json.dumps([first.source, second.source, first.record, len(calls)]))
        """)


def test_memory_then_file_then_network(cache_dir, tmp_path):
    fetch = Fetcher()
    cache = TokenCache(cache_dir=cache_dir)

    first = cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    assert isinstance(first, CacheResult)
    assert (first.source, fetch.calls, first.short_lived) == ("network", 1, False)
    assert first.record["access_token"] == f"{TOKEN}-1"

    # Same instance, then another instance of the same process: memory.
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch).source == "memory"
    other = TokenCache(cache_dir=cache_dir)
    again = other.get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (again.source, again.record, fetch.calls) == ("memory", first.record, 1)
    assert again.expires_at == first.expires_at

    # Without the memory layer, the file answers.
    tc.clear_memory()
    from_file = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (from_file.source, from_file.record, fetch.calls) == ("file", first.record, 1)
    assert from_file.expires_at == pytest.approx(first.expires_at)

    # A new interpreter sees the file first, then its own memory; it never fetches.
    out = subprocess.run(
        [sys.executable, "-c", _child_script(tmp_path), cache_dir, json.dumps(IDENTITY), json.dumps(SECRETS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    sources_1, sources_2, record, child_calls = json.loads(out.stdout)
    assert (sources_1, sources_2, record, child_calls) == ("file", "memory", first.record, 0)


def test_returned_record_is_a_private_copy(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher()
    cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    got = cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    assert got.source == "memory"
    got.record["access_token"] = "tampered"
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch).record["access_token"] == f"{TOKEN}-1"


def test_fetch_exception_propagates_and_releases_lock(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)

    class VendorDown(Exception):
        pass

    def failing():
        raise VendorDown("503")

    with pytest.raises(VendorDown):
        cache.get_or_fetch(IDENTITY, SECRETS, failing)
    lock = os.path.join(cache.directory, cache.key_for(IDENTITY, SECRETS) + ".lock")
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise if still held
    finally:
        os.close(fd)
    assert cache.get_or_fetch(IDENTITY, SECRETS, Fetcher()).source == "network"


def test_bad_fetch_results_are_rejected(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    with pytest.raises(TypeError):
        cache.get_or_fetch(IDENTITY, SECRETS, lambda: {"access_token": "x"})
    with pytest.raises(TypeError):
        cache.get_or_fetch(IDENTITY, SECRETS, lambda: ("x", FAR_FUTURE))
    with pytest.raises(TypeError):
        cache.get_or_fetch(IDENTITY, SECRETS, lambda: ({"a": 1}, "tomorrow"))
    with pytest.raises(TypeError):
        cache.get_or_fetch(IDENTITY, SECRETS, lambda: ({"a": object()}, FAR_FUTURE))


def test_bad_arguments_are_option_errors(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    with pytest.raises(OptionError):
        cache.key_for(["not", "a", "dict"], SECRETS)
    with pytest.raises(OptionError):
        cache.key_for({"when": object()}, SECRETS)
    with pytest.raises(OptionError):
        cache.key_for(IDENTITY, SECRET)  # a bare string, not a list
    with pytest.raises(OptionError):
        cache.key_for(IDENTITY, [42])
    with pytest.raises(OptionError):
        cache.get_or_fetch(IDENTITY, SECRETS, Fetcher(), min_ttl=-1)
    with pytest.raises(OptionError):
        TokenCache(cache_dir=cache_dir, encryption_key="")


# -- keys and what lands on disk ---------------------------------------------------


def test_key_changes_with_every_identity_field_and_secret(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    base = cache.key_for(IDENTITY, SECRETS)
    assert len(base) == 64 and int(base, 16) >= 0

    # Stable: same content in another key order, another instance.
    reordered = dict(reversed(list(IDENTITY.items())))
    assert TokenCache(cache_dir=cache_dir).key_for(reordered, list(SECRETS)) == base

    seen = {base}
    for field in IDENTITY:
        changed = dict(IDENTITY, **{field: IDENTITY[field] + "x"})
        seen.add(cache.key_for(changed, SECRETS))
    seen.add(cache.key_for(dict(IDENTITY, extra_params={"resource": "r"}), SECRETS))
    for secrets in ([SECRET + "2", None], [SECRET, ""], [SECRET], [None, SECRET], [SECRET, "passphrase"]):
        seen.add(cache.key_for(IDENTITY, secrets))
    assert len(seen) == len(IDENTITY) + 7


def test_key_depends_on_the_directory_hmac_key(tmp_path):
    one = TokenCache(cache_dir=str(tmp_path / "one"))
    two = TokenCache(cache_dir=str(tmp_path / "two"))
    assert one.key_for(IDENTITY, SECRETS) != two.key_for(IDENTITY, SECRETS)


def test_no_secret_on_disk_and_private_modes(tmp_path):
    cache_dir = str(tmp_path / "deep" / "er" / "tokens")
    cache = TokenCache(cache_dir=cache_dir)
    cache.get_or_fetch(IDENTITY, SECRETS, Fetcher())
    cache.get_or_fetch(IDENTITY, ["another-Secret-Value-99", "pass-Phrase-Value-42"], Fetcher())

    files = list(all_files(cache_dir))
    names = {os.path.basename(p) for p in files}
    assert ".hmac_key" in names
    assert sum(name.endswith(".entry") for name in names) == 2
    assert sum(name.endswith(".lock") for name in names) == 2
    assert not any(name.endswith(".tmp") for name in names)
    for path in files:
        data = read_bytes(path)
        for secret in (SECRET, "another-Secret-Value-99", "pass-Phrase-Value-42"):
            assert secret.encode() not in data, path
        assert mode(path) == 0o600, path
    assert os.path.getsize(os.path.join(cache_dir, ".hmac_key")) == 32

    # The directories this cache created are private too.
    for path in (cache_dir, os.path.dirname(cache_dir), os.path.dirname(os.path.dirname(cache_dir))):
        assert mode(path) == 0o700, path


def test_entry_document_format(cache_dir):
    clock = FakeClock()
    cache = TokenCache(cache_dir=cache_dir, clock=clock)
    cache.get_or_fetch(IDENTITY, SECRETS, Fetcher(lifetime=600, clock=clock))
    name = cache.key_for(IDENTITY, SECRETS)
    with open(entry_path(cache), "rb") as handle:
        raw = handle.read()
    doc = json.loads(raw)
    # An envelope: small metadata in clear, the record encrypted under the credential's own key.
    assert doc["v"] == 2 and doc["alg"] == "A256GCM"
    assert doc["meta"] == {"vendor": "thoughtspot", "host": "idp.example.test", "client_id": "svc-reporting",
                           "expires_at": clock.now + 600, "obtained_at": clock.now}
    assert "record" not in doc and TOKEN.encode() not in raw
    with open(os.path.join(cache_dir, ".hmac_key"), "rb") as handle:
        mac = tc._secret_mac(tc._secret_document(SECRETS), handle.read())
    inner = tc.open_envelope(raw, tc.derive_entry_key(None, mac, tc.KDF_LABEL_FILE), name)
    assert inner["record"] == {"access_token": f"{TOKEN}-1", "token_type": "Bearer"}
    assert inner["expires_at"] == clock.now + 600
    assert inner["obtained_at"] == clock.now
    assert inner["identity_fp"].startswith("sha256:")


def test_damaged_hmac_key_file_is_replaced(cache_dir):
    os.makedirs(cache_dir, mode=0o700)
    key_file = os.path.join(cache_dir, ".hmac_key")
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"short")
    os.close(fd)
    result = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, Fetcher())
    assert result.source == "network"
    assert os.path.getsize(key_file) == 32


# -- freshness ----------------------------------------------------------------------


def test_min_ttl_refetches_an_entry_about_to_expire(cache_dir):
    clock = FakeClock()
    cache = TokenCache(cache_dir=cache_dir, clock=clock)
    fetch = Fetcher(lifetime=100, clock=clock)

    first = cache.get_or_fetch(IDENTITY, SECRETS, fetch, min_ttl=30)
    assert (first.source, first.short_lived) == ("network", False)
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch, min_ttl=100).source == "memory"

    # 100 s left, 300 wanted: fetch again; the new token is short-lived too.
    second = cache.get_or_fetch(IDENTITY, SECRETS, fetch, min_ttl=300)
    assert (second.source, second.short_lived, fetch.calls) == ("network", True, 2)
    assert second.record["access_token"] == f"{TOKEN}-2"

    # The file holds the newer token, served to a caller with a lower bar.
    tc.clear_memory()
    again = cache.get_or_fetch(IDENTITY, SECRETS, fetch, min_ttl=60)
    assert (again.source, again.record["access_token"]) == ("file", f"{TOKEN}-2")

    # Time passes: 40 s left is below a 60 s bar, in memory and in the file alike.
    clock.now += 60
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch, min_ttl=60).source == "network"
    clock.now += 101
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch).source == "network"
    assert fetch.calls == 4


def test_unknown_lifetime_is_never_served(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher(lifetime=None)
    for expected_calls in (1, 2, 3):
        result = cache.get_or_fetch(IDENTITY, SECRETS, fetch)
        assert (result.source, result.expires_at, result.short_lived) == ("network", None, False)
        assert fetch.calls == expected_calls
    assert not os.path.exists(entry_path(cache))


def test_unknown_lifetime_drops_an_older_entry(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    cache.get_or_fetch(IDENTITY, SECRETS, Fetcher())
    assert os.path.exists(entry_path(cache))
    cache.get_or_fetch(IDENTITY, SECRETS, Fetcher(lifetime=None), force_refresh=True)
    assert not os.path.exists(entry_path(cache))
    assert cache.get_or_fetch(IDENTITY, SECRETS, Fetcher()).source == "network"


def test_hand_written_entry_without_expiry_is_a_miss(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    cache.get_or_fetch(IDENTITY, SECRETS, Fetcher())
    path = entry_path(cache)
    doc = json.loads(read_bytes(path))
    doc["meta"]["expires_at"] = None  # the clear copy is authenticated: an edit makes a miss
    with open(path, "w") as handle:
        json.dump(doc, handle)
    tc.clear_memory()
    assert cache.get_or_fetch(IDENTITY, SECRETS, Fetcher()).source == "network"


# -- switches -----------------------------------------------------------------------


def test_force_refresh_fetches_and_replaces_the_entry(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher()
    cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    forced = cache.get_or_fetch(IDENTITY, SECRETS, fetch, force_refresh=True)
    assert (forced.source, forced.record["access_token"], fetch.calls) == ("network", f"{TOKEN}-2", 2)
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch).record["access_token"] == f"{TOKEN}-2"
    tc.clear_memory()
    from_file = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (from_file.source, from_file.record["access_token"]) == ("file", f"{TOKEN}-2")


def test_disabled_cache_always_fetches_and_touches_no_file(tmp_path):
    cache_dir = str(tmp_path / "never" / "created")
    cache = TokenCache(cache_dir=cache_dir, enabled=False, encryption_key="ignored when disabled")
    fetch = Fetcher()
    for expected in (1, 2, 3):
        result = cache.get_or_fetch(IDENTITY, SECRETS, fetch)
        assert (result.source, fetch.calls) == ("network", expected)
    assert len(cache.key_for(IDENTITY, SECRETS)) == 64
    cache.invalidate(IDENTITY, SECRETS)
    assert not os.path.exists(str(tmp_path / "never"))
    assert cache.directory == cache_dir


def test_invalidate_removes_the_entry(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher()
    cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    cache.invalidate(IDENTITY, SECRETS)
    assert not os.path.exists(entry_path(cache))
    assert cache.get_or_fetch(IDENTITY, SECRETS, fetch).source == "network"
    assert fetch.calls == 2
    cache.invalidate({"vendor": "never-cached"}, [])  # nothing there: no error


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == str(tmp_path / "xdg" / "apiauth.saas" / "tokens")
    assert TokenCache().directory == default_cache_dir()
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == str(tmp_path / "home" / ".cache" / "apiauth.saas" / "tokens")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == str(tmp_path / "home" / ".cache" / "apiauth.saas" / "tokens")


# -- encryption ----------------------------------------------------------------------

try:
    from cryptography import fernet
except ImportError:  # pragma: no cover
    fernet = None

needs_cryptography = pytest.mark.skipif(fernet is None, reason="cryptography is not installed")


def _assert_nothing_in_clear(cache_dir):
    for path in all_files(cache_dir):
        data = read_bytes(path)
        for needle in (TOKEN, "access_token", "Bearer", SECRET, "identity_fp"):
            assert needle.encode() not in data, path


@needs_cryptography
def test_encrypted_with_a_fernet_key(cache_dir):
    key = fernet.Fernet.generate_key().decode()
    cache = TokenCache(cache_dir=cache_dir, encryption_key=key)
    assert cache.encrypted
    fetch = Fetcher()
    first = cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    _assert_nothing_in_clear(cache_dir)
    assert not os.path.exists(os.path.join(cache_dir, ".salt"))  # a real key needs no salt
    raw = read_bytes(entry_path(cache))
    # The key alone opens nothing: the entry's key also needs the client's secret.
    with pytest.raises(fernet.InvalidToken):
        fernet.Fernet(key.encode()).decrypt(raw)
    with open(os.path.join(cache_dir, ".hmac_key"), "rb") as handle:
        mac = tc._secret_mac(tc._secret_document(SECRETS), handle.read())
    master = tc.master_key(key, lambda: None)
    entry_key = tc.derive_entry_key(master, mac, tc.KDF_LABEL_FILE)
    assert tc.open_envelope(raw, entry_key, cache.key_for(IDENTITY, SECRETS))["record"] == first.record

    tc.clear_memory()
    again = TokenCache(cache_dir=cache_dir, encryption_key=key).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (again.source, again.record, fetch.calls) == ("file", first.record, 1)


@needs_cryptography
def test_wrong_key_is_a_miss_and_the_entry_is_overwritten(cache_dir):
    right = fernet.Fernet.generate_key().decode()
    wrong = fernet.Fernet.generate_key().decode()
    fetch = Fetcher()
    TokenCache(cache_dir=cache_dir, encryption_key=right).get_or_fetch(IDENTITY, SECRETS, fetch)

    tc.clear_memory()
    other = TokenCache(cache_dir=cache_dir, encryption_key=wrong)
    result = other.get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (result.source, fetch.calls) == ("network", 2)

    tc.clear_memory()
    assert other.get_or_fetch(IDENTITY, SECRETS, fetch).source == "file"
    # The old key now meets an entry it cannot read, and a plain cache as well.
    tc.clear_memory()
    assert (
        TokenCache(cache_dir=cache_dir, encryption_key=right).get_or_fetch(IDENTITY, SECRETS, fetch).source
        == "network"
    )
    tc.clear_memory()
    assert TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch).source == "network"
    assert fetch.calls == 4


@needs_cryptography
def test_encrypted_with_a_passphrase(cache_dir):
    passphrase = "correct horse battery staple"
    fetch = Fetcher()
    first = TokenCache(cache_dir=cache_dir, encryption_key=passphrase).get_or_fetch(IDENTITY, SECRETS, fetch)
    _assert_nothing_in_clear(cache_dir)
    salt = os.path.join(cache_dir, ".salt")
    assert os.path.getsize(salt) == 16 and mode(salt) == 0o600
    for path in all_files(cache_dir):
        assert passphrase.encode() not in read_bytes(path)

    tc.clear_memory()
    tc._DERIVED_KEYS.clear()  # derive again from the stored salt
    again = TokenCache(cache_dir=cache_dir, encryption_key=passphrase).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (again.source, again.record) == ("file", first.record)

    tc.clear_memory()
    other = TokenCache(cache_dir=cache_dir, encryption_key="another passphrase")
    assert other.get_or_fetch(IDENTITY, SECRETS, fetch).source == "network"


def test_missing_cryptography_only_matters_when_encrypting(cache_dir, monkeypatch):
    monkeypatch.setattr(tc, "HAS_CRYPTOGRAPHY", False)
    with pytest.raises(MissingLibraryError) as caught:
        TokenCache(cache_dir=cache_dir, encryption_key="any passphrase")
    assert caught.value.library == "cryptography"
    assert "any passphrase" not in str(caught.value)
    assert TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, Fetcher()).source == "network"


# -- damaged files ---------------------------------------------------------------------


def _valid_entry_bytes(cache):
    return read_bytes(entry_path(cache))


@pytest.mark.parametrize(
    "damage",
    [
        lambda good: b"",
        lambda good: good[: len(good) // 2],
        lambda good: b"{",
        lambda good: b"\x00\xff\xfe garbage \x80",
        lambda good: b"[]",
        lambda good: b'{"v": 2, "record": {}, "expires_at": 4102444800, "obtained_at": 1}',
        lambda good: good.replace(b'"ct":"', b'"ct":"AAAA'),
        lambda good: good.replace(b'"client_id":"svc-reporting"', b'"client_id":"svc-reportinG"'),
        lambda good: good.replace(b'"expires_at":', b'"expires_at":"later","x":'),
    ],
    ids=["empty", "truncated", "brace", "binary", "list", "version", "ciphertext", "metadata", "expiry"],
)
def test_damaged_entry_is_a_miss(cache_dir, damage):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher()
    cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    path = entry_path(cache)
    good = _valid_entry_bytes(cache)
    damaged = damage(good)
    assert damaged != good
    with open(path, "wb") as handle:
        handle.write(damaged)

    tc.clear_memory()
    result = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (result.source, fetch.calls) == ("network", 2)
    tc.clear_memory()
    assert TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch).source == "file"


def test_entry_path_that_is_a_directory_or_symlink_is_a_miss(cache_dir, tmp_path):
    cache = TokenCache(cache_dir=cache_dir)
    path = entry_path(cache)
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    os.symlink(str(target), path)
    assert cache.get_or_fetch(IDENTITY, SECRETS, Fetcher()).source == "network"
    assert not os.path.islink(path)  # replaced by a real file
    assert target.read_text() == "{}"


# -- directory permissions ------------------------------------------------------------


def test_directory_open_to_others_is_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(str(loose), 0o755)
    cache = TokenCache(cache_dir=str(loose))
    fetch = Fetcher()
    with pytest.raises(CacheError) as caught:
        cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    assert str(loose) in str(caught.value)
    assert "chmod 700" in str(caught.value)
    assert fetch.calls == 0
    assert mode(str(loose)) == 0o755  # not silently changed
    assert os.listdir(str(loose)) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory away")
def test_directory_of_another_user_is_refused(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(str(foreign), 65534, 65534)
    with pytest.raises(CacheError, match="another user"):
        TokenCache(cache_dir=str(foreign)).get_or_fetch(IDENTITY, SECRETS, Fetcher())


def test_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(CacheError, match="not a directory"):
        TokenCache(cache_dir=str(path)).get_or_fetch(IDENTITY, SECRETS, Fetcher())


# -- atomic writes -----------------------------------------------------------------------


def test_failed_replace_keeps_the_old_entry(cache_dir, monkeypatch):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher()
    cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    before = _valid_entry_bytes(cache)

    def refuse(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(CacheError) as caught:
        cache.get_or_fetch(IDENTITY, SECRETS, fetch, force_refresh=True)
    monkeypatch.undo()
    assert cache_dir in str(caught.value)
    assert SECRET not in str(caught.value)
    assert fetch.calls == 2

    assert _valid_entry_bytes(cache) == before
    assert not [n for n in os.listdir(cache_dir) if n.endswith(".tmp")]
    tc.clear_memory()
    result = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (result.source, result.record["access_token"]) == ("file", f"{TOKEN}-1")


def test_process_killed_while_writing_leaves_a_usable_cache(cache_dir):
    cache = TokenCache(cache_dir=cache_dir)
    fetch = Fetcher()
    cache.get_or_fetch(IDENTITY, SECRETS, fetch)
    path = entry_path(cache)
    good = _valid_entry_bytes(cache)
    stray = os.path.join(cache_dir, "." + os.path.basename(path) + ".99999.deadbeef0000.tmp")

    # Killed after writing part of its temporary file: the old entry still serves.
    with open(stray, "wb") as handle:
        handle.write(good[:20])
    tc.clear_memory()
    assert TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch).source == "file"

    # Even a truncated entry (no fsync before a crash) is only a miss.
    with open(path, "wb") as handle:
        handle.write(good[:20])
    tc.clear_memory()
    result = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch)
    assert (result.source, fetch.calls) == ("network", 2)
    tc.clear_memory()
    assert TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch).source == "file"


# -- cleanup ------------------------------------------------------------------------------


def test_sweep_removes_old_expired_entries_and_strays(cache_dir):
    now = time.time()
    old = now - 3 * 86400
    past = TokenCache(cache_dir=cache_dir, clock=lambda: old)
    past.get_or_fetch(IDENTITY, SECRETS, Fetcher(clock=lambda: old))
    expired = entry_path(past)
    expired_lock = expired[: -len(".entry")] + ".lock"
    live_identity = dict(IDENTITY, client_id="still-valid")
    past.get_or_fetch(live_identity, SECRETS, Fetcher(lifetime=30 * 86400, clock=lambda: old))
    live = entry_path(past, live_identity)
    orphan_lock = os.path.join(cache_dir, "0" * 64 + ".lock")
    stray = os.path.join(cache_dir, ".abc.entry.1.000000000000.tmp")
    for path in (orphan_lock, stray):
        with open(path, "wb"):
            pass
    for path in (expired, expired_lock, live, orphan_lock, stray):
        os.utime(path, (old, old))

    tc._LAST_SWEEP.clear()
    TokenCache(cache_dir=cache_dir).get_or_fetch(dict(IDENTITY, client_id="new"), SECRETS, Fetcher())
    left = set(os.listdir(cache_dir))
    for path in (expired, expired_lock, orphan_lock, stray):
        assert os.path.basename(path) not in left
    assert os.path.basename(live) in left


def test_sweep_leaves_a_locked_entry_alone(cache_dir):
    now = time.time()
    old = now - 3 * 86400
    past = TokenCache(cache_dir=cache_dir, clock=lambda: old)
    past.get_or_fetch(IDENTITY, SECRETS, Fetcher(clock=lambda: old))
    expired = entry_path(past)
    lock = expired[: -len(".entry")] + ".lock"
    os.utime(expired, (old, old))
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        tc._LAST_SWEEP.clear()
        TokenCache(cache_dir=cache_dir).get_or_fetch(dict(IDENTITY, client_id="new"), SECRETS, Fetcher())
    finally:
        os.close(fd)
    assert os.path.exists(expired) and os.path.exists(lock)


# -- real processes ------------------------------------------------------------------------

# Each worker is a new interpreter (subprocess), never a fork of this one: pytest-xdist and the
# HTTPS test servers run threads here, and forking a multi-threaded process is deprecated since
# Python 3.12 (3.14 no longer forks by default). Workers meet through files, not shared locks.
_WORKER_SCRIPT = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache

IDENTITY, SECRETS = json.loads(sys.argv[3]), json.loads(sys.argv[4])


def touch(path):
    with open(path, "w"):
        pass


def wait_for(path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for " + path)
        time.sleep(0.005)


def contend(cache_dir, counter, out, ready, go):
    def fetch():
        time.sleep(0.3)
        with open(counter, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
        return {"access_token": f"tok-{os.getpid()}"}, time.time() + 3600

    cache = TokenCache(cache_dir=cache_dir)
    touch(ready)
    wait_for(go)
    result = cache.get_or_fetch(IDENTITY, SECRETS, fetch, min_ttl=60)
    with open(out, "w") as handle:
        json.dump({"token": result.record["access_token"], "source": result.source}, handle)


def hold_lock_forever(cache_dir, started):
    def fetch():
        touch(started)
        time.sleep(60)
        return {"access_token": "never"}, time.time() + 3600

    TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, fetch)


def rewrite_forever(cache_dir, key, started):
    # Replace the entry again and again (each write a new token), until killed.
    count = [0]

    def fetch():
        count[0] += 1
        return {"access_token": f"tok-{count[0]}-" + "x" * 4000}, time.time() + 3600

    cache = TokenCache(cache_dir=cache_dir, encryption_key=key or None)
    touch(started)
    while True:
        cache.get_or_fetch(IDENTITY, SECRETS, fetch, force_refresh=True)


globals()[sys.argv[2]](*sys.argv[5:])
"""


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(name, *args): a cache worker of _WORKER_SCRIPT in a new interpreter (Popen)."""
    collections = tmp_path / "worker-collections"
    link = collections / "ansible_collections" / "apiauth" / "saas"
    link.parent.mkdir(parents=True)
    os.symlink(REPO_ROOT, str(link))
    script = tmp_path / "cache_worker.py"
    script.write_text(_WORKER_SCRIPT)
    procs = []

    def start(name, *args):
        proc = subprocess.Popen([sys.executable, str(script), str(collections), name, json.dumps(IDENTITY),
                                 json.dumps(SECRETS), *[str(a) for a in args]])
        procs.append(proc)
        return proc

    yield start
    for proc in procs:  # nothing outlives the test, even when it failed half-way
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _wait_for_file(path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_single_flight_across_processes(tmp_path, start_worker):
    # A directory nobody created yet: the processes also race to create it and its HMAC key.
    cache_dir = str(tmp_path / "shared" / "tokens")
    counter = str(tmp_path / "fetches.txt")
    go = str(tmp_path / "go")
    workers = 16
    outs = [str(tmp_path / f"out-{n}.json") for n in range(workers)]
    readies = [str(tmp_path / f"ready-{n}") for n in range(workers)]
    procs = [start_worker("contend", cache_dir, counter, out, ready, go) for out, ready in zip(outs, readies)]
    # All of them start asking at once, as a barrier would let them.
    assert all(_wait_for_file(ready, 60) for ready in readies)
    with open(go, "w"):
        pass
    assert [proc.wait(60) for proc in procs] == [0] * workers

    with open(counter) as handle:
        assert len(handle.read().splitlines()) == 1
    results = [json.loads(read_bytes(out)) for out in outs]
    assert len({r["token"] for r in results}) == 1
    assert sorted(r["source"] for r in results) == ["file"] * (workers - 1) + ["network"]


def test_killed_lock_holder_does_not_block(cache_dir, tmp_path, start_worker):
    started = str(tmp_path / "started")
    proc = start_worker("hold_lock_forever", cache_dir, started)
    try:
        assert _wait_for_file(started, 30)
        cache = TokenCache(cache_dir=cache_dir)
        lock = os.path.join(cache_dir, cache.key_for(IDENTITY, SECRETS) + ".lock")
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # really held by the child
        finally:
            os.close(fd)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert os.path.exists(lock)  # left behind, and harmless

    began = time.monotonic()
    result = TokenCache(cache_dir=cache_dir).get_or_fetch(IDENTITY, SECRETS, Fetcher())
    assert time.monotonic() - began < 5
    assert (result.source, result.record["access_token"]) == ("network", f"{TOKEN}-1")


def test_lock_wait_gives_up_after_the_timeout(cache_dir, monkeypatch):
    monkeypatch.setattr(tc, "LOCK_TIMEOUT", 0.3)
    cache = TokenCache(cache_dir=cache_dir)
    lock = os.path.join(cache_dir, cache.key_for(IDENTITY, SECRETS) + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another open file: conflicts even in this process
    try:
        began = time.monotonic()
        result = cache.get_or_fetch(IDENTITY, SECRETS, Fetcher())
        waited = time.monotonic() - began
    finally:
        os.close(fd)
    assert result.source == "network"
    assert 0.25 <= waited < 5
    tc.clear_memory()
    assert cache.get_or_fetch(IDENTITY, SECRETS, Fetcher()).source == "file"


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_sigkill_at_random_moments_of_writing_leaves_an_entry_or_none(tmp_path, encrypted, start_worker):
    """A real SIGKILL at 25 random moments of a writing loop: each time, a new
    process reads a whole entry or finds none, never fails, and is not blocked."""
    import random  # pylint: disable=import-outside-toplevel

    key = "a passphrase for the crash test" if encrypted else None
    cache_dir = str(tmp_path / "tokens")
    for _round in range(25):
        started = str(tmp_path / f"started-{_round}")
        proc = start_worker("rewrite_forever", cache_dir, key or "", started)
        assert _wait_for_file(started, 30)
        time.sleep(random.uniform(0.0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        tc.clear_memory()
        began = time.monotonic()
        cache = TokenCache(cache_dir=cache_dir, encryption_key=key)
        result = cache.peek(IDENTITY, SECRETS)
        if result is not None:
            assert result["access_token"].startswith("tok-") and result["access_token"].endswith("x" * 4000)
        # The killed writer's lock does not hold up the next one.
        cache.get_or_fetch(IDENTITY, SECRETS, lambda: ({"access_token": "tok-reader-" + "x" * 4000},
                                                       time.time() + 3600), force_refresh=True)
        assert time.monotonic() - began < 5
