# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's progress notes and counts (_errors.Progress), against real servers and real locks.

Retries run against a scripted HTTPS server on 127.0.0.1 (sleep injected where
the client is built here, real where get_token builds it); waits for another
fetch (or write) hold a real flock from another thread, or a real lock on a
Redis-protocol server (Valkey) for the shared layer.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import ssl
import threading
import time

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _shared_cache as sc
from ansible_collections.apiauth.saas.plugins.module_utils import _token_cache as tc
from ansible_collections.apiauth.saas.plugins.module_utils._errors import HTTPStatusError, Progress, Redactor
from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient, HttpOptions
from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import RedisLayer
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import get_token
from ansible_collections.apiauth.saas.plugins.module_utils._write_flight import WriteFlight
from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import (
    Reply,
    ScriptedServer,
    closed_port,
)
from backends.redis_server import RedisServer

IDENTITY = {"vendor": "oauth2", "token_url": "https://idp.example.test:8443/oauth/token", "client_id": "svc-progress"}
FERNET_KEY = "0" * 43 + "="


class Notes(list):
    """The display of a Progress: (level, text) pairs."""

    def __call__(self, level: int, text: str) -> None:
        self.append((level, text))

    def texts(self, level: int | None = None) -> list:
        return [text for lvl, text in self if level is None or lvl == level]


class Sleeps(list):
    def __call__(self, seconds) -> None:
        self.append(seconds)


