"""apiauth.saas.thoughttrace_client end to end against the simulator's ThoughtTrace client administration."""

from __future__ import annotations

import json
import os
import stat

import pytest

from conftest import assert_absent, assert_no_traceback

from ansible_collections.apiauth.saas.plugins.module_utils._errors import fingerprint

QUEUE = "thoughttrace-admin"


@pytest.fixture
def client_task(run_playbook, out):
    """Run one thoughttrace_client task; returns (run, registered result)."""

    def task(options: dict, **kwargs):
        result_file = out / "result.json"
        if result_file.exists():
            result_file.unlink()
        run = run_playbook("thoughttrace_client.yml", extra_vars={"tc": options}, **kwargs)
        assert_no_traceback(run)
        assert result_file.exists(), run.output[-4000:]
        return run, json.loads(result_file.read_text())

    return task


@pytest.fixture
def token_works(run_playbook, out):
    def works(client_id: str, client_secret: str) -> bool:
        run = run_playbook("thoughttrace_client_token.yml",
                           extra_vars={"creds": {"client_id": client_id, "client_secret": client_secret}})
        assert_no_traceback(run)
        return not json.loads((out / "token.json").read_text())["failed"]

    return works


def _sim_clients(sim) -> list:
    if hasattr(sim, "thoughttrace_clients"):
        return sim.thoughttrace_clients()
    return sim._call("GET", "/_sim/thoughttrace/clients")  # pylint: disable=protected-access


def _mutations(sim) -> int:
    if hasattr(sim, "admin_mutations"):
        return sim.admin_mutations(QUEUE)
    return len([entry for entry in sim.audit(QUEUE) if entry.get("operation") not in (None, "list")])


def _named(sim, name: str) -> list:
    return [client for client in _sim_clients(sim) if client["name"] == name]


@pytest.mark.smoke
def test_client_lifecycle(sim, client_task, token_works, tmp_path):
    demo = sim.demo_vars()
    name = f"Loader {tmp_path.name}"
    recovery = tmp_path / "recovery.json"
    seen_secrets = [demo["thoughttrace_admin_client_secret"]]
    runs = []

    # Create: changed, the secret returned once and written to the recovery file.
    run, created = client_task({"name": name, "recovery_file": str(recovery)}, verbosity=4)
    runs.append(run)
    assert not created.get("failed"), created.get("msg")
    assert created["changed"] is True and created["actions"] == ["create"]
    secret = created["client_secret"]
    seen_secrets.append(secret)
    assert len(secret) >= 16 and created["client_id"]
    assert created["recovery_file"] == str(recovery)
    assert stat.S_IMODE(os.stat(recovery).st_mode) == 0o600
    record = json.loads(recovery.read_text())
    assert record["client_secret"] == secret and record["client_id"] == created["client_id"]
    assert record["name"] == name and record["id"] == created["end_state"]["id"] and "created" in record
    assert created["end_state"]["secret_fingerprint"] == fingerprint(secret)
    assert created["existing"] == {}
    assert len(_named(sim, name)) == 1 and _named(sim, name)[0]["active"] is True
    assert token_works(created["client_id"], secret)

    # Second run, name spelt differently: unchanged, no mutation, no secret.
    mutations = _mutations(sim)
    run, again = client_task({"name": f"  {name.upper()} "}, verbosity=4)
    runs.append(run)
    assert again["changed"] is False and "client_secret" not in again and run.total("changed") == 0
    assert _mutations(sim) == mutations

    # Check mode: another name would be created; nothing is sent.
    other = f"Other {tmp_path.name}"
    run, checked = client_task({"name": other}, check=True, diff=True)
    runs.append(run)
    assert checked["changed"] is True and checked["actions"] == ["create"] and "client_secret" not in checked
    assert checked["diff"]["before"] == {} and checked["diff"]["after"]["name"] == other
    assert _mutations(sim) == mutations and not _named(sim, other)

    # Deactivate (diff shown: nothing secret in it), then idempotent.
    run, deactivated = client_task({"name": name, "active": False}, diff=True)
    runs.append(run)
    assert deactivated["changed"] is True and deactivated["actions"] == ["deactivate"]
    assert deactivated["diff"]["before"]["active"] is True and deactivated["diff"]["after"]["active"] is False
    assert "+++ after" in run.stdout and "censored" not in run.stdout  # no secret, so the diff is shown
    assert _named(sim, name)[0]["active"] is False
    assert not token_works(created["client_id"], secret)
    run, still = client_task({"name": name, "active": False})
    assert still["changed"] is False

    # Reactivate with a new secret: the new one works, the old one does not; the diff holds fingerprints only.
    run, rotated = client_task({"name": name, "active": True, "new_secret": True, "recovery_file": str(recovery)},
                               diff=True, verbosity=4)
    runs.append(run)
    assert not rotated.get("failed"), rotated.get("msg")
    assert rotated["changed"] is True and rotated["actions"] == ["activate", "new_secret"]
    new_secret = rotated["client_secret"]
    seen_secrets.append(new_secret)
    assert new_secret != secret
    assert rotated["diff"]["after"]["secret_fingerprint"] == fingerprint(new_secret)
    assert new_secret not in json.dumps(rotated["diff"]) and new_secret not in json.dumps(rotated["end_state"])
    assert json.loads(recovery.read_text())["client_secret"] == new_secret
    assert "rotated_at" in json.loads(recovery.read_text())
    assert token_works(rotated["client_id"], new_secret)
    assert not token_works(rotated["client_id"], secret)

    # Absent: deleted, then unchanged.
    run, deleted = client_task({"name": name, "state": "absent"}, diff=True)
    runs.append(run)
    assert deleted["changed"] is True and deleted["end_state"] == {} and not _named(sim, name)
    run, gone = client_task({"name": name, "state": "absent"})
    assert gone["changed"] is False

    for run in runs:
        assert_absent(seen_secrets, run)


