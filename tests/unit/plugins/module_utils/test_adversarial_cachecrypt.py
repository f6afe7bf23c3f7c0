# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cache encryption key alone opens nothing: attacks on the file cache, the shared (Valkey) cache and the spool.

The attacker holds the cache encryption key, the Redis password, a dump of every
key and value on the server and of the whole cache directory (HMAC key and salt
files included), but not the client secret. The attacker's code tries every way
the collection has ever derived a key from that material. Positive controls: the
same attacker code opens an entry written by the collection's previous format
(the real earlier code, taken from git), and the legitimate holder of the key and
the secret reads the new entries.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import threading
import time
import timeit

import pytest
from cryptography.fernet import Fernet

from ansible_collections.apiauth.saas.plugins.module_utils import _shared_cache as sc
from ansible_collections.apiauth.saas.plugins.module_utils import _token_cache as tc
from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import RedisLayer
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
from backends.redis_server import RedisServer
from cachecrypt_attacker import open_directory_dump, open_server_dump, token_forms

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
# The last commit whose cache wrote the version 1 format (one Fernet token under the cache key alone).
OLD_FORMAT_COMMIT = "e150fba"

IDENTITY = {"vendor": "oauth2", "token_url": "https://idp.example.test:8443/oauth/token", "client_id": "svc-team-a",
            "auth_method": "client_secret_basic", "scope": "read"}
SECRET = "team-a-client-secret-" + secrets.token_urlsafe(24)
FERNET_KEY = Fernet.generate_key().decode()
PASSPHRASE = "fleet passphrase " + secrets.token_hex(8)


class Fetcher:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.tokens: list = []
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
            token = f"tok-{self.calls}-{secrets.token_urlsafe(32)}"
            self.tokens.append(token)
        time.sleep(self.delay)
        return {"access_token": token, "token_type": "Bearer"}, time.time() + 3600


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = RedisServer.start(tmp_path_factory.mktemp("valkey"), password="pw-" + secrets.token_hex(12))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _fresh_state(request):
    tc.clear_memory()
    # getattr: the same tests run against the earlier code, to check that they fail there.
    for memo in ("_DERIVED_KEYS", "_ENTRY_KEYS"):
        getattr(tc, memo, {}).clear()
    sc._DOWN.clear()  # pylint: disable=protected-access
    sc._KEYS.clear()  # pylint: disable=protected-access
    if "server" in request.fixturenames:
        request.getfixturevalue("server").client().flushall()
    yield
    tc.clear_memory()


@pytest.fixture(scope="module")
def old_collection(tmp_path_factory):
    """The collection's plugins as of OLD_FORMAT_COMMIT, importable in a child interpreter."""
    root = tmp_path_factory.mktemp("old")
    target = root / "ansible_collections" / "apiauth" / "saas"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", REPO_ROOT, "archive", OLD_FORMAT_COMMIT, "plugins"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        pytest.fail(f"cannot read the earlier code from git ({OLD_FORMAT_COMMIT}): {archive.stderr.decode()[:300]}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    assert "Fernet" in (target / "plugins/module_utils/_token_cache.py").read_text()
    return root


