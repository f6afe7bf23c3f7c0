# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""get_token through its layers, against a real scripted HTTPS token endpoint.

The server (see _https_server) answers what each test queues and records what
it received, so every assertion is about a request that really went out or a
record that really came back. The file layer is checked from a new process,
where the memory layer of this one cannot answer.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import urllib.parse

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import (
    SECRET_OPTIONS,
    VendorProfile,
    get_token,
    redactor_for,
    serve_cached,
    token_cache,
)
from ansible_collections.apiauth.saas.tests.unit.plugins.module_utils._https_server import Reply, ScriptedServer

COLLECTIONS = os.path.join(os.path.dirname(__file__), *[".."] * 4, ".tmp", "collections")
SECRET = "s3cr3t-" + "Q" * 24 + ":+/ %&"  # characters that form-encoding and base64 change


@pytest.fixture
def server(ca):
    authority, _path = ca
    ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(ssl_context)
    with ScriptedServer(ssl_context) as running:
        yield running


@pytest.fixture
def params(ca, server, tmp_path) -> dict:
    return {"token_url": server.url("/oauth2/token"), "client_id": "client-a", "client_secret": SECRET,
            "ca_path": ca[1], "cache_dir": str(tmp_path / "cache"), "retries": 0}


def token_reply(token: str, **extra) -> Reply:
    return Reply(200, headers={"Content-Type": "application/json"},
                 body=dict({"access_token": token, "token_type": "Bearer", "expires_in": 3600}, **extra))


def _form(seen) -> dict:
    return dict(urllib.parse.parse_qsl(seen.body.decode()))


