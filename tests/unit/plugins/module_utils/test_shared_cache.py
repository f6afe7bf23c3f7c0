# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the shared token cache layer against a real Redis-protocol server (Valkey on 127.0.0.1)."""

from __future__ import annotations

import secrets
import socket
import sys
import threading
import time

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _shared_cache as sc
from ansible_collections.apiauth.saas.plugins.module_utils import _token_cache as tc
from ansible_collections.apiauth.saas.plugins.module_utils._errors import CacheError, MissingLibraryError, OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import RedisLayer, shared_layer
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
from backends.redis_server import RedisServer

IDENTITY = {"vendor": "oauth2", "token_url": "https://idp.example.test/oauth/token", "client_id": "svc-shared"}
SECRET = "shared-cache-client-secret-" + secrets.token_hex(8)
FERNET_KEY = "0" * 43 + "="  # a valid Fernet key (32 zero bytes)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = RedisServer.start(tmp_path_factory.mktemp("valkey"), password="pw-" + secrets.token_hex(12))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """No memory entry, derived key or 'server down' mark leaks between tests; the server starts empty."""
    tc.clear_memory()
    sc._DOWN.clear()  # pylint: disable=protected-access
    sc._KEYS.clear()  # pylint: disable=protected-access
    if "server" in request.fixturenames:
        request.getfixturevalue("server").client().flushall()
    yield


class Fetcher:
    """A fetch() that counts its calls and hands out distinct tokens."""

    def __init__(self, delay: float = 0.0, lifetime: float = 3600) -> None:
        self.calls = 0
        self.delay = delay
        self.lifetime = lifetime
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
            number = self.calls
        time.sleep(self.delay)
        return {"access_token": f"tok-{number}-{secrets.token_hex(16)}", "token_type": "Bearer"}, \
            time.time() + self.lifetime


def layer(server, key=FERNET_KEY, password="same"):
    return RedisLayer(url=server.url, password=server.password if password == "same" else password,
                      encryption_key=key)


def runner_cache(tmp_path, name, server, key=FERNET_KEY):
    """A TokenCache of one 'runner': its own empty directory, the common server."""
    return TokenCache(cache_dir=str(tmp_path / name), encryption_key=key, shared=layer(server, key))


def test_second_runner_gets_the_token_from_the_server(server, tmp_path):
    fetch = Fetcher()
    first = runner_cache(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], fetch, min_ttl=60)
    tc.clear_memory()
    second = runner_cache(tmp_path, "b", server).get_or_fetch(IDENTITY, [SECRET], fetch, min_ttl=60)
    assert (first.source, second.source, fetch.calls) == ("network", "shared", 1)
    assert second.record == first.record
    # Written to the second runner's directory too: its next fork finds it in a file.
    tc.clear_memory()
    again = TokenCache(cache_dir=str(tmp_path / "b"), encryption_key=FERNET_KEY, shared=layer(server))
    assert again.get_or_fetch(IDENTITY, [SECRET], fetch, min_ttl=60).source == "file"


def test_concurrent_runners_make_one_request(server, tmp_path):
    fetch = Fetcher(delay=0.5)
    results = []

    def run(index):
        results.append(runner_cache(tmp_path, f"r{index}", server).get_or_fetch(IDENTITY, [SECRET], fetch))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert fetch.calls == 1
    assert sorted(r.source for r in results) == ["network"] + ["shared"] * 5
    assert len({r.record["access_token"] for r in results}) == 1


def test_entries_are_encrypted_and_keys_reveal_nothing(server, tmp_path):
    result = runner_cache(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    client = server.client()
    names = client.keys("*")
    assert names and all(name.startswith(b"apiauth.saas:v1:") for name in names)
    values = b"".join(client.get(name) or b"" for name in names if b":lock:" not in name)
    for text in (result.record["access_token"], SECRET, IDENTITY["client_id"], FERNET_KEY):
        assert text.encode() not in values + b"".join(names) + server.dump()
    entry = [name for name in names if b":entry:" in name][0]
    assert 3500 * 1000 <= client.pttl(entry) <= 3600 * 1000  # expires with the token


def test_passphrase_runners_agree_through_the_server_salt(server, tmp_path):
    fetch = Fetcher()
    passphrase = "a passphrase, not a Fernet key"
    runner_cache(tmp_path, "a", server, passphrase).get_or_fetch(IDENTITY, [SECRET], fetch)
    tc.clear_memory()
    sc._KEYS.clear()  # pylint: disable=protected-access
    result = runner_cache(tmp_path, "b", server, passphrase).get_or_fetch(IDENTITY, [SECRET], fetch)
    assert (result.source, fetch.calls) == ("shared", 1)
    assert len(server.client().get(sc.PREFIX + "salt")) == 16


def test_another_key_or_secret_never_meets_the_entry(server, tmp_path):
    fetch = Fetcher()
    runner_cache(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], fetch)
    tc.clear_memory()
    other_key = runner_cache(tmp_path, "b", server, "another-key").get_or_fetch(IDENTITY, [SECRET], fetch)
    rotated = runner_cache(tmp_path, "c", server).get_or_fetch(IDENTITY, [SECRET + "-rotated"], fetch)
    assert (other_key.source, rotated.source, fetch.calls) == ("network", "network", 3)


