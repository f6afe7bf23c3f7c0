"""The EXAMPLES of every module and lookup run as they are against the simulator."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, assert_no_traceback

PLUGIN_FILES = sorted((ROOT / "plugins" / "modules").glob("*.py")) + sorted((ROOT / "plugins" / "lookup").glob("*.py"))


def _examples(path: Path) -> list:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXAMPLES" for t in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path} has no EXAMPLES")


@pytest.mark.smoke
@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_examples_run(sim, run_playbook, tmp_path, path):
    tasks = _examples(path)
    assert tasks, "EXAMPLES must not be empty"
    playbook = tmp_path / "examples.yml"
    playbook.write_text(json.dumps([{"name": f"EXAMPLES of {path.stem}", "hosts": "localhost",
                                     "gather_facts": False, "tasks": tasks}]))
    app_dir = tmp_path / "app"
    app_dir.mkdir(mode=0o700)
    run = run_playbook(str(playbook), extra_vars={"app_dir": str(app_dir)})
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert run.total("failed") == 0
    assert sim.audit(), "the examples talked to the simulator"


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
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
    pytest.mark.credential_report,
    pytest.mark.app_config_render,
]