def test_network_then_memory_then_file_in_a_new_process(server, params):
    server.script(token_reply("tok-" + "a" * 30))
    first = get_token(dict(params))
    assert first.source == "network" and first.attempts == 1
    assert first.record["access_token"] == "tok-" + "a" * 30
    assert first.record["authorization"] == "Bearer tok-" + "a" * 30
    # What the token endpoint received: RFC 6749 client credentials with HTTP Basic (form-encoded first).
    assert len(server.seen) == 1 and server.seen[0].method == "POST" and server.seen[0].path == "/oauth2/token"
    assert _form(server.seen[0])["grant_type"] == "client_credentials"
    basic = base64.b64decode(server.seen[0].headers["authorization"].split()[1]).decode()
    assert basic == f"client-a:{urllib.parse.quote_plus(SECRET)}"

    second = get_token(dict(params))
    assert second.source == "memory" and second.attempts == 0
    assert second.record["access_token"] == first.record["access_token"] and len(server.seen) == 1

    # Another process has no memory layer: the encrypted file serves it, with no request.
    code = ("import json, sys; from ansible_collections.apiauth.saas.plugins.module_utils._token_service import "
            "get_token; o = get_token(json.loads(sys.argv[1])); print(json.dumps([o.source, o.record['access_token']]))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(params)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.path.abspath(COLLECTIONS)), timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == ["file", first.record["access_token"]]
    assert len(server.seen) == 1
    assert SECRET not in "".join(open(os.path.join(root, name), "rb").read().decode("latin-1")
                                 for root, _dirs, files in os.walk(params["cache_dir"]) for name in files)


def test_force_refresh_and_cache_off_ask_again(server, params):
    server.script(token_reply("tok-one-" + "b" * 20), token_reply("tok-two-" + "c" * 20),
                  token_reply("tok-three-" + "d" * 20))
    assert get_token(dict(params)).source == "network"
    refreshed = get_token(dict(params, force_refresh=True))
    assert refreshed.source == "network" and refreshed.record["access_token"].startswith("tok-two-")
    off = get_token(dict(params, cache=False))
    assert off.source == "network" and off.record["access_token"].startswith("tok-three-")
    assert len(server.seen) == 3


def test_a_changed_secret_never_gets_the_old_token(server, params):
    server.script(token_reply("tok-old-" + "e" * 20), token_reply("tok-new-" + "f" * 20))
    get_token(dict(params))
    rotated = get_token(dict(params, client_secret=SECRET + "-rotated"))
    assert rotated.source == "network" and rotated.record["access_token"].startswith("tok-new-")


class RecordingProfile(VendorProfile):
    """A vendor whose hooks record their calls and change what get_token does."""

    def __init__(self, url: str) -> None:
        super().__init__(name="recording", display_name="Recording Vendor", default_token_url=url,
                         auth_method="client_secret_post", error_hints={"invalid_scope": "ask for scope=read"},
                         authorization_scheme="Token")
        self.calls: list = []

    def identity_extra(self, params: dict) -> dict:
        return {"region": params.get("region")}

    def check(self, params: dict, warnings: list) -> None:
        self.calls.append("check")
        if params.get("region") == "mars":
            raise OptionError("region must be on Earth.")
        warnings.append(f"checked {params['client_id']}")

    def preflight(self, params: dict, creds, client) -> None:
        self.calls.append("preflight")

    def decorate(self, record: dict, params: dict) -> dict:
        return dict(record, region=params.get("region"), base_url="https://api.example.invalid")


def test_profile_hooks(server, params):
    profile = RecordingProfile(server.url("/vendor/token"))
    options = {key: value for key, value in params.items() if key != "token_url"}
    server.script(token_reply("tok-eu-" + "g" * 20), token_reply("tok-us-" + "h" * 20))

    eu = get_token(dict(options, region="eu"), profile)
    # token_url hook: the profile's default URL; client_auth_method hook: the vendor's fixed method.
    assert server.seen[0].path == "/vendor/token"
    assert "authorization" not in server.seen[0].headers and _form(server.seen[0])["client_secret"] == SECRET
    assert profile.calls == ["check", "preflight"]
    assert "checked client-a" in eu.warnings
    # decorate and authorization_scheme shape the record.
    assert eu.record["region"] == "eu" and eu.record["base_url"] == "https://api.example.invalid"
    assert eu.record["authorization"] == "Token tok-eu-" + "g" * 20

    # identity_extra separates cache entries; preflight runs only when a request goes out, check always.
    again = get_token(dict(options, region="eu"), profile)
    assert again.source == "memory" and profile.calls == ["check", "preflight", "check"]
    us = get_token(dict(options, region="us"), profile)
    assert us.source == "network" and us.record["access_token"].startswith("tok-us-") and len(server.seen) == 2

    # A check failure stops before the cache and the network.
    with pytest.raises(OptionError, match="region must be on Earth"):
        get_token(dict(options, region="mars"), profile)
    assert len(server.seen) == 2


def test_profile_error_hint_and_the_secret_masked_in_a_refusal(server, params):
    profile = RecordingProfile(server.url("/vendor/token"))
    quoted = f"bad scope for client_secret={urllib.parse.quote_plus(SECRET)} ({SECRET})"
    server.script(Reply(400, headers={"Content-Type": "application/json"},
                        body={"error": "invalid_scope", "error_description": quoted}))
    with pytest.raises(ApiAuthError) as caught:
        get_token(dict(params, token_url=None), profile)
    text = str(caught.value)
    assert "Recording Vendor" in text and "HTTP 400 invalid_scope" in text and "ask for scope=read" in text
    # Positive control: the secret was sent and the vendor's answer quoted it in two forms.
    assert _form(server.seen[0])["client_secret"] == SECRET
    assert SECRET not in text and urllib.parse.quote_plus(SECRET) not in text
    assert "Q" * 24 not in text


class QuotingProfile(VendorProfile):
    """A vendor check that quotes the options it was given, as a careless hook might."""

    def check(self, params: dict, warnings: list) -> None:
        raise OptionError(f"cannot use {params['client_secret']} here")


def test_an_error_from_a_hook_is_masked_by_get_token(server, params):
    profile = QuotingProfile(name="quoting", display_name="Quoting Vendor")
    with pytest.raises(OptionError) as caught:
        get_token(dict(params), profile)
    # Positive control: the hook's text did quote the value; only the secret is gone from it.
    assert str(caught.value).startswith("cannot use ") and str(caught.value) != f"cannot use {SECRET} here"
    assert SECRET not in str(caught.value) and "Q" * 24 not in str(caught.value)
    assert server.seen == []


def test_expected_token_type_is_enforced(server, params):
    profile = VendorProfile(name="mac", display_name="MAC Vendor", expected_token_type="mac")
    server.script(token_reply("tok-" + "i" * 30))
    with pytest.raises(ApiAuthError, match="(?i)token_type"):
        get_token(dict(params), profile)
    assert len(server.seen) == 1


def test_serve_cached_warns_about_tokens_it_cannot_keep(server, params):
    server.script(token_reply("tok-" + "j" * 30, expires_in=None), token_reply("tok-" + "k" * 30, expires_in=None))
    first = get_token(dict(params))
    assert any("did not say when the token expires" in warning for warning in first.warnings)
    assert get_token(dict(params)).source == "network", "a token of unknown lifetime is not cached"

    server.script(token_reply("tok-short-" + "l" * 20, expires_in=60))
    short = get_token(dict(params, client_id="client-b"))
    assert any("lives 60 s, less than min_ttl (900 s)" in warning for warning in short.warnings)
    # Positive control: the same token with a lifetime above min_ttl gets no warning.
    server.script(token_reply("tok-long-" + "m" * 20, expires_in=60))
    assert get_token(dict(params, client_id="client-c", min_ttl=30)).warnings == []


def test_serve_cached_masks_the_token_and_takes_its_advice(params):
    cache = token_cache(dict(params))
    redactor = redactor_for(params)
    token = "tok-direct-" + "n" * 30

    def fetch():
        import time

        now = time.time()
        return {"access_token": token, "token_type": "Bearer", "scope": None, "obtained_at": int(now),
                "expires_at": int(now) + 10, "lifetime": 10}, now + 10

    result, warnings = serve_cached(cache, {"vendor": "direct", "client_id": "x"}, [SECRET], fetch, {},
                                    vendor="Direct", redactor=redactor, short_lived_advice="ask the vendor")
    assert result.source == "network" and result.record["access_token"] == token
    assert warnings == ["Direct issued a token that lives 10 s, less than min_ttl (900 s), so it will not be "
                        "reused: ask the vendor."]
    assert redactor.redact(f"x {token} y") != f"x {token} y", "the token joins the redactor"


def test_redactor_for_masks_exactly_the_named_options():
    values = {name: f"{name}-value-{'z' * 12}" for name in SECRET_OPTIONS}
    values["client_id"] = "client-id-value-public"
    text = " ".join(values.values())
    masked = redactor_for(values).redact(text)
    assert all(values[name] not in masked for name in SECRET_OPTIONS)
    assert values["client_id"] in masked, "a public option stays readable"
    # Named options only: the default set does not mask an option it does not know.
    only = redactor_for({"secret_key": "k" * 30, "client_secret": "c" * 30}, ("secret_key",)).redact("k" * 30 + " " + "c" * 30)
    assert "k" * 30 not in only and "c" * 30 in only


def test_option_errors_come_before_any_request(server, params):
    with pytest.raises(OptionError, match="client_secret"):
        get_token(dict(params, client_secret=None))
    with pytest.raises(OptionError, match="client_id"):
        get_token(dict(params, client_id=""))
    assert server.seen == []


pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
]
