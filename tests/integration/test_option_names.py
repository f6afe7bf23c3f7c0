"""One name per idea across the plugins: new names, their older names (aliases), and both given.

Each case is a task run by a real play against the simulators; the play writes what each task got (never a
token) to out_dir. Older names must keep working, the new names must work, and an option given under two of
its names fails the task with a message naming both, before anything is sent.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import assert_no_traceback


def _task(module: str, args: dict, name: str) -> list:
    return [
        {"name": f"case {name}", module: args, "register": f"case_{name}", "ignore_errors": True},
        {"name": f"record {name}", "ansible.builtin.copy": {
            "dest": "{{ out_dir }}/" + name + ".json", "mode": "0600",
            "content": "{{ {'failed': case_%s.failed | default(false), 'msg': case_%s.msg | default(''), "
                       "'source': case_%s.source | default(''), 'changed': case_%s.changed | default(false), "
                       "'scope': case_%s.scope | default(none), "
                       "'has_secret': (case_%s.client_secret | default('')) | length > 0, "
                       "'has_token': (case_%s.access_token | default('')) | length > 0} | to_json }}"
                       % ((name,) * 7)},
         "no_log": True},
    ]


def _play(tmp_path: Path, cases: list, filename: str = "names.yml", play_vars: dict | None = None) -> str:
    tasks = []
    for module, args, name in cases:
        tasks += _task(module, args, name)
    play = [{"name": "Option names", "hosts": "localhost", "gather_facts": False, "vars": play_vars or {},
             "module_defaults": {"group/apiauth.saas.saas": {"ca_path": "{{ sim_ca_path }}",
                                                             "cache_dir": "{{ cache_dir }}", "cache": False}},
             "tasks": tasks}]
    path = tmp_path / filename
    path.write_text(json.dumps(play))  # JSON is YAML
    return str(path)  # absolute: run_playbook's directory join keeps it as is


def _results(out: Path, cases: list) -> dict:
    return {name: json.loads((out / f"{name}.json").read_text()) for _module, _args, name in cases}


TS = {"host": "{{ thoughtspot_host }}", "username": "{{ thoughtspot_username }}",
      "secret_key": "{{ thoughtspot_secret_key }}", "object_id": "{{ thoughtspot_object_id }}"}
TT = {"client_id": "{{ thoughttrace_client_id }}", "client_secret": "{{ thoughttrace_client_secret }}"}
THREDD = {"environment": "uat", "client_id": "{{ thredd_uat_client_id }}",
          "client_secret": "{{ thredd_uat_client_secret }}", "base_url": "{{ thredd_uat_tls_url }}",
          "token_url": "{{ thredd_uat_tls_url }}/oauth2/token"}
THREDD_JWT = {"environment": "uat", "client_id": "{{ thredd_uat_jwt_client_id }}", "auth_method": "private_key_jwt",
              "private_key_path": "{{ thredd_signing_key_path }}", "base_url": "{{ thredd_uat_tls_url }}",
              "token_url": "{{ thredd_uat_tls_url }}/oauth2/token"}
THRIVE = {"environment": "staging", "tenant_id": "{{ thrive_tenant_id }}", "client_id": "{{ thrive_client_id }}",
          "client_secret": "{{ thrive_client_secret }}", "base_url": "{{ thrive_staging_base_url }}"}
CLIENT = {"name": "option-names-loader", "admin_client_id": "{{ thoughttrace_admin_client_id }}",
          "admin_client_secret": "{{ thoughttrace_admin_client_secret }}",
          "base_url": "{{ thoughttrace_identity_url }}"}

RENAMES = [
    # ThoughtSpot: token_kind, older token_type.
    ("apiauth.saas.thoughtspot_token", dict(TS, token_kind="object"), "ts_new"),
    ("apiauth.saas.thoughtspot_token", dict(TS, token_type="object"), "ts_old"),
    ("apiauth.saas.thoughtspot_token", dict(TS, token_kind="object", token_type="full"), "ts_both"),
    # ThoughtTrace: base_url, older identity_url.
    ("apiauth.saas.thoughttrace_token", dict(TT, base_url="{{ thoughttrace_identity_url }}"), "tt_new"),
    ("apiauth.saas.thoughttrace_token", dict(TT, identity_url="{{ thoughttrace_identity_url }}"), "tt_old"),
    ("apiauth.saas.thoughttrace_token", dict(TT, base_url="{{ thoughttrace_identity_url }}",
                                             identity_url="{{ thoughttrace_identity_url }}"), "tt_both"),
    # Thredd: auth_method client_secret_post, older value client_secret.
    ("apiauth.saas.thredd_token", dict(THREDD, auth_method="client_secret_post"), "thredd_post"),
    ("apiauth.saas.thredd_token", dict(THREDD, auth_method="client_secret"), "thredd_old_value"),
    # Thredd: org, older organisation_id. A value outside its form is refused naming the option: proof it was
    # read under either name, with nothing sent (jwks_url unset would name Thredd's real host).
    ("apiauth.saas.thredd_token", dict(THREDD_JWT, key_id="{{ thredd_key_id }}", jwks_preflight=True,
                                       org="bad/org"), "org_new"),
    ("apiauth.saas.thredd_token", dict(THREDD_JWT, key_id="{{ thredd_key_id }}", jwks_preflight=True,
                                       organisation_id="bad/org"), "org_old"),
    ("apiauth.saas.thredd_token", dict(THREDD_JWT, key_id="{{ thredd_key_id }}", jwks_preflight=True,
                                       org="a", organisation_id="b"), "org_both"),
    ("apiauth.saas.thredd_token", dict(THREDD_JWT, key_id="{{ thredd_key_id }}", jwks_preflight=True), "org_none"),
    # thoughttrace_client: rotate, older new_secret.
    ("apiauth.saas.thoughttrace_client", dict(CLIENT), "client_create"),
    ("apiauth.saas.thoughttrace_client", dict(CLIENT, rotate="always"), "client_rotate"),
    ("apiauth.saas.thoughttrace_client", dict(CLIENT, new_secret=True), "client_new_secret"),
    ("apiauth.saas.thoughttrace_client", dict(CLIENT, rotate="always", new_secret=True), "client_both"),
    ("apiauth.saas.thoughttrace_client", dict(CLIENT, rotate="when_needed"), "client_keep"),
]


def test_new_names_older_names_and_both(sim, run_playbook, tmp_path, out):
    run = run_playbook(_play(tmp_path, RENAMES), verbosity=2)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    got = _results(out, RENAMES)

    for new, old, both, names in (("ts_new", "ts_old", "ts_both", ("token_kind", "token_type")),
                                  ("tt_new", "tt_old", "tt_both", ("base_url", "identity_url"))):
        assert not got[new]["failed"] and got[new]["has_token"], got[new]
        assert not got[old]["failed"] and got[old]["has_token"], got[old]
        assert got[both]["failed"] and all(name in got[both]["msg"] for name in names), got[both]
        assert "give it once" in got[both]["msg"]
    # Both ThoughtSpot requests asked for an object token, under either name; the one with both sent nothing.
    object_calls = [e for e in sim.audit("thoughtspot") if str(e.get("path", "")).endswith("auth/token/object")]
    assert len(object_calls) == 2
    token_calls = [e for e in sim.audit("thoughttrace") if e.get("endpoint") == "token"
                   and e.get("client_id") == sim.demo_vars()["thoughttrace_client_id"]]
    assert len(token_calls) == 2  # the admin client's tokens of the thoughttrace_client tasks are not counted

    assert not got["thredd_post"]["failed"] and got["thredd_post"]["has_token"], got["thredd_post"]
    assert not got["thredd_old_value"]["failed"] and got["thredd_old_value"]["has_token"], got["thredd_old_value"]
    thredd_calls = [e for e in sim.audit("thredd") if e.get("endpoint") == "token"]
    assert [e.get("auth_method") for e in thredd_calls] == ["client_secret_post", "client_secret_post"]

    for case in ("org_new", "org_old"):
        assert got[case]["failed"] and got[case]["msg"].startswith("org must be your Thredd organisation"), got[case]
    assert got["org_both"]["failed"] and "organisation_id" in got["org_both"]["msg"]
    # Positive control: without the option the check asks for it, so the cases above did read it.
    assert got["org_none"]["failed"] and "jwks_preflight needs org" in got["org_none"]["msg"]

    assert got["client_create"]["changed"] and got["client_create"]["has_secret"], got["client_create"]
    assert got["client_rotate"]["changed"] and got["client_rotate"]["has_secret"], got["client_rotate"]
    assert got["client_new_secret"]["changed"] and got["client_new_secret"]["has_secret"], got["client_new_secret"]
    assert got["client_both"]["failed"] and "mutually exclusive" in got["client_both"]["msg"], got["client_both"]
    assert not got["client_keep"]["changed"] and not got["client_keep"]["has_secret"], got["client_keep"]
    secret_calls = [e for e in sim.audit("thoughttrace-admin") if e.get("operation") == "new_secret"]
    assert len(secret_calls) == 2  # rotate=always and new_secret=true; neither the create nor when_needed


SCOPES = [
    ("apiauth.saas.thrive_token", dict(THRIVE, scope="api/read api/write"), "thrive_string"),
    ("apiauth.saas.thrive_token", dict(THRIVE, scope=["api/read", "api/write"]), "thrive_list"),
    ("apiauth.saas.thrive_token", dict(THRIVE, scope="api/read api/everything"), "thrive_unknown"),
    ("apiauth.saas.oauth2_token", {"token_url": "{{ oauth2_token_url }}", "client_id": "{{ demo_basic_client_id }}",
                                   "client_secret": "{{ demo_basic_client_secret }}", "scope": "read write"},
     "oauth2_string"),
]


def test_scope_as_a_list_or_a_space_separated_string(sim, run_playbook, tmp_path, out):
    run = run_playbook(_play(tmp_path, SCOPES))
    assert run.rc == 0, run.output[-4000:]
    got = _results(out, SCOPES)
    for case in ("thrive_string", "thrive_list"):
        assert not got[case]["failed"] and got[case]["has_token"], got[case]
    assert sorted(got["thrive_string"]["scope"].split()) == ["api/read", "api/write"]
    assert got["thrive_string"]["scope"] == got["thrive_list"]["scope"]
    # An unknown scope is named, and refused before any request: two THRIVE token requests in all.
    assert got["thrive_unknown"]["failed"] and "api/everything" in got["thrive_unknown"]["msg"]
    assert sim.token_requests("thrive") == 2
    assert not got["oauth2_string"]["failed"] and got["oauth2_string"]["has_token"], got["oauth2_string"]


def test_thredd_private_key_jwt_without_key_id_sends_nothing(sim, run_playbook, tmp_path, out):
    cases = [("apiauth.saas.thredd_token", dict(THREDD_JWT), "no_kid")]
    run = run_playbook(_play(tmp_path, cases))
    assert run.rc == 0, run.output[-4000:]
    got = _results(out, cases)["no_kid"]
    assert got["failed"] and "key_id" in got["msg"] and "Nothing was sent" in got["msg"], got
    assert sim.audit("thredd") == []
    # Positive control: the same task with key_id reaches the simulator and gets a token.
    cases = [("apiauth.saas.thredd_token", dict(THREDD_JWT, key_id="{{ thredd_key_id }}"), "with_kid")]
    run = run_playbook(_play(tmp_path, cases, "with_kid.yml"))
    assert run.rc == 0, run.output[-4000:]
    assert _results(out, cases)["with_kid"]["has_token"]
    assert sim.token_requests("thredd") == 1


def test_thrive_lookup_reads_auth_method_from_variables(sim, run_playbook, tmp_path, out):
    lookup = ("{{ lookup('apiauth.saas.thrive_token', output='record', environment='staging', "
              "tenant_id=thrive_tenant_id, client_id=thrive_client_id, client_secret=thrive_client_secret, "
              "base_url=thrive_staging_base_url, cache=false).token_type }}")
    play = [{"name": "THRIVE lookup", "hosts": "localhost", "gather_facts": False,
             "vars": {"apiauth_saas_ca_path": "{{ sim_ca_path }}"},
             "tasks": [{"name": "default method", "ansible.builtin.debug": {"msg": lookup}},
                       {"name": "method from a variable", "ansible.builtin.debug": {"msg": lookup},
                        "vars": {"apiauth_thrive_auth_method": "client_secret_post"}}]}]
    path = tmp_path / "thrive_lookup.yml"
    path.write_text(json.dumps(play))
    run = run_playbook(str(path))
    assert run.rc == 0, run.output[-4000:]
    methods = [e.get("auth_method") for e in sim.audit("thrive") if e.get("endpoint") == "token"]
    # The first (no variable) is the default; the second takes the variable.
    assert methods == ["client_secret_basic", "client_secret_post"]
