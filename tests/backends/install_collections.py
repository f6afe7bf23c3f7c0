"""Install the collections that the optional secret_store backends and the AWX playbook use, from PyPI.

Galaxy is not always reachable, but the ``ansible`` package on PyPI bundles these
collections. This downloads that package's wheel with pip (without installing it)
and unpacks only the collections named below into a collections directory, so that
the roles' tests and ansible-lint resolve their modules.

    python tests/backends/install_collections.py DEST   # DEST holds ansible_collections/
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# ansible 12 is the community package for ansible-core 2.19.
ANSIBLE_PACKAGE = "ansible==12.3.0"
# awx.awx: for playbooks/register_awx_credential_types.yml (its test runs against tests/backends/fake_awx.py).
COLLECTIONS = ("community.hashi_vault", "amazon.aws", "community.aws", "kubernetes.core", "awx.awx")


def main(dest: Path) -> int:
    root = dest / "ansible_collections"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "-d", tmp, ANSIBLE_PACKAGE], check=True)
        wheel = next(Path(tmp).glob("ansible-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            for fqcn in COLLECTIONS:
                namespace, name = fqcn.split(".")
                prefix = f"ansible_collections/{namespace}/{name}/"
                target = root / namespace / name
                if target.is_symlink():
                    raise SystemExit(f"{target} is a symlink; refusing to replace it")
                shutil.rmtree(target, ignore_errors=True)
                members = [n for n in names if n.startswith(prefix) and not n.endswith("/")]
                if not members:
                    raise SystemExit(f"{ANSIBLE_PACKAGE} does not bundle {fqcn}")
                for member in members:
                    path = dest / member
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.read(member))
                version = json.loads((target / "MANIFEST.json").read_text())["collection_info"]["version"]
                print(f"{fqcn} {version} -> {target}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(Path(sys.argv[1]).resolve()))
