# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the HTTP transport against real local HTTP(S) servers.

Certificates come from trustme; the servers run in threads on 127.0.0.1 and
answer from a per-test script (see _https_server). ``sleep`` is injected, so no
test waits for a backoff; ``rand`` returns 1.0 unless a test says otherwise, so
each backoff equals its ceiling.
"""

from __future__ import annotations

import email.utils
import json
import socket
import ssl
import struct
import threading
import time
import warnings

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from ansible_collections.apiauth.saas.plugins.module_utils import _http
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    HTTPStatusError,
    KeyMaterialError,
    MissingLibraryError,
    OptionError,
    Redactor,
    ResponseFormatError,
    TransportError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._http import (
    MAX_BODY_BYTES,
    HttpClient,
    HttpOptions,
    HttpResponse,
    default_error_parser,
    parse_retry_after,
    status_phrase,
)
from ansible_collections.apiauth.saas.plugins.module_utils._urls import url_for_messages
from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import (
    Reply,
    ScriptedServer,
    closed_port,
)

VENDOR = "ThroughLine"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                   "http_proxy", "https_proxy", "all_proxy", "no_proxy")


# --- fixtures -----------------------------------------------------------------


class Pki:
    """Certificates and key files for one test module."""

    def __init__(self, directory) -> None:
        self.ca = trustme.CA()
        self.other_ca = trustme.CA()
        self.client_ca = trustme.CA()
        self.server_cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.wrong_name_cert = self.ca.issue_cert("vendor.example")
        self.ca_file = str(directory / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self.other_ca_file = str(directory / "other-ca.pem")
        self.other_ca.cert_pem.write_to_path(self.other_ca_file)

        client_a = self.client_ca.issue_cert("client-a@example.org")
        self.client_cert = str(directory / "client-a.crt")
        self.client_key = str(directory / "client-a.key")
        client_a.cert_chain_pems[0].write_to_path(self.client_cert)
        client_a.private_key_pem.write_to_path(self.client_key)

        client_b = self.client_ca.issue_cert("client-b@example.org")
        self.client_b_combined = str(directory / "client-b.pem")
        client_b.private_key_and_cert_chain_pem.write_to_path(self.client_b_combined)

        key = serialization.load_pem_private_key(client_a.private_key_pem.bytes(), password=None)
        self.encrypted_key = str(directory / "client-a-encrypted.key")
        with open(self.encrypted_key, "wb") as handle:
            handle.write(key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase-123"),
            ))
        self.client_b_key = str(directory / "client-b.key")
        client_b.private_key_pem.write_to_path(self.client_b_key)
        self.not_pem = str(directory / "not-a-cert.txt")
        with open(self.not_pem, "w") as handle:
            handle.write("hello\n")

    def server_context(self, require_client_cert: bool = False, max_version=None, cert=None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (cert or self.server_cert).configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.client_ca.configure_trust(context)
        if max_version is not None:
            context.maximum_version = max_version
        return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tls_server(pki):
    with ScriptedServer(pki.server_context()) as server:
        yield server


@pytest.fixture
def plain_server():
    with ScriptedServer(None) as server:
        yield server


class Sleeps(list):
    """The injected sleep: records what it was asked to wait, waits for nothing."""

    def __call__(self, seconds) -> None:
        self.append(seconds)


@pytest.fixture
def make_client(pki):
    clients = []

    def factory(redactor=None, rand=lambda: 1.0, sleep=None, **options):
        options.setdefault("ca_path", pki.ca_file)
        options.setdefault("timeout", 5)
        sleeps = sleep if sleep is not None else Sleeps()
        client = HttpClient(HttpOptions(**options), vendor=VENDOR, redactor=redactor, sleep=sleeps, rand=rand)
        clients.append(client)
        return client, sleeps

    yield factory
    for client in clients:
        client.close()


def oauth_error(code: str, description: str, **extra) -> dict:
    return dict({"error": code, "error_description": description}, **extra)


# --- success ------------------------------------------------------------------


def test_get_returns_a_complete_response(tls_server, make_client):
    tls_server.script(Reply(200, headers={"Content-Type": "application/json", "X-Trace": "abc"},
                            body={"access_token": "tok", "expires_in": 60}))
    client, sleeps = make_client()
    response = client.request("GET", tls_server.url("/v1/token?audience=api"))

    assert isinstance(response, HttpResponse)
    assert response.status == 200
    assert response.json() == {"access_token": "tok", "expires_in": 60}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["X-TRACE"] == "abc"
    assert "x-trace" in response.headers
    assert response.url == tls_server.url("/v1/token")  # no query: safe to show
    seen = tls_server.seen
    assert len(seen) == 1
    assert seen[0].method == "GET"
    assert seen[0].path == "/v1/token?audience=api"
    assert seen[0].headers["user-agent"] == "apiauth.saas"
    assert seen[0].headers["accept"] == "application/json"
    assert sleeps == []


def test_post_form_data_json_auth_and_headers(tls_server, make_client):
    tls_server.script(Reply(201, body={"ok": True}), Reply(200, body={}))
    client, _sleeps = make_client(user_agent="apiauth.saas/1.0 test")
    response = client.request("POST", tls_server.url("/form"), data={"grant_type": "client_credentials"},
                              auth=("client-id", "client-secret-value"), headers={"X-Request-Id": "42"},
                              expected=(201,))
    assert response.status == 201
    client.request("PUT", tls_server.url("/json"), json={"name": "key-1"})

    form, body = tls_server.seen
    assert form.method == "POST"
    assert form.body == b"grant_type=client_credentials"
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form.headers["authorization"].startswith("Basic ")
    assert form.headers["x-request-id"] == "42"
    assert form.headers["user-agent"] == "apiauth.saas/1.0 test"
    assert body.method == "PUT"
    assert json.loads(body.body) == {"name": "key-1"}
    assert body.headers["content-type"] == "application/json"


def test_redirect_is_not_followed(tls_server, make_client):
    tls_server.script(Reply(302, headers={"Location": "https://elsewhere.example/steal?token=x"}))
    client, _sleeps = make_client()
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", tls_server.url("/oauth/token"))
    assert caught.value.status == 302
    assert "elsewhere" not in str(caught.value)
    assert len(tls_server.seen) == 1


def test_urllib3_never_retries_on_its_own(make_client):
    client, _sleeps = make_client()
    adapter = client._session.get_adapter("https://example.com/")
    assert adapter.max_retries.total == 0
    assert client._session.get_adapter("http://example.com/") is adapter


# --- retries on status ------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(_http.RETRY_STATUSES))
def test_retryable_status_then_success(tls_server, make_client, status):
    tls_server.script(Reply(status, body={"error": "busy"}), Reply(200, body={"ok": 1}))
    client, sleeps = make_client()
    response = client.request("GET", tls_server.url("/thing"))
    assert response.json() == {"ok": 1}
    assert len(tls_server.seen) == 2
    assert sleeps == [0.5]  # backoff_base * 2**0 * rand()


def test_retries_exhausted_names_attempts_and_vendor_error(tls_server, make_client):
    tls_server.script(*[Reply(503, body=oauth_error("temporarily_unavailable", "try later"))] * 4)
    client, sleeps = make_client()
    url = tls_server.url("/oauth/token")
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", url + "?x=1")
    error = caught.value
    assert str(error) == f"{VENDOR}: POST {url} failed after 4 attempts: HTTP 503 temporarily_unavailable: try later."
    assert error.status == 503
    assert error.vendor_error == {"error": "temporarily_unavailable", "error_description": "try later"}
    assert len(tls_server.seen) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped_and_fully_jittered(tls_server, make_client):
    tls_server.script(*[Reply(500)] * 5)
    draws = iter([0.5, 0.25, 1.0, 0.0])
    client, sleeps = make_client(retries=4, backoff_base=1.0, backoff_max=3.0, rand=lambda: next(draws))
    with pytest.raises(HTTPStatusError) as caught:
        client.request("GET", tls_server.url("/"))
    # ceilings 1, 2, 4->3, 8->3, each times its draw
    assert sleeps == [0.5, 0.5, 3.0, 0.0]
    assert "after 5 attempts: HTTP 500 Internal Server Error." in str(caught.value)


def test_zero_retries_means_one_attempt(tls_server, make_client):
    tls_server.script(Reply(503), Reply(200))
    client, sleeps = make_client(retries=0)
    with pytest.raises(HTTPStatusError) as caught:
        client.request("GET", tls_server.url("/"))
    assert "after" not in str(caught.value)
    assert len(tls_server.seen) == 1
    assert sleeps == []


def test_retry_after_seconds_is_honoured(tls_server, make_client):
    tls_server.script(Reply(429, headers={"Retry-After": "7"}), Reply(200))
    client, sleeps = make_client()
    assert client.request("GET", tls_server.url("/")).status == 200
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(tls_server, make_client):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    tls_server.script(Reply(503, headers={"Retry-After": when}), Reply(200))
    client, sleeps = make_client()
    assert client.request("GET", tls_server.url("/")).status == 200
    assert len(sleeps) == 1
    assert 27 <= sleeps[0] <= 30


def test_retry_after_at_the_cap_is_honoured(tls_server, make_client):
    tls_server.script(Reply(429, headers={"Retry-After": "60"}), Reply(200))
    client, sleeps = make_client()
    client.request("GET", tls_server.url("/"))
    assert sleeps == [60.0]


def test_retry_after_over_the_cap_fails_at_once(tls_server, make_client):
    tls_server.script(Reply(429, headers={"Retry-After": "120"}, body=oauth_error("slow_down", "rate limited")))
    client, sleeps = make_client(retry_after_max=60)
    url = tls_server.url("/oauth/token")
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", url)
    message = str(caught.value)
    assert message.startswith(f"{VENDOR}: POST {url} failed: HTTP 429 slow_down: rate limited")
    assert "the vendor asked to wait 120 s" in message
    assert "60 s" in message
    assert caught.value.status == 429
    assert sleeps == []
    assert len(tls_server.seen) == 1


def test_unparsable_retry_after_falls_back_to_backoff(tls_server, make_client):
    tls_server.script(Reply(503, headers={"Retry-After": "soon"}), Reply(200))
    client, sleeps = make_client()
    client.request("GET", tls_server.url("/"))
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    "value, expected",
    [("0", 0.0), ("5", 5.0), (" 12 ", 12.0), ("1.5", 1.5), ("-1", None), ("", None), (None, None),
     ("later", None), ("nan", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_date_is_relative_to_now():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10.0


# --- errors that are not retried --------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_fail_at_once_without_echoing_the_body(tls_server, make_client, status):
    body = oauth_error("invalid_client", "client credentials revoked",
                       debug="S3cr3t-debug-value-987", trace_id="t-1")
    tls_server.script(Reply(status, body=body), Reply(200))
    client, sleeps = make_client()
    url = tls_server.url("/oauth/token")
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", url + "?client_secret=Q-SECRET-IN-QUERY", data={"grant_type": "x"})
    error = caught.value
    assert str(error) == f"{VENDOR}: POST {url} failed: HTTP {status} invalid_client: client credentials revoked."
    assert error.status == status
    assert error.vendor_error == {"error": "invalid_client", "error_description": "client credentials revoked"}
    for text in (str(error), repr(error), error.message, str(error.args)):
        assert "S3cr3t-debug-value-987" not in text
        assert "Q-SECRET-IN-QUERY" not in text
        assert "grant_type" not in text
    assert len(tls_server.seen) == 1
    assert sleeps == []


def test_non_json_error_body_is_never_shown(tls_server, make_client):
    tls_server.script(Reply(400, headers={"Content-Type": "text/html"},
                            body="<html>password=hunter2-leaked</html>"))
    client, _sleeps = make_client()
    url = tls_server.url("/api")
    with pytest.raises(HTTPStatusError) as caught:
        client.request("GET", url)
    assert str(caught.value) == f"{VENDOR}: GET {url} failed: HTTP 400 Bad Request."
    assert caught.value.vendor_error == {}


def test_message_field_and_nested_error_shapes(tls_server, make_client):
    tls_server.script(Reply(404, body={"message": "no such key", "other": "x"}),
                      Reply(409, body={"error": {"code": "Conflict", "message": "key exists"}}))
    client, _sleeps = make_client()
    with pytest.raises(HTTPStatusError) as first:
        client.request("GET", tls_server.url("/a"))
    with pytest.raises(HTTPStatusError) as second:
        client.request("GET", tls_server.url("/b"))
    assert str(first.value).endswith("HTTP 404 no such key.")
    assert str(second.value).endswith("HTTP 409 Conflict: key exists.")


def test_caller_error_parser_is_used(tls_server, make_client):
    tls_server.script(Reply(422, body={"errors": [{"code": "E42", "detail": "quota exceeded"}]}),
                      Reply(422, body={"errors": []}))

    def parse(response):
        first = response.json()["errors"][0]
        return {"error": first["code"], "error_description": first["detail"]}

    client, _sleeps = make_client()
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", tls_server.url("/keys"), error_parser=parse)
    assert str(caught.value).endswith("HTTP 422 E42: quota exceeded.")
    assert caught.value.vendor_error == {"error": "E42", "error_description": "quota exceeded"}
    # A parser that breaks must not hide the status.
    with pytest.raises(HTTPStatusError) as broken:
        client.request("POST", tls_server.url("/keys"), error_parser=parse)
    assert str(broken.value).endswith("HTTP 422 Unprocessable Content.")


def test_vendor_echoing_a_secret_is_redacted(tls_server, make_client):
    secret = "client-secret-value-0123456789"
    tls_server.script(Reply(401, body=oauth_error("invalid_client", f"bad secret {secret} for client")))
    client, _sleeps = make_client(redactor=Redactor([secret]))
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", tls_server.url("/oauth/token"), data={"client_secret": secret})
    assert secret not in str(caught.value)
    assert "bad secret ******** for client" in str(caught.value)
    assert caught.value.vendor_error["error_description"] == "bad secret ******** for client"


def test_secrets_sent_by_the_call_are_redacted_even_if_not_registered(tls_server, make_client):
    password = "basic-password-abcdef"
    bearer = "bearer-token-1234567890"
    tls_server.script(Reply(401, body=oauth_error("invalid_client", f"{password} rejected")),
                      Reply(403, body={"message": f"token {bearer} expired"}))
    client, _sleeps = make_client()
    with pytest.raises(HTTPStatusError) as first:
        client.request("POST", tls_server.url("/t"), auth=("id", password))
    with pytest.raises(HTTPStatusError) as second:
        client.request("GET", tls_server.url("/t"), headers={"Authorization": f"Bearer {bearer}"})
    assert password not in str(first.value)
    assert bearer not in str(second.value)


# --- transport failures ------------------------------------------------------------


def test_read_timeout_is_retried_then_fails(tls_server, make_client):
    tls_server.script(Reply(delay=3), Reply(delay=3))
    client, sleeps = make_client(timeout=0.3, retries=1)
    url = tls_server.url("/slow")
    with pytest.raises(TransportError) as caught:
        client.request("GET", url)
    error = caught.value
    assert error.sent is True
    assert error.message == f"{VENDOR}: GET {url} failed after 2 attempts: no response within the 0.3 s timeout."
    assert "timeout" in error.hint
    assert len(tls_server.seen) == 2
    assert sleeps == [0.5]


def test_connection_refused_is_retried_and_not_sent(make_client):
    port = closed_port()
    client, sleeps = make_client(retries=2)
    with pytest.raises(TransportError) as caught:
        client.request("GET", f"https://127.0.0.1:{port}/x?api_key=SECRETQ")
    error = caught.value
    assert error.sent is False
    assert str(error) == f"{VENDOR}: GET https://127.0.0.1:{port}/x failed after 3 attempts: " \
                         "could not connect (connection refused)."
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("action", ["close", "reset"])
def test_dropped_connection_is_retried_when_idempotent(tls_server, make_client, action):
    tls_server.script(Reply(action=action), Reply(200, body={"ok": 1}))
    client, sleeps = make_client()
    assert client.request("GET", tls_server.url("/")).json() == {"ok": 1}
    assert len(tls_server.seen) == 2
    assert sleeps == [0.5]


def test_plain_reset_is_named(plain_server, make_client):
    plain_server.script(Reply(action="reset"))
    client, _sleeps = make_client(allow_http=True, retries=0)
    with pytest.raises(TransportError) as caught:
        client.request("GET", plain_server.url("/"))
    assert caught.value.message.endswith("failed: the connection was reset.")
    assert caught.value.sent is True


# --- non-idempotent requests: at most once ----------------------------------------


def test_non_idempotent_503_is_not_retried(tls_server, make_client):
    tls_server.script(Reply(503), Reply(200))
    client, sleeps = make_client()
    with pytest.raises(HTTPStatusError) as caught:
        client.request("POST", tls_server.url("/keys"), idempotent=False)
    assert caught.value.status == 503
    assert "not idempotent" in caught.value.hint
    assert len(tls_server.seen) == 1
    assert sleeps == []


@pytest.mark.parametrize("action", ["close", "reset"])
def test_non_idempotent_drop_after_sending_is_not_retried(tls_server, make_client, action):
    tls_server.script(Reply(action=action), Reply(200))
    client, sleeps = make_client()
    with pytest.raises(TransportError) as caught:
        client.request("POST", tls_server.url("/keys"), json={"name": "k"}, idempotent=False)
    assert caught.value.sent is True
    assert "may have reached the vendor" in caught.value.hint
    assert len(tls_server.seen) == 1
    assert sleeps == []


def test_non_idempotent_read_timeout_is_not_retried(tls_server, make_client):
    tls_server.script(Reply(delay=3), Reply(200))
    client, sleeps = make_client(timeout=0.3)
    with pytest.raises(TransportError) as caught:
        client.request("POST", tls_server.url("/keys"), idempotent=False)
    assert caught.value.sent is True
    assert "0.3 s timeout" in str(caught.value)
    assert len(tls_server.seen) == 1
    assert sleeps == []


def _write_arrives_once_when_the_server_starts(pki, make_client, port, before_start=None):
    """POST a write that must go out at most once to a port whose server only starts while the
    client waits for its first retry: it must arrive there exactly once."""
    started = []

    def sleep(seconds):
        if not started:
            if before_start is not None:
                before_start()
            server = ScriptedServer(pki.server_context(), port=port).start()
            server.script(Reply(201, body={"key": "created"}))
            started.append(server)

    client, _sleeps = make_client(sleep=sleep)
    try:
        response = client.request("POST", f"https://127.0.0.1:{port}/keys", idempotent=False, expected=(201,))
        assert response.json() == {"key": "created"}
        assert len(started) == 1 and len(started[0].seen) == 1
    finally:
        for server in started:
            server.stop()


def test_non_idempotent_connection_refused_is_retried(pki, make_client):
    _write_arrives_once_when_the_server_starts(pki, make_client, closed_port())


@pytest.mark.parametrize("how", ["reset", "close"])
def test_non_idempotent_drop_while_connecting_is_retried(pki, make_client, how):
    """A connection dropped during the TLS handshake carried nothing: the write is sent once, on the retry."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def drop_first():
        conn, _addr = listener.accept()
        if how == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    dropper = threading.Thread(target=drop_first, daemon=True)
    dropper.start()

    def stop_dropping():
        dropper.join(5)
        listener.close()

    try:
        _write_arrives_once_when_the_server_starts(pki, make_client, listener.getsockname()[1], stop_dropping)
    finally:
        listener.close()