def write_with_old_code(old_root, *, cache_dir: str, key: str, secret: str, redis_url=None,
                        redis_password=None) -> str:
    """Run the earlier code in a child interpreter to cache one token; returns that token."""
    script = textwrap.dedent("""
        import json, sys, secrets, time
        sys.path.insert(0, sys.argv[1])
        from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
        from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import RedisLayer
        args = json.loads(sys.argv[2])
        shared = None
        if args["redis_url"]:
            shared = RedisLayer(url=args["redis_url"], password=args["redis_password"],
                                encryption_key=args["key"])
        cache = TokenCache(cache_dir=args["cache_dir"], encryption_key=args["key"], shared=shared)
        token = "old-" + secrets.token_urlsafe(32)
        cache.get_or_fetch(args["identity"], [args["secret"]],
                           lambda: ({"access_token": token, "token_type": "Bearer"}, time.time() + 3600))
        print(token)
    """)
    args = {"cache_dir": cache_dir, "key": key, "secret": secret, "identity": IDENTITY, "redis_url": redis_url,
            "redis_password": redis_password}
    done = subprocess.run([sys.executable, "-c", script, str(old_root), json.dumps(args)], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


# -- the attacker (tests/cachecrypt_attacker.py) ------------------------------------------------


def dump_dir(directory: str) -> dict:
    out = {}
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as handle:
                out[os.path.relpath(os.path.join(dirpath, name), directory)] = handle.read()
    return out


def dump_server(server) -> dict:
    client = server.client()
    return {name.decode(): client.get(name) for name in client.keys("*")}


def file_attack(directory: str, key: str) -> dict:
    return open_directory_dump(key, dump_dir(directory))


def redis_attack(server, key: str) -> dict:
    return open_server_dump(key, dump_server(server))


# -- file cache -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [FERNET_KEY, PASSPHRASE], ids=["fernet-key", "passphrase"])
def test_file_cache_dump_and_key_open_nothing_without_the_secret(tmp_path, old_collection, key):
    new_dir, old_dir = str(tmp_path / "new"), str(tmp_path / "old")
    result = TokenCache(cache_dir=new_dir, encryption_key=key).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    token = result.record["access_token"]
    files = dump_dir(new_dir)
    assert any(n.endswith(".entry") for n in files), "positive control: an entry was written"
    assert file_attack(new_dir, key) == {}
    for data in files.values():
        for form in token_forms(token) + [SECRET.encode()]:
            assert form not in data

    # Positive control: the same attacker code opens what the earlier code wrote.
    old_token = write_with_old_code(old_collection, cache_dir=old_dir, key=key, secret=SECRET)
    opened = file_attack(old_dir, key)
    assert len(opened) == 1 and old_token.encode() in next(iter(opened.values()))

    # The legitimate holder (key and secret) reads the new entry from the file.
    tc.clear_memory()
    getattr(tc, "_ENTRY_KEYS", {}).clear()
    again = TokenCache(cache_dir=new_dir, encryption_key=key).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    assert (again.source, again.record["access_token"]) == ("file", token)


def test_file_cache_without_encryption_key_is_encrypted_under_the_secret(tmp_path, old_collection):
    directory = str(tmp_path / "plain")
    token = TokenCache(cache_dir=directory).get_or_fetch(IDENTITY, [SECRET], Fetcher()).record["access_token"]
    for data in dump_dir(directory).values():
        for form in token_forms(token):
            assert form not in data
    assert file_attack(directory, FERNET_KEY) == {}
    tc.clear_memory()
    assert TokenCache(cache_dir=directory).get_or_fetch(IDENTITY, [SECRET], Fetcher()).source == "file"


def test_old_format_file_entries_are_ignored_refetched_and_swept(tmp_path, old_collection):
    directory = str(tmp_path / "mixed")
    old_token = write_with_old_code(old_collection, cache_dir=directory, key=FERNET_KEY, secret=SECRET)
    other = dict(IDENTITY, client_id="svc-other")
    # A clear version 1 entry of another credential (the earlier code without a key).
    plain_dir = str(tmp_path / "plain-old")
    write_with_old_code(old_collection, cache_dir=plain_dir, key=None, secret=SECRET)
    [old_plain] = [n for n in os.listdir(plain_dir) if n.endswith(".entry")]
    with open(os.path.join(plain_dir, old_plain), "rb") as handle:
        plain_bytes = handle.read()
    assert b'"v":1' in plain_bytes and b"access_token" in plain_bytes  # control: version 1 in clear
    stray = os.path.join(directory, "f" * 64 + ".entry")
    with open(stray, "wb") as handle:
        handle.write(plain_bytes)
    os.chmod(stray, 0o600)

    fetch = Fetcher()
    tc._LAST_SWEEP.clear()  # pylint: disable=protected-access
    result = TokenCache(cache_dir=directory, encryption_key=FERNET_KEY).get_or_fetch(IDENTITY, [SECRET], fetch)
    assert (result.source, fetch.calls) == ("network", 1)
    assert result.record["access_token"] != old_token
    assert not os.path.exists(stray), "a version 1 entry is swept at once"
    tc.clear_memory()
    again = TokenCache(cache_dir=directory, encryption_key=FERNET_KEY).get_or_fetch(IDENTITY, [SECRET], fetch)
    assert (again.source, fetch.calls) == ("file", 1)
    assert TokenCache(cache_dir=directory, encryption_key=FERNET_KEY).peek(other, [SECRET]) is None


def test_rotated_secret_never_opens_the_old_entry(tmp_path):
    directory = str(tmp_path / "rot")
    cache = TokenCache(cache_dir=directory, encryption_key=FERNET_KEY)
    cache.get_or_fetch(IDENTITY, [SECRET], Fetcher())
    [entry] = [n for n in os.listdir(directory) if n.endswith(".entry")]
    with open(os.path.join(directory, entry), "rb") as handle:
        raw = handle.read()
    with open(os.path.join(directory, ".hmac_key"), "rb") as handle:
        hmac_key = handle.read()
    master = tc.master_key(FERNET_KEY, lambda: None)
    name = entry[: -len(".entry")]

    def key_of(secret):
        return tc.derive_entry_key(master, tc._secret_mac(tc._secret_document([secret]), hmac_key),  # pylint: disable=protected-access
                                   tc.KDF_LABEL_FILE)

    assert tc.open_envelope(raw, key_of(SECRET), name) is not None  # control
    assert tc.open_envelope(raw, key_of(SECRET + "-rotated"), name) is None
    fetch = Fetcher()
    tc.clear_memory()
    assert cache.get_or_fetch(IDENTITY, [SECRET + "-rotated"], fetch).source == "network" and fetch.calls == 1


def test_list_entries_reads_metadata_without_any_key(tmp_path):
    directory = str(tmp_path / "report")
    before = time.time()
    TokenCache(cache_dir=directory, encryption_key=FERNET_KEY).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    ts_identity = {"vendor": "thoughtspot", "host": "https://ts.example.test", "token_type": "full",
                   "request": {"username": "embed-user"}}
    TokenCache(cache_dir=directory).get_or_fetch(ts_identity, ["secret_key", SECRET], Fetcher())
    entries = sorted(tc.list_entries(directory), key=lambda e: e["vendor"])
    assert [(e["vendor"], e["host"], e["client_id"]) for e in entries] == [
        ("oauth2", "idp.example.test:8443", "svc-team-a"), ("thoughtspot", "ts.example.test", "embed-user")]
    for entry in entries:
        assert before - 1 <= entry["obtained_at"] <= time.time()
        assert 3590 <= entry["expires_at"] - entry["obtained_at"] <= 3610
        assert len(entry["key"]) == 64 and "access_token" not in entry and "record" not in entry
    assert tc.list_entries(str(tmp_path / "absent")) == []


# -- shared cache (Valkey) --------------------------------------------------------------------


def runner(tmp_path, name, server, key=FERNET_KEY):
    return TokenCache(cache_dir=str(tmp_path / name), encryption_key=key,
                      shared=RedisLayer(url=server.url, password=server.password, encryption_key=key))


@pytest.mark.parametrize("key", [FERNET_KEY, PASSPHRASE], ids=["fernet-key", "passphrase"])
def test_redis_dump_key_and_password_open_nothing_without_the_secret(server, tmp_path, old_collection, key):
    fetch = Fetcher()
    token = runner(tmp_path, "a", server, key).get_or_fetch(IDENTITY, [SECRET], fetch).record["access_token"]
    team_b = dict(IDENTITY, client_id="svc-team-b")
    runner(tmp_path, "b", server, key).get_or_fetch(team_b, ["team-b-" + SECRET], fetch)
    values = dump_server(server)
    assert len([n for n in values if ":entry:" in n]) == 2, "positive control: both teams' entries are there"
    assert redis_attack(server, key) == {}
    blob = b"".join(v or b"" for v in values.values()) + server.dump()
    for form in token_forms(token) + [SECRET.encode(), b"svc-team-a", b"svc-team-b"]:
        assert form not in blob
    # Nor the directory of a runner, dumped too.
    assert file_attack(str(tmp_path / "a"), key) == {}

    # Positive control: the earlier code's entry on the same server opens with the same attacker code.
    server.client().flushall()
    old_token = write_with_old_code(old_collection, cache_dir=str(tmp_path / "old"), key=key, secret=SECRET,
                                    redis_url=server.url, redis_password=server.password)
    opened = redis_attack(server, key)
    assert len(opened) == 1 and old_token.encode() in next(iter(opened.values()))


def test_redis_metadata_is_readable_and_names_no_client(server, tmp_path):
    runner(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    [name] = server.client().keys(sc.PREFIX + "entry:*")
    meta = tc.envelope_metadata(server.client().get(name))
    assert (meta["vendor"], meta["host"], meta["client_id"]) == ("oauth2", "idp.example.test:8443", None)
    layer = RedisLayer(url=server.url, password=server.password, encryption_key=FERNET_KEY)
    assert meta["client_ref"] == tc.client_ref(layer.hmac_key(), "svc-team-a")
    assert meta["expires_at"] > time.time() + 3500


def test_two_runners_with_the_same_secret_share_one_token(server, tmp_path):
    fetch = Fetcher(delay=0.5)
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        runner(tmp_path, f"r{i}", server).get_or_fetch(IDENTITY, [SECRET], fetch))) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert fetch.calls == 1
    assert sorted(r.source for r in results) == ["network", "shared"]
    assert len({r.record["access_token"] for r in results}) == 1


