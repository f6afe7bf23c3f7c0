"""tests/find_python.sh: the Makefile's choice of interpreter, with fake interpreters.

A candidate counts only when it RUNS and says it is the version asked for: a pyenv shim of a
version that is not enabled sits on PATH and exits 127, which must not be taken.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "find_python.sh"


def _fake(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def _run(tmp_path: Path, *versions: str, pyenv_root: Path | None = None):
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    if pyenv_root is not None:
        env["PYENV_ROOT"] = str(pyenv_root)
    return subprocess.run(["bash", str(SCRIPT), *versions], env=env, capture_output=True, text=True, check=False,
                          timeout=60)


def test_a_shim_that_exits_127_is_skipped_for_the_pyenv_install(tmp_path):
    _fake(tmp_path / "bin" / "python3.13", "echo 'pyenv: python3.13: command not found' >&2; exit 127")
    _fake(tmp_path / "bin" / "python3", "echo 3.11")
    root = tmp_path / "pyenv"
    _fake(root / "versions" / "3.13.1" / "bin" / "python3.13", "echo 3.13")
    newest = _fake(root / "versions" / "3.13.10" / "bin" / "python3.13", "echo 3.13")
    out = _run(tmp_path, "3.13", "3.12", pyenv_root=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(newest)  # 3.13.10 sorts after 3.13.9, not before 3.13.2


def test_pyenv_under_home_is_found_without_pyenv_root(tmp_path):
    found = _fake(tmp_path / "home" / ".pyenv" / "versions" / "3.12.1" / "bin" / "python3.12", "echo 3.12")
    out = _run(tmp_path, "3.13", "3.12")
    assert (out.returncode, out.stdout.strip()) == (0, str(found)), out.stderr


def test_a_candidate_of_another_version_is_not_taken(tmp_path):
    _fake(tmp_path / "bin" / "python3.13", "echo 3.12")  # a misnamed link
    wanted = _fake(tmp_path / "bin" / "python3.12", "echo 3.12")
    out = _run(tmp_path, "3.13", "3.12")
    assert (out.returncode, out.stdout.strip()) == (0, str(wanted)), out.stderr


def test_none_that_runs_fails_with_what_to_install(tmp_path):
    _fake(tmp_path / "bin" / "python3.13", "exit 127")
    _fake(tmp_path / "bin" / "python3", "echo 3.11")
    out = _run(tmp_path, "3.13", "3.12", pyenv_root=tmp_path / "no-such-root")
    assert out.returncode == 1
    assert out.stdout == ""
    assert "no working Python 3.13 3.12 found" in out.stderr
    assert "pyenv install 3.13" in out.stderr and "PYTHON_NEW" in out.stderr


def test_the_real_machine_has_the_newest_python_the_makefile_uses():
    # The interpreter of this test run is one the script accepts for its own version.
    version = "%d.%d" % tuple(int(n) for n in os.sys.version.split()[0].split(".")[:2])
    out = subprocess.run(["bash", str(SCRIPT), version], capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    check = subprocess.run([out.stdout.strip(), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, check=True, timeout=60)
    assert check.stdout.strip() == version