def test_non_idempotent_refused_until_exhausted(make_client):
    client, sleeps = make_client(retries=1)
    with pytest.raises(TransportError) as caught:
        client.request("POST", f"https://127.0.0.1:{closed_port()}/keys", idempotent=False)
    assert caught.value.sent is False
    assert sleeps == [0.5]


# --- plain HTTP, URLs --------------------------------------------------------------


def test_plain_http_is_refused_without_allow_http(plain_server, make_client):
    client, _sleeps = make_client()
    url = plain_server.url("/oauth/token")
    with pytest.raises(OptionError) as caught:
        client.request("POST", url + "?secret=QUERY-VALUE")
    message = str(caught.value)
    assert url in message
    assert "https://" in message
    assert "allow_http: true" in message
    assert "QUERY-VALUE" not in message
    assert plain_server.seen == []


def test_plain_http_works_with_allow_http(plain_server, make_client):
    plain_server.script(Reply(200, body={"ok": True}))
    client, _sleeps = make_client(allow_http=True)
    assert client.request("GET", plain_server.url("/")).json() == {"ok": True}


def test_messages_strip_userinfo_query_and_fragment(tls_server, make_client):
    tls_server.script(Reply(404))
    client, _sleeps = make_client()
    with pytest.raises(HTTPStatusError) as caught:
        client.request("GET", tls_server.url("/v1/items?api_key=QUERYSECRET&a=b#frag-x").replace(
            "https://", "https://user:pw-in-url-1234@"))
    message = str(caught.value)
    assert f"GET {tls_server.url('/v1/items')} failed: HTTP 404 Not Found." in message
    for leak in ("QUERYSECRET", "pw-in-url-1234", "user", "frag-x", "?"):
        assert leak not in message


