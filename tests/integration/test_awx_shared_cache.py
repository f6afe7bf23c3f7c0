"""Job runners as AWX starts them: each with an empty home and its own cache directory.

Several ansible-playbook processes run at once, like the jobs of a schedule on several
execution nodes. With the default file backend each empty directory costs one token request
per job; with cache_backend=redis they share a real Valkey server (Redis protocol, started
here on 127.0.0.1) and the whole fleet makes one request.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time

import pytest

from backends.redis_server import RedisServer
from conftest import assert_absent, assert_no_traceback, strong_secret


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer.start(tmp_path_factory.mktemp("valkey"), password=strong_secret("redis-"))
    yield server
    server.stop()


@pytest.fixture
def fleet(sim, run_playbook, tmp_path, out):
    """run(n, env=...) starts n jobs at once, each with an empty HOME and cache directory; returns their runs."""

    def run(count: int, *, env: dict, verbosity: int = 0, name: str = "job"):
        base = {
            "APIAUTH_THROUGHLINE_CLIENT_ID": sim.demo_vars()["throughline_client_id"],
            "APIAUTH_THROUGHLINE_CLIENT_SECRET": sim.demo_vars()["throughline_client_secret"],
            "APIAUTH_THROUGHLINE_TOKEN_URL": sim.demo_vars()["throughline_token_url"],
            "APIAUTH_SAAS_CA_PATH": sim.demo_vars()["sim_ca_path"],
        }
        runs: dict = {}

        def one(index: int):
            home = tmp_path / f"{name}{index}" / "home"
            home.mkdir(parents=True)
            job_env = dict(base, HOME=str(home), APIAUTH_SAAS_CACHE_DIR=str(tmp_path / f"{name}{index}" / "cache"))
            job_env.update(env)
            runs[index] = run_playbook("awx_job.yml", env=job_env, verbosity=verbosity,
                                       extra_vars={"awx_vendor": "throughline", "awx_job_name": f"{name}{index}"})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        return [runs[i] for i in range(count)]

    return run


def _sources(out, name: str, count: int) -> list:
    return [json.loads((out / f"{name}{i}.json").read_text()) for i in range(count)]


def _shared_env(server, key: str, password: str | None = None) -> dict:
    return {
        "APIAUTH_SAAS_CACHE_BACKEND": "redis",
        "APIAUTH_SAAS_CACHE_REDIS_URL": server.url,
        "APIAUTH_SAAS_CACHE_REDIS_PASSWORD": server.password if password is None else password,
        "APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": key,
    }


def test_file_backend_empty_directories_cost_one_request_per_job(sim, fleet, out):
    runs = fleet(2, env={})
    for run in runs:
        assert run.rc == 0, run.output[-3000:]
    assert sim.token_requests("throughline") == 2
    for job in _sources(out, "job", 2):
        assert job == {"module_source": "network", "lookup_source": "memory", "same_token": True} or \
            job == {"module_source": "network", "lookup_source": "file", "same_token": True}


def test_runners_share_one_token_request_through_redis(sim, fleet, out, redis_server, tmp_path):
    redis_server.client().flushall()
    key = secrets.token_urlsafe(24)  # a passphrase: runners agree on its salt through the server
    # The first request is slow, so the jobs overlap while it is under way and must wait for it.
    sim.add_faults("throughline", [{"kind": "delay", "seconds": 2}])
    started = time.monotonic()
    runs = fleet(4, env=_shared_env(redis_server, key), verbosity=4)
    took = time.monotonic() - started
    for run in runs:
        assert run.rc == 0, run.output[-3000:]
        assert_no_traceback(run)
    assert sim.token_requests("throughline") == 1
    jobs = _sources(out, "job", 4)
    assert sorted(job["module_source"] for job in jobs) == ["network", "shared", "shared", "shared"]
    assert all(job["same_token"] for job in jobs)
    # Each runner kept the token in its own directory, and nothing under its empty home.
    for index in range(4):
        assert any((tmp_path / f"job{index}" / "cache").glob("*.entry"))
        assert not any((tmp_path / f"job{index}" / "home").rglob("*.entry"))
    # No secret in any output at -vvvv, and no token or secret in clear on the server.
    token = [e for e in sim.audit("throughline") if e.get("token_fp")]
    assert len(token) == 1
    demo = sim.demo_vars()
    dump = redis_server.dump()
    values = b"".join(redis_server.client().get(k) or b"" for k in redis_server.client().keys("*"))
    for run in runs:
        assert_absent([demo["throughline_client_secret"], redis_server.password, key], run)
    for text in (demo["throughline_client_secret"], demo["throughline_client_id"], redis_server.password, key):
        assert text.encode() not in dump + values
    print(f"4 runners, 1 token request, {took:.1f} s")


def test_a_second_wave_is_served_from_the_server(sim, fleet, out, redis_server):
    redis_server.client().flushall()
    key = "x" * 43 + "="
    first = fleet(1, env=_shared_env(redis_server, key), name="first")
    assert first[0].rc == 0, first[0].output[-3000:]
    second = fleet(3, env=_shared_env(redis_server, key), name="second")
    assert all(run.rc == 0 for run in second)
    assert sim.token_requests("throughline") == 1
    assert [job["module_source"] for job in _sources(out, "second", 3)] == ["shared"] * 3
    # Another key never meets those entries: a new request.
    other = fleet(1, env=_shared_env(redis_server, "y" * 43 + "="), name="other")
    assert other[0].rc == 0 and sim.token_requests("throughline") == 2


def _lock_name(sim, server, key: str) -> str:
    """The name of the lock a ThroughLine job takes, computed with the engine's own identity."""
    from ansible_collections.apiauth.saas.plugins.module_utils import _token_cache, _token_service
    from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import PREFIX, RedisLayer
    from ansible_collections.apiauth.saas.plugins.module_utils._vendor_throughline import THROUGHLINE

    demo = sim.demo_vars()
    params = {"client_id": demo["throughline_client_id"], "client_secret": demo["throughline_client_secret"],
              "token_url": demo["throughline_token_url"]}
    identity, secrets_ = _token_service.cache_identity(_token_service.credentials_from(params, THROUGHLINE),
                                                       THROUGHLINE, params)
    layer = RedisLayer(url=server.url, password=server.password, encryption_key=key)
    cache = _token_cache.TokenCache(cache_dir=None, encryption_key=key, shared=layer)
    identity_doc = _token_cache._canonical_identity(identity)  # pylint: disable=protected-access
    return PREFIX + "lock:" + cache._shared_key(identity_doc, secrets_)  # pylint: disable=protected-access


