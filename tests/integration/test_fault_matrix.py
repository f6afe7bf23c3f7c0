"""Every injectable fault, for every vendor: bounded retries and success, or a clean failure.

One playbook run per vendor goes through all of fault_matrix.py's cases at
-vvvv with ANSIBLE_LOG_PATH set. For each case the outcome, the calls that
reached the simulator and the unconsumed faults are compared with the matrix;
over the whole run no traceback and no secret may appear anywhere, and no
write that makes a key or a client may happen twice.
"""

from __future__ import annotations

import json
import re
import time

import pytest

import fault_matrix
from conftest import assert_absent, assert_no_traceback, files_text


def _demo_secrets(sim) -> list:
    demo = sim.demo_vars()
    return [value for name, value in demo.items()
            if name.endswith(("_secret", "_password", "_secret_key", "_admin_token"))]


def _run_matrix(sim, run_playbook, out, cache_dir, vendor, cases):
    sim.stage_faults(vendor.queue, [case.fault_list(vendor) for case in cases])
    run = run_playbook("fault_matrix.yml", verbosity=4, extra_vars={
        "fault_vendor": vendor.name, "fault_queue": vendor.queue, "fault_endpoint": vendor.endpoint,
        "fault_method": vendor.method, "fault_retries": fault_matrix.RETRIES, "fault_timeout": fault_matrix.TIMEOUT,
        "fault_cases": [{"id": case.id, "settle": case.settle} for case in cases],
    })
    assert run.rc == 0, run.output[-6000:]
    assert_no_traceback(run)
    results = json.loads((out / "faults.json").read_text())
    assert sorted(results) == sorted(case.id for case in cases)
    # Tokens never reach faults.json; the recovery files are the secrets' one destination.
    assert_absent(_demo_secrets(sim), run, files_text(cache_dir), (out / "faults.json").read_text())
    return run, results


def _check_case(vendor, case, result):
    where = f"{vendor.name}/{case.id}: {result}"
    assert result["loaded"] == len(case.fault_list(vendor)), f"faults loaded: {where}"
    assert not result["pending"], f"faults left unconsumed: {where}"
    assert result["calls"] == case.calls, f"calls: {where}"
    if case.recovers:
        assert not result["failed"], where
        return
    assert result["failed"], where
    message = result["msg"]
    assert re.search(case.message, message, re.S), where
    assert vendor.title.split()[0] in message, f"the message names the vendor: {where}"
    assert len(message) < 1200 and "<html" not in message.lower(), f"short and without the vendor's page: {where}"


def _check_cases(vendor, cases, results):
    """Every case checked; all mismatches reported at once."""
    problems = []
    for case in cases:
        try:
            _check_case(vendor, case, results[case.id])
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("vendor", fault_matrix.TOKEN_VENDORS, ids=lambda v: v.name)
def test_token_faults(sim, run_playbook, out, cache_dir, vendor):
    cases = fault_matrix.cases_for(vendor, fault_matrix.TOKEN_CASES)
    run, results = _run_matrix(sim, run_playbook, out, cache_dir, vendor, cases)
    _check_cases(vendor, cases, results)
    assert "is not cached" in run.output, "a token without expiry is used but not cached, and said so"
    # The cache holds no token that a fault left already expired or without an expiry.
    for path in cache_dir.glob("*.json"):
        entry = json.loads(path.read_text())
        if "expires_at" in entry:
            assert entry["expires_at"] > time.time() + 60


def _made(sim, vendor, case) -> int:
    if vendor.name == "thoughttrace_client":
        return len([c for c in sim.thoughttrace_clients() if c["name"] == f"fault {case.id}"])
    return 0


@pytest.mark.parametrize("vendor", fault_matrix.KEY_VENDORS, ids=lambda v: v.name)
def test_key_faults(sim, run_playbook, out, cache_dir, vendor):
    cases = fault_matrix.cases_for(vendor, fault_matrix.KEY_CASES)
    _run, results = _run_matrix(sim, run_playbook, out, cache_dir, vendor, cases)
    _check_cases(vendor, cases, results)
    time.sleep(1)  # let any handler still running finish
    if vendor.name == "thoughttrace_client":
        for case in cases:
            assert _made(sim, vendor, case) == case.created, f"{case.id}: clients made"
    else:
        demo = sim.demo_vars()
        assert sim.thrive_keys("staging", demo["thrive_tenant_id"]) == sum(case.created for case in cases)
    # Where the module got the secret, it is in the recovery file and was returned; nowhere else.
    for case in cases:
        recovery = out / f"{vendor.name.split('_')[0]}-{case.id}.json"
        assert recovery.exists() == case.recovers, f"{case.id}: recovery file"


def test_reliability_doc_is_current():
    text = fault_matrix.DOC.read_text()
    assert fault_matrix.current_block(text) == fault_matrix.render(), (
        "docs/reliability.md is out of date: run python tests/integration/fault_matrix.py")


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
]
