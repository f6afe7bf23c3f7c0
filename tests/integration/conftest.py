"""Integration tests: real ansible-playbook runs against the HTTPS simulator.

Each pytest worker starts its own simulator process, so fault queues and
audit logs of parallel workers never mix. Each test gets its own token cache
directory, so tests do not share tokens unless they mean to.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators.fixtures import Simulator

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
COLLECTIONS = ROOT / ".tmp" / "collections"
# The oldest-ansible smoke run points this at another venv's bin directory.
ANSIBLE_BIN = Path(os.environ.get("APIAUTH_ANSIBLE_BIN") or Path(sys.executable).parent)
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def strong_secret(prefix: str = "") -> str:
    """A long random secret with characters that form-urlencoding changes.

    Long, so that finding it in output cannot be a coincidence and Ansible's
    no_log masking of short values cannot hide a leak of a part of it.
    """
    return f"{prefix}{secrets.token_urlsafe(36)}:+/ %&{secrets.token_hex(8)}"


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    log: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr + self.log

    def recap(self) -> dict:
        """Per host: ok, changed, unreachable, failed counts from the PLAY RECAP."""
        return {
            host: {"ok": int(ok), "changed": int(changed), "unreachable": int(unreach), "failed": int(failed)}
            for host, ok, changed, unreach, failed in RECAP.findall(self.stdout)
        }

    def total(self, key: str) -> int:
        return sum(stats[key] for stats in self.recap().values())


@pytest.fixture(scope="session")
def sim(tmp_path_factory):
    simulator = Simulator.start(str(tmp_path_factory.mktemp("sim")))
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _clean_sim(request):
    """No fault or audit entry leaks from one test into the next."""
    if "sim" in request.fixturenames:
        simulator = request.getfixturevalue("sim")
        simulator.clear_faults()
        simulator.clear_audit()
    yield


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return tmp_path / "token-cache"


@pytest.fixture
def out(tmp_path) -> Path:
    """The directory playbooks write results to (their out_dir variable)."""
    directory = tmp_path / "out"
    directory.mkdir(mode=0o700, exist_ok=True)
    directory.chmod(0o700)  # recovery files are written here, and only into private directories
    return directory


@pytest.fixture
def run_playbook(sim, tmp_path, cache_dir):
    """Run a playbook from tests/integration/playbooks with the simulator's variables."""
    counter = itertools.count(1)  # next() is atomic: tests may run several playbooks at once from threads

    def run(name: str, *, extra_vars: dict | None = None, inventory: str | None = None, forks: int = 5,
            verbosity: int = 0, check: bool = False, diff: bool = False, env: dict | None = None,
            cfg: str | None = None, sim_vars: bool = True) -> PlaybookRun:
        workdir = tmp_path / f"run{next(counter)}"
        workdir.mkdir()
        # sim_vars=False: only what the test gives, as in an AWX job that gets everything from its credentials.
        variables = dict(sim.demo_vars()) if sim_vars else {}
        variables.update({"out_dir": str(tmp_path / "out"), "cache_dir": str(cache_dir)})
        variables.update(extra_vars or {})
        vars_file = workdir / "vars.json"
        vars_file.write_text(json.dumps(variables))
        vars_file.chmod(0o600)
        if inventory is None:
            inventory = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
        inventory_file = workdir / "inventory.ini"
        inventory_file.write_text(inventory)
        log_file = workdir / "ansible.log"
        run_env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        run_env.update(
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_LOG_PATH=str(log_file),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_HOST_KEY_CHECKING="false",
            ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(workdir / "rtmp"),
            ANSIBLE_STDOUT_CALLBACK="default",
            ANSIBLE_CONFIG=cfg or str(workdir / "none.cfg"),
            HOME=os.environ.get("HOME", str(tmp_path)),
            APIAUTH_SAAS_CACHE_DIR=str(cache_dir),
        )
        run_env.update(env or {})
        cmd = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(inventory_file), "-f", str(forks),
               "-e", f"@{vars_file}", str(PLAYBOOKS / name)]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        proc = subprocess.run(cmd, cwd=str(workdir), env=run_env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600, check=False)
        log = log_file.read_text() if log_file.exists() else ""
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, log)

    return run


def assert_no_traceback(run: PlaybookRun) -> None:
    for marker in ("Traceback (most recent call last)", "The full traceback is", "Unexpected error in apiauth"):
        assert marker not in run.output, f"{marker!r} in output:\n{run.output[-3000:]}"


def assert_absent(values, run: PlaybookRun, *extra_texts: str) -> None:
    """None of ``values`` appears in the run's output, log, or the extra texts."""
    haystack = run.output + "".join(extra_texts)
    for value in values:
        if not value:
            continue
        assert value not in haystack, "a secret appears in the output"
        for line in str(value).splitlines():
            line = line.strip()
            if len(line) >= 20 and not line.startswith("-----"):
                assert line not in haystack, "a line of a secret appears in the output"


def files_text(directory: Path) -> str:
    """All bytes of all files below a directory, as text, for secret scans."""
    chunks = []
    if directory.exists():
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                chunks.append(path.read_bytes().decode("latin-1"))
    return "\n".join(chunks)