def test_rotated_secret_never_opens_the_old_shared_entry(server, tmp_path):
    fetch = Fetcher()
    runner(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], fetch)
    [name] = server.client().keys(sc.PREFIX + "entry:*")
    old_blob = server.client().get(name)
    tc.clear_memory()
    rotated = runner(tmp_path, "b", server)
    result = rotated.get_or_fetch(IDENTITY, [SECRET + "-rotated"], fetch)
    assert (result.source, fetch.calls) == ("network", 2)
    # Even under the old entry's own name, the rotated secret's key does not open it.
    _key, ekey = rotated._shared_locate(tc._canonical_identity(IDENTITY), [SECRET + "-rotated"])  # pylint: disable=protected-access
    assert tc.open_envelope(old_blob, ekey, name.decode()[len(sc.PREFIX + "entry:"):]) is None
    _key, good = rotated._shared_locate(tc._canonical_identity(IDENTITY), [SECRET])  # pylint: disable=protected-access
    assert tc.open_envelope(old_blob, good, name.decode()[len(sc.PREFIX + "entry:"):]) is not None  # control


def test_old_format_shared_entries_are_ignored_and_refetched(server, tmp_path, old_collection):
    old_token = write_with_old_code(old_collection, cache_dir=str(tmp_path / "old"), key=FERNET_KEY, secret=SECRET,
                                    redis_url=server.url, redis_password=server.password)
    [name] = server.client().keys(sc.PREFIX + "entry:*")
    assert server.client().get(name).startswith(b"gAAAAA"), "control: an entry of the earlier format"
    fetch = Fetcher()
    result = runner(tmp_path, "new", server).get_or_fetch(IDENTITY, [SECRET], fetch)
    assert (result.source, fetch.calls) == ("network", 1) and result.record["access_token"] != old_token
    # The same name (the key names did not change) now holds an envelope, served to the next runner.
    assert server.client().keys(sc.PREFIX + "entry:*") == [name]
    assert tc.envelope_metadata(server.client().get(name)) is not None
    tc.clear_memory()
    assert runner(tmp_path, "next", server).get_or_fetch(IDENTITY, [SECRET], fetch).source == "shared"


