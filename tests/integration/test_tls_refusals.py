"""TLS at the playbook level: wrong CA, expired and wrong-host server certificates are
refused; http:// only with allow_http; mutual TLS without a certificate fails clearly.

Each refusal has a positive control beside it (the same server with a good
certificate, or the plain server with allow_http), so a refusal cannot come
from anything but the point under test.
"""

from __future__ import annotations

import datetime
import http.server
import json
import re
import ssl
import threading

import pytest
import trustme

from conftest import assert_absent, assert_no_traceback, strong_secret


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "tls-test-token", "token_type": "Bearer", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def _serve(cert=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if cert is not None else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}/oauth2/token"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca, foreign_ca = trustme.CA(), trustme.CA()
    ca_path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    certs = {
        "good": ca.issue_cert("127.0.0.1", "localhost"),
        "expired": ca.issue_cert("127.0.0.1", not_before=now - datetime.timedelta(days=30),
                                 not_after=now - datetime.timedelta(days=1)),
        "wrong-host": ca.issue_cert("other.example.com"),
        "foreign-ca": foreign_ca.issue_cert("127.0.0.1"),
    }
    started = {name: _serve(cert) for name, cert in certs.items()}
    started["plain"] = _serve()
    yield {name: url for name, (_server, url) in started.items()}, str(ca_path)
    for server, _url in started.values():
        server.shutdown()


def test_tls_refusals(sim, servers, run_playbook, out):
    urls, ca_path = servers
    demo = sim.demo_vars()
    secret = strong_secret("tls-")
    mtls_url = sim.thredd_token_url("uat", "mtls")
    cases = [
        ("good", {"url": urls["good"], "ca_path": ca_path}, None),
        ("foreign-ca", {"url": urls["foreign-ca"], "ca_path": ca_path},
         r"certificate verification failed.*unable to get local issuer certificate.*ca_path"),
        ("system-ca", {"url": urls["good"]}, r"certificate verification failed.*ca_path"),
        ("expired", {"url": urls["expired"], "ca_path": ca_path},
         r"certificate verification failed.*expired.*check the clock"),
        ("wrong-host", {"url": urls["wrong-host"], "ca_path": ca_path},
         r"certificate verification failed.*mismatch.*check the URL's host name"),
        ("http-refused", {"url": urls["plain"]}, r"http://.*allow_http|allow_http.*http://"),
        ("http-allowed", {"url": urls["plain"], "allow_http": True}, None),
        ("mtls-no-cert", {"url": mtls_url, "ca_path": demo["sim_ca_path"]},
         r"(TLS handshake failed|closed the TLS connection).*client_cert"),
        ("tls-client-auth-no-cert", {"url": urls["good"], "ca_path": ca_path, "auth_method": "tls_client_auth"},
         r"client_cert"),
    ]
    run = run_playbook("tls_refusals.yml", verbosity=4, extra_vars={
        "tls_client_secret": secret, "tls_cases": [dict(case[1], id=case[0]) for case in cases]})
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert_absent([secret, "tls-test-token"], run)
    results = json.loads((out / "tls.json").read_text())
    problems = []
    for name, _options, pattern in cases:
        failed, message = results[name]
        if pattern is None and failed:
            problems.append(f"{name}: should succeed: {message}")
        elif pattern is not None and not (failed and re.search(pattern, message, re.S | re.I)):
            problems.append(f"{name}: {failed} {message}")
    assert not problems, "\n".join(problems)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
]
