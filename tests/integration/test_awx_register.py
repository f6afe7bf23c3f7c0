"""playbooks/register_awx_credential_types.yml with the real awx.awx module against a FAKE AWX API.

The fake (tests/backends/fake_awx.py) stores credential types and refuses what AWX would refuse;
no real AWX or Automation Platform is involved.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.request

import pytest

from backends.awx_injectors import load_credential_types
from backends.fake_awx import make_server
from conftest import ROOT, assert_absent, assert_no_traceback

PLAYBOOK = str(ROOT / "playbooks" / "register_awx_credential_types.yml")


@pytest.fixture
def awx():
    server = make_server(0, token="awx-" + secrets.token_urlsafe(24))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _fake(awx, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{awx.server_address[1]}{path}", timeout=10) as answer:
        return json.loads(answer.read())


def _env(awx) -> dict:
    return {"CONTROLLER_HOST": f"http://127.0.0.1:{awx.server_address[1]}",
            "CONTROLLER_OAUTH_TOKEN": awx.state.token, "CONTROLLER_VERIFY_SSL": "false"}


def test_registers_every_type_once_and_then_changes_nothing(run_playbook, awx):
    first = run_playbook(PLAYBOOK, env=_env(awx), verbosity=4, sim_vars=False)
    assert first.rc == 0, first.output[-4000:]
    assert_no_traceback(first)
    assert_absent([awx.state.token], first)
    shipped = load_credential_types()
    stored = {t["name"]: t for t in _fake(awx, "/_fake/credential_types")}
    assert len(stored) == len(shipped)
    for definition in shipped.values():
        held = stored[definition["name"]]
        # The injectors' templates arrive as written: for AWX to render, not Ansible.
        for field in ("description", "kind", "inputs", "injectors"):
            assert held[field] == definition[field], (definition["name"], field)
    assert first.total("changed") == 1  # the loop task
    writes = _fake(awx, "/_fake/writes")["writes"]
    assert writes == len(shipped)

    again = run_playbook(PLAYBOOK, env=_env(awx), sim_vars=False)
    assert again.rc == 0 and again.total("changed") == 0
    assert _fake(awx, "/_fake/writes")["writes"] == writes


def test_updates_a_changed_type_only(run_playbook, awx):
    assert run_playbook(PLAYBOOK, env=_env(awx), sim_vars=False).rc == 0
    number = next(n for n, t in awx.state.types.items() if t["name"] == "apiauth.saas THRIVE OAuth client")
    awx.state.types[number]["injectors"] = {"env": {"APIAUTH_THRIVE_CLIENT_ID": "{{ client_id }}"}}
    run = run_playbook(PLAYBOOK, env=_env(awx), sim_vars=False,
                       extra_vars={"register_awx_credential_types_only": ["thrive", "throughline"]})
    assert run.rc == 0, run.output[-3000:]
    assert _fake(awx, "/_fake/writes")["writes"] == len(load_credential_types()) + 1
    assert awx.state.types[number]["injectors"] == load_credential_types()["thrive"]["injectors"]


def test_wrong_token_fails_cleanly(run_playbook, awx):
    env = dict(_env(awx), CONTROLLER_OAUTH_TOKEN="wrong-" + secrets.token_hex(8))
    run = run_playbook(PLAYBOOK, env=env, sim_vars=False)
    assert run.rc != 0 and "401" in run.output
    assert not awx.state.types


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.playbook_register_awx_credential_types,
]
