# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""requests is imported by the first HTTP client, not with the engine: a cached token needs no HTTP.

Every Ansible worker that renders a lookup loads the engine afresh, so an import there is paid
once per host and task (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
)


def test_requests_waits_for_the_first_client(tmp_path):
    collections = tmp_path / "collections"
    link = collections / "ansible_collections" / "apiauth" / "saas"
    link.parent.mkdir(parents=True)
    os.symlink(REPO_ROOT, str(link))
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(collections)!r})
        from ansible_collections.apiauth.saas.plugins.module_utils import _http, _token_service
        with_engine = "requests" in sys.modules
        _http.HttpClient(_http.HttpOptions(), vendor="V").close()
        print(with_engine, "requests" in sys.modules)
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "True"]
