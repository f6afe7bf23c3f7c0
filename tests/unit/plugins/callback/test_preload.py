"""The callback preload: what a worker forked after it inherits from ansible-playbook's main process.

Each case runs in a new Python process, so that no earlier test has loaded plugins already. In it the
plugin loader is set up as ansible-playbook does, and a forked child (as Ansible forks a worker) reports
whether Ansible's own test and filter plugins are already loaded. The positive control is the same
process without the preload: there the child finds them not loaded, and loads them itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent("""
    import json, os, sys
    from ansible.plugins.loader import filter_loader, init_plugin_loader, test_loader
    init_plugin_loader([os.environ["COLLECTIONS"]])
    from ansible_collections.apiauth.saas.plugins.callback.preload import preload_plugins
    loaded = preload_plugins() if sys.argv[1] == "preload" else []
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        # The worker: what it finds loaded before its first filter and test.
        seen = {"tests": bool(test_loader._cached_non_collection_wrappers),
                "filters": bool(filter_loader._cached_non_collection_wrappers)}
        from ansible_collections.apiauth.saas.plugins.filter.app_config_problems import role_defaults
        seen["role_defaults"] = role_defaults.cache_info().currsize
        # Then it uses one of each, as a template and a condition would.
        seen["truthy"] = test_loader.get("ansible.builtin.truthy") is not None
        seen["comment"] = filter_loader.get("ansible.builtin.comment") is not None
        os.write(write, json.dumps(seen).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    print(json.dumps({"loaded": loaded, "worker": json.loads(os.read(read, 4096))}))
""")


def _probe(mode: str) -> dict:
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    result = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, COLLECTIONS=collections), check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["preload", "none"])
def test_a_worker_inherits_ansibles_tests_filters_and_the_roles_defaults_after_the_preload(mode):
    found = _probe(mode)
    worker = found["worker"]
    # Both kinds work in the worker either way: only who loaded them differs.
    assert worker["truthy"] and worker["comment"], worker
    if mode == "preload":
        assert "apiauth.saas.oauth2_token" in found["loaded"] and "apiauth.saas.to_config" in found["loaded"], found
        assert worker["tests"] and worker["filters"] and worker["role_defaults"] == 1, worker
    else:  # positive control: without the preload the worker starts with none of them
        assert not worker["tests"] and not worker["filters"] and worker["role_defaults"] == 0, worker


pytestmark = [pytest.mark.preload]