# -- cost -------------------------------------------------------------------------------------


def test_warm_file_hit_derives_the_entry_key_once_per_process(tmp_path):
    directory = str(tmp_path / "warm")
    TokenCache(cache_dir=directory, encryption_key=FERNET_KEY).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    cache = TokenCache(cache_dir=directory, encryption_key=FERNET_KEY)

    def warm_file_hit():
        tc.clear_memory()
        assert cache.get_or_fetch(IDENTITY, [SECRET], Fetcher()).source == "file"

    warm_file_hit()
    assert len(tc._ENTRY_KEYS) == 1  # pylint: disable=protected-access
    runs = 200
    hit = min(timeit.repeat(warm_file_hit, number=runs, repeat=3)) / runs
    derive = min(timeit.repeat(lambda: tc.derive_entry_key(b"k" * 32, b"m" * 32, tc.KDF_LABEL_FILE),
                               number=runs, repeat=3)) / runs
    print(f"warm file hit {hit * 1e6:.0f} us; one HKDF derivation {derive * 1e6:.0f} us (done once per credential)")
    assert len(tc._ENTRY_KEYS) == 1  # pylint: disable=protected-access
    assert derive < 0.0005


# -- revoke_at_end spool ------------------------------------------------------------------------


def _spool_module():
    from ansible_collections.apiauth.saas.plugins.plugin_utils import _revoke_spool  # pylint: disable=import-outside-toplevel

    return _revoke_spool


