"""ansible-builder accepts execution-environment/ and makes a complete build context.

Building the image itself needs podman or docker, which the test machines do not have; what
the image would install is checked instead by running, on the installed collection, the same
introspection script that the image build runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import yaml

from conftest import ANSIBLE_BIN, ROOT


def _run(*args):
    # Without the ANSIBLE_* of the test run: ansible-galaxy would find the collection already installed there.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    proc = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


def test_ansible_builder_creates_the_build_context(tmp_path):
    ee = tmp_path / "execution-environment"
    shutil.copytree(ROOT / "execution-environment", ee, ignore=shutil.ignore_patterns("*.tar.gz"))
    _run(ANSIBLE_BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", tmp_path, ROOT)
    built = next(tmp_path.glob("apiauth-saas-*.tar.gz"))
    shutil.copy(built, ee / "apiauth-saas.tar.gz")
    context = tmp_path / "context"
    _run(ANSIBLE_BIN / "ansible-builder", "create", "-f", ee / "execution-environment.yml", "-c", context,
         "--output-filename", "Containerfile")

    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt" in containerfile
    build = context / "_build"
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": "/build/collections/apiauth-saas.tar.gz", "type": "file"}]
    assert (build / "collections" / "apiauth-saas.tar.gz").read_bytes() == built.read_bytes()
    assert "redis" in (build / "requirements.txt").read_text()

    # The tarball carries what the image's introspection reads, and the AWX files.
    with tarfile.open(built) as archive:
        names = set(archive.getnames())
    for name in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt",
                 "extensions/awx/credential_types/token_cache.yml", "playbooks/register_awx_credential_types.yml"):
        assert name in names, name
    assert not any(n.startswith((".tmp/", ".venv", "execution-environment/apiauth-saas")) for n in names)

    # What the image build would install: the introspection of the context, on the installed collection.
    installed = tmp_path / "installed"
    _run(ANSIBLE_BIN / "ansible-galaxy", "collection", "install", "--force", "-p", installed, built)
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    _run(ANSIBLE_BIN / "python", build / "scripts" / "introspect.py", "introspect", installed,
         f"--user-pip={build / 'requirements.txt'}", f"--write-pip={pip_out}", f"--write-bindep={bindep_out}")
    pip = pip_out.read_text()
    for requirement in ("requests", "cryptography", "redis"):
        assert requirement in pip, pip
    assert "libffi-devel [compile platform:rpm]" in bindep_out.read_text()


def test_make_target_and_docs_name_the_same_files():
    makefile = (ROOT / "Makefile").read_text()
    assert "execution-environment/execution-environment.yml" in makefile
    docs = (ROOT / "docs" / "awx.md").read_text()
    assert "make ee-context" in docs and "not built" in docs
    assert Path(ROOT / "execution-environment" / "requirements.yml").exists()


def test_image_runs_the_newest_ansible_core_on_a_python_it_supports():
    from packaging.specifiers import SpecifierSet  # pylint: disable=import-outside-toplevel
    from packaging.version import Version  # pylint: disable=import-outside-toplevel

    definition = yaml.safe_load((ROOT / "execution-environment" / "execution-environment.yml").read_text())
    deps = definition["dependencies"]
    core = deps["ansible_core"]["package_pip"]
    assert core.startswith("ansible-core")
    allowed = SpecifierSet(core[len("ansible-core"):])
    # The release the full suite runs on (the Makefile's CORE_NEWEST) is the one the image installs.
    newest = next(line.split(":=")[1].strip() for line in (ROOT / "Makefile").read_text().splitlines()
                  if line.startswith("CORE_NEWEST"))
    assert Version(f"{newest}.0") in allowed and Version("2.20.0") not in allowed, core
    # ansible-core 2.20 and newer need Python 3.12 or newer on the controller, which the image is.
    python = deps["python_interpreter"]["python_path"]
    major, minor = (int(n) for n in python.rsplit("python", 1)[1].split("."))
    assert (major, minor) >= (3, 12), python
    assert f"python{major}.{minor}" in deps["python_interpreter"]["package_system"].split()


# What this file tests, for `pytest -m <marker>` (tests/README.md).
import pytest  # noqa: E402  # pylint: disable=wrong-import-position

pytestmark = [
    pytest.mark.playbook_register_awx_credential_types,
]