@pytest.mark.parametrize("expiry_ms", [None, 3000], ids=["lock-without-expiry", "lock-of-a-dead-runner"])
def test_stale_lock_does_not_block(sim, fleet, out, redis_server, expiry_ms):
    redis_server.client().flushall()
    key = "z" * 43 + "="
    redis_server.client().set(_lock_name(sim, redis_server, key), b"left-behind", px=expiry_ms)
    started = time.monotonic()
    run = fleet(1, env=_shared_env(redis_server, key))[0]
    took = time.monotonic() - started
    assert run.rc == 0, run.output[-3000:]
    assert sim.token_requests("throughline") == 1
    assert _sources(out, "job", 1)[0]["module_source"] == "network"
    assert took < 30  # the lock's own life (3 s) or nothing, plus one job; never the 120 s of a live lock


def test_wrong_redis_password_is_a_clean_error(sim, fleet, redis_server):
    wrong = strong_secret("wrong-")
    runs = fleet(1, env=_shared_env(redis_server, "w" * 43 + "=", password=wrong), verbosity=4)
    run = runs[0]
    assert run.rc != 0
    assert "did not accept the password" in run.output
    assert_no_traceback(run)
    assert_absent([wrong, redis_server.password], run)
    assert sim.token_requests("throughline") == 0


def test_unreachable_redis_is_a_warning_and_the_job_goes_on(sim, fleet, out):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "APIAUTH_SAAS_CACHE_BACKEND": "redis",
        "APIAUTH_SAAS_CACHE_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "APIAUTH_SAAS_CACHE_REDIS_PASSWORD": strong_secret(),
        "APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": "v" * 43 + "=",
    }
    run = fleet(1, env=env)[0]
    assert run.rc == 0, run.output[-3000:]
    assert "cannot be reached" in run.output
    assert_absent([env["APIAUTH_SAAS_CACHE_REDIS_PASSWORD"]], run)
    assert sim.token_requests("throughline") == 1


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
]
