"""The playbooks in playbooks/ that use the roles, against the simulator, with real file stores."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT, assert_absent, assert_no_traceback

PLAYBOOKS = ROOT / "playbooks"

# All of them also run on the oldest supported ansible-core (make oldest): their templating
# differs there (eager `is defined`, dict-looking strings turned into dicts).
pytestmark = pytest.mark.smoke


def _demo_secrets(sim) -> list:
    demo = sim.demo_vars()
    return [demo[k] for k in demo if k.endswith("_secret")] + [demo["thrive_admin_token"]]


@pytest.fixture
def play(run_playbook, sim):
    """Run a playbook of playbooks/ with the simulator's CA for every module and lookup."""

    def run(name: str, **kwargs):
        env = {"APIAUTH_SAAS_CA_PATH": sim.demo_vars()["sim_ca_path"], **kwargs.pop("env", {})}
        result = run_playbook(str(PLAYBOOKS / name), env=env, **kwargs)
        assert_no_traceback(result)
        return result

    return run


# refresh_tokens.yml ---------------------------------------------------------------------------

def _refresh_vars(out: Path) -> dict:
    lookup = ("lookup('apiauth.saas.oauth2_token', token_url=oauth2_token_url, client_id=demo_basic_client_id, "
              "client_secret=demo_basic_client_secret)")
    throughline = ("lookup('apiauth.saas.throughline_token', token_url=throughline_token_url, "
                   "client_id=throughline_client_id, client_secret=throughline_client_secret)")
    return {
        "refresh_tokens_store_credentials": {"OAUTH2_TOKEN": "{{ " + lookup + " }}"},
        "secret_store_backend": "env_file",
        "secret_store_file_path": str(out / "store.env"),
        "app_config_credentials": {"oauth2": "{{ " + lookup + " }}", "throughline": "{{ " + throughline + " }}"},
        "app_config_files": [{"dest": str(out) + "/{{ inventory_hostname }}.ini", "format": "ini",
                              "data": {"oauth2": {"token": "{{ app_config_secrets.oauth2 }}"},
                                       "throughline": {"token": "{{ app_config_secrets.throughline }}"}}}],
    }


def _fleet(hosts: int = 3) -> str:
    return ("localhost ansible_connection=local ansible_python_interpreter={py}\n[apiauth_token_consumers]\n"
            + "".join(f"app{n} ansible_connection=local ansible_python_interpreter={{py}}\n" for n in range(hosts))
            ).format(py=sys.executable)


def _tokens_in(out: Path) -> list:
    values = [line.split("=", 1)[1].strip().strip("'\"") for line in (out / "store.env").read_text().splitlines()
              if "=" in line and not line.startswith("#")]
    for ini in out.glob("app*.ini"):
        values += [line.split("=", 1)[1].strip() for line in ini.read_text().splitlines() if " = " in line]
    return values


def test_refresh_tokens_changes_nothing_while_tokens_are_fresh(sim, play, out, cache_dir):
    first = play("refresh_tokens.yml", inventory=_fleet(), extra_vars=_refresh_vars(out), verbosity=4, diff=True)
    assert first.rc == 0, first.output[-4000:]
    # One request per credential for the store and three hosts together.
    assert sim.token_requests("oauth2") == 1 and sim.token_requests("throughline") == 1
    contents = {p.name: p.read_text() for p in out.iterdir()}
    assert sorted(contents) == ["app0.ini", "app1.ini", "app2.ini", "store.env"]
    assert len({contents[f"app{n}.ini"] for n in range(3)}) == 1
    assert all((out / name).stat().st_mode & 0o777 == 0o600 for name in contents)
    tokens = _tokens_in(out)
    assert len(set(tokens)) == 2 and all(len(t) >= 20 for t in tokens)
    assert_absent(tokens + _demo_secrets(sim), first)
    # Diff mode: app_config lists the changed files of all hosts in one message, from one host.
    summary = first.output.split("Show what changed, without content]", 1)[1].split("TASK [", 1)[0]
    assert summary.count("ok: [") == 1 and all(f"/app{n}.ini" in summary for n in range(3)), summary

    sim.clear_audit()
    second = play("refresh_tokens.yml", inventory=_fleet(), extra_vars=_refresh_vars(out))
    assert second.rc == 0, second.output[-4000:]
    assert sim.token_requests() == 0
    assert second.total("changed") == 0
    assert {p.name: p.read_text() for p in out.iterdir()} == contents

    # Once the cached tokens are gone (as when they near expiry), one request each, and every file follows.
    shutil.rmtree(cache_dir)
    third = play("refresh_tokens.yml", inventory=_fleet(), extra_vars=_refresh_vars(out))
    assert third.rc == 0, third.output[-4000:]
    assert sim.token_requests("oauth2") == 1 and sim.token_requests("throughline") == 1
    assert all((out / name).read_text() != contents[name] for name in contents)


