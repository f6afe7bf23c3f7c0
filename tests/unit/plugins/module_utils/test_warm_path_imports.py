# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new Ansible worker loads to serve a token from the file cache, and what it must not load.

Ansible forks a worker per host and task, and the collection's lookups run there, loaded afresh each
time: every module imported on a cached token's path is paid once per host (docs/benchmarks.md). The
HTTP client, requests, the shared (Redis) cache and cryptography's X.509 and signing code are needed
only to fetch a token, for a shared cache, or to read a certificate or key: none is imported when the
file cache serves the token. The positive control is the same process after a request: then they are.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import sys
import textwrap

import trustme

from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import Reply, ScriptedServer

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
)
ENGINE = "ansible_collections.apiauth.saas.plugins.module_utils."
NOT_FOR_A_CACHED_TOKEN = (ENGINE + "_http", ENGINE + "_shared_cache", "requests", "urllib3", "cryptography.x509",
                          "cryptography.hazmat.primitives.asymmetric.rsa")

# Run in a new process, as a worker is: the lookup plugin through Ansible's plugin loader, one call.
SCRIPT = textwrap.dedent("""
    import json, sys
    from ansible.plugins.loader import init_plugin_loader, lookup_loader
    init_plugin_loader([sys.argv[1]])
    before = set(sys.modules)
    lookup = lookup_loader.get("apiauth.saas.oauth2_token")
    record = lookup.run([], variables={}, output="record", **json.loads(sys.argv[2]))[0]
    loaded = sorted(name for name in set(sys.modules) - before)
    print(json.dumps({"source": record["source"], "loaded": loaded}))
    """)


def _lookup_in_a_new_process(collections, options: dict) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "APIAUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(collections), json.dumps(options)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_token_from_the_file_cache_loads_no_http_client_and_no_certificate_code(tmp_path):
    collections = tmp_path / "collections"
    link = collections / "ansible_collections" / "apiauth" / "saas"
    link.parent.mkdir(parents=True)
    os.symlink(REPO_ROOT, str(link))
    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with ScriptedServer(context) as server:
        server.script(Reply(200, body={"access_token": "tok-" + secrets.token_hex(16), "token_type": "Bearer",
                                       "expires_in": 3600}))
        options = {"token_url": server.url("/oauth/token"), "client_id": "svc-warm",
                   "client_secret": "warm-secret-" + secrets.token_hex(12), "ca_path": str(ca_file),
                   "cache_dir": str(tmp_path / "cache")}
        fetched = _lookup_in_a_new_process(collections, options)
        served = _lookup_in_a_new_process(collections, options)
    assert len(server.seen) == 1
    # Positive control: fetching the token loads the HTTP client and requests.
    assert fetched["source"] == "network"
    assert {ENGINE + "_http", "requests"} <= set(fetched["loaded"])
    assert served["source"] == "file"
    assert ENGINE + "_token_cache" in served["loaded"]
    assert [name for name in served["loaded"] if name.startswith(NOT_FOR_A_CACHED_TOKEN)] == []


# What this file tests, for `pytest -m <marker>` (tests/README.md).
import pytest  # noqa: E402  # pylint: disable=wrong-import-position

pytestmark = [
    pytest.mark.oauth2_token,
]
