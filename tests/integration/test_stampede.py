"""Fifty forks at once, stale lock files, and a run killed in the middle.

The token cache takes an exclusive lock per key and looks again once it holds
it, so fifty workers asking for one credential at the same moment make one
request. Locks are flock(2) locks: a killed holder releases its lock with its
last file descriptor, so a lock file left behind blocks nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import ANSIBLE_BIN, COLLECTIONS, PLAYBOOKS, assert_no_traceback

HOSTS = 50


def _kill_run(marker: str) -> None:
    """SIGKILL a whole ansible-playbook run, as a crash of the machine's user would.

    Killing the process group is not enough: every Ansible worker calls setsid(), so it leads a
    session of its own and would live on, holding its lock. The run's processes are found by the
    marker in their command line, and everything in their sessions (module processes too) is killed.
    """
    for _attempt in range(20):
        sessions = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        sessions.add(os.getsid(int(entry)))
            except OSError:
                continue  # the process has gone
        if not sessions:
            return
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and os.getsid(int(entry)) in sessions:
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue
        time.sleep(0.1)
    raise AssertionError(f"processes of the killed run ({marker}) are still alive")


def _inventory() -> str:
    lines = ["[fleet]"] + [f"host{n:02d}" for n in range(HOSTS)]
    lines += ["[fleet:vars]", "ansible_connection=local", f"ansible_python_interpreter={sys.executable}"]
    return "\n".join(lines) + "\n"


def _fingerprints(out) -> set:
    seen = [json.loads(path.read_text()) for path in out.glob("host*.json")]
    assert len(seen) == HOSTS
    return {(entry["throughline"], entry["idp"]) for entry in seen}


def test_fifty_forks_make_one_request_per_credential(sim, run_playbook, out, cache_dir):
    run = run_playbook("stampede.yml", inventory=_inventory(), forks=HOSTS)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert sim.token_requests("throughline") == 1
    assert sim.token_requests("oauth2") == 1
    assert len(_fingerprints(out)) == 1, "every host got the same tokens"

    # Entries gone, lock files left behind (as after a crash), plus a stray
    # half-written temporary file: the next stampede still makes one request each.
    locks = list(cache_dir.glob("*.lock"))
    assert locks, "the cache keeps one lock file per key"
    for entry in cache_dir.glob("*.entry"):
        (cache_dir / f".{entry.name}.12345.000000000000.tmp").write_bytes(entry.read_bytes()[:10])
        entry.unlink()
    sim.clear_audit()
    again = run_playbook("stampede.yml", inventory=_inventory(), forks=HOSTS)
    assert again.rc == 0, again.output[-4000:]
    assert sim.token_requests("throughline") == 1 and sim.token_requests("oauth2") == 1
    assert len(_fingerprints(out)) == 1


def test_run_killed_mid_flight_leaves_a_usable_cache(sim, run_playbook, out, cache_dir, tmp_path):
    # The first token answer takes 3 s: the kill lands while one worker holds
    # the lock and waits for the vendor, and forty-nine wait for the lock.
    sim.add_faults("throughline", [{"kind": "delay", "seconds": 3}])
    inventory = tmp_path / "fleet.ini"
    inventory.write_text(_inventory())
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), APIAUTH_SAAS_CACHE_DIR=str(cache_dir))
    variables = dict(sim.demo_vars(), out_dir=str(out), cache_dir=str(cache_dir))
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(HOSTS),
         "-e", f"@{vars_file}", str(PLAYBOOKS / "stampede.yml")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True)
    # A lock file appears when the first worker takes the lock; the vendor is
    # then still sleeping on its answer.
    deadline = time.monotonic() + 60
    while not list(cache_dir.glob("*.lock")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the run was still going when it was killed"
    _kill_run(str(vars_file))
    proc.wait(30)

    # The simulator records the killed worker's request when its 3 s delay ends, after the kill:
    # wait for that entry, so that the count below is the next run's alone.
    deadline = time.monotonic() + 10
    while sim.token_requests("throughline") < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    sim.clear_audit()
    run = run_playbook("stampede.yml", inventory=_inventory(), forks=HOSTS)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert sim.token_requests("throughline") <= 1 and sim.token_requests("oauth2") <= 1
    assert len(_fingerprints(out)) == 1


# What this file tests, for `pytest -m <marker>` (tests/README.md).
import pytest  # noqa: E402  # pylint: disable=wrong-import-position

pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.throughline_token,
]