def _spool(base, records: dict, *, age: float = 0.0) -> str:
    """A spool directory under ``base`` as a run leaves it: pending/<name> -> bytes."""
    path = base / f"apiauth-saas-revoke-{secrets.token_hex(4)}"
    (path / "pending").mkdir(parents=True)
    (path / "cache").mkdir()
    os.chmod(path, 0o700)
    os.chmod(path / "pending", 0o700)
    for name, data in records.items():
        (path / "pending" / name).write_bytes(data)
        os.chmod(path / "pending" / name, 0o600)  # as a run writes them; others' records are not trusted
    if age:
        then = time.time() - age
        for item in [path / "pending" / n for n in records] + [path / "pending", path]:
            os.utime(item, (then, then))
    return str(path)


def _seal(token, *, expires_in=3600.0, run_key=None, key=None):
    spool = _spool_module()
    return spool.seal_record(vendor="thoughtspot", host="https://ts.example.test", token=token,
                             options={"ca_path": "/ca.pem"}, expires_at=time.time() + expires_in,
                             obtained_at=time.time(), run_key=run_key, encryption_key=key)


@pytest.mark.parametrize("key", [FERNET_KEY, PASSPHRASE], ids=["fernet-key", "passphrase"])
def test_spool_record_holds_no_token_and_opens_only_with_its_keys(key):
    spool = _spool_module()
    token = "ts-" + secrets.token_urlsafe(40)
    run_key = os.urandom(32)
    both = _seal(token, run_key=run_key, key=key)
    run_only = _seal(token, run_key=run_key)
    for raw in (both, run_only):
        for form in token_forms(token):
            assert form not in raw
    assert spool.open_record(both, run_key=run_key)["token"] == token  # the callback at the end of the run
    assert spool.open_record(both, encryption_key=key)["token"] == token  # a later run, after a kill
    assert spool.open_record(both, encryption_key=key)["options"] == {"ca_path": "/ca.pem"}
    assert spool.open_record(run_only, encryption_key=key) is None
    assert spool.open_record(both, run_key=os.urandom(32), encryption_key="another key") is None
    assert spool.record_metadata(both)["host"] == "https://ts.example.test"