@pytest.mark.parametrize("url", ["ftp://example.com/x?token=abcdef", "https:///no-host?token=abcdef",
                                 "example.com/path?token=abcdef", "https://example.com:99999/?token=abcdef"])
def test_bad_urls_are_option_errors(make_client, url):
    client, _sleeps = make_client()
    with pytest.raises(OptionError) as caught:
        client.request("GET", url)
    assert "abcdef" not in str(caught.value)
    assert str(caught.value).startswith(f"{VENDOR}: ")


def test_url_for_messages():
    assert url_for_messages("https://u:p@h.example:8443/a/b?c=d#e") == "https://h.example:8443/a/b"
    assert url_for_messages("https://[::1]:8443/x?y") == "https://[::1]:8443/x"


# --- TLS ---------------------------------------------------------------------------


def test_untrusted_certificate_fails_with_a_hint(tls_server, pki, make_client, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.other_ca_file)
    client, sleeps = make_client(ca_path=None)
    url = tls_server.url("/")
    with pytest.raises(TransportError) as caught:
        client.request("GET", url)
    error = caught.value
    assert error.sent is False
    assert error.message.startswith(f"{VENDOR}: GET {url} failed: TLS certificate verification failed")
    assert "ca_path" in error.hint
    assert "validate_certs: false" in error.hint
    assert sleeps == []  # a certificate problem does not go away by retrying
    assert tls_server.seen == []


