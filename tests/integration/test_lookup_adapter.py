"""The lookups' shared base (plugin_utils/_lookup.py) in real playbook runs against the simulator.

Positional terms are refused; options come from keywords, then variables
(templated), then the environment; a bad value says where it came from; each
output form returns what it promises; an engine failure that quoted a secret
reaches the play masked.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conftest import assert_absent, assert_no_traceback, strong_secret


@pytest.fixture
def run_lookups(run_playbook, tmp_path, out):
    """Each (name, expression) becomes a debug task registered as ``name``; the results come back by name."""

    def run(lookups: dict, play_vars: dict | None = None, **kwargs):
        tasks = [{"name": name, "ansible.builtin.debug": {"msg": expression}, "register": name,
                  "ignore_errors": True} for name, expression in lookups.items()]
        tasks += [{"name": f"Keep {name}", "ansible.builtin.copy": {
            "dest": f"{out}/{name}.json", "content": "{{ %s | to_json }}" % name, "mode": "0600"},
            "no_log": True} for name in lookups]
        playbook = tmp_path / f"lookups-{uuid.uuid4().hex}.yml"
        playbook.write_text(json.dumps([{"name": "Lookups", "hosts": "localhost", "gather_facts": False,
                                         "vars": play_vars or {}, "tasks": tasks}]))
        run = run_playbook(str(playbook), **kwargs)
        assert_no_traceback(run)
        return run, {name: json.loads((out / f"{name}.json").read_text()) for name in lookups}

    return run


KEYWORDS = ("token_url=oauth2_token_url, client_id=demo_basic_client_id, client_secret=demo_basic_client_secret, "
            "ca_path=sim_ca_path")


def test_positional_terms_are_refused(sim, run_lookups):
    run, res = run_lookups({
        "with_term": "{{ lookup('apiauth.saas.oauth2_token', 'client-a', %s) }}" % KEYWORDS,
        "without": "{{ lookup('apiauth.saas.oauth2_token', %s) }}" % KEYWORDS,
    })
    assert res["with_term"]["failed"] is True
    assert "takes no positional terms" in res["with_term"]["msg"] and "client_id=" in res["with_term"]["msg"]
    # Positive control: the same lookup without the term gets a token, with one request in all.
    assert not res["without"].get("failed") and len(res["without"]["msg"]) >= 20
    assert sim.token_requests("oauth2") == 1


def test_output_forms(sim, run_lookups):
    base = "lookup('apiauth.saas.oauth2_token', %s" % KEYWORDS
    run, res = run_lookups({
        "token": "{{ %s) }}" % base,
        "authorization": "{{ %s, output='authorization') }}" % base,
        "record": "{{ %s, output='record') }}" % base,
        "bad": "{{ %s, output='headers') }}" % base,
    })
    token = res["token"]["msg"]
    assert len(token) >= 20 and res["authorization"]["msg"] == f"Bearer {token}"
    record = res["record"]["msg"]
    assert record["access_token"] == token and record["source"] == "file" and record["expires_in"] > 0
    assert res["bad"]["failed"] is True and "output" in res["bad"]["msg"], "oauth2_token offers no headers output"
    assert sim.token_requests("oauth2") == 1


def test_thredd_headers_output(sim, run_lookups):
    run, res = run_lookups({"headers": (
        "{{ lookup('apiauth.saas.thredd_token', environment='uat', connectivity='tls', "
        "client_id=thredd_uat_client_id, client_secret=thredd_uat_client_secret, base_url=thredd_uat_tls_url, "
        "token_url=thredd_uat_tls_url ~ '/oauth2/token', ca_path=sim_ca_path, output='headers') }}")})
    headers = res["headers"]["msg"]
    assert not res["headers"].get("failed"), headers
    assert headers["Authorization"].startswith("Bearer ") and len(headers["Authorization"]) > 27
    assert sim.token_requests("thredd") == 1


def test_options_from_templated_variables_and_the_environment(sim, run_lookups, tmp_path):
    demo = sim.demo_vars()
    play_vars = {
        "apiauth_oauth2_token_url": "{{ oauth2_token_url }}",
        "apiauth_oauth2_client_id": "{{ demo_basic_client_id }}",
        "apiauth_oauth2_client_secret": "{{ demo_basic_client_secret }}",
        # Templated: a lookup gets the variables raw, and this one names another.
        "apiauth_saas_ca_path": "{{ sim_ca_path }}",
    }
    env = {"APIAUTH_OAUTH2_CLIENT_SECRET": "wrong-secret-from-the-environment-" + "e" * 20,
           "APIAUTH_OAUTH2_CLIENT_ID": "wrong-client-from-the-environment"}
    run, res = run_lookups({
        "from_vars": "{{ lookup('apiauth.saas.oauth2_token') }}",
        "keyword_wins": "{{ lookup('apiauth.saas.oauth2_token', client_id='no-such-client', force_refresh=true) }}",
    }, play_vars=play_vars, env=env)
    # Variables win over the environment; a keyword wins over both.
    assert not res["from_vars"].get("failed"), res["from_vars"].get("msg")
    assert len(res["from_vars"]["msg"]) >= 20
    assert res["keyword_wins"]["failed"] is True and "invalid_client" in res["keyword_wins"]["msg"]
    clients = [entry.get("client_id") for entry in sim.audit("oauth2")]
    assert clients == [demo["demo_basic_client_id"], "no-such-client"], clients

    # Only the environment: the lookup reads every option from it.
    env_only = {"APIAUTH_OAUTH2_TOKEN_URL": demo["oauth2_token_url"],
                "APIAUTH_OAUTH2_CLIENT_ID": demo["demo_basic_client_id"],
                "APIAUTH_OAUTH2_CLIENT_SECRET": demo["demo_basic_client_secret"],
                "APIAUTH_SAAS_CA_PATH": demo["sim_ca_path"], "APIAUTH_SAAS_FORCE_REFRESH": "true"}
    run, res = run_lookups({"from_env": "{{ lookup('apiauth.saas.oauth2_token') }}"}, env=env_only)
    assert not res["from_env"].get("failed"), res["from_env"].get("msg")
    assert len(sim.audit("oauth2")) == 3


def test_a_bad_value_says_where_it_came_from_and_hides_a_secret(sim, run_lookups):
    hidden = "dict-secret-" + "d" * 30
    play_vars = {"apiauth_saas_validate_certs": "maybe", "apiauth_oauth2_client_secret": {"nested": hidden}}
    run, res = run_lookups({
        "bad_bool": "{{ lookup('apiauth.saas.oauth2_token', token_url=oauth2_token_url, client_id='x', "
                    "client_secret='y' * 30, ca_path=sim_ca_path) }}",
        "bad_secret": "{{ lookup('apiauth.saas.oauth2_token', token_url=oauth2_token_url, client_id='x', "
                      "ca_path=sim_ca_path, validate_certs=true) }}",
        "bad_env": "{{ lookup('apiauth.saas.oauth2_token', token_url=oauth2_token_url, client_id='x', "
                   "client_secret='y' * 30, validate_certs=true) }}",
    }, play_vars=play_vars, env={"APIAUTH_SAAS_CA_PATH": ""}, verbosity=4)
    assert res["bad_bool"]["failed"] is True
    assert "validate_certs" in res["bad_bool"]["msg"] and "apiauth_saas_validate_certs" in res["bad_bool"]["msg"]
    assert res["bad_secret"]["failed"] is True
    assert "apiauth_oauth2_client_secret" in res["bad_secret"]["msg"]
    assert res["bad_env"]["failed"] is True and "APIAUTH_SAAS_CA_PATH" in res["bad_env"]["msg"]
    assert hidden not in run.output and "d" * 30 not in json.dumps(res)
    assert not sim.audit(), "nothing was sent"


def test_an_engine_failure_that_quotes_a_secret_is_masked(sim, run_lookups):
    secret = strong_secret("lookup-")
    renders = ["body", "json", "base64"]
    sim.add_faults("oauth2", [{"kind": "echo", "render": render} for render in renders])
    expression = ("{{ lookup('apiauth.saas.oauth2_token', token_url=oauth2_token_url, client_id='echo-client', "
                  "client_secret=quoted_secret, auth_method='client_secret_post', ca_path=sim_ca_path, cache=false, "
                  "retries=0) }}")
    run, res = run_lookups({f"echo_{render}": expression for render in renders},
                           play_vars={"quoted_secret": secret}, verbosity=4)
    for render in renders:
        assert res[f"echo_{render}"]["failed"] is True and "HTTP" in res[f"echo_{render}"]["msg"]
    assert_absent([secret], run, json.dumps(res))
    assert secret[7:40] not in run.output
    echoes = [entry for entry in sim.audit("oauth2") if entry.get("fault") == "echo"]
    assert len(echoes) == len(renders)
    assert any(secret[7:40] in Path(entry["echo_file"]).read_text() for entry in echoes), "positive control"


pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thredd_token,
]