@pytest.fixture
def tls_server(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca[0].issue_cert("127.0.0.1").configure_cert(context)
    with ScriptedServer(context) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    tc.clear_memory()


def client(ca, progress, **options):
    sleeps = Sleeps()
    options.setdefault("timeout", 5)
    return HttpClient(HttpOptions(ca_path=ca[1], **options), vendor="ThroughLine", sleep=sleeps,
                      rand=lambda: 1.0, progress=progress), sleeps


# --- retries -----------------------------------------------------------------


def test_each_retry_is_one_note_with_status_attempt_wait_and_reason(ca, tls_server):
    tls_server.script(Reply(503), Reply(429, headers={"Retry-After": "3"}), Reply(200, body={"ok": 1}))
    notes = Notes()
    progress = Progress(notes, verbosity=1)
    http, sleeps = client(ca, progress)
    url = tls_server.url("/oauth/token")
    assert http.request("POST", url + "?q=1").status == 200
    assert len(tls_server.seen) == 3  # positive control: the server really answered 503, 429, 200
    assert sleeps == [0.5, 3.0]
    assert notes == [
        (1, f"ThroughLine: POST {url}: HTTP 503 Service Unavailable, attempt 1 of 4; retrying in 0.50 s (backoff)"),
        (1, f"ThroughLine: POST {url}: HTTP 429 Too Many Requests, attempt 2 of 4; retrying in 3.0 s "
            "(Retry-After: 3)"),
    ]
    assert (progress.attempts, progress.waited) == (3, 3.5)


def test_a_connection_error_says_its_kind(ca):
    notes = Notes()
    progress = Progress(notes, verbosity=1)
    http, sleeps = client(ca, progress, retries=1)
    url = f"https://127.0.0.1:{closed_port()}/oauth/token"
    with pytest.raises(Exception, match="connection refused"):
        http.request("POST", url)
    assert notes.texts() == [f"ThroughLine: POST {url}: could not connect (connection refused), attempt 1 of 2; "
                             "retrying in 0.50 s (backoff)"]
    assert (progress.attempts, sleeps) == (2, [0.5])


def test_a_failure_without_retry_makes_no_note_and_counts_its_try(ca, tls_server):
    tls_server.script(Reply(400, body={"error": "invalid_client"}))
    notes = Notes()
    progress = Progress(notes, verbosity=4)
    http, sleeps = client(ca, progress)
    with pytest.raises(HTTPStatusError):
        http.request("POST", tls_server.url("/oauth/token"))
    assert (notes, sleeps, progress.attempts, progress.waited) == ([], [], 1, 0.0)


def test_without_a_display_or_below_the_level_nothing_is_shown(ca, tls_server):
    tls_server.script(Reply(503), Reply(200))
    silent = Progress()
    http, _sleeps = client(ca, silent)
    http.request("GET", tls_server.url("/"))
    assert silent.attempts == 2  # counted all the same
    notes = Notes()
    quiet = Progress(notes, verbosity=0)  # no -v
    assert not quiet.wants(1)
    quiet.note(1, "retrying")
    assert notes == []
    # A client built without a Progress behaves as before.
    tls_server.script(Reply(503), Reply(200))
    plain, sleeps = client(ca, None)
    assert plain.request("GET", tls_server.url("/")).status == 200 and sleeps == [0.5]


def test_notes_are_masked_with_the_calls_redactor():
    secret = "progress-secret-" + secrets.token_hex(12)
    notes = Notes()
    progress = Progress(notes, verbosity=1, redactor=Redactor([secret]))
    later = Redactor()
    progress.mask_with(later)
    later.add("learned-later-" + secret[-8:])  # a redactor masks what it learns after it was handed over
    progress.note(1, f"token of {secret} at host, learned-later-{secret[-8:]}")
    assert notes == [(1, "token of ******** at host, ********")]


# --- get_token: attempts, waited, the layer that served -------------------------


def _params(url, ca_file, cache_dir, secret):
    return {"token_url": url, "client_id": "svc-progress", "client_secret": secret, "ca_path": ca_file,
            "cache_dir": cache_dir, "retries": 3}


def test_get_token_counts_tries_and_names_the_layer(ca, tls_server, tmp_path):
    secret = "progress-secret-" + secrets.token_hex(12)
    token = "tok-" + secrets.token_hex(20)
    tls_server.script(Reply(503), Reply(503),
                      Reply(200, body={"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
    params = _params(tls_server.url("/oauth/token"), ca[1], str(tmp_path / "cache"), secret)
    notes = Notes()
    outcome = get_token(params, progress=Progress(notes, verbosity=2))
    assert outcome.record["access_token"] == token and len(tls_server.seen) == 3
    assert outcome.attempts == 3 and 0.0 < outcome.waited <= 1.5  # two jittered backoffs of at most 0.5 and 1 s
    retry_lines = notes.texts(1)
    assert [line.split(", attempt ")[1].split(";")[0] for line in retry_lines] == ["1 of 4", "2 of 4"]
    assert all("HTTP 503 Service Unavailable" in line and line.endswith("(backoff)") for line in retry_lines)
    assert notes.texts(2) == [f"oauth2 token of svc-progress at 127.0.0.1:{tls_server.port} served by the vendor "
                              "(3 HTTP requests)"]
    # The same process again: memory; another process (memory cleared): the file cache.
    notes.clear()
    again = get_token(params, progress=Progress(notes, verbosity=2))
    assert (again.source, again.attempts, again.waited) == ("memory", 0, 0.0)
    tc.clear_memory()
    from_file = get_token(params, progress=Progress(notes, verbosity=2))
    assert (from_file.source, from_file.attempts) == ("file", 0)
    assert [text.split(" served by ")[1] for text in notes.texts(2)] == [
        "the memory cache of this process", f"the file cache ({tmp_path / 'cache'})"]
    assert len(tls_server.seen) == 3
    for _level, text in notes:
        assert secret not in text and token not in text


# --- waits for another process's fetch -----------------------------------------


class SlowFetch:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.started = threading.Event()

    def __call__(self):
        self.calls += 1
        self.started.set()
        time.sleep(self.delay)
        return {"access_token": "tok-" + secrets.token_hex(16), "token_type": "Bearer"}, time.time() + 3600


def test_a_waiter_says_it_waits_and_that_it_got_the_token(tmp_path):
    fetch = SlowFetch(1.0)
    first: list = []
    holder = threading.Thread(target=lambda: first.append(
        TokenCache(cache_dir=str(tmp_path)).get_or_fetch(IDENTITY, ["s3cret-value"], fetch)))
    holder.start()
    assert fetch.started.wait(10)  # positive control: the other fetch holds the lock now
    notes = Notes()
    progress = Progress(notes, verbosity=1)
    result = TokenCache(cache_dir=str(tmp_path)).get_or_fetch(IDENTITY, ["s3cret-value"], fetch, progress=progress)
    holder.join(10)
    assert fetch.calls == 1 and result.source == "file"
    assert result.record == first[0].record
    assert 0.5 <= progress.waited <= 5
    label = "oauth2 token of svc-progress at idp.example.test:8443"
    assert notes.texts()[0] == f"waiting for another process to get the {label} (up to 120 s)"
    assert notes.texts()[1] == (f"waited {progress.waited:.1f} s for another process to get the {label}: "
                                "got the token it fetched")
    assert len(notes) == 2


def test_a_waiter_that_gives_up_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(tc, "LOCK_TIMEOUT", 0.5)
    cache = TokenCache(cache_dir=str(tmp_path))
    key = cache.key_for(IDENTITY, ["s3cret-value"])
    fd = os.open(os.path.join(str(tmp_path), key + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process that never finishes
        notes = Notes()
        progress = Progress(notes, verbosity=1)
        result = cache.get_or_fetch(IDENTITY, ["s3cret-value"], SlowFetch(0), progress=progress)
    finally:
        os.close(fd)
    assert result.source == "network"
    assert len(notes) == 2 and notes.texts()[1].endswith("gave up waiting: asking the vendor")
    assert 0.5 <= progress.waited < 3


def test_no_wait_no_note(tmp_path):
    notes = Notes()
    progress = Progress(notes, verbosity=4)
    TokenCache(cache_dir=str(tmp_path)).get_or_fetch(IDENTITY, ["s3cret-value"], SlowFetch(0), progress=progress)
    assert (notes, progress.waited) == ([], 0.0)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    running = RedisServer.start(tmp_path_factory.mktemp("valkey"), password="pw-" + secrets.token_hex(12))
    yield running
    running.stop()


def _runner(tmp_path, name, server):
    layer = RedisLayer(url=server.url, password=server.password, encryption_key=FERNET_KEY)
    return TokenCache(cache_dir=str(tmp_path / name), encryption_key=FERNET_KEY, shared=layer)


def test_a_runner_waiting_on_the_shared_cache_says_where_and_how_it_ended(redis_server, tmp_path):
    sc._DOWN.clear()  # pylint: disable=protected-access
    redis_server.client().flushall()
    fetch = SlowFetch(1.0)
    first: list = []
    holder = threading.Thread(target=lambda: first.append(
        _runner(tmp_path, "a", redis_server).get_or_fetch(IDENTITY, ["s3cret-value"], fetch)))
    holder.start()
    assert fetch.started.wait(10)  # the other runner holds the shared lock and is fetching
    notes = Notes()
    progress = Progress(notes, verbosity=1)
    result = _runner(tmp_path, "b", redis_server).get_or_fetch(IDENTITY, ["s3cret-value"], fetch, progress=progress)
    holder.join(10)
    assert fetch.calls == 1 and result.source == "shared"
    assert result.record == first[0].record
    where = f"another runner (through the shared cache at {_label(redis_server)})"
    assert notes.texts()[0].startswith(f"waiting for {where} to get the oauth2 token of svc-progress")
    assert notes.texts()[1].endswith("got the token it fetched") and len(notes) == 2
    assert 0.5 <= progress.waited <= 5


def test_a_dead_runners_shared_lock_ends_in_a_fetch_and_says_so(redis_server, tmp_path):
    sc._DOWN.clear()  # pylint: disable=protected-access
    redis_server.client().flushall()
    cache = _runner(tmp_path, "a", redis_server)
    key = cache._shared_key(tc._canonical_identity(IDENTITY), ["s3cret-value"])  # pylint: disable=protected-access
    redis_server.client().set(sc.PREFIX + "lock:" + key, b"dead-runner", px=1000)
    notes = Notes()
    progress = Progress(notes, verbosity=1)
    result = cache.get_or_fetch(IDENTITY, ["s3cret-value"], SlowFetch(0), progress=progress)
    assert result.source == "network"
    assert len(notes) == 2 and notes.texts()[1].endswith("it left no usable token: asking the vendor")
    assert 0.5 <= progress.waited < 5


def _label(server) -> str:
    return RedisLayer(url=server.url, password=server.password, encryption_key=FERNET_KEY).label


# --- a write that makes a secret, waiting for another run's -----------------------------


def test_a_write_waiting_for_another_runs_write_says_so(tmp_path):
    params = {"cache_dir": str(tmp_path / "cache")}
    target = {"write": "progress-test", "tenant_id": "t-1"}
    entered, release = threading.Event(), threading.Event()

    def other_run():
        with WriteFlight(params, target, what="test key"):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=other_run)
    holder.start()
    assert entered.wait(10)  # positive control: the other run holds the write's lock
    timer = threading.Timer(1.0, release.set)
    timer.start()
    notes = Notes()
    progress = Progress(notes, verbosity=1)
    with WriteFlight(params, target, what="test key", about="tenant t-1", progress=progress) as flight:
        assert flight.waited
    holder.join(10)
    timer.cancel()
    assert 0.5 <= progress.waited <= 5
    assert notes.texts() == [
        "waiting for another run making the test key for tenant t-1 (up to 300 s)",
        f"waited {progress.waited:.1f} s for another run making the test key for tenant t-1: this run goes on "
        "(it keeps what the other made, if anything)",
    ]
    # No wait, no note.
    notes.clear()
    with WriteFlight(params, target, what="test key", progress=progress) as flight:
        assert not flight.waited
    assert notes == []
