"""The module files work on their own, without their action plugins.

Ansible always prefers the action plugin of the same name; this path is what
tools that execute module files directly get, and it must behave the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import COLLECTIONS, ROOT

MODULES = ROOT / "plugins" / "modules"


def _run_module(name: str, args: dict, tmp_path) -> tuple:
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    proc = subprocess.run([sys.executable, str(MODULES / f"{name}.py"), str(args_file)], env=env,
                          capture_output=True, text=True, timeout=120, check=False, cwd=str(tmp_path))
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return json.loads(proc.stdout), proc.stdout + proc.stderr


@pytest.mark.parametrize("censor", [True, False])
def test_module_main_fetches_and_caches(sim, tmp_path, censor):
    demo = sim.demo_vars()
    args = {"token_url": demo["oauth2_token_url"], "client_id": demo["demo_basic_client_id"],
            "client_secret": demo["demo_basic_client_secret"], "ca_path": demo["sim_ca_path"],
            "cache_dir": str(tmp_path / "cache"), "censor_result": censor}
    first, output = _run_module("oauth2_token", args, tmp_path)
    assert first["changed"] is True and first["source"] == "network"
    assert demo["demo_basic_client_secret"] not in output
    second = _run_module("oauth2_token", args, tmp_path)[0]
    assert second["changed"] is False and second["source"] == "file"
    assert sim.token_requests("oauth2") == 1
    if censor:
        # AnsibleModule masks no_log values with its own placeholder.
        assert first["access_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    else:
        assert len(first["access_token"]) >= 20 and first["access_token"] == second["access_token"]


def test_module_main_reports_errors_cleanly(sim, tmp_path):
    demo = sim.demo_vars()
    args = {"client_id": demo["throughline_client_id"], "client_secret": "wrong-" + "x" * 40,
            "token_url": demo["throughline_token_url"], "ca_path": demo["sim_ca_path"],
            "cache_dir": str(tmp_path / "cache")}
    result, output = _run_module("throughline_token", args, tmp_path)
    assert result["failed"] is True
    assert "HTTP 401 invalid_client" in result["msg"]
    assert "x" * 40 not in output


def _vendor_args(sim, vendor: str) -> dict:
    demo = sim.demo_vars()
    if vendor == "thredd":
        url = sim.thredd_url("uat", "tls")
        return {"environment": "uat", "client_id": demo["thredd_uat_client_id"],
                "client_secret": demo["thredd_uat_client_secret"], "base_url": url, "token_url": f"{url}/oauth2/token"}
    if vendor == "thoughttrace":
        return {"identity_url": demo["thoughttrace_identity_url"], "client_id": demo["thoughttrace_client_id"],
                "client_secret": demo["thoughttrace_client_secret"]}
    return {"environment": "staging", "tenant_id": demo["thrive_tenant_id"], "client_id": demo["thrive_client_id"],
            "client_secret": demo["thrive_client_secret"], "base_url": demo["thrive_staging_base_url"]}


@pytest.mark.parametrize("vendor", ["thredd", "thoughttrace", "thrive"])
def test_vendor_module_main(sim, tmp_path, vendor):
    args = dict(_vendor_args(sim, vendor), ca_path=sim.demo_vars()["sim_ca_path"], cache_dir=str(tmp_path / "c"))
    result, output = _run_module(f"{vendor}_token", args, tmp_path)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and result["source"] == "network"
    assert args["client_secret"] not in output
    assert sim.token_requests(vendor) == 1


def test_thoughtspot_module_files_run_alone(sim, tmp_path):
    demo = sim.demo_vars()
    common = {"host": demo["thoughtspot_host"], "ca_path": demo["sim_ca_path"]}
    args = dict(common, username=demo["thoughtspot_username"], secret_key=demo["thoughtspot_secret_key"],
                cache_dir=str(tmp_path / "c"), censor_result=False)
    result, output = _run_module("thoughtspot_token", args, tmp_path)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and result["username"] == demo["thoughtspot_username"]
    assert demo["thoughtspot_secret_key"] not in output
    info = _run_module("thoughtspot_token_info", dict(common, token=result["access_token"]), tmp_path)[0]
    assert info["valid"] is True and info["user"]["name"] == demo["thoughtspot_username"]
    refused = _run_module("thoughtspot_token", dict(args, revoke_at_end=True), tmp_path)[0]
    assert refused["failed"] is True and "callback" in refused["msg"]
    admin = {"username": demo["thoughtspot_admin_username"], "password": demo["thoughtspot_admin_password"],
             "cache_dir": str(tmp_path / "c")}
    trusted = _run_module("thoughtspot_trusted_auth", dict(common, **admin), tmp_path)
    assert trusted[0]["changed"] is False and trusted[0]["auth_status"] == "ENABLED"
    assert demo["thoughtspot_secret_key"] not in trusted[1], "the key is masked in the module's output"


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
    pytest.mark.thoughtspot_token_info,
    pytest.mark.thoughtspot_trusted_auth,
]