def test_untrusted_certificate_with_the_machine_bundle(tls_server, make_client):
    client, _sleeps = make_client(ca_path=None)
    with pytest.raises(TransportError) as caught:
        client.request("GET", tls_server.url("/"))
    assert "TLS certificate verification failed" in str(caught.value)


def test_ca_path_wins_over_requests_ca_bundle(tls_server, pki, make_client, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.other_ca_file)
    monkeypatch.setenv("CURL_CA_BUNDLE", pki.other_ca_file)
    tls_server.script(Reply(200, body={"ok": 1}), Reply(200, body={"ok": 2}))
    client, _sleeps = make_client(ca_path=pki.ca_file)
    assert client.request("GET", tls_server.url("/")).json() == {"ok": 1}
    assert client.request("GET", tls_server.url("/")).json() == {"ok": 2}


def test_environment_bundle_is_used_without_ca_path(tls_server, pki, make_client, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.ca_file)
    tls_server.script(Reply(200))
    client, _sleeps = make_client(ca_path=None)
    assert client.request("GET", tls_server.url("/")).status == 200


def test_validate_certs_false_skips_verification_quietly(tls_server, make_client):
    tls_server.script(Reply(200))
    client, _sleeps = make_client(ca_path=None, validate_certs=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.request("GET", tls_server.url("/")).status == 200


def test_hostname_mismatch_is_a_verification_failure(pki, make_client):
    with ScriptedServer(pki.server_context(cert=pki.wrong_name_cert)) as server:
        client, sleeps = make_client()
        with pytest.raises(TransportError) as caught:
            client.request("GET", server.url("/"))
    assert "TLS certificate verification failed" in str(caught.value)
    assert "127.0.0.1" in caught.value.message
    assert "host name" in caught.value.hint and "ca_path" not in caught.value.hint
    assert caught.value.sent is False
    assert sleeps == []


# --- mutual TLS -------------------------------------------------------------------


@pytest.fixture
def mtls_server(pki):
    with ScriptedServer(pki.server_context(require_client_cert=True)) as server:
        yield server


def _peer_email(seen) -> str:
    return dict(seen.peer_cert["subjectAltName"])["email"]


def test_mtls_accepts_the_configured_client_certificate(mtls_server, pki, make_client):
    mtls_server.script(Reply(200, body={"ok": 1}))
    client, _sleeps = make_client(client_cert=pki.client_cert, client_key=pki.client_key)
    assert client.request("POST", mtls_server.url("/oauth/token")).json() == {"ok": 1}
    assert _peer_email(mtls_server.seen[0]) == "client-a@example.org"


def test_mtls_with_a_combined_pem_file(mtls_server, pki, make_client):
    mtls_server.script(Reply(200))
    client, _sleeps = make_client(client_cert=pki.client_b_combined)
    client.request("GET", mtls_server.url("/"))
    assert _peer_email(mtls_server.seen[0]) == "client-b@example.org"


def test_mtls_per_request_certificate(mtls_server, pki, make_client):
    mtls_server.script(Reply(200), Reply(200), Reply(200))
    client, _sleeps = make_client(client_cert=pki.client_cert, client_key=pki.client_key)
    client.request("GET", mtls_server.url("/"))
    client.request("GET", mtls_server.url("/"), client_cert=(pki.client_b_combined,))
    client.request("GET", mtls_server.url("/"), client_cert=(pki.client_cert, pki.client_key))
    assert [_peer_email(seen) for seen in mtls_server.seen] == [
        "client-a@example.org", "client-b@example.org", "client-a@example.org"]


@pytest.mark.parametrize("max_version", [None, ssl.TLSVersion.TLSv1_2], ids=["tls-default", "tls1.2"])
def test_mtls_without_a_client_certificate_fails_cleanly(pki, make_client, max_version):
    context = pki.server_context(require_client_cert=True, max_version=max_version)
    with ScriptedServer(context) as server:
        client, sleeps = make_client()
        url = server.url("/oauth/token")
        with pytest.raises(TransportError) as caught:
            client.request("POST", url, idempotent=False)
        error = caught.value
        assert error.message.startswith(f"{VENDOR}: POST {url} failed: the TLS handshake failed (")
        assert "certificate" in error.message or "handshake failure" in error.message
        assert "client_cert" in error.hint
        assert error.sent is False
        assert sleeps == []
        assert server.seen == []
        # The server thread records its side of the failed handshake a moment
        # after the client has seen it; on a busy machine that moment is longer.
        deadline = time.monotonic() + 5
        while not server.handshake_errors and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.handshake_errors


def test_mtls_with_a_certificate_from_an_unknown_ca(pki, make_client, tmp_path):
    stranger = trustme.CA().issue_cert("stranger@example.org")
    combined = tmp_path / "stranger.pem"
    stranger.private_key_and_cert_chain_pem.write_to_path(str(combined))
    with ScriptedServer(pki.server_context(require_client_cert=True)) as server:
        client, _sleeps = make_client(client_cert=str(combined))
        with pytest.raises(TransportError) as caught:
            client.request("GET", server.url("/"))
        assert "the TLS handshake failed" in str(caught.value)
        assert server.seen == []


# --- option validation ------------------------------------------------------------


def test_missing_client_cert_file(pki, make_client, tmp_path):
    missing = str(tmp_path / "nope.crt")
    with pytest.raises(KeyMaterialError) as caught:
        make_client(client_cert=missing)
    assert missing in str(caught.value)
    assert "client_cert" in str(caught.value)
    with pytest.raises(KeyMaterialError) as caught:
        make_client(client_cert=pki.client_cert, client_key=str(tmp_path / "nope.key"))
    assert "client_key" in str(caught.value)


def test_client_key_without_client_cert(pki, make_client):
    with pytest.raises(OptionError) as caught:
        make_client(client_key=pki.client_key)
    assert not isinstance(caught.value, KeyMaterialError)
    assert "client_key" in str(caught.value) and "client_cert" in str(caught.value)


@pytest.mark.parametrize("case, words", [
    ("not_pem", ["holds no PEM certificate"]),
    ("cert_without_key", ["holds no private key", "client_key"]),
    ("encrypted_key", ["encrypted"]),
    ("mismatched_key", ["does not match"]),
    ("key_is_not_a_key", ["no PEM private key"]),
])
def test_unusable_key_material(pki, make_client, case, words):
    options = {
        "not_pem": {"client_cert": pki.not_pem},
        "cert_without_key": {"client_cert": pki.client_cert},
        "encrypted_key": {"client_cert": pki.client_cert, "client_key": pki.encrypted_key},
        "mismatched_key": {"client_cert": pki.client_cert, "client_key": pki.client_b_key},
        "key_is_not_a_key": {"client_cert": pki.client_cert, "client_key": pki.not_pem},
    }[case]
    with pytest.raises(KeyMaterialError) as caught:
        make_client(**options)
    for word in words:
        assert word in str(caught.value)
    assert "passphrase-123" not in str(caught.value)


def test_per_request_certificate_is_checked(tls_server, make_client, tmp_path):
    client, _sleeps = make_client()
    with pytest.raises(KeyMaterialError) as caught:
        client.request("GET", tls_server.url("/"), client_cert=(str(tmp_path / "gone.pem"),))
    assert "gone.pem" in str(caught.value)
    assert tls_server.seen == []


@pytest.mark.parametrize("options, words", [
    ({"ca_path": "/nonexistent/ca.pem"}, ["ca_path", "/nonexistent/ca.pem", "does not exist"]),
    ({"timeout": 0}, ["timeout"]),
    ({"timeout": -1.5}, ["timeout"]),
    ({"retries": -1}, ["retries"]),
    ({"validate_certs": "yes"}, ["validate_certs"]),
    ({"proxy": "ftp://proxy.example:21"}, ["proxy", "ftp://proxy.example:21"]),
    ({"proxy": "http://user:proxy-pass-999@"}, ["proxy"]),
])
def test_bad_options(make_client, options, words):
    with pytest.raises(OptionError) as caught:
        make_client(**options)
    for word in words:
        assert word in str(caught.value)
    assert "proxy-pass-999" not in str(caught.value)


def test_ca_path_may_be_a_directory(tmp_path, make_client):
    client, _sleeps = make_client(ca_path=str(tmp_path))
    assert client.request is not None


def test_requests_missing(monkeypatch):
    monkeypatch.setattr(_http, "HAS_REQUESTS", False)
    with pytest.raises(MissingLibraryError) as caught:
        HttpClient(HttpOptions(), vendor=VENDOR)
    assert caught.value.library == "requests"
    assert "to call vendor APIs" in str(caught.value)


def test_data_and_json_together_is_a_programming_error(tls_server, make_client):
    client, _sleeps = make_client()
    with pytest.raises(ValueError):
        client.request("POST", tls_server.url("/"), data={"a": "b"}, json={"a": "b"})


def test_closed_client_refuses_requests(tls_server, make_client):
    client, _sleeps = make_client()
    client.close()
    client.close()  # twice is fine
    with pytest.raises(RuntimeError):
        client.request("GET", tls_server.url("/"))


def test_context_manager_closes(pki, tls_server):
    tls_server.script(Reply(200))
    with HttpClient(HttpOptions(ca_path=pki.ca_file), vendor=VENDOR) as client:
        client.request("GET", tls_server.url("/"))
    assert client._session is None


# --- proxy ------------------------------------------------------------------------


def test_proxy_option_is_used_even_over_the_environment(plain_server, make_client, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    plain_server.script(Reply(200, body={"via": "proxy"}))
    client, _sleeps = make_client(allow_http=True, proxy=plain_server.url(""))
    response = client.request("GET", "http://vendor.invalid/v1/token?x=1")
    assert response.json() == {"via": "proxy"}
    # A forward proxy gets the absolute URL.
    assert plain_server.seen[0].path == "http://vendor.invalid/v1/token?x=1"


def test_unreachable_proxy_is_named(make_client):
    port = closed_port()
    client, sleeps = make_client(proxy=f"http://user:proxy-pass-999@127.0.0.1:{port}", retries=1)
    with pytest.raises(TransportError) as caught:
        client.request("GET", "https://vendor.invalid/v1/token")
    error = caught.value
    assert f"could not connect through proxy http://127.0.0.1:{port} (connection refused)" in error.message
    assert "proxy" in error.hint
    assert "proxy-pass-999" not in str(error)
    assert error.sent is False
    assert sleeps == [0.5]


def test_environment_proxy_is_honoured(plain_server, make_client, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", plain_server.url(""))
    plain_server.script(Reply(200))
    client, _sleeps = make_client(allow_http=True)
    client.request("GET", "http://vendor.invalid/x")
    assert plain_server.seen[0].path == "http://vendor.invalid/x"


# --- response body ----------------------------------------------------------------


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "until-eof"])
def test_body_over_the_cap_is_refused(tls_server, make_client, content_length):
    tls_server.script(Reply(200, body=b"x" * (MAX_BODY_BYTES + 1), content_length=content_length))
    client, _sleeps = make_client()
    url = tls_server.url("/big")
    with pytest.raises(ResponseFormatError) as caught:
        client.request("GET", url)
    assert str(caught.value) == f"{VENDOR}: the response to GET {url} is larger than {MAX_BODY_BYTES} bytes; " \
                                "refusing to read it."


def test_body_at_the_cap_is_read(tls_server, make_client):
    tls_server.script(Reply(200, body=b"y" * MAX_BODY_BYTES, content_length=False))
    client, _sleeps = make_client()
    assert len(client.request("GET", tls_server.url("/")).body) == MAX_BODY_BYTES


def test_oversized_error_body_still_reports_the_status(tls_server, make_client):
    tls_server.script(Reply(400, body=b"z" * (MAX_BODY_BYTES + 10)))
    client, _sleeps = make_client()
    with pytest.raises(HTTPStatusError) as caught:
        client.request("GET", tls_server.url("/"))
    assert caught.value.status == 400
    assert caught.value.vendor_error == {}


def test_non_json_success_body(tls_server, make_client):
    tls_server.script(Reply(200, body="<html>token=leaky-html-value</html>"))
    client, _sleeps = make_client()
    url = tls_server.url("/oauth/token")
    response = client.request("POST", url + "?q=QSECRET")
    with pytest.raises(ResponseFormatError) as caught:
        response.json()
    message = str(caught.value)
    assert message.startswith(f"{VENDOR}: the response to POST {url} is not valid JSON")
    assert "leaky-html-value" not in message
    assert "QSECRET" not in message


def test_json_error_message_is_redacted():
    response = HttpResponse(200, {}, b"nope", "https://h/abcdef-secret-path", vendor=VENDOR, method="GET",
                            redactor=Redactor(["abcdef-secret-path"]))
    with pytest.raises(ResponseFormatError) as caught:
        response.json()
    assert "abcdef-secret-path" not in str(caught.value)


# --- default error parser -----------------------------------------------------------


@pytest.mark.parametrize("body, expected", [
    (b'{"error": "invalid_grant", "error_description": "expired", "x": "y"}',
     {"error": "invalid_grant", "error_description": "expired"}),
    (b'{"error": "invalid_grant"}', {"error": "invalid_grant"}),
    (b'{"message": "Not allowed", "secret": "s"}', {"message": "Not allowed"}),
    (b'{"error": {"code": 403, "message": "denied", "details": ["x"]}}',
     {"error": "403", "error_description": "denied"}),
    (b'["error"]', {}),
    (b"<html></html>", {}),
    (b"\xff\xfe", {}),
    (b"", {}),
])
def test_default_error_parser(body, expected):
    assert default_error_parser(HttpResponse(400, {}, body, "https://h/")) == expected


def test_netrc_credentials_are_never_added(tmp_path, monkeypatch):
    """A ~/.netrc entry for the host must not add a second client authentication."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password-long-enough\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    client = _http.HttpClient(_http.HttpOptions(allow_http=True), vendor="V")
    prepared = client._session.prepare_request(  # pylint: disable=protected-access
        __import__("requests").Request("POST", "http://127.0.0.1:9/token", data={"a": "b"}))
    assert "Authorization" not in prepared.headers
    client.close()


@pytest.mark.parametrize("status, phrase", [
    (413, "Content Too Large"), (414, "URI Too Long"), (416, "Range Not Satisfiable"),
    (422, "Unprocessable Content"), (429, "Too Many Requests"), (599, ""),
])
def test_status_phrases_read_the_same_on_every_python(status, phrase):
    # Python 3.13 renamed these four (RFC 9110); errors must not change with the controller's Python.
    assert status_phrase(status) == phrase
