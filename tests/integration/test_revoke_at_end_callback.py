"""The callback apiauth.saas.revoke_at_end in real ansible-playbook runs against the ThoughtSpot simulator.

test_thoughtspot.py::test_revoke_at_end covers a run that succeeds on three
hosts. These add: a run whose play fails still revokes; a task without
revoke_at_end leaves its token alone; check mode; the lookup's token; the
token never shows at -vvvv, in the output or the log.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from conftest import assert_absent, assert_no_traceback

CALLBACK = {"ANSIBLE_CALLBACKS_ENABLED": "apiauth.saas.revoke_at_end"}


def _valid(sim, token: str) -> bool:
    demo = sim.demo_vars()
    response = requests.post(f"{sim.thoughtspot_url()}/api/rest/2.0/auth/token/validate", json={"token": token},
                             headers={"Authorization": f"Bearer {token}"}, verify=demo["sim_ca_path"], timeout=30)
    return response.status_code == 200


def _revokes(sim) -> list:
    return [entry for entry in sim.audit("thoughtspot") if entry.get("operation") == "revoke"]


@pytest.fixture
def run_play(run_playbook, tmp_path, out):
    """Run ThoughtSpot tasks; the registered ``ts`` goes to out/ts.json, checked while the run lives."""

    def run(token_options: dict, after: list | None = None, **kwargs):
        tasks = [
            {"name": "Token", "apiauth.saas.thoughtspot_token": dict({
                "host": "{{ thoughtspot_host }}", "username": "{{ thoughtspot_username }}",
                "secret_key": "{{ thoughtspot_secret_key }}", "ca_path": "{{ sim_ca_path }}"}, **token_options),
             "register": "ts"},
            # The token works while the run lives (positive control of the revocation after it).
            {"name": "Use it", "ansible.builtin.uri": {"url": "{{ ts.base_url }}/auth/session/user",
                                                       "headers": "{{ ts.headers }}", "ca_path": "{{ sim_ca_path }}"},
             "no_log": True, "check_mode": False, "register": "used"},
            {"name": "Keep it", "ansible.builtin.copy": {"dest": f"{out}/ts.json", "mode": "0600",
                                                         "content": "{{ dict(ts, used=used.status) | to_json }}"},
             "no_log": True, "check_mode": False, "diff": False},
        ] + (after or [])
        playbook = tmp_path / f"revoke-{uuid.uuid4().hex}.yml"
        playbook.write_text(json.dumps([{"name": "Revoke at end", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks}]))
        run = run_playbook(str(playbook), **kwargs)
        assert_no_traceback(run)
        kept = json.loads((out / "ts.json").read_text()) if (out / "ts.json").exists() else None
        return run, kept

    return run


def test_a_failed_play_still_revokes_and_never_shows_the_token(sim, run_play):
    fail = [{"name": "The play fails after the token was got", "ansible.builtin.fail": {"msg": "deliberate"}}]
    run, kept = run_play({"revoke_at_end": True}, after=fail, env=CALLBACK, verbosity=4)
    assert run.rc != 0 and "deliberate" in run.stdout and run.total("failed") == 1
    token = kept["access_token"]
    assert kept["used"] == 200, "the token worked during the run"
    assert "revoked 1 ThoughtSpot token(s)" in run.stdout
    assert len(_revokes(sim)) == 1 and not _valid(sim, token)
    assert "PLAYBOOK:" in run.log, "the log holds the -vvvv detail"
    assert_absent([token, sim.demo_vars()["thoughtspot_secret_key"]], run)


def test_a_token_without_revoke_at_end_is_left_alone(sim, run_play):
    run, kept = run_play({}, env=CALLBACK)
    assert run.rc == 0, run.output[-3000:]
    assert "revoked" not in run.stdout and not _revokes(sim)
    assert kept["used"] == 200 and _valid(sim, kept["access_token"])


def test_check_mode_revokes_the_token_it_got(sim, run_play):
    """A token request changes nothing at the vendor, so check mode gets one; it must not outlive the run either."""
    run, kept = run_play({"revoke_at_end": True}, env=CALLBACK, check=True)
    assert run.rc == 0, run.output[-3000:]
    assert kept["used"] == 200 and sim.token_requests("thoughtspot") == 1
    assert "revoked 1 ThoughtSpot token(s)" in run.stdout and not _valid(sim, kept["access_token"])


def test_the_lookup_token_is_revoked_too(sim, run_playbook, tmp_path, out):
    expression = ("{{ lookup('apiauth.saas.thoughtspot_token', host=thoughtspot_host, username=thoughtspot_username, "
                  "secret_key=thoughtspot_secret_key, ca_path=sim_ca_path, revoke_at_end=true) }}")
    playbook = tmp_path / "lookup-revoke.yml"
    playbook.write_text(json.dumps([{"name": "Lookup", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Keep the token", "no_log": True,
         "ansible.builtin.copy": {"dest": f"{out}/token.txt", "content": expression, "mode": "0600"}}]}]))
    run = run_playbook(str(playbook), env=CALLBACK, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    token = (out / "token.txt").read_text()
    assert len(token) >= 20 and "revoked 1 ThoughtSpot token(s)" in run.stdout
    assert not _valid(sim, token)
    assert_absent([token], run)


pytestmark = [
    pytest.mark.revoke_at_end,
    pytest.mark.thoughtspot_token,
]
