"""The action plugins' shared base (plugin_utils/_action.py, _controller_action.py) in real playbook runs.

Every module of the collection runs through ControllerAction.run on the
controller. These tests drive it with ansible-playbook against the simulator:
argument errors, check mode, engine failures whose text quoted a secret,
censoring of a result that holds one, and the progress notes at -vv.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conftest import assert_absent, assert_no_traceback, strong_secret


@pytest.fixture
def run_tasks(run_playbook, tmp_path, out):
    """Run ``tasks`` on localhost; each registered name in ``keep`` is written to out/<name>.json."""

    def run(tasks: list, keep: tuple = (), **kwargs):
        dumps = [{"name": f"Keep {name}", "ansible.builtin.copy": {
            "dest": f"{out}/{name}.json", "content": "{{ %s | to_json }}" % name, "mode": "0600"},
            "no_log": True, "check_mode": False, "diff": False} for name in keep]
        playbook = tmp_path / f"play-{uuid.uuid4().hex}.yml"
        playbook.write_text(json.dumps([{"name": "Controller action", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks + dumps}]))
        run = run_playbook(str(playbook), **kwargs)
        assert_no_traceback(run)
        kept = {name: json.loads((out / f"{name}.json").read_text()) for name in keep
                if (out / f"{name}.json").exists()}
        return run, kept

    return run


def _oauth2(**extra) -> dict:
    return dict({"token_url": "{{ oauth2_token_url }}", "client_id": "{{ demo_basic_client_id }}",
                 "client_secret": "{{ demo_basic_client_secret }}", "ca_path": "{{ sim_ca_path }}"}, **extra)


def test_token_action_fetches_in_check_mode_and_censors_the_result(sim, run_tasks):
    task = {"name": "Token", "apiauth.saas.oauth2_token": _oauth2(), "register": "tok"}
    run, kept = run_tasks([task], keep=("tok",), check=True, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    tok = kept["tok"]
    # A token request changes nothing at the vendor: check mode asks for it, and the task says it changed.
    assert tok["changed"] is True and tok["source"] == "network" and sim.token_requests("oauth2") == 1
    # Positive control: the registered variable holds the token; the output at -vvvv does not.
    assert len(tok["access_token"]) >= 20
    assert "censored" in run.stdout
    assert_absent([tok["access_token"], sim.demo_vars()["demo_basic_client_secret"]], run)


def test_censor_result_false_shows_the_result(sim, run_tasks):
    task = {"name": "Token", "apiauth.saas.oauth2_token": _oauth2(censor_result=False), "register": "tok"}
    again = dict(task, name="Token again", register="again")
    run, kept = run_tasks([task, again], keep=("tok", "again"), verbosity=1)
    assert run.rc == 0, run.output[-3000:]
    assert kept["tok"]["access_token"] in run.stdout
    # changed says whether the vendor was asked: the second task is served from the cache.
    assert kept["tok"]["changed"] is True and kept["tok"]["attempts"] == 1
    assert kept["again"]["changed"] is False and kept["again"]["source"] == "file" and kept["again"]["attempts"] == 0
    assert kept["again"]["access_token"] == kept["tok"]["access_token"] and sim.token_requests("oauth2") == 1
    assert sim.demo_vars()["demo_basic_client_secret"] not in run.output


BAD_ARGUMENTS = [
    # (module, options, words in the message, a value that must not be shown)
    ("oauth2_token", _oauth2(client_secret={"nested": "dict-secret-" + "v" * 30}), ["client_secret"], "v" * 30),
    ("oauth2_token", _oauth2(token_url="ftp://127.0.0.1/token"), ["token_url"], None),
    ("oauth2_token", _oauth2(no_such_option=1), ["no_such_option"], None),
    ("oauth2_token", dict(_oauth2(), private_key_path="/nonexistent/key.pem", private_key_content="k" * 40),
     ["private_key_path", "private_key_content"], "k" * 40),
    ("thoughttrace_client", {"identity_url": "{{ thoughttrace_identity_url }}", "ca_path": "{{ sim_ca_path }}",
                             "admin_client_id": "{{ thoughttrace_admin_client_id }}",
                             "admin_client_secret": "{{ thoughttrace_admin_client_secret }}"}, ["name"], None),
]


@pytest.mark.parametrize("module, options, words, hidden", BAD_ARGUMENTS,
                         ids=["dict-for-secret", "bad-url", "unknown-option", "mutually-exclusive", "missing-required"])
def test_argument_errors_fail_cleanly_before_any_request(sim, run_tasks, module, options, words, hidden):
    task = {"name": "Bad arguments", f"apiauth.saas.{module}": options, "register": "res", "ignore_errors": True}
    run, kept = run_tasks([task], keep=("res",), verbosity=4)
    res = kept["res"]
    assert res["failed"] is True and all(word in res["msg"] for word in words), res["msg"]
    assert not sim.audit(), "nothing was sent"
    if hidden:
        assert hidden not in run.output and hidden not in res["msg"]
    assert_absent([sim.demo_vars()["demo_basic_client_secret"], sim.demo_vars()["thoughttrace_admin_client_secret"]],
                  run)


@pytest.mark.parametrize("module", ["oauth2_token", "thoughttrace_client"])
def test_an_engine_failure_that_quotes_a_secret_is_masked(sim, run_tasks, module):
    secret = strong_secret("quoted-")
    if module == "oauth2_token":
        vendor = "oauth2"
        options = _oauth2(client_id="echo-client", client_secret=secret, auth_method="client_secret_post",
                          cache=False, retries=0)
    else:
        vendor = "thoughttrace"
        options = {"name": "Echo", "identity_url": "{{ thoughttrace_identity_url }}", "ca_path": "{{ sim_ca_path }}",
                   "admin_client_id": "echo-admin", "admin_client_secret": secret, "retries": 0, "cache": False}
    renders = ["body", "json", "base64", "headers"]
    sim.add_faults(vendor, [{"kind": "echo", "render": render} for render in renders])
    tasks = [{"name": f"Echo {render}", f"apiauth.saas.{module}": options, "register": f"res_{render}",
              "ignore_errors": True} for render in renders]
    run, kept = run_tasks(tasks, keep=tuple(f"res_{render}" for render in renders), verbosity=4)
    for render in renders:
        result = kept[f"res_{render}"]
        assert result["failed"] is True and "HTTP" in result["msg"], result
    assert_absent([secret], run, json.dumps(kept))
    assert secret[7:40] not in run.output
    # Positive control: each answer quoted the request; those of the body renderings hold the secret's text.
    echoes = [entry for entry in sim.audit(vendor) if entry.get("fault") == "echo"]
    assert len(echoes) == len(renders)
    assert any(secret[7:40] in Path(entry["echo_file"]).read_text() for entry in echoes)


def test_progress_notes_at_vv_name_the_host_and_the_layer(sim, run_tasks):
    task = {"name": "Token", "apiauth.saas.oauth2_token": _oauth2()}
    first = run_tasks([task], verbosity=2)[0]
    assert first.rc == 0, first.output[-3000:]
    assert "<localhost> apiauth.saas.oauth2_token:" in first.stdout
    assert "served by the vendor (1 HTTP request)" in first.stdout
    second = run_tasks([task], verbosity=2)[0]
    assert "served by the file cache" in second.stdout
    # Positive control of the level: a level-2 note is not shown at -v.
    quiet = run_tasks([task], verbosity=1)[0]
    assert quiet.rc == 0 and "served by" not in quiet.stdout


pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughttrace_client,
]
