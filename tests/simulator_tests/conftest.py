"""Session-wide simulator for the simulator's own tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from simulators.fixtures import Simulator  # noqa: E402  pylint: disable=wrong-import-position


class Sensitive:
    """Every secret, assertion and token a test sent or received, to prove none leaked."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str | None) -> None:
        self.values.update(v for v in values if v)

    def leaks(self, paths: list[str]) -> list[str]:
        """Files (by path) that contain any recorded value verbatim."""
        found = []
        for path in paths:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            found += [path for value in self.values if value in text]
        return sorted(set(found))


@pytest.fixture(scope="session")
def sensitive() -> Sensitive:
    return Sensitive()


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory, sensitive: Sensitive) -> Iterator[Simulator]:
    simulator = Simulator.start(tmp_path_factory.mktemp("sim"))
    vars_ = simulator.demo_vars()
    sensitive.add(*(v for k, v in vars_.items() if k.endswith(("_secret", "_password", "_secret_key"))))
    try:
        yield simulator
    finally:
        simulator.stop()
    # After every test of the session: no secret, assertion or token in the
    # audit log, the server's own output or sim.json (demo-vars.yml is allowed).
    leaks = sensitive.leaks([simulator.audit_log, simulator.log_path])
    assert not leaks, f"secret material written to {leaks}"


@pytest.fixture(autouse=True)
def _no_leftover_faults(sim: Simulator) -> Iterator[None]:
    sim.clear_faults()
    yield
    sim.clear_faults()