def test_sweep_revokes_expires_keeps_and_leaves_live_runs_alone(tmp_path):
    spool = _spool_module()
    base = tmp_path / "tmp"
    base.mkdir()
    revoked = []

    def revoke(entry):
        revoked.append(entry["token"])
        return True

    openable, unreadable, expired = ("tok-open-" + secrets.token_hex(8), "tok-run-only-" + secrets.token_hex(8),
                                     "tok-expired-" + secrets.token_hex(8))
    legacy = json.dumps({"vendor": "thoughtspot", "host": "https://ts", "token": "legacy-" + secrets.token_hex(8),
                         "options": {}}).encode()
    dead = _spool(base, {"a.json": _seal(openable, run_key=os.urandom(32), key=FERNET_KEY),
                         "b.json": _seal(unreadable, run_key=os.urandom(32)),
                         "c.json": _seal(expired, expires_in=-3600, key=FERNET_KEY)})
    dead_legacy = _spool(base, {"d.json": legacy})
    old_legacy = _spool(base, {"e.json": legacy}, age=2 * 86400)
    old_empty = _spool(base, {}, age=2 * 86400)
    live = _spool(base, {"f.json": _seal("tok-live-" + secrets.token_hex(8), run_key=os.urandom(32), key=FERNET_KEY)})
    held = spool.hold(live)  # a live run's lock, in another open file description
    try:
        report = spool.sweep_stale(str(base), own=None, encryption_key=FERNET_KEY, revoke=revoke)
    finally:
        os.close(held)
    assert revoked == [openable]
    assert (report.revoked, report.expired, report.kept) == (1, 1, 1)
    assert sorted(os.listdir(os.path.join(dead, "pending"))) == ["b.json"], "kept until it expires"
    assert os.listdir(os.path.join(dead_legacy, "pending")) == ["d.json"], "an earlier version's run may be alive"
    assert not os.path.exists(old_legacy) and not os.path.exists(old_empty)
    assert os.listdir(os.path.join(live, "pending")) == ["f.json"]

    # Once the kept token has expired, it and its spool go.
    later = time.time() + 3600 + spool.EXPIRY_GRACE + 1
    report = spool.sweep_stale(str(base), own=None, encryption_key=None, revoke=revoke, now=later)
    assert not os.path.exists(dead) and report.expired >= 1
    assert revoked == [openable]


def test_tls_client_auth_entry_needs_the_private_key_not_just_the_certificate(tmp_path):
    from ansible_collections.apiauth.saas.plugins.module_utils import _token_service  # pylint: disable=import-outside-toplevel

    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\npublic-" + secrets.token_hex(16) + "\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nprivate-" + secrets.token_hex(16) + "\n-----END PRIVATE KEY-----\n")
    material = _token_service._client_cert_material(  # pylint: disable=protected-access
        {"client_cert": str(cert), "client_key": str(key)})
    assert material == [cert.read_text(), key.read_text()]

    directory = str(tmp_path / "mtls")
    cache = TokenCache(cache_dir=directory, encryption_key=FERNET_KEY)
    cache.get_or_fetch(IDENTITY, [None] + material, Fetcher())
    [entry] = [n for n in os.listdir(directory) if n.endswith(".entry")]
    with open(os.path.join(directory, entry), "rb") as handle:
        raw = handle.read()
    with open(os.path.join(directory, ".hmac_key"), "rb") as handle:
        hmac_key = handle.read()
    master = tc.master_key(FERNET_KEY, lambda: None)
    name = entry[: -len(".entry")]

    def opens(secrets_list):
        mac = tc._secret_mac(tc._secret_document(secrets_list), hmac_key)  # pylint: disable=protected-access
        return tc.open_envelope(raw, tc.derive_entry_key(master, mac, tc.KDF_LABEL_FILE), name) is not None

    assert opens([None] + material)  # control: the holder of the key file
    assert not opens([None, cert.read_text()])  # the certificate is public
