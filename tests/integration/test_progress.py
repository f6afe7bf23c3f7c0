"""What an operator sees while a token is slow to come: retries and waits at -v, the cache layer at -vv.

Real ansible-playbook runs against the simulator, whose fault queue makes the
token endpoint answer 503 or 429 with Retry-After, or delay its answer while a
second fork asks for the same credential. The module's result carries
``attempts`` and ``waited``; a lookup can only print.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import assert_no_traceback
from secret_forms import secret_forms_in

MODULE = "apiauth.saas.oauth2_token"
RETRY = re.compile(r"^(?P<prefix>.*?)OAuth 2\.0 provider: POST https://127\.0\.0\.1:\d+/oauth2/token: "
                   r"(?P<why>HTTP \d+ [A-Za-z ]+), attempt (?P<n>\d+) of (?P<m>\d+); "
                   r"retrying in (?P<wait>[\d.]+) s \((?P<reason>[^)]+)\)$", re.M)
WAITING = re.compile(r"^(?P<prefix>.*?)waiting for another process to get the oauth2 token of (?P<client>\S+) "
                     r"at 127\.0\.0\.1:\d+ \(up to 120 s\)$", re.M)
WAITED = re.compile(r"^(?P<prefix>.*?)waited (?P<seconds>[\d.]+) s for another process to get the oauth2 token of "
                    r"(?P<client>\S+) at 127\.0\.0\.1:\d+: (?P<outcome>.+)$", re.M)
SERVED = re.compile(r"^(?P<prefix>.*?)oauth2 token of (?P<client>\S+) at 127\.0\.0\.1:\d+ served by (?P<layer>.+)$",
                    re.M)


def _two_hosts() -> str:
    return (f"[all]\nhost1\nhost2\n[all:vars]\nansible_connection=local\n"
            f"ansible_python_interpreter={sys.executable}\n")


def _got(out, host: str = "localhost") -> dict:
    return json.loads((out / f"{host}.json").read_text())


def _run(run_playbook, via: str, verbosity: int, **kwargs):
    run = run_playbook("progress.yml", verbosity=verbosity, extra_vars={"progress_via": via}, **kwargs)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    return run


# --- retries at -v --------------------------------------------------------------


def test_module_retries_are_shown_at_v_and_counted_in_the_result(sim, run_playbook, out):
    sim.add_faults("oauth2", [{"kind": "status", "status": 503}, {"kind": "status", "status": 503}])
    run = _run(run_playbook, "module", 1)
    assert sim.token_requests("oauth2") == 3  # positive control: the vendor really answered 503 twice
    lines = [match.groupdict() for match in RETRY.finditer(run.stdout)]
    assert [(line["why"], line["n"], line["m"], line["reason"]) for line in lines] == [
        ("HTTP 503 Service Unavailable", "1", "4", "backoff"), ("HTTP 503 Service Unavailable", "2", "4", "backoff")]
    # Prefixed with the host, as Ansible's own -v notes are, and the module's name.
    assert {line["prefix"] for line in lines} == {f"<localhost> {MODULE}: "}
    got = _got(out)["module"]
    assert (got["attempts"], got["source"]) == (3, "network")
    waits = sum(float(line["wait"]) for line in lines)
    assert 0 < got["waited"] <= 1.6 and abs(got["waited"] - waits) <= 0.15


def test_lookup_retries_are_shown_at_v(sim, run_playbook, out):
    sim.add_faults("oauth2", [{"kind": "status", "status": 503}, {"kind": "status", "status": 503}])
    run = _run(run_playbook, "lookup", 1)
    assert sim.token_requests("oauth2") == 3
    lines = [match.groupdict() for match in RETRY.finditer(run.stdout)]
    assert [(line["prefix"], line["why"], line["n"]) for line in lines] == [
        (f"lookup {MODULE}: ", "HTTP 503 Service Unavailable", "1"),
        (f"lookup {MODULE}: ", "HTTP 503 Service Unavailable", "2")]
    tokens = _got(out)["lookup"]
    assert len(tokens) == 2 and tokens[0] == tokens[1] and tokens[0]


@pytest.mark.parametrize("via", ["module", "lookup"])
def test_a_retry_after_is_named_as_the_reason(sim, run_playbook, out, via):
    sim.add_faults("oauth2", [{"kind": "status", "status": 429, "retry_after": 1}])
    run = _run(run_playbook, via, 1)
    assert sim.token_requests("oauth2") == 2
    lines = [match.groupdict() for match in RETRY.finditer(run.stdout)]
    assert [(line["why"], line["n"], line["wait"], line["reason"]) for line in lines] == [
        ("HTTP 429 Too Many Requests", "1", "1.0", "Retry-After: 1")]
    if via == "module":
        assert _got(out)["module"]["attempts"] == 2 and _got(out)["module"]["waited"] == 1.0


def test_without_v_nothing_is_said_but_the_result_still_counts(sim, run_playbook, out):
    sim.add_faults("oauth2", [{"kind": "status", "status": 503}, {"kind": "status", "status": 503},
                              {"kind": "delay", "seconds": 0}])
    run = _run(run_playbook, "both", 0)
    assert sim.token_requests("oauth2") == 3
    for pattern in (RETRY, WAITING, WAITED, SERVED):
        assert not pattern.search(run.output)
    assert "attempt 1 of" not in run.output and "retrying in" not in run.output
    assert _got(out)["module"]["attempts"] == 3


# --- the cache layer at -vv -----------------------------------------------------


def test_a_warm_run_makes_no_attempt_and_vv_names_the_layer(sim, run_playbook, out, cache_dir):
    _run(run_playbook, "both", 0)
    assert sim.token_requests("oauth2") == 1  # the cold run fetched once
    cold = _got(out)["module"]
    assert (cold["attempts"], cold["source"]) == (1, "network")

    at_v = _run(run_playbook, "both", 1)
    assert not SERVED.search(at_v.output), "the layer is a -vv note"
    warm = _run(run_playbook, "both", 2)
    assert sim.token_requests("oauth2") == 1
    got = _got(out)["module"]
    assert (got["attempts"], got["waited"], got["source"]) == (0, 0.0, "file")
    served = [(match["prefix"], match["layer"]) for match in SERVED.finditer(warm.stdout)]
    assert served == [
        (f"<localhost> {MODULE}: ", f"the file cache ({cache_dir})"),
        (f"lookup {MODULE}: ", f"the file cache ({cache_dir})"),
        (f"lookup {MODULE}: ", "the memory cache of this process"),
    ]


# --- a fork that waits for another's fetch ----------------------------------------


@pytest.mark.parametrize("via", ["module", "lookup"])
def test_a_fork_waiting_for_another_forks_fetch_says_so(sim, run_playbook, out, via):
    # The first token answer takes 3 s: the fork that asked first holds the credential's lock
    # meanwhile, and the other fork waits for it.
    sim.add_faults("oauth2", [{"kind": "delay", "seconds": 3}])
    run = _run(run_playbook, via, 1, inventory=_two_hosts(), forks=2)
    assert sim.token_requests("oauth2") == 1  # positive control: one fetch, for both forks
    waiting = [match.groupdict() for match in WAITING.finditer(run.stdout)]
    waited = [match.groupdict() for match in WAITED.finditer(run.stdout)]
    assert len(waiting) == 1 and len(waited) == 1, run.stdout[-3000:]
    demo = sim.demo_vars()
    assert waiting[0]["client"] == waited[0]["client"] == demo["demo_basic_client_id"]
    assert waited[0]["outcome"] == "got the token it fetched"
    assert 1.5 <= float(waited[0]["seconds"]) <= 10
    if via == "module":
        (waiter,) = [host for host in ("host1", "host2") if waiting[0]["prefix"] == f"<{host}> {MODULE}: "]
        assert waited[0]["prefix"] == waiting[0]["prefix"]
        fetcher = "host2" if waiter == "host1" else "host1"
        got_waiter, got_fetcher = _got(out, waiter)["module"], _got(out, fetcher)["module"]
        assert (got_fetcher["attempts"], got_fetcher["source"]) == (1, "network")
        assert (got_waiter["attempts"], got_waiter["source"]) == (0, "file")
        assert got_waiter["waited"] == pytest.approx(float(waited[0]["seconds"]), abs=0.15)
        assert got_waiter["token"] == got_fetcher["token"]
    else:
        assert waiting[0]["prefix"] == waited[0]["prefix"] == f"lookup {MODULE}: "


# --- no secret in any of it, at -vvvv -------------------------------------------------


def test_no_secret_in_the_progress_notes_at_vvvv(sim, run_playbook, out, cache_dir):
    demo = sim.demo_vars()
    # Host one meets a 503, then a slow answer, while host two waits for it.
    sim.add_faults("oauth2", [{"kind": "status", "status": 503}, {"kind": "delay", "seconds": 2}])

    def run_vvvv():
        return run_playbook("progress.yml", verbosity=4, inventory=_two_hosts(), forks=2,
                            extra_vars={"progress_via": "both", "progress_control": True})

    cold = run_vvvv()
    warm = run_vvvv()
    for run in (cold, warm):
        assert run.rc == 0, run.output[-4000:]
        assert_no_traceback(run)
        assert "ESTABLISH LOCAL CONNECTION" in run.output, "the -vvvv detail is there"
    # Positive controls: every kind of note was made, and real tokens were in play.
    assert RETRY.search(cold.stdout) and WAITING.search(cold.stdout) and WAITED.search(cold.stdout)
    assert SERVED.search(cold.stdout) and SERVED.search(warm.stdout)
    got = [_got(out, host) for host in ("host1", "host2")]
    tokens = {entry["module"]["token"] for entry in got} | {token for entry in got for token in entry["lookup"]}
    assert len(tokens) == 1 and len(next(iter(tokens))) >= 20
    control = {entry["control"] for entry in got}
    assert len(control) == 1
    # The scan finds a token that the output really shows (the uncensored task).
    assert secret_forms_in(next(iter(control)), warm.output)

    secrets_in_play = tokens | {demo["demo_basic_client_secret"], demo["demo_post_client_secret"]}
    for run in (cold, warm):
        for secret in secrets_in_play:
            assert not secret_forms_in(secret, run.output), "a secret in the output"


# --- a write that makes a secret, waiting for another run's -------------------------------


def test_a_rotation_waiting_for_another_runs_write_says_so(sim, run_playbook, tmp_path, cache_dir):
    # pylint: disable=import-outside-toplevel
    from test_adversarial_lost import HOLD, THRIVE, OverlapWatch, _mutation_entries, _together
    from test_role_playbooks import PLAYBOOKS, _thrive_vars

    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "APIAUTH_SAAS_CA_PATH": sim.demo_vars()["sim_ca_path"]}
    # The first write's answer is held until both runs are in the write's lock: one holds it, one waits.
    sim.add_faults(THRIVE, [HOLD])
    stores = [tmp_path / "store-a.json", tmp_path / "store-b.json"]
    with OverlapWatch([cache_dir], sim.release_held) as watch:
        runs = _together(*[
            (lambda store=store: run_playbook(str(PLAYBOOKS / "rotate_thrive_apikey.yml"), env=env, verbosity=1,
                                              extra_vars=_thrive_vars(sim, store)))
            for store in stores])
    for run in runs:
        assert run.rc == 0, run.output[-4000:]
        assert_no_traceback(run)
    assert watch.most == 2 and len(_mutation_entries(sim)) == 1  # positive control: the runs overlapped
    tenant = sim.demo_vars()["thrive_tenant_id"]
    what = f"another run making the THRIVE API key for tenant {tenant}"
    waiting = [run for run in runs if f"apiauth.saas.thrive_apikey: waiting for {what} (up to 300 s)" in run.stdout]
    assert len(waiting) == 1, [run.stdout[-2000:] for run in runs]
    ended = re.search(rf"apiauth\.saas\.thrive_apikey: waited ([\d.]+) s for {re.escape(what)}: this run goes on",
                      waiting[0].stdout)
    # The held answer is released as soon as both runs are in the lock, so the wait may be shorter than the
    # 0.1 s the line shows: the overlap above is what proves this run waited.
    assert ended and float(ended.group(1)) >= 0
    key = json.loads(stores[0].read_text())["thrive_api_key"]
    for run in runs:
        assert not secret_forms_in(key, run.output)
        assert not secret_forms_in(sim.demo_vars()["thrive_admin_token"], run.output)


# --- the module file on its own ---------------------------------------------------------------


def test_the_module_file_on_its_own_returns_attempts_and_waited(sim, tmp_path):
    from test_module_direct import _run_module  # pylint: disable=import-outside-toplevel

    demo = sim.demo_vars()
    args = {"token_url": demo["oauth2_token_url"], "client_id": demo["demo_basic_client_id"],
            "client_secret": demo["demo_basic_client_secret"], "ca_path": demo["sim_ca_path"],
            "cache_dir": str(tmp_path / "cache")}
    sim.add_faults("oauth2", [{"kind": "status", "status": 429, "retry_after": 1}])
    first = _run_module("oauth2_token", args, tmp_path)[0]
    second = _run_module("oauth2_token", args, tmp_path)[0]
    assert sim.token_requests("oauth2") == 2
    assert (first["attempts"], first["waited"], first["source"]) == (2, 1.0, "network")
    assert (second["attempts"], second["waited"], second["source"]) == (0, 0.0, "file")


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thrive_apikey,
    pytest.mark.playbook_rotate_thrive_apikey,
]
