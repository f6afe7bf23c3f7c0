"""thrive_apikey end to end: at most once, never lost, nothing sent in check mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests

from conftest import assert_absent, assert_no_traceback


def _outcome(tmp_path: Path) -> tuple:
    out = tmp_path / "out"
    return json.loads((out / "result.json").read_text()), json.loads((out / "key.json").read_text())["api_key"]


def _run(run_playbook, tmp_path, verbosity=0, check=False, **k):
    (tmp_path / "out").mkdir(exist_ok=True)
    run = run_playbook("thrive_apikey.yml", extra_vars={"k": k}, verbosity=verbosity, check=check)
    assert_no_traceback(run)
    return run


@pytest.mark.smoke
def test_generate_then_keep_then_rotate(sim, run_playbook, tmp_path):
    demo = sim.demo_vars()
    recovery = tmp_path / "thrive-key.json"
    run = _run(run_playbook, tmp_path, verbosity=4, recovery_file=str(recovery))
    assert run.rc == 0, run.output[-4000:]
    result, key = _outcome(tmp_path)
    assert result["changed"] and result["generated"] and len(key) >= 20
    assert result["correlation_id"], "a correlation id is generated and returned"
    assert sim.thrive_keys("staging", demo["thrive_tenant_id"]) == 1
    # Written before the module returned: 0600, with the key.
    assert oct(recovery.stat().st_mode & 0o777) == "0o600"
    assert json.loads(recovery.read_text())["api_key"] == key
    assert_absent([key, demo["thrive_admin_token"]], run)

    kept = _run(run_playbook, tmp_path, current_api_key=key, current_valid_until=result["valid_until"])
    assert kept.rc == 0
    again, same = _outcome(tmp_path)
    assert not again["changed"] and not again["generated"] and same == key
    assert sim.graphql_mutations() == 1

    rotated = _run(run_playbook, tmp_path, current_api_key=key, current_valid_until=result["valid_until"],
                   rotate="always")
    assert rotated.rc == 0
    assert _outcome(tmp_path)[1] != key
    assert sim.thrive_keys("staging", demo["thrive_tenant_id"]) == 2


def test_check_mode_sends_no_mutation(sim, run_playbook, tmp_path):
    run = _run(run_playbook, tmp_path, check=True)
    assert run.rc == 0, run.output[-3000:]
    result, key = _outcome(tmp_path)
    assert result["changed"] and not result["generated"] and key == ""
    assert sim.graphql_mutations() == 0


def test_expired_admin_token_fails_before_any_request(sim, run_playbook, tmp_path):
    demo = sim.demo_vars()
    expired = sim.thrive_admin_token(demo["thrive_tenant_id"], expires_in=-60)
    run = _run(run_playbook, tmp_path, verbosity=3, admin_token=expired)
    result = _outcome(tmp_path)[0]
    assert result["failed"] and "expired at" in result["msg"] and "Authorization header" in result["msg"]
    assert sim.graphql_mutations() == 0 and not sim.audit("thrive-tenants")
    assert_absent([expired], run)


def test_graphql_errors_fail_with_their_message(sim, run_playbook, tmp_path):
    sim.add_faults("thrive-tenants", [{"kind": "graphql_error", "message": "tenant is suspended"}])
    _run(run_playbook, tmp_path)
    result = _outcome(tmp_path)[0]
    assert result["failed"] and "tenant is suspended" in result["msg"]
    _run(run_playbook, tmp_path, services=["no-such-service"])
    result = _outcome(tmp_path)[0]
    assert result["failed"] and "THRIVE refused generateApiKey" in result["msg"]


def test_reset_after_the_mutation_is_not_retried(sim, run_playbook, tmp_path):
    demo = sim.demo_vars()
    sim.add_faults("thrive-tenants", [{"kind": "reset_after_processing"}])
    _run(run_playbook, tmp_path)
    result = _outcome(tmp_path)[0]
    assert result["failed"] and "may have reached THRIVE" in result["msg"]
    # The server made one key and the module did not ask again, despite retries: 3.
    assert sim.graphql_mutations() == 1
    assert sim.thrive_keys("staging", demo["thrive_tenant_id"]) == 1


def test_failure_later_in_the_play_keeps_the_key(sim, run_playbook, tmp_path):
    demo = sim.demo_vars()
    recovery = tmp_path / "recovered.json"
    run = _run(run_playbook, tmp_path, recovery_file=str(recovery), fail_after=True)
    assert run.rc != 0 and "the secrets store is down" in run.output
    saved = json.loads(recovery.read_text())
    assert saved["tenant_id"] == demo["thrive_tenant_id"]
    answer = requests.get(f"{demo['thrive_staging_base_url']}/api/v1/me", auth=(saved["tenant_id"], saved["api_key"]),
                          verify=demo["sim_ca_path"], timeout=10)
    assert answer.status_code == 200, "the recovered key works"
    assert os.stat(recovery).st_mode & 0o077 == 0


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thrive_apikey,
]
