"""No token in clear on disk: the revoke_at_end spool of a live run, a SIGKILLed run, and a fleet sharing Valkey.

Real ansible-playbook runs at -vvvv against the ThoughtSpot and ThroughLine simulators, and a real
Valkey server. The attacker of the shared cache holds the cache encryption key, the Redis password
and a dump of the server and of every runner's cache directory, but no client secret.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from backends.redis_server import RedisServer
from cachecrypt_attacker import open_directory_dump, open_server_dump, token_forms
from conftest import ANSIBLE_BIN, COLLECTIONS, PLAYBOOKS, assert_absent, assert_no_traceback, strong_secret

from ansible_collections.apiauth.saas.plugins.module_utils._errors import fingerprint

PLAYBOOK = "thoughtspot_revoke_at_end_wait.yml"
CALLBACK = "apiauth.saas.revoke_at_end"


def _files(root: Path, relative: bool = False) -> dict:
    return {str(p.relative_to(root)) if relative else str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _valid(sim, token: str) -> bool:
    demo = sim.demo_vars()
    response = requests.post(f"{sim.thoughtspot_url()}/api/rest/2.0/auth/token/validate", json={"token": token},
                             headers={"Authorization": f"Bearer {token}"}, verify=demo["sim_ca_path"], timeout=30)
    return response.status_code == 200


def _kill_run(marker: str) -> None:
    """SIGKILL every process of a run (each Ansible worker leads its own session) found by a marker in its command line."""
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
                continue
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


@pytest.fixture
def spool_tmp():
    """TMPDIR of the runs: their spools live here, away from any other run on the machine.

    A short path of its own under the system's temporary directory: ansible-core 2.21 puts its local
    RPC server's Unix socket in TMPDIR, and a socket path must stay under 108 bytes.
    """
    path = Path(tempfile.mkdtemp(prefix="aas-spool-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def background_run(sim, tmp_path, out, cache_dir, spool_tmp):
    """Start the pausing playbook at -vvvv with the callback; returns (process, vars file, log file)."""
    started = []

    def start(env: dict, extra_vars: dict | None = None):
        workdir = tmp_path / f"bg{len(started)}"
        workdir.mkdir()
        variables = dict(sim.demo_vars(), out_dir=str(out), cache_dir=str(cache_dir), **(extra_vars or {}))
        vars_file = workdir / "vars.json"
        vars_file.write_text(json.dumps(variables))
        vars_file.chmod(0o600)
        inventory = workdir / "inventory.ini"
        inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        run_env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        run_env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                       ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_LOG_PATH=str(workdir / "ansible.log"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACKS_ENABLED=CALLBACK, ANSIBLE_CONFIG=str(workdir / "none.cfg"),
                       TMPDIR=str(spool_tmp), APIAUTH_SAAS_CACHE_DIR=str(cache_dir))
        run_env.update(env)
        output = workdir / "output.txt"
        with open(output, "wb") as handle:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(inventory), "-e", f"@{vars_file}",
                 str(PLAYBOOKS / PLAYBOOK), "-vvvv"],
                cwd=str(workdir), env=run_env, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        started.append((proc, vars_file))
        return proc, vars_file, output

    yield start
    for proc, vars_file in started:
        if proc.poll() is None:
            _kill_run(str(vars_file))
            proc.wait(30)


def _wait_for_token(proc, out: Path) -> str:
    path = out / "token.json"
    deadline = time.monotonic() + 120
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.exists(), "the run never got its token"
    time.sleep(0.2)  # the copy task writes it whole, through a temporary file; let the rename settle
    return json.loads(path.read_text())["access_token"]


def _pending(spool_tmp: Path) -> list:
    return sorted(spool_tmp.glob("apiauth-saas-revoke-*/pending/*.json"))


def test_live_spool_never_holds_the_token(sim, background_run, out, spool_tmp):
    key = strong_secret("cache-key-")
    proc, _vars, output = background_run({"APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": key})
    token = _wait_for_token(proc, out)
    # Read while the run lives: the spool and its record exist, the token is live.
    snapshot = _files(spool_tmp)
    assert proc.poll() is None, "the run was still going when the spool was read"
    assert len(_pending(spool_tmp)) == 1, "positive control: the token was noted in the spool"
    assert any("/cache/" in name for name in snapshot), "positive control: the run's token cache is in the spool"
    assert _valid(sim, token)
    for name, data in snapshot.items():
        for form in token_forms(token) + [key.encode(), sim.demo_vars()["thoughtspot_secret_key"].encode()]:
            assert form not in data, f"the token or a key is readable in {name}"

    (out / "go").write_text("")
    assert proc.wait(120) == 0, output.read_text()[-3000:]
    text = output.read_text()
    assert "revoked 1 ThoughtSpot token(s)" in text
    assert not _valid(sim, token)
    assert not list(spool_tmp.glob("apiauth-saas-revoke-*"))
    run_log = output.parent / "ansible.log"
    assert run_log.exists()
    for value in (token, key, sim.demo_vars()["thoughtspot_secret_key"]):
        assert value not in text + run_log.read_text()


def test_killed_run_is_revoked_by_the_next_run(sim, background_run, run_playbook, out, spool_tmp):
    key = strong_secret("cache-key-")
    env = {"APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": key}
    proc, vars_file, _output = background_run(env)
    token = _wait_for_token(proc, out)
    _kill_run(str(vars_file))
    proc.wait(30)
    # Positive control: the killed run left its spool and a live token behind.
    [record] = _pending(spool_tmp)
    assert _valid(sim, token)
    for form in token_forms(token):
        assert form not in record.read_bytes()

    sim.clear_audit()
    run = run_playbook(PLAYBOOK, verbosity=4, extra_vars={"spool_wait": False, "spool_token_file": "next.json"},
                       env=dict(env, ANSIBLE_CALLBACKS_ENABLED=CALLBACK, TMPDIR=str(spool_tmp)))
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    assert "earlier runs that did not end: 1 ThoughtSpot token(s) revoked" in run.stdout
    revokes = [e for e in sim.audit("thoughtspot") if e.get("operation") == "revoke"]
    assert revokes and revokes[0]["target_token_fp"] == fingerprint(token), revokes
    assert not _valid(sim, token)
    assert not list(spool_tmp.glob("apiauth-saas-revoke-*")), "the killed run's spool (and this run's) are gone"
    assert_absent([token, key, sim.demo_vars()["thoughtspot_secret_key"]], run)


def test_killed_run_without_the_key_is_kept_until_it_expires(sim, background_run, run_playbook, out, spool_tmp):
    key = strong_secret("task-only-key-")
    # The key reaches the task only (a variable), so the next run's callback cannot open the record.
    proc, vars_file, _output = background_run({}, extra_vars={"spool_task_key": key})
    token = _wait_for_token(proc, out)
    _kill_run(str(vars_file))
    proc.wait(30)
    [record] = _pending(spool_tmp)

    run = run_playbook(PLAYBOOK, extra_vars={"spool_wait": False, "spool_token_file": "next.json"},
                       env={"ANSIBLE_CALLBACKS_ENABLED": CALLBACK, "TMPDIR": str(spool_tmp)})
    assert run.rc == 0, run.output[-3000:]
    assert "1 kept until they expire" in run.stdout
    assert record.exists() and _valid(sim, token)
    for form in token_forms(token):
        assert form not in record.read_bytes()


# -- a fleet sharing Valkey -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer.start(tmp_path_factory.mktemp("valkey"), password=strong_secret("redis-"))
    yield server
    server.stop()


def test_fleet_entries_do_not_open_with_the_key_and_password(sim, run_playbook, redis_server, tmp_path, out):
    redis_server.client().flushall()
    key = strong_secret("fleet-key-")
    demo = sim.demo_vars()
    runs = []
    for index in range(2):
        env = {
            "APIAUTH_THROUGHLINE_CLIENT_ID": demo["throughline_client_id"],
            "APIAUTH_THROUGHLINE_CLIENT_SECRET": demo["throughline_client_secret"],
            "APIAUTH_THROUGHLINE_TOKEN_URL": demo["throughline_token_url"],
            "APIAUTH_SAAS_CA_PATH": demo["sim_ca_path"],
            "APIAUTH_SAAS_CACHE_BACKEND": "redis",
            "APIAUTH_SAAS_CACHE_REDIS_URL": redis_server.url,
            "APIAUTH_SAAS_CACHE_REDIS_PASSWORD": redis_server.password,
            "APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": key,
            "APIAUTH_SAAS_CACHE_DIR": str(tmp_path / f"runner{index}"),
        }
        runs.append(run_playbook("awx_job.yml", env=env, verbosity=4,
                                 extra_vars={"awx_vendor": "throughline", "awx_job_name": f"runner{index}"}))
    for run in runs:
        assert run.rc == 0, run.output[-3000:]
        assert_absent([demo["throughline_client_secret"], key, redis_server.password], run)
    assert sim.token_requests("throughline") == 1, "two runners with the same secret share one token"
    sources = [json.loads((out / f"runner{i}.json").read_text())["module_source"] for i in range(2)]
    assert sources == ["network", "shared"]

    # The attacker's dump: every key and value, and both runners' directories.
    values = {name.decode(): redis_server.client().get(name) for name in redis_server.client().keys("*")}
    directories = [tmp_path / "runner0", tmp_path / "runner1"]
    assert any(":entry:" in name for name in values) and all(any(d.glob("*.entry")) for d in directories)
    assert open_server_dump(key, values) == {}
    for directory in directories:
        assert open_directory_dump(key, _files(directory, relative=True)) == {}
    for blob in list(values.values()) + [b"".join(_files(d).values()) for d in directories]:
        assert demo["throughline_client_secret"].encode() not in (blob or b"")


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
    pytest.mark.revoke_at_end,
]
