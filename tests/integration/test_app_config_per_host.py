"""What the app_config role runs on each host: the file task, plus one handler where a file changed.

Each task that runs per host is a worker process on every host, and a credential lookup templated there is
loaded and evaluated again in each of them (docs/benchmarks.md). The role templates the credentials once per
run, checks its options in the file task itself, and notifies the handler of its service manager only.
The default callback names every task and every host it ran on (skipped ones too), so these tests read
what ran where.
"""

from __future__ import annotations

import re
import sys

import pytest

from conftest import assert_no_traceback

HOSTS = [f"node{n}" for n in range(4)]
ROLE = "apiauth.saas.app_config : "


def _inventory() -> str:
    return "[fleet]\n" + "".join(f"{name} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                                 for name in HOSTS)


BANNER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.+)\] \*+$")
HOST_RESULT = re.compile(r"^(?:ok|changed|skipping|failed|fatal): \[([^\]]+)\]")


def _per_host_tasks(output: str) -> dict:
    """Task name -> the hosts it ran on (skipped ones included), from the default callback's output."""
    tasks: dict = {}
    current = None
    for line in output.splitlines():
        banner = BANNER.match(line)
        if banner:
            current = tasks.setdefault(banner.group(1), set())
            continue
        result = HOST_RESULT.match(line)
        if result and current is not None:
            current.add(result.group(1))
    return tasks


@pytest.fixture
def fleet(run_playbook, out, tmp_path):
    count_file = tmp_path / "evaluations"
    for name in HOSTS:
        (out / name).mkdir(parents=True, exist_ok=True)

    def run():
        result = run_playbook("app_config_fleet.yml", inventory=_inventory(), forks=4,
                              extra_vars={"count_file": str(count_file)})
        assert result.rc == 0, result.output[-3000:]
        assert_no_traceback(result)
        return result

    return run, count_file


def test_the_credentials_are_templated_once_for_the_whole_fleet(fleet, out):
    run, count_file = fleet
    run()
    # Positive control: the lookup ran, and its value reached every host's file.
    assert all("counted-value" in (out / name / "app.ini").read_text() for name in HOSTS)
    assert count_file.read_text().splitlines() == ["evaluated"]


def test_per_host_only_the_files_and_one_handler(fleet, out):
    run, _count_file = fleet
    cold = _per_host_tasks(run().output)
    everywhere = sorted(name for name, hosts in cold.items() if hosts == set(HOSTS))
    assert everywhere == [ROLE + "Reload or restart the service with its command",
                          ROLE + "Render the configuration files"], cold
    assert not any(name.startswith("Validating arguments") for name in cold)
    assert all(len(hosts) == 1 for name, hosts in cold.items() if name not in everywhere)
    assert all((out / name / "reloads").read_text() == "reloaded\n" for name in HOSTS)

    warm = _per_host_tasks(run().output)
    # Nothing changed: no handler anywhere, and the service was not reloaded again.
    assert not any("Reload" in name for name in warm)
    assert all((out / name / "reloads").read_text() == "reloaded\n" for name in HOSTS)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.role_app_config,
    pytest.mark.to_config,
    pytest.mark.oauth2_token,
    pytest.mark.throughline_token,
]
