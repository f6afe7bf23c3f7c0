"""tests/README.md maps every plugin, role and playbook to its tests; this keeps the map true.

Each thing the collection ships has a pytest marker registered in pytest.ini,
a row in the README's map, and at least one test file that carries the
marker; the files a row lists are exactly the files that carry its marker.
A new plugin without tests, a test file that gains or loses a marker, or a
renamed file fails here and names what to fix.
"""

from __future__ import annotations

import ast
import configparser
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "tests" / "README.md"
TEST_DIRS = ("tests/unit", "tests/integration", "tests/simulator_tests")
# Markers that select a kind of test rather than a thing the collection ships.
GENERAL_MARKERS = {"smoke"}
# pytest's own markers, used in test files for other purposes.
PYTEST_MARKERS = {"parametrize", "skipif", "skip", "xfail", "usefixtures", "filterwarnings"}
ROW = re.compile(r"^\|\s*(?P<kind>[a-z]+)\s*\|\s*`(?P<name>[^`]+)`\s*\|\s*`(?P<marker>[a-z0-9_]+)`\s*\|"
                 r"(?P<files>[^|]*)\|\s*$")


@functools.cache
def shipped() -> dict:
    """marker -> (kind, name) for every plugin, role and playbook of the collection."""
    things = {}
    for kind, folder in (("module", "modules"), ("lookup", "lookup"), ("filter", "filter"), ("callback", "callback")):
        for path in sorted((ROOT / "plugins" / folder).glob("*.py")):
            if path.stem != "__init__":
                things.setdefault(path.stem, []).append((kind, path.stem))
    for path in sorted((ROOT / "roles").iterdir()):
        if (path / "tasks").is_dir():
            things[f"role_{path.name}"] = [("role", path.name)]
    for path in sorted((ROOT / "playbooks").glob("*.yml")):
        things[f"playbook_{path.stem}"] = [("playbook", f"playbooks/{path.name}")]
    return things


def markers_in(path: Path) -> set:
    """The names X of every ``pytest.mark.X`` written in a test file (module pytestmark, classes or tests)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "mark"
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "pytest"):
            found.add(node.attr)
    return found - PYTEST_MARKERS


@functools.cache
def files_by_marker() -> dict:
    by_marker: dict = {}
    for folder in TEST_DIRS:
        for path in sorted((ROOT / folder).rglob("test_*.py")):
            for marker in markers_in(path):
                by_marker.setdefault(marker, set()).add(path.relative_to(ROOT / "tests").as_posix())
    return by_marker


@functools.cache
def readme_rows() -> dict:
    """(kind, name) -> (marker, set of files) from the map tables of tests/README.md."""
    rows = {}
    for line in README.read_text().splitlines():
        match = ROW.match(line)
        if match:
            files = set(re.findall(r"`([^`]+\.py)`", match["files"]))
            rows[(match["kind"], match["name"])] = (match["marker"], files)
    return rows


@functools.cache
def registered() -> set:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "pytest.ini")
    lines = parser.get("pytest", "markers").strip().splitlines()
    return {line.split(":", 1)[0].strip() for line in lines if line.strip()}


def test_the_map_reader_sees_what_it_should():
    # Positive controls: the scanners find known things, so an empty result below cannot pass by accident.
    assert ("module", "thredd_token") in {entry for entries in shipped().values() for entry in entries}
    assert ("callback", "revoke_at_end") in shipped()["revoke_at_end"]
    assert "thredd_token" in markers_in(ROOT / "tests" / "integration" / "test_vendor_tokens.py")
    assert "smoke" in markers_in(ROOT / "tests" / "integration" / "test_examples.py")
    assert len(readme_rows()) >= len(shipped())
    assert {"smoke", "thredd_token"} <= registered()


def test_every_marker_is_registered_and_names_something_shipped():
    things = shipped()
    assert set(things) <= registered(), f"register in pytest.ini: {sorted(set(things) - registered())}"
    stale = registered() - set(things) - GENERAL_MARKERS
    assert not stale, f"pytest.ini registers markers of nothing shipped: {sorted(stale)}"
    used = set(files_by_marker()) - GENERAL_MARKERS
    assert used <= set(things), f"test files use markers of nothing shipped: {sorted(used - set(things))}"


@pytest.mark.parametrize("marker", sorted(shipped()))
def test_every_plugin_role_and_playbook_has_tests_and_a_true_row(marker):
    carrying = files_by_marker().get(marker, set())
    assert carrying, f"no test file carries pytest.mark.{marker}: add tests, or the marker to the files that test it"
    rows = readme_rows()
    for kind, name in shipped()[marker]:
        assert (kind, name) in rows, f"tests/README.md has no map row for the {kind} {name}"
        row_marker, listed = rows[(kind, name)]
        assert row_marker == marker, f"tests/README.md gives the {kind} {name} the marker {row_marker}, not {marker}"
        assert listed == carrying, (
            f"tests/README.md row of the {kind} {name}: add {sorted(carrying - listed)}, "
            f"remove {sorted(listed - carrying)}"
        )