def test_min_ttl_force_refresh_and_invalidate(server, tmp_path):
    fetch = Fetcher(lifetime=600)
    runner_cache(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], fetch, min_ttl=0)
    tc.clear_memory()
    # Too close to its expiry for this caller: fetched again, and shared.
    assert runner_cache(tmp_path, "b", server).get_or_fetch(IDENTITY, [SECRET], fetch, min_ttl=900).source == "network"
    tc.clear_memory()
    forced = runner_cache(tmp_path, "c", server).get_or_fetch(IDENTITY, [SECRET], fetch, force_refresh=True)
    assert (forced.source, fetch.calls) == ("network", 3)
    tc.clear_memory()
    served = runner_cache(tmp_path, "d", server).get_or_fetch(IDENTITY, [SECRET], fetch)
    assert served.record == forced.record
    runner_cache(tmp_path, "d", server).invalidate(IDENTITY, [SECRET])
    assert not server.client().keys(sc.PREFIX + "entry:*")
    assert runner_cache(tmp_path, "e", server).peek(IDENTITY, [SECRET]) is None


def test_peek_finds_a_shared_token(server, tmp_path):
    result = runner_cache(tmp_path, "a", server).get_or_fetch(IDENTITY, [SECRET], Fetcher())
    tc.clear_memory()
    assert runner_cache(tmp_path, "b", server).peek(IDENTITY, [SECRET]) == result.record


def test_stale_lock_without_expiry_is_removed(server, tmp_path):
    cache = runner_cache(tmp_path, "a", server)
    key = cache._shared_key(tc._canonical_identity(IDENTITY), [SECRET])  # pylint: disable=protected-access
    server.client().set(sc.PREFIX + "lock:" + key, b"left-by-hand")
    started = time.monotonic()
    result = cache.get_or_fetch(IDENTITY, [SECRET], Fetcher())
    assert result.source == "network" and time.monotonic() - started < 5


def test_lock_of_a_dead_runner_blocks_only_until_it_expires(server, tmp_path):
    cache = runner_cache(tmp_path, "a", server)
    key = cache._shared_key(tc._canonical_identity(IDENTITY), [SECRET])  # pylint: disable=protected-access
    server.client().set(sc.PREFIX + "lock:" + key, b"dead-runner", px=1500)
    started = time.monotonic()
    result = cache.get_or_fetch(IDENTITY, [SECRET], Fetcher())
    waited = time.monotonic() - started
    assert result.source == "network" and 1.0 <= waited < 6


def test_wait_is_bounded(server, tmp_path, monkeypatch):
    monkeypatch.setattr(tc, "SHARED_WAIT_LIMIT", 1.0)
    cache = runner_cache(tmp_path, "a", server)
    key = cache._shared_key(tc._canonical_identity(IDENTITY), [SECRET])  # pylint: disable=protected-access
    server.client().set(sc.PREFIX + "lock:" + key, b"slow-runner", px=60000)
    started = time.monotonic()
    assert cache.get_or_fetch(IDENTITY, [SECRET], Fetcher()).source == "network"
    assert time.monotonic() - started < 5


def test_wrong_password_is_a_clean_error(server, tmp_path):
    wrong = "wrong-" + secrets.token_hex(8)
    cache = TokenCache(cache_dir=str(tmp_path / "a"), encryption_key=FERNET_KEY,
                       shared=layer(server, password=wrong))
    fetch = Fetcher()
    with pytest.raises(CacheError) as caught:
        cache.get_or_fetch(IDENTITY, [SECRET], fetch)
    text = str(caught.value)
    assert "did not accept the password" in text and server.url in text
    assert wrong not in text and server.password not in text and fetch.calls == 0


def test_no_password_is_a_clean_error(server, tmp_path):
    cache = TokenCache(cache_dir=str(tmp_path / "a"), encryption_key=FERNET_KEY, shared=layer(server, password=None))
    with pytest.raises(CacheError, match="cache_redis_password"):
        cache.get_or_fetch(IDENTITY, [SECRET], Fetcher())