def test_reset_after_create_fails_cleanly_without_duplicate(sim, client_task, tmp_path):
    demo = sim.demo_vars()
    name = f"Reset {tmp_path.name}"
    # The first admin request is the (retryable) list; the create after it is processed, then the connection drops.
    sim.add_faults(QUEUE, [{"kind": "delay", "seconds": 0}, {"kind": "reset_after_processing"}])
    run, result = client_task({"name": name}, verbosity=4)
    assert result["failed"] is True
    assert "may have been created" in result["msg"] and "not sent again" in result["msg"]
    assert "client_secret" not in result
    assert len(_named(sim, name)) == 1
    assert run.total("failed") == 0  # ignore_errors in the playbook; the recap counts it as ignored
    assert_absent([demo["thoughttrace_admin_client_secret"]], run)

    # Run again: the client is found, nothing is created twice.
    run, again = client_task({"name": name})
    assert again["changed"] is False and len(_named(sim, name)) == 1

    client_task({"name": name, "state": "absent"})


def test_non_admin_and_bad_paths_fail_clearly(sim, client_task, tmp_path):
    demo = sim.demo_vars()
    # The demo's ordinary ThoughtTrace client has no admin rights.
    run, result = client_task({"name": "x", "admin_token": _ordinary_token(sim, demo)})
    assert result["failed"] is True and "HTTP 403" in result["msg"] and "admin" in result["msg"]
    assert "?" not in result["msg"].split("HTTP 403")[0].split("GET ")[-1]

    run, result = client_task({"name": "x", "api_paths": {"delete": "/api/clients"}})
    assert result["failed"] is True and "{id}" in result["msg"]


def _ordinary_token(sim, demo) -> str:
    import requests

    response = requests.post(f"{demo['thoughttrace_identity_url']}/connect/token",
                             data={"client_id": demo["thoughttrace_client_id"],
                                   "client_secret": demo["thoughttrace_client_secret"],
                                   "grant_type": "client_credentials"},
                             verify=demo["sim_ca_path"], timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def test_module_file_alone_refuses_to_run(tmp_path):
    import subprocess
    import sys

    from conftest import COLLECTIONS, ROOT

    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"name": "x", "admin_token": "t" * 30}}))
    proc = subprocess.run([sys.executable, str(ROOT / "plugins" / "modules" / "thoughttrace_client.py"), str(args)],
                          env=dict(os.environ, PYTHONPATH=str(COLLECTIONS)), capture_output=True, text=True,
                          timeout=120, check=False, cwd=str(tmp_path))
    result = json.loads(proc.stdout)
    assert result["failed"] is True and "action plugin" in result["msg"]


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thoughttrace_client,
    pytest.mark.thoughttrace_token,
]