# rotate_thrive_apikey.yml ---------------------------------------------------------------------

def _thrive_vars(sim, store: Path, **more) -> dict:
    demo = sim.demo_vars()
    return {"thrive_environment": "staging", "thrive_tenants_url": demo["thrive_staging_tenants_url"],
            "secret_store_file_path": str(store), **more}


def test_rotate_thrive_apikey_keeps_rotates_and_recovers(sim, play, out, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    store = out / "thrive.json"
    first = play("rotate_thrive_apikey.yml", extra_vars=_thrive_vars(sim, store), env=env, verbosity=4)
    assert first.rc == 0, first.output[-4000:]
    held = json.loads(store.read_text())
    key = held["thrive_api_key"]
    assert len(key) >= 40 and held["_metadata"]["tenant_id"] == sim.demo_vars()["thrive_tenant_id"]
    assert "New key generated" in first.stdout
    assert sim.thrive_keys("staging", sim.demo_vars()["thrive_tenant_id"]) == 1
    assert_absent([key] + _demo_secrets(sim), first)

    kept = play("rotate_thrive_apikey.yml", extra_vars=_thrive_vars(sim, store), env=env)
    assert kept.rc == 0 and kept.total("changed") == 0, kept.output[-4000:]
    assert json.loads(store.read_text())["thrive_api_key"] == key
    assert sim.thrive_keys("staging", sim.demo_vars()["thrive_tenant_id"]) == 1

    # The store cannot be written after a forced rotation: the new key is in the recovery file.
    broken = out / "missing-dir" / "thrive.json"
    failed = play("rotate_thrive_apikey.yml", env=env,
                  extra_vars=_thrive_vars(sim, broken, rotate_thrive_apikey_force=True))
    assert failed.rc != 0
    recovery = tmp_path / "xdg" / "apiauth.saas" / "recovery" / f"thrive-apikey-{sim.demo_vars()['thrive_tenant_id']}.json"
    assert str(recovery) in " ".join(failed.output.split())
    assert "rotate_thrive_apikey_from_recovery=true" in failed.output
    new_key = json.loads(recovery.read_text())["api_key"]
    assert new_key != key and recovery.stat().st_mode & 0o777 == 0o600
    assert sim.thrive_keys("staging", sim.demo_vars()["thrive_tenant_id"]) == 2
    assert_absent([key, new_key], failed)

    recovered = play("rotate_thrive_apikey.yml", env=env,
                     extra_vars=_thrive_vars(sim, store, rotate_thrive_apikey_from_recovery=True))
    assert recovered.rc == 0, recovered.output[-4000:]
    assert json.loads(store.read_text())["thrive_api_key"] == new_key
    assert sim.thrive_keys("staging", sim.demo_vars()["thrive_tenant_id"]) == 2, "no third key"
    assert not recovery.exists(), "deleted once the store holds the key"


# rotate_thoughttrace_client.yml ---------------------------------------------------------------

def _token_works(sim, client_id: str, secret: str) -> bool:
    import requests  # pylint: disable=import-outside-toplevel

    answer = requests.post(sim.demo_vars()["thoughttrace_identity_url"] + "/connect/token", timeout=10,
                           data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
                           verify=sim.demo_vars()["sim_ca_path"])
    return answer.status_code == 200


def test_rotate_thoughttrace_client_stores_verifies_and_never_loses_the_secret(sim, play, run_playbook, out, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    created = run_playbook("thoughttrace_client.yml", extra_vars={"tc": {"name": "rotating-app"}})
    assert created.rc == 0, created.output[-3000:]
    original = json.loads((out / "result.json").read_text())
    client_id, old_secret = original["client_id"], original["client_secret"]
    store = out / "tt.yaml"
    common = {"thoughttrace_client_name": "rotating-app", "secret_store_file_path": str(store),
              "secret_store_file_format": "yaml"}

    missing = play("rotate_thoughttrace_client.yml", env=env,
                   extra_vars={**common, "thoughttrace_client_name": "no-such-app"})
    assert missing.rc != 0 and "has no API client named no-such-app" in " ".join(missing.output.split())
    assert sim.admin_mutations("thoughttrace-admin") == 1, "only the creation"

    rotated = play("rotate_thoughttrace_client.yml", env=env, extra_vars=common, verbosity=4)
    assert rotated.rc == 0, rotated.output[-4000:]
    import yaml  # pylint: disable=import-outside-toplevel

    held = yaml.safe_load(store.read_text())
    assert held["client_id"] == client_id and held["client_secret"] != old_secret
    assert _token_works(sim, client_id, held["client_secret"]) and not _token_works(sim, client_id, old_secret)
    recovery = tmp_path / "xdg" / "apiauth.saas" / "recovery" / "thoughttrace-client-rotating-app.json"
    assert not recovery.exists(), "deleted once the store holds a working secret"
    assert_absent([held["client_secret"], old_secret] + _demo_secrets(sim), rotated)

    # A store that cannot be written after the rotation: the play says where the new secret is.
    failed = play("rotate_thoughttrace_client.yml", env=env,
                  extra_vars={**common, "secret_store_file_path": str(out / "missing-dir" / "tt.yaml")})
    assert failed.rc != 0
    text = " ".join(failed.output.split())
    assert str(recovery) in text and "rotate_thoughttrace_client_from_recovery=true" in text
    assert "old secret no longer works" in text
    kept = json.loads(recovery.read_text())
    assert kept["client_id"] == client_id and _token_works(sim, client_id, kept["client_secret"])
    assert not _token_works(sim, client_id, held["client_secret"])
    assert_absent([kept["client_secret"], held["client_secret"]], failed)

    mutations = sim.admin_mutations("thoughttrace-admin")
    recovered = play("rotate_thoughttrace_client.yml", env=env,
                     extra_vars={**common, "rotate_thoughttrace_client_from_recovery": True})
    assert recovered.rc == 0, recovered.output[-4000:]
    assert yaml.safe_load(store.read_text())["client_secret"] == kept["client_secret"]
    assert sim.admin_mutations("thoughttrace-admin") == mutations, "no second rotation"
    assert not recovery.exists()


# provision_thoughtspot_trusted_auth.yml -------------------------------------------------------

def test_provision_thoughtspot_trusted_auth_stores_the_key_once(sim, play, out):
    demo = sim.demo_vars()
    org_id = 7000 + len(sim.thoughtspot_users())
    sim.thoughtspot_add_org(org_id, f"Provisioned {org_id}")
    store = out / "thoughtspot.json"
    extra = {"thoughtspot_username": demo["thoughtspot_admin_username"],
             "thoughtspot_password": demo["thoughtspot_admin_password"], "thoughtspot_org": str(org_id),
             "secret_store_file_path": str(store)}
    first = play("provision_thoughtspot_trusted_auth.yml", extra_vars=extra, verbosity=4)
    assert first.rc == 0, first.output[-4000:]
    held = json.loads(store.read_text())
    key = held["trusted_auth_secret_key"]
    assert sim.thoughtspot_trusted_auth()["orgs"][str(org_id)]["auth_status"] == "ENABLED"
    assert store.stat().st_mode & 0o777 == 0o600
    assert_absent([key, demo["thoughtspot_admin_password"]], first)

    again = play("provision_thoughtspot_trusted_auth.yml", extra_vars=extra)
    assert again.rc == 0 and again.total("changed") == 0, again.output[-4000:]
    assert json.loads(store.read_text())["trusted_auth_secret_key"] == key

    off = play("provision_thoughtspot_trusted_auth.yml",
               extra_vars=dict(extra, thoughtspot_trusted_auth_state="absent"))
    assert off.rc == 0 and off.total("changed") == 1, off.output[-4000:]
    assert sim.thoughtspot_trusted_auth()["orgs"][str(org_id)]["auth_status"] == "DISABLED"


# every playbook in check and diff mode -----------------------------------------------------------

@pytest.mark.parametrize("name", ["refresh_tokens.yml", "rotate_thrive_apikey.yml", "rotate_thoughttrace_client.yml",
                                  "provision_thoughtspot_trusted_auth.yml"])
def test_check_and_diff_mode_write_nothing_and_show_no_secret(sim, play, run_playbook, out, tmp_path, name):
    demo = sim.demo_vars()
    secrets = _demo_secrets(sim) + [demo["thoughtspot_admin_password"], demo["thoughtspot_secret_key"]]
    kwargs = {}
    if name == "refresh_tokens.yml":
        extra, kwargs = _refresh_vars(out), {"inventory": _fleet()}
    elif name == "rotate_thrive_apikey.yml":
        extra = _thrive_vars(sim, out / "thrive.json")
    elif name == "rotate_thoughttrace_client.yml":
        assert run_playbook("thoughttrace_client.yml", extra_vars={"tc": {"name": "check-mode-app"}}).rc == 0
        secrets.append(json.loads((out / "result.json").read_text())["client_secret"])
        (out / "result.json").unlink()
        extra = {"thoughttrace_client_name": "check-mode-app", "secret_store_file_path": str(out / "tt.yaml")}
    else:
        org_id = 8000 + len(sim.thoughtspot_users())
        sim.thoughtspot_add_org(org_id, f"Check mode {org_id}")
        extra = {"thoughtspot_username": demo["thoughtspot_admin_username"],
                 "thoughtspot_password": demo["thoughtspot_admin_password"], "thoughtspot_org": str(org_id),
                 "secret_store_file_path": str(out / "thoughtspot.json")}
    mutations = (sim.admin_mutations("thoughttrace-admin"), sim.graphql_mutations())
    run = play(name, extra_vars=extra, env={"XDG_CACHE_HOME": str(tmp_path / "xdg")}, verbosity=4, check=True,
               diff=True, **kwargs)
    assert run.rc == 0, run.output[-4000:]
    assert not list(out.iterdir()), "check mode writes no store and no config"
    assert (sim.admin_mutations("thoughttrace-admin"), sim.graphql_mutations()) == mutations
    assert_absent(secrets, run)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytestmark,
    pytest.mark.role_app_config,
    pytest.mark.role_secret_store,
    pytest.mark.oauth2_token,
    pytest.mark.throughline_token,
    pytest.mark.thoughtspot_trusted_auth,
    pytest.mark.thoughttrace_client,
    pytest.mark.thoughttrace_token,
    pytest.mark.thrive_apikey,
    pytest.mark.playbook_provision_thoughtspot_trusted_auth,
    pytest.mark.playbook_refresh_tokens,
    pytest.mark.playbook_rotate_thoughttrace_client,
    pytest.mark.playbook_rotate_thrive_apikey,
]
