"""The callback apiauth.saas.preload: the workers inherit the collection's plugins from the main process.

Ansible forks a worker per host and task, and each loads the lookups it uses afresh, compiling their
Python source and parsing their documentation (task plugins Ansible loads in the main process itself).
With the callback enabled, ansible-playbook's main process loads them once before the first task, and
no worker compiles them again. An audit hook (a sitecustomize module
on PYTHONPATH, inherited by the forked workers) writes the process id and the file of every compile
of the collection's code, so the test sees which process compiled what. The positive control is the
same run without the callback: there every host's worker compiles the lookup again.
"""

from __future__ import annotations

import collections
import sys
import textwrap

import pytest

from conftest import assert_absent, assert_no_traceback

HOSTS = [f"node{n}" for n in range(4)]
PLUGINS = "/ansible_collections/apiauth/saas/plugins/"
SITECUSTOMIZE = textwrap.dedent("""
    import os
    import sys

    LOG = os.environ.get("APIAUTH_TEST_COMPILE_LOG")

    def _note_compile(event, args):
        if event == "compile" and len(args) > 1 and "%s" in str(args[1]):
            fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, ("%%d %%s\\n" %% (os.getpid(), args[1])).encode())
            finally:
                os.close(fd)

    if LOG:
        sys.addaudithook(_note_compile)
    """ % PLUGINS)


def _inventory() -> str:
    return "[fleet]\n" + "".join(f"{name} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                                 for name in HOSTS)


@pytest.fixture
def fleet(run_playbook, out, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "compiles.log"

    def run(*, preload: bool, verbosity: int = 0, playbook: str = "fleet.yml", extra_vars=None) -> tuple:
        """The run, and for each file of the collection's plugins the number of processes that compiled it."""
        log.unlink(missing_ok=True)
        env = {"PYTHONPATH": str(site), "APIAUTH_TEST_COMPILE_LOG": str(log)}
        if preload:
            env["ANSIBLE_CALLBACKS_ENABLED"] = "apiauth.saas.preload"
        result = run_playbook(playbook, inventory=_inventory(), forks=4, env=env, verbosity=verbosity,
                              extra_vars=extra_vars)
        assert result.rc == 0, result.stdout[-3000:]
        assert_no_traceback(result)
        processes = collections.defaultdict(set)
        for line in log.read_text().splitlines():
            pid, path = line.split(" ", 1)
            processes[path.split(PLUGINS, 1)[1]].add(pid)
        return result, {path: len(pids) for path, pids in processes.items()}

    return run


def test_without_the_callback_every_worker_compiles_the_lookup(fleet):
    fleet(preload=False)  # fills the token cache
    _run, compiled = fleet(preload=False)
    # The lookup in each host's template task: its file, its documentation fragments and what it imports.
    assert compiled["lookup/oauth2_token.py"] == len(HOSTS), compiled
    assert compiled["plugin_utils/_lookup.py"] == len(HOSTS), compiled
    assert compiled["doc_fragments/token_lookup.py"] == len(HOSTS), compiled
    # Ansible itself loads a task's action plugin in the main process (and the engine with it, here).
    assert compiled["action/throughline_token.py"] == 1, compiled


def test_with_the_callback_only_the_main_process_compiles_them(fleet, sim, out):
    fleet(preload=True)
    run, compiled = fleet(preload=True, verbosity=4)
    # Positive control: the hook saw the compiles (in the main process), and the lookup did run on every
    # host and put its token in each file.
    assert compiled.get("lookup/oauth2_token.py") == 1, compiled
    assert set(compiled.values()) == {1}, compiled
    assert all((out / f"{name}.ini").read_text().count("token = ") == 1 for name in HOSTS)
    assert "apiauth.saas.preload: loaded" in run.stdout
    assert_absent([sim.demo_vars()["demo_basic_client_secret"], sim.demo_vars()["throughline_client_secret"]], run)


@pytest.mark.parametrize("preload", [False, True], ids=["without", "with"])
def test_the_filters_of_app_config_are_inherited_with_the_callback(fleet, out, tmp_path, preload):
    for name in HOSTS:
        (out / name).mkdir(parents=True, exist_ok=True)
    extra = {"count_file": str(tmp_path / "evaluations")}
    _run, compiled = fleet(preload=preload, playbook="app_config_fleet.yml", extra_vars=extra)
    assert all("counted-value" in (out / name / "app.ini").read_text() for name in HOSTS)
    # Without the callback each host's worker loads the filters the role renders with (positive control).
    assert compiled["filter/to_config.py"] == (1 if preload else len(HOSTS)), compiled


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [pytest.mark.preload, pytest.mark.role_app_config, pytest.mark.to_config]
