"""A generated secret is never lost, and two overlapping writes make one secret.

Real ansible-playbook runs at -vvvv against the simulator. Each case has a positive
control showing the attack reached the code path: the simulator's audit log (the
request was or was not made, the fault was applied), the link or directory as it was
when the module ran, or the lock file held by two processes at one moment (the runs
really overlapped). Every output is scanned for the secrets the runs received.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from conftest import assert_absent, assert_no_traceback, files_text, strong_secret

THRIVE = "thrive-tenants"
THOUGHTTRACE = "thoughttrace-admin"
# In the concurrency tests the simulator holds the first write's answer until the test has seen the
# second run waiting for the lock (at most this many seconds), so the runs overlap however loaded the machine.
HOLD = {"kind": "delay", "seconds": 90, "hold": True}


# -- helpers ----------------------------------------------------------------------------------


def _thrive(run_playbook, tmp_path: Path, name: str = "out", verbosity: int = 4, env: dict | None = None, **k):
    """One thrive_apikey.yml run writing result.json and key.json to tmp_path/<name>; returns (run, result, key)."""
    out = tmp_path / name
    out.mkdir(mode=0o700, exist_ok=True)
    run = run_playbook("thrive_apikey.yml", extra_vars={"k": k, "out_dir": str(out)}, verbosity=verbosity, env=env)
    assert_no_traceback(run)
    result = json.loads((out / "result.json").read_text())
    key = json.loads((out / "key.json").read_text())["api_key"]
    return run, result, key


def _client(run_playbook, tmp_path: Path, options: dict, name: str = "out", **kwargs):
    out = tmp_path / name
    out.mkdir(mode=0o700, exist_ok=True)
    run = run_playbook("thoughttrace_client.yml", extra_vars={"tc": options, "out_dir": str(out)}, verbosity=4,
                       **kwargs)
    assert_no_traceback(run)
    return run, json.loads((out / "result.json").read_text())


def _lock_holders(directories) -> dict:
    """{lock file: pids} of every process with a write lock file of these cache directories open."""
    prefixes = tuple(str(d) + "/write-" for d in directories)
    holders: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                try:
                    target = os.readlink(f"/proc/{entry}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith(prefixes) and target.endswith(".lock"):
                    holders.setdefault(target, set()).add(int(entry))
        except OSError:
            continue
    return holders


class OverlapWatch:
    """Polls /proc while runs go on: the largest number of processes seen at one moment in the write lock.

    Once ``processes`` processes hold write lock files (``files`` of them distinct), ``on_overlap()``
    is called: the test then lets the simulator answer the held write.
    """

    def __init__(self, directories, on_overlap=None, processes: int = 2, files: int = 1) -> None:
        self.directories = list(directories)
        self.most = 0
        self.files_at_most: set = set()
        self._on_overlap = on_overlap
        self._wanted = (processes, files)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            holders = _lock_holders(self.directories)
            count = len(set().union(*holders.values())) if holders else 0
            if count > self.most:
                self.most, self.files_at_most = count, set(holders)
            if self._on_overlap is not None and count >= self._wanted[0] and len(holders) >= self._wanted[1]:
                self._on_overlap()
                self._on_overlap = None
            time.sleep(0.02)

    def __enter__(self) -> "OverlapWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def _together(*calls):
    """Run the calls in threads at the same moment; their results in order."""
    results: list = [None] * len(calls)
    errors: list = []

    def one(index, call):
        try:
            results[index] = call()
        except BaseException as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    if errors:
        raise errors[0]
    return results


def _mutation_entries(sim) -> list:
    return [e for e in sim.audit(THRIVE) if e.get("endpoint") == "graphql" and e.get("operation") == "generateApiKey"]


def _me_works(sim, key: str) -> bool:
    import requests  # pylint: disable=import-outside-toplevel

    demo = sim.demo_vars()
    answer = requests.get(f"{demo['thrive_staging_base_url']}/api/v1/me", auth=(demo["thrive_tenant_id"], key),
                          verify=demo["sim_ca_path"], timeout=10)
    return answer.status_code == 200


# -- 1. a key whose expiry THRIVE does not give is kept -----------------------------------------------


@pytest.mark.parametrize("fault", [
    {"kind": "field_value", "field": "data.generateApiKey.validUntil", "value": None},
    {"kind": "missing_field", "field": "data.generateApiKey.validUntil"},
], ids=["validUntil-null", "validUntil-absent"])
def test_key_without_valid_until_is_kept_not_thrown_away(sim, run_playbook, tmp_path, fault):
    sim.add_faults(THRIVE, [fault])
    recovery = tmp_path / "thrive-key.json"
    run, result, key = _thrive(run_playbook, tmp_path, recovery_file=str(recovery))
    # Positive control: the one mutation reached THRIVE and its answer was edited.
    entries = _mutation_entries(sim)
    assert len(entries) == 1 and entries[0]["fault"] == fault["kind"]
    assert run.rc == 0, run.output[-4000:]
    assert not result["failed"] and result["generated"] and result["changed"]
    assert result["valid_until"] is None
    assert "did not say when the new API key expires" in " ".join(run.output.split())
    assert len(key) >= 40 and _me_works(sim, key)
    saved = json.loads(recovery.read_text())
    assert saved["api_key"] == key and saved["valid_until"] is None
    assert_absent([key, sim.demo_vars()["thrive_admin_token"]], run)

    # The next run with that key and no expiry keeps it: "does not expire" unless rotate says otherwise.
    kept_run, kept, same = _thrive(run_playbook, tmp_path, name="again", current_api_key=key)
    assert kept_run.rc == 0 and not kept["changed"] and same == key
    assert len(_mutation_entries(sim)) == 1


def test_key_beside_graphql_errors_is_kept(sim, run_playbook, tmp_path):
    sim.add_faults(THRIVE, [{"kind": "field_value", "field": "errors",
                             "value": [{"message": "audit trail is lagging"}]}])
    recovery = tmp_path / "thrive-key.json"
    run, result, key = _thrive(run_playbook, tmp_path, recovery_file=str(recovery))
    assert _mutation_entries(sim)[0]["fault"] == "field_value"  # the answer carried data and errors
    assert run.rc == 0, run.output[-4000:]
    assert result["generated"] and key and json.loads(recovery.read_text())["api_key"] == key
    assert "audit trail is lagging" in run.output and _me_works(sim, key)
    assert_absent([key], run)


def test_client_secret_in_a_create_answer_without_id_is_kept(sim, run_playbook, tmp_path):
    name = f"No id {tmp_path.name}"
    recovery = tmp_path / "tt.json"
    sim.add_faults(THOUGHTTRACE, [{"kind": "missing_field", "field": "id", "method": "POST"}])
    run, result = _client(run_playbook, tmp_path, {"name": name, "recovery_file": str(recovery)})
    creates = [e for e in sim.audit(THOUGHTTRACE) if e.get("operation") == "create"]
    assert len(creates) == 1 and creates[0]["fault"] == "missing_field"  # positive control
    assert result["failed"] is True and "no id" in result["msg"]
    secret = result["client_secret"]
    assert secret and json.loads(recovery.read_text())["client_secret"] == secret
    assert str(recovery) in result["msg"] and "registered result" in result["msg"]
    assert "censored" in run.stdout  # the failed result holds the secret: hidden from the output
    assert_absent([secret, sim.demo_vars()["thoughttrace_admin_client_secret"]], run)


# -- 2. no recovery destination, nothing made -----------------------------------------------------------


def test_unwritable_recovery_destination_is_refused_before_sending(sim, run_playbook, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    env = {"APIAUTH_SAAS_CACHE_DIR": str(blocker / "tokens")}  # its parent is a regular file
    missing = tmp_path / "no-such-dir" / "key.json"
    run, result, key = _thrive(run_playbook, tmp_path, env=env, recovery_file=str(missing))
    assert result["failed"] and "recovery_file" in result["msg"] and "does not exist" in result["msg"]
    assert "Unexpected error" not in run.output and key == ""
    assert _mutation_entries(sim) == [] and sim.thrive_keys("staging", sim.demo_vars()["thrive_tenant_id"]) == 0

    # A good recovery file but that cache_dir: its lock cannot be taken, so still nothing is sent.
    run, result, key = _thrive(run_playbook, tmp_path, name="second", env=env,
                               recovery_file=str(tmp_path / "key.json"))
    assert result["failed"] and "cache_dir" in result["msg"] and _mutation_entries(sim) == []

    # Positive control: the same task with usable paths makes exactly one key.
    run, result, key = _thrive(run_playbook, tmp_path, name="third", recovery_file=str(tmp_path / "key.json"))
    assert run.rc == 0 and result["generated"] and len(_mutation_entries(sim)) == 1
    assert_absent([key], run)


@pytest.mark.parametrize("vendor", ["thrive", "thoughttrace"])
def test_symlinked_or_loose_recovery_destination_is_refused(sim, run_playbook, tmp_path, vendor):
    decoy = tmp_path / "decoy.json"
    decoy.write_text("{}\n")
    link = tmp_path / "link.json"
    link.symlink_to(decoy)
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    for index, (path, words) in enumerate(((link, "symbolic link"), (loose / "key.json", "open to other users"))):
        assert os.path.islink(link) and (loose.stat().st_mode & 0o777) == 0o755  # as the module will find them
        if vendor == "thrive":
            run, result, _key = _thrive(run_playbook, tmp_path, name=f"o{index}", recovery_file=str(path))
            assert _mutation_entries(sim) == []
        else:
            run, result = _client(run_playbook, tmp_path, {"name": f"Link {tmp_path.name}",
                                                           "recovery_file": str(path)}, name=f"o{index}")
            operations = [e.get("operation") for e in sim.audit(THOUGHTTRACE)]
            assert "list" in operations and "create" not in operations  # the module ran, made nothing
        assert result["failed"] and "recovery_file" in result["msg"] and words in result["msg"], result["msg"]
        assert_no_traceback(run)
    assert decoy.read_text() == "{}\n" and not list(loose.iterdir())
    assert (loose.stat().st_mode & 0o777) == 0o755


# -- 9. the recovery directory swapped for a link between the check and the write ----------------------


def test_recovery_directory_swapped_for_a_link_mid_request(sim, run_playbook, tmp_path, cache_dir):
    recovery_dir = tmp_path / "recovery-dir"
    recovery_dir.mkdir(mode=0o700)
    decoy = tmp_path / "decoy"
    decoy.mkdir(mode=0o755)
    decoy.chmod(0o755)
    # The fallback directory beside cache_dir is a planted link too.
    fallback_decoy = tmp_path / "fallback-decoy"
    fallback_decoy.mkdir(mode=0o755)
    fallback_decoy.chmod(0o755)
    (cache_dir.parent / "recovery").symlink_to(fallback_decoy)
    sim.add_faults(THRIVE, [HOLD])

    swapped = threading.Event()

    def swap():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _lock_holders([cache_dir]):
            time.sleep(0.02)
        if _lock_holders([cache_dir]):  # the worker holds the write lock: its check has passed
            os.rename(recovery_dir, tmp_path / "moved-away")
            os.symlink(decoy, recovery_dir)
            swapped.set()
        sim.release_held()  # THRIVE answers only now, after the swap

    swapper = threading.Thread(target=swap)
    swapper.start()
    run, result, key = _thrive(run_playbook, tmp_path, recovery_file=str(recovery_dir / "key.json"))
    swapper.join(130)
    assert swapped.is_set() and os.path.islink(recovery_dir)  # positive control: swapped while THRIVE answered
    assert _mutation_entries(sim)[0]["fault"] == "delay"
    assert result["failed"] and "symbolic link" in result["msg"] and "registered result" in result["msg"]
    assert key and _me_works(sim, key), "the key is in the registered result, and it works"
    for directory in (decoy, fallback_decoy, tmp_path / "moved-away"):
        assert not list(directory.iterdir()), f"nothing written into {directory}"
    assert (decoy.stat().st_mode & 0o777) == 0o755 and (fallback_decoy.stat().st_mode & 0o777) == 0o755
    assert "censored" in run.stdout
    # The hand-off record is the one file in the cache directory that holds the key (0600; clear
    # text here, as the cache is not encrypted): nothing else there does.
    handoffs = list(cache_dir.glob("write-*.handoff"))
    assert len(handoffs) == 1 and (handoffs[0].stat().st_mode & 0o777) == 0o600
    others = "".join(p.read_bytes().decode("latin-1") for p in cache_dir.iterdir() if p.suffix != ".handoff")
    assert_absent([key], run, others)


# -- 3. two overlapping writes make one secret --------------------------------------------------------


def _rotate_thrive(play_vars: dict, store: Path) -> dict:
    return {**play_vars, "secret_store_file_path": str(store)}


def test_two_rotation_playbooks_make_one_key(sim, run_playbook, tmp_path, cache_dir):
    from test_role_playbooks import PLAYBOOKS, _thrive_vars  # pylint: disable=import-outside-toplevel

    # With a cache encryption key, the hand-off record in the cache directory is encrypted too.
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "APIAUTH_SAAS_CA_PATH": sim.demo_vars()["sim_ca_path"],
           "APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": strong_secret("cache-")}
    sim.add_faults(THRIVE, [HOLD])
    stores = [tmp_path / "store-a.json", tmp_path / "store-b.json"]
    with OverlapWatch([cache_dir], sim.release_held) as watch:
        runs = _together(*[
            (lambda store=store: run_playbook(str(PLAYBOOKS / "rotate_thrive_apikey.yml"), env=env, verbosity=4,
                                              extra_vars=_thrive_vars(sim, store)))
            for store in stores])
    for run in runs:
        assert run.rc == 0, run.output[-4000:]
        assert_no_traceback(run)
    summaries = [line for run in runs for line in run.stdout.splitlines() if "generated" in line or "kept" in line]
    assert len(_mutation_entries(sim)) == 1, summaries
    assert sim.thrive_keys("staging", sim.demo_vars()["thrive_tenant_id"]) == 1
    keys = [json.loads(store.read_text())["thrive_api_key"] for store in stores]
    assert keys[0] == keys[1] and _me_works(sim, keys[0])
    # Positive control: both runs' workers had the write lock file open at one moment (one held it, one waited).
    assert watch.most == 2, f"the runs did not overlap in the critical window ({watch.most})"
    texts = [" ".join(run.stdout.split()) for run in runs]
    assert sum("New key generated" in text for text in texts) == 1
    assert sum("another run generated this key" in text for text in texts) == 1
    assert list(cache_dir.glob("write-*.handoff")), "the hand-off record is there, encrypted"
    for run in runs:
        assert_absent([keys[0], sim.demo_vars()["thrive_admin_token"], env["APIAUTH_SAAS_CACHE_ENCRYPTION_KEY"]],
                      run, files_text(cache_dir))


def test_two_client_rotations_make_one_secret(sim, run_playbook, tmp_path, cache_dir):
    import yaml  # pylint: disable=import-outside-toplevel

    from test_role_playbooks import PLAYBOOKS  # pylint: disable=import-outside-toplevel

    name = f"rotating-{tmp_path.name}"[:60]
    created_run, created = _client(run_playbook, tmp_path, {"name": name}, name="created")
    assert not created.get("failed"), created.get("msg")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "APIAUTH_SAAS_CA_PATH": sim.demo_vars()["sim_ca_path"],
           "APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": "k" * 43 + "="}
    sim.clear_audit()
    sim.add_faults(THOUGHTTRACE, [dict(HOLD, method="POST")])
    stores = [tmp_path / "tt-a.yaml", tmp_path / "tt-b.yaml"]
    with OverlapWatch([cache_dir], sim.release_held) as watch:
        runs = _together(*[
            (lambda store=store: run_playbook(
                str(PLAYBOOKS / "rotate_thoughttrace_client.yml"), env=env, verbosity=4,
                extra_vars={"thoughttrace_client_name": name, "secret_store_file_path": str(store),
                            "secret_store_file_format": "yaml"}))
            for store in stores])
    rotations = [e for e in sim.audit(THOUGHTTRACE) if e.get("operation") == "new_secret"]
    assert len(rotations) == 1 and rotations[0]["fault"] == "delay"
    for run in runs:
        assert run.rc == 0, run.output[-4000:]
        assert_no_traceback(run)
    held = [yaml.safe_load(store.read_text()) for store in stores]
    assert held[0]["client_secret"] == held[1]["client_secret"] != created["client_secret"]
    assert watch.most == 2, f"the runs did not overlap in the critical window ({watch.most})"
    from test_role_playbooks import _token_works  # pylint: disable=import-outside-toplevel

    assert _token_works(sim, held[0]["client_id"], held[0]["client_secret"])
    for run in runs:
        assert_absent([held[0]["client_secret"], created["client_secret"]], run, files_text(cache_dir))


def test_two_creations_of_one_client_make_one(sim, run_playbook, tmp_path, cache_dir):
    name = f"Twin {tmp_path.name}"
    env = {"APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": strong_secret("cache-")}
    sim.add_faults(THOUGHTTRACE, [dict(HOLD, method="POST")])
    with OverlapWatch([cache_dir], sim.release_held) as watch:
        (run_a, a), (run_b, b) = _together(
            lambda: _client(run_playbook, tmp_path, {"name": name}, name="a", env=env),
            lambda: _client(run_playbook, tmp_path, {"name": name}, name="b", env=env))
    creates = [e for e in sim.audit(THOUGHTTRACE) if e.get("operation") == "create"]
    assert len(creates) == 1 and len([c for c in sim.thoughttrace_clients() if c["name"] == name]) == 1
    assert not a.get("failed") and not b.get("failed"), (a.get("msg"), b.get("msg"))
    assert a["client_secret"] == b["client_secret"] and a["client_id"] == b["client_id"]
    assert watch.most == 2, f"the runs did not overlap in the critical window ({watch.most})"
    assert sorted([a["changed"], b["changed"]]) == [False, True]
    waiter = a if not a["changed"] else b
    assert "another run" in waiter["reason"] and waiter["actions"] == []
    for run in (run_a, run_b):
        assert_absent([a["client_secret"]], run, files_text(cache_dir))


def test_overlapping_tasks_on_two_controllers_share_one_key_through_redis(sim, run_playbook, tmp_path):
    from backends.redis_server import RedisServer  # pylint: disable=import-outside-toplevel

    server = RedisServer.start(tmp_path / "valkey", password=strong_secret("redis-"))
    try:
        encryption_key = strong_secret("cache-")
        dirs = [tmp_path / "controller-a" / "tokens", tmp_path / "controller-b" / "tokens"]
        envs = [{"APIAUTH_SAAS_CACHE_DIR": str(d), "APIAUTH_SAAS_CACHE_BACKEND": "redis",
                 "APIAUTH_SAAS_CACHE_REDIS_URL": server.url, "APIAUTH_SAAS_CACHE_REDIS_PASSWORD": server.password,
                 "APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": encryption_key} for d in dirs]
        sim.add_faults(THRIVE, [HOLD])
        seen_server_lock = []

        def watch_server():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not seen_server_lock:
                if server.client().keys("apiauth.saas:v1:lock:write:*"):
                    seen_server_lock.append(True)
                time.sleep(0.02)

        watcher = threading.Thread(target=watch_server, daemon=True)
        watcher.start()
        with OverlapWatch(dirs, sim.release_held, processes=2, files=2) as watch:
            (run_a, a, key_a), (run_b, b, key_b) = _together(
                lambda: _thrive(run_playbook, tmp_path, name="a", env=envs[0]),
                lambda: _thrive(run_playbook, tmp_path, name="b", env=envs[1]))
        watcher.join(70)
        for run in (run_a, run_b):
            assert run.rc == 0, run.output[-4000:]
        assert len(_mutation_entries(sim)) == 1
        assert key_a == key_b and _me_works(sim, key_a)
        assert sorted([a["generated"], b["generated"]]) == [False, True]
        # Positive control: each controller held its own local lock at the same moment, and the
        # server's write lock existed: both runs were inside the write at once.
        assert watch.most == 2 and len(watch.files_at_most) == 2, watch.files_at_most
        assert seen_server_lock
        values = b"".join(server.client().get(k) or b"" for k in server.client().keys("*"))
        assert key_a.encode() not in values + server.dump(), "the shared hand-off record is encrypted"
        for run in (run_a, run_b):
            assert_absent([key_a, server.password, encryption_key], run,
                          files_text(dirs[0].parent), files_text(dirs[1].parent))
    finally:
        server.stop()


def test_a_killed_lock_holder_blocks_nobody(sim, run_playbook, tmp_path, cache_dir):
    """The holder dies while THRIVE is slow to answer: the next run takes the lock at once."""
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    from conftest import ANSIBLE_BIN, COLLECTIONS, PLAYBOOKS  # pylint: disable=import-outside-toplevel
    from test_stampede import _kill_run  # pylint: disable=import-outside-toplevel

    sim.add_faults(THRIVE, [{"kind": "delay", "seconds": 20}])
    out = tmp_path / "killed"
    out.mkdir(mode=0o700)
    variables = dict(sim.demo_vars(), out_dir=str(out), cache_dir=str(cache_dir), k={})
    vars_file = tmp_path / "killed-vars.json"
    vars_file.write_text(json.dumps(variables))
    inventory = tmp_path / "killed.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), APIAUTH_SAAS_CACHE_DIR=str(cache_dir))
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [str(ANSIBLE_BIN / "ansible-playbook"), "-i", str(inventory), "-e", f"@{vars_file}",
         str(PLAYBOOKS / "thrive_apikey.yml")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while not _lock_holders([cache_dir]) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _lock_holders([cache_dir]), "the first run held the write lock"  # positive control
    _kill_run(str(vars_file))
    proc.wait(30)
    assert not _lock_holders([cache_dir]) and list(cache_dir.glob("write-*.lock")), "a lock file left behind"

    started = time.monotonic()
    run, result, key = _thrive(run_playbook, tmp_path, name="next", verbosity=0)
    assert run.rc == 0 and result["generated"] and key, run.output[-3000:]
    # A live lock would hold it for WRITE_LOCK_WAIT (300 s) and then fail it; a dead one not at all.
    assert time.monotonic() - started < 120, "the dead holder's lock held the next run up"
    # The killed run's request is still delayed in the simulator and lands in its audit log when the delay
    # ends: wait for it here, so that it is not counted by the next test that uses this simulator.
    deadline = time.monotonic() + 30
    while sim.graphql_mutations() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
    pytest.mark.playbook_rotate_thoughttrace_client,
    pytest.mark.playbook_rotate_thrive_apikey,
]