def test_unreachable_server_is_a_warning_and_is_left_alone(tmp_path, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"redis://:pw-in-url-{secrets.token_hex(4)}@127.0.0.1:{closed}/0"
    cache = TokenCache(cache_dir=str(tmp_path / "a"), encryption_key=FERNET_KEY,
                       shared=RedisLayer(url=url, password=None, encryption_key=FERNET_KEY))
    fetch = Fetcher()
    result = cache.get_or_fetch(IDENTITY, [SECRET], fetch)
    assert result.source == "network" and fetch.calls == 1
    assert len(result.warnings) == 1 and "cannot be reached" in result.warnings[0]
    assert f"redis://127.0.0.1:{closed}/0" in result.warnings[0] and "pw-in-url" not in result.warnings[0]
    # The next call of this process does not wait on the server again.
    tc.clear_memory()
    calls = []
    monkeypatch.setattr(RedisLayer, "_call", lambda self, *a, **k: calls.append(a))
    other = TokenCache(cache_dir=str(tmp_path / "b"), encryption_key=FERNET_KEY,
                       shared=RedisLayer(url=url, password=None, encryption_key=FERNET_KEY))
    assert other.get_or_fetch(IDENTITY, [SECRET], fetch).warnings and not calls


@pytest.mark.parametrize("params, message", [
    ({"cache_backend": "redis", "cache_encryption_key": FERNET_KEY}, "needs cache_redis_url"),
    ({"cache_backend": "redis", "cache_redis_url": "redis://127.0.0.1:1/0"}, "needs cache_encryption_key"),
    ({"cache_backend": "redis", "cache_redis_url": "http://127.0.0.1:1/0", "cache_encryption_key": "k"},
     "must start with"),
    ({"cache_backend": "redis", "cache_redis_url": "redis://:a@127.0.0.1:1/0", "cache_redis_password": "b",
      "cache_encryption_key": "k"}, "once"),
    ({"cache_backend": "memcached"}, "cache_backend must be one of"),
])
def test_option_errors(params, message):
    with pytest.raises(OptionError, match=message):
        shared_layer(params)


@pytest.mark.parametrize("query, message", [
    ("rediss://cache.test:6380/0?ssl_cert_reqs={tag}", "'ssl_cert_reqs' is not taken"),
    ("rediss://cache.test:6380/0?ssl_check_hostname={tag}", "'ssl_check_hostname' is not taken"),
    ("redis://cache.test:6379/0?socket_timeout={tag}", "'socket_timeout' is not taken"),
    ("redis://cache.test:6379/0?ssl_ca_certs={ca}", "ssl_ca_certs is for a TLS connection; use rediss://"),
    ("rediss://cache.test:6380/0?ssl_ca_certs={tag}.pem", "ssl_ca_certs must be the absolute path of a file"),
    ("rediss://cache.test:6380/0?ssl_certfile={dir}/{tag}.pem", "ssl_certfile must be the absolute path of a file"),
    ("rediss://cache.test:6380/0?ssl_ca_path={ca}", "ssl_ca_path must be the absolute path of a directory"),
    ("rediss://cache.test:6380/0?ssl_ca_certs={ca}&ssl_ca_certs={ca}", "'ssl_ca_certs' is given more than once"),
])
def test_url_query_parameters_other_than_tls_paths_are_refused(tmp_path, query, message):
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    tag = "value-" + secrets.token_hex(6)
    url = query.format(tag=tag, ca=ca, dir=tmp_path)
    with pytest.raises(OptionError, match=message) as caught:
        RedisLayer(url=url, password=None, encryption_key=FERNET_KEY)
    assert tag not in str(caught.value) and str(ca) not in str(caught.value)


def test_tls_paths_in_the_url_reach_the_redis_library_with_verification_on(tmp_path):
    paths = {}
    for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_text("not read here")
    paths["ssl_ca_path"] = tmp_path
    query = "&".join(f"{name}={path}" for name, path in paths.items())
    client = RedisLayer(url=f"rediss://cache.test:6380/0?{query}", password=None,
                        encryption_key=FERNET_KEY)._connect()  # pylint: disable=protected-access
    given = client.connection_pool.connection_kwargs
    assert {name: given[name] for name in paths} == {name: str(path) for name, path in paths.items()}
    # What the URL may no longer change: the library's defaults, which verify the server.
    assert given.get("ssl_cert_reqs", "required") == "required" and given.get("ssl_check_hostname", True) is True
    assert given["socket_timeout"] == sc.SOCKET_TIMEOUT


def test_file_backend_or_no_cache_has_no_shared_layer():
    assert shared_layer({}) is None
    assert shared_layer({"cache_backend": "file"}) is None
    assert shared_layer({"cache_backend": "redis", "cache": False}) is None


def test_missing_redis_library_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    cache = TokenCache(cache_dir=str(tmp_path / "a"), encryption_key=FERNET_KEY,
                       shared=RedisLayer(url="redis://127.0.0.1:1/0", password=None, encryption_key=FERNET_KEY))
    with pytest.raises(MissingLibraryError) as caught:
        cache.get_or_fetch(IDENTITY, [SECRET], Fetcher())
    assert "'redis'" in str(caught.value) and "pip install" in str(caught.value)


def test_server_label_hides_credentials():
    assert sc.server_label("rediss://user:pw@cache.example:6380/2?ssl_ca_certs=/x") == "rediss://cache.example:6380/2"
    assert sc.server_label("unix:///run/redis.sock") == "unix:///run/redis.sock"
