"""The module files' main() (run_module, run_task_module) as a tool that runs them directly sees it.

Each module file runs as its own process with ANSIBLE_MODULE_ARGS input, as
Ansible's module runner hands it, against the simulator. These cover the
adapter's own work: the argument checks beyond AnsibleModule's, the engine's
errors as clean failures with secrets masked, check and diff mode handed to a
task, and censoring of a result that holds a secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import COLLECTIONS, ROOT, strong_secret

MODULES = ROOT / "plugins" / "modules"
NO_LOG_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def run_module_file(name: str, args: dict, tmp_path: Path, **internal) -> tuple[dict, str]:
    """(result, all output) of plugins/modules/<name>.py run alone; ``internal`` adds _ansible_* arguments."""
    payload = dict(args, **{f"_ansible_{key}": value for key, value in internal.items()})
    args_file = tmp_path / f"args-{uuid.uuid4().hex}.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
    proc = subprocess.run([sys.executable, str(MODULES / f"{name}.py"), str(args_file)],
                          env=dict(os.environ, PYTHONPATH=str(COLLECTIONS)), capture_output=True, text=True,
                          timeout=120, check=False, cwd=str(tmp_path))
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    return json.loads(proc.stdout), output


def _oauth2_args(sim, tmp_path, **extra) -> dict:
    demo = sim.demo_vars()
    return dict({"token_url": demo["oauth2_token_url"], "client_id": demo["demo_basic_client_id"],
                 "client_secret": demo["demo_basic_client_secret"], "ca_path": demo["sim_ca_path"],
                 "cache_dir": str(tmp_path / "cache")}, **extra)


@pytest.mark.parametrize("option, value, words", [
    ("client_secret", {"nested": "dict-secret-" + "w" * 30}, ["client_secret"]),
    ("token_url", "ftp://127.0.0.1/oauth2/token", ["token_url"]),
    ("ca_path", "", ["ca_path"]),
])
def test_run_module_refuses_bad_arguments_before_any_request(sim, tmp_path, option, value, words):
    result, output = run_module_file("oauth2_token", _oauth2_args(sim, tmp_path, **{option: value}), tmp_path)
    assert result["failed"] is True, result
    assert all(word in result["msg"] for word in words), result["msg"]
    assert "w" * 30 not in output, "a dictionary given for a secret is not shown"
    assert sim.token_requests("oauth2") == 0
    # Positive control: the same arguments with the value left as it was work and reach the simulator.
    good = run_module_file("oauth2_token", _oauth2_args(sim, tmp_path), tmp_path)[0]
    assert good.get("failed") is not True and sim.token_requests("oauth2") == 1


def test_run_module_masks_a_secret_the_vendor_quotes(sim, tmp_path):
    secret = strong_secret("echoed-")
    sim.add_faults("oauth2", [{"kind": "echo", "render": render} for render in ("body", "json", "base64")])
    for _render in ("body", "json", "base64"):
        args = _oauth2_args(sim, tmp_path, client_id="echo-client", client_secret=secret,
                            auth_method="client_secret_post", cache=False, retries=0)
        result, output = run_module_file("oauth2_token", args, tmp_path)
        assert result["failed"] is True and "HTTP" in result["msg"], result
        assert secret not in output and secret[7:40] not in output
    echoes = [entry for entry in sim.audit("oauth2") if entry.get("fault") == "echo"]
    # Positive control: the simulator's answers quoted the request, the secret with it.
    assert len(echoes) == 3
    assert any(secret[7:40] in Path(entry["echo_file"]).read_text() for entry in echoes)


def test_run_module_censors_the_token_unless_told(sim, tmp_path):
    censored, output = run_module_file("oauth2_token", _oauth2_args(sim, tmp_path), tmp_path)
    assert censored["access_token"] == NO_LOG_MASK and censored["source"] == "network"
    shown = run_module_file("oauth2_token", _oauth2_args(sim, tmp_path, censor_result=False), tmp_path)[0]
    # Positive control: the same token, from the file cache, shown when the task says so.
    assert shown["source"] == "file" and len(shown["access_token"]) >= 20
    assert shown["authorization"] == f"Bearer {shown['access_token']}"
    assert shown["access_token"] not in output and shown["access_token"] not in censored["authorization"]


def test_run_task_module_check_diff_then_change(sim, tmp_path):
    demo = sim.demo_vars()
    org_id = 200000 + int(uuid.uuid4().int % 100000)
    sim.thoughtspot_add_org(org_id, f"Org {org_id}")
    args = {"host": demo["thoughtspot_host"], "ca_path": demo["sim_ca_path"], "org": str(org_id),
            "username": demo["thoughtspot_admin_username"], "password": demo["thoughtspot_admin_password"],
            "cache_dir": str(tmp_path / "cache")}

    checked, output = run_module_file("thoughtspot_trusted_auth", args, tmp_path, check_mode=True, diff=True)
    assert checked["changed"] is True and "secret_key" not in checked
    assert checked["diff"]["before"]["auth_status"] == "DISABLED"
    assert checked["diff"]["after"]["auth_status"] == "ENABLED"
    assert not [e for e in sim.audit("thoughtspot") if e.get("operation") == "configure"], "check mode changes nothing"
    assert demo["thoughtspot_admin_password"] not in output

    enabled, output = run_module_file("thoughtspot_trusted_auth", args, tmp_path)
    assert enabled["changed"] is True and enabled["auth_status"] == "ENABLED"
    assert "diff" not in enabled, "no diff unless asked"
    # The key is in the result but masked: the module holds a secret and censor_result defaults to true.
    assert enabled["secret_key"] == NO_LOG_MASK and enabled["key_fingerprint"].startswith("sha256:")
    assert len([e for e in sim.audit("thoughtspot") if e.get("operation") == "configure"]) == 1

    shown = run_module_file("thoughtspot_trusted_auth", dict(args, censor_result=False), tmp_path)[0]
    assert shown["changed"] is False and len(shown["secret_key"]) >= 20 and shown["secret_key"] != NO_LOG_MASK


def test_run_task_module_masks_its_secret_options_in_errors(sim, tmp_path):
    demo = sim.demo_vars()
    password = strong_secret("admin-")
    sim.add_faults("thoughtspot", [{"kind": "echo", "render": "json"}])
    args = {"host": demo["thoughtspot_host"], "ca_path": demo["sim_ca_path"], "username": "echo-admin",
            "password": password, "cache_dir": str(tmp_path / "cache"), "retries": 0}
    result, output = run_module_file("thoughtspot_trusted_auth", args, tmp_path)
    assert result["failed"] is True and "ThoughtSpot" in result["msg"], result
    assert password not in output and password[6:40] not in output
    echoes = [entry for entry in sim.audit("thoughtspot") if entry.get("fault") == "echo"]
    assert echoes, "positive control: the echo fault answered the request"


def test_run_task_module_refuses_bad_arguments(sim, tmp_path):
    demo = sim.demo_vars()
    args = {"host": demo["thoughtspot_host"], "ca_path": demo["sim_ca_path"],
            "username": demo["thoughtspot_admin_username"], "password": {"x": "p" * 30}}
    result, output = run_module_file("thoughtspot_trusted_auth", args, tmp_path)
    assert result["failed"] is True and "password" in result["msg"], result
    assert "p" * 30 not in output
    result = run_module_file("thoughtspot_trusted_auth", {"host": demo["thoughtspot_host"],
                                                          "ca_path": demo["sim_ca_path"]}, tmp_path)[0]
    assert result["failed"] is True and "one of" in result["msg"], result
    assert not sim.audit("thoughtspot")


pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_trusted_auth,
]
