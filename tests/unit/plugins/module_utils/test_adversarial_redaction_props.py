"""Adversarial, property-based: no encoding of a secret survives into an error, whatever the secret.

The engine's real token request (get_token: options, request building, HTTP
client, error parsing, redaction) goes to a real HTTP server on loopback that
answers every request with an error quoting the request back, in one of the
renderings careless vendors use. The oracle (tests/secret_forms.py) decodes
the error text every way the secret may have been encoded and looks for it.

Minimum secret length: 8 characters. Redactor masks values from 6 characters
raw and their base64 forms from 8 bytes; anything shorter cannot be masked
inside text without shredding every message (documented in _errors.Redactor).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import stat
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.apiauth.saas.plugins.module_utils._certs import key_file_warning
from ansible_collections.apiauth.saas.plugins.module_utils._errors import REDACTED, ApiAuthError, OptionError, Redactor
from ansible_collections.apiauth.saas.plugins.module_utils._urls import path_segment
from ansible_collections.apiauth.saas.plugins.module_utils._thrive_apikey import check_token_tenant
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import get_token
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import THRIVE, check_tenant_id
from secret_forms import secret_forms_in

RENDERS = ("body", "headers", "json", "base64", "html", "location")
EXAMPLES = 120


def _echo(render: str, body: bytes, headers) -> str:
    text = body.decode("utf-8", "replace")
    auth = headers.get("Authorization") or ""
    if render == "body":
        return f"cannot process request body: {text}"
    if render == "headers":
        return f"rejected headers: Authorization: {auth}"
    if render == "json":
        fields = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        return "bad request " + json.dumps({"request": fields, "authorization": auth}).replace("/", "\\/")
    if render == "base64":
        return "request (base64): " + base64.b64encode(body).decode("ascii") + " " + \
            base64.urlsafe_b64encode(auth.encode("latin-1")).decode("ascii").rstrip("=")
    if render == "html":
        return f"<pre>{html.escape(text)} {html.escape(auth)}</pre>"
    return f"moved to https://vendor.example/login?{text}"


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        return

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        render = self.path.rstrip("/").rpartition("/")[2]
        status = 302 if render == "location" else 400
        payload = json.dumps({"error": "invalid_request",
                              "error_description": _echo(render, body, self.headers)}).encode("utf-8")
        self.server.sent.append(payload)  # the positive control reads what really went out
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 302:
            self.send_header("Location", "https://vendor.example/login?" + body.decode("latin-1"))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def echo_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    server.sent = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# Unicode (no surrogates or control characters), and every character some encoding changes.
_SPECIAL = st.sampled_from(list(" +/=%&?#:;\"'\\<>é☃𝄞~"))
_CHARS = st.one_of(_SPECIAL, st.characters(blacklist_categories=("Cs", "Cc")))
SECRETS = st.text(_CHARS, min_size=8, max_size=60).filter(
    lambda s: len(set(s)) >= 4 and s.strip() == s and REDACTED not in s)


def _params(url: str, secret: str, auth_method: str) -> dict:
    return {"token_url": url, "client_id": "prop-client", "client_secret": secret, "auth_method": auth_method,
            "allow_http": True, "cache": False, "retries": 0, "timeout": 10}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=SECRETS, render=st.sampled_from(RENDERS),
       auth_method=st.sampled_from(("client_secret_basic", "client_secret_post")))
def test_no_encoding_of_the_secret_survives_an_echoing_vendor(echo_server, secret, render, auth_method):
    url = f"http://127.0.0.1:{echo_server.server_address[1]}/token/{render}"
    sent_before = len(echo_server.sent)
    with pytest.raises(ApiAuthError) as caught:
        get_token(_params(url, secret, auth_method))
    message = str(caught.value)
    quoted = json.loads(echo_server.sent[sent_before])["error_description"]
    # Positive control: the vendor's answer quoted the secret (in some encoding) and its text reached the message.
    assume(secret_forms_in(secret, quoted))
    assert quoted[:15] in message or quoted[:15].replace("/", "\\/") in message
    assert not secret_forms_in(secret, message), (render, auth_method, secret_forms_in(secret, message))


@settings(max_examples=EXAMPLES, deadline=None)
@given(secret=SECRETS, prefix=st.text(st.characters(codec="latin-1", blacklist_categories=("Cc",)), max_size=5))
def test_a_basic_header_and_its_parts_are_masked_at_every_alignment(secret, prefix):
    """base64 of "<id>:<secret>", raw and form-encoded, std and URL-safe, padded or not, inside longer text."""
    redactor = Redactor([secret])
    for encoded_secret in (secret, urllib.parse.quote_plus(secret, safe="")):
        raw = f"{prefix}:{encoded_secret}".encode("utf-8")
        for text in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
            shown = redactor.redact(f"header Basic {text} end")
            assert not secret_forms_in(secret, shown)


@settings(max_examples=EXAMPLES, deadline=None)
@given(secret=SECRETS)
def test_every_quoting_of_the_secret_is_masked(secret):
    redactor = Redactor([secret])
    quotings = [
        secret,
        urllib.parse.quote(secret, safe=""),
        # Lower-case hex in the escapes (the secret's own letters keep their case).
        re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), urllib.parse.quote(secret, safe="")),
        urllib.parse.quote_plus(secret, safe=""),
        urllib.parse.quote(urllib.parse.quote(secret, safe=""), safe=""),
        json.dumps(secret), json.dumps(secret, ensure_ascii=False), json.dumps(secret).replace("/", "\\/"),
        html.escape(secret), html.escape(json.dumps(secret)),
        base64.b64encode(secret.encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    ]
    for quoting in quotings:
        shown = redactor.redact(f"vendor said: {quoting}!")
        assert not secret_forms_in(secret, shown), quoting


def test_short_secrets_are_the_documented_limit():
    """Below 6 characters nothing is masked (it would shred every message); from 8 every form is."""
    assert Redactor(["abcde"]).redact("x abcde x") == "x abcde x"
    secret = "Ab+/ %&é"
    text = base64.b64encode(f"id:{urllib.parse.quote_plus(secret)}".encode()).decode()
    assert not secret_forms_in(secret, Redactor([secret]).redact(text))


# --- URL path values ------------------------------------------------------------------------------

@settings(max_examples=EXAMPLES, deadline=None)
@given(value=st.text(min_size=0, max_size=40))
def test_path_segment_is_refused_or_one_plain_segment(value):
    try:
        segment = path_segment(value, what="some_id", form="an identifier")
    except OptionError as exc:
        assert str(exc).startswith("some_id must be an identifier; got ")
        return
    assert segment not in ("", ".", "..") and "/" not in segment and "?" not in segment and "#" not in segment
    assert urllib.parse.unquote(segment) == value


@pytest.mark.parametrize("tenant", [".", "..", "eu-west-2_A/B", "eu-west-2_A%2FB", "eu-west-2_Ténant", "eu-west-2_",
                                    "EU-west-2_A", "eu-west-2_A?x", "x" * 60])
def test_thrive_tenant_ids_outside_the_documented_form_are_refused(tenant):
    with pytest.raises(OptionError, match="^tenant_id must be a THRIVE tenant id"):
        THRIVE.token_url({"environment": "staging", "tenant_id": tenant})
    with pytest.raises(OptionError, match="^tenant_id must be"):
        check_tenant_id(tenant)


def test_thrive_tenant_in_the_documented_form_makes_the_per_tenant_url():
    assert THRIVE.token_url({"environment": "staging", "tenant_id": "eu-west-2_AbCdEf123"}) == \
        "https://public.api.learnstaging.link/oauth2/token/eu-west-2_AbCdEf123"


def _jwt(claims: dict) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize("claim", ["custom:tenant_id", "tenant_id"])
def test_admin_token_of_another_tenant_is_refused(claim):
    token = _jwt({"exp": 2_000_000_000, claim: "eu-west-2_Other"})
    with pytest.raises(OptionError, match="tenant_id eu-west-2_Mine is not the tenant of admin_token"):
        check_token_tenant(token, "eu-west-2_Mine")
    check_token_tenant(token, "eu-west-2_Other")  # positive control: its own tenant passes
    check_token_tenant("Bearer " + token, "eu-west-2_Other")


# --- private key files ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o600, 0o400, 0o640, 0o644, 0o604, 0o660])
def test_key_file_warning_names_option_file_and_mode_never_content(tmp_path, mode):
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIALxxxxxxxxxxxxxxx\n-----END PRIVATE KEY-----\n")
    key.chmod(mode)
    assert stat.S_IMODE(os.stat(key).st_mode) == mode  # positive control
    warning = key_file_warning(str(key), "client_key")
    if not mode & 0o077:
        assert warning is None
        return
    assert warning.startswith(f"client_key {key} has mode {mode:04o}, open to ")
    assert ("its group" in warning) == bool(mode & 0o070) and ("every user" in warning) == bool(mode & 0o007)
    assert "TOPSECRET" not in warning


@pytest.mark.parametrize("organisation", ["..", ".", "org/../other", "org?x=1", "org#x", "%2e%2e", "örg", ""])
def test_thredd_organisation_id_outside_its_form_is_refused(organisation):
    from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thredd import organisation_segment

    with pytest.raises(OptionError, match="^org must be your Thredd organisation identifier"):
        organisation_segment(organisation)
    assert organisation_segment("org-123.a_b~c") == "org-123.a_b~c"  # positive control


@pytest.mark.parametrize("client_id", ["..", "."])
def test_a_thoughttrace_client_id_that_is_a_dot_segment_is_refused(client_id):
    from ansible_collections.apiauth.saas.plugins.module_utils import _thoughttrace_clients as tc
    from ansible_collections.apiauth.saas.plugins.module_utils._errors import ResponseFormatError

    paths = tc.resolve_paths(None)
    with pytest.raises(ResponseFormatError, match="the id of a client in its list must be"):
        tc.endpoint("https://idp.example", paths, "delete", client_id)
    # Positive control: an id with reserved characters is encoded whole into one segment.
    assert tc.endpoint("https://idp.example", paths, "delete", "a/../b") == "https://idp.example/api/clients/a%2F..%2Fb"
