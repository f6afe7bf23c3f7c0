"""The vendor action groups of meta/runtime.yml: module_defaults carry one vendor's options once per play."""

from __future__ import annotations

import json

from conftest import assert_no_traceback


def test_vendor_groups_carry_vendor_options_without_reaching_other_modules(sim, run_playbook, out):
    run = run_playbook("vendor_groups.yml")
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    got = json.loads((out / "groups.json").read_text())
    # Every option of these tasks came from their vendor's group: each fetched a token from the simulator.
    assert got["thredd"] == {"source": "network", "environment": "uat", "base_url": sim.thredd_url("uat", "tls"),
                             "has_token": True}
    assert got["thoughtspot"]["source"] == "network" and got["thoughtspot"]["has_token"]
    assert got["oauth2"]["source"] == "network" and got["oauth2"]["has_token"]
    assert sim.token_requests("thredd") == 1
    # Positive control: the same host in the collection-wide group reaches oauth2_token, which refuses it.
    shared = json.loads((out / "shared_group.json").read_text())
    assert shared["failed"] is True
    assert "host" in shared["msg"]
