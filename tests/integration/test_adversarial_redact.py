"""Adversarial: vendors that quote the request back, and values that must not reach a URL or a user.

Real playbooks at -vvvv with ANSIBLE_LOG_PATH set, against the HTTPS simulator.
Each test has a positive control: the simulator's echoed answer (kept in its
state directory) really held the encoded secret, the audit log shows the
request that was (or was not) made, or the file really had the mode.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import pytest

from conftest import assert_no_traceback, strong_secret
from secret_forms import assert_no_secret_form, secret_forms_in

RENDERS = ["body", "headers", "json", "base64", "html", "location"]
# Per fault queue: how many module loops (one request per render) and which renders its lookups get.
QUEUES = {
    "oauth2": (3, ["headers"]),
    "throughline": (1, ["body"]),
    "thoughttrace": (1, []),
    "thredd": (1, []),
    "thrive": (1, []),
    "thoughtspot": (1, ["json"]),
}


def _secret(prefix: str) -> str:
    # Characters that every encoding changes: form (+ / space % &), JSON and HTML (" \ < &), UTF-8.
    return strong_secret(prefix) + '"\\<é☃𝄞'


def _echoed(entry: dict) -> str:
    """The error_description the simulator sent back (what a parser shows)."""
    body = Path(entry["echo_file"]).read_text(encoding="utf-8")
    return json.loads(body)["error_description"]


def test_echoing_vendors_never_show_an_encoded_secret(sim, run_playbook):
    secrets_by_vendor = {vendor: _secret(f"{vendor}-") for vendor in QUEUES}
    for vendor, (loops, lookups) in QUEUES.items():
        sim.add_faults(vendor, [{"kind": "echo", "render": render} for render in RENDERS * loops + lookups])
    user = "echo-user"
    run = run_playbook("echo.yml", verbosity=4, extra_vars={
        "echo_renders": RENDERS,
        "echo_client_id": "echo-client",
        "echo_oauth2_secret": secrets_by_vendor["oauth2"],
        "echo_throughline_secret": secrets_by_vendor["throughline"],
        "echo_thoughttrace_secret": secrets_by_vendor["thoughttrace"],
        "echo_thredd_secret": secrets_by_vendor["thredd"],
        "echo_thrive_secret": secrets_by_vendor["thrive"],
        "echo_thoughtspot_user": user,
        "echo_thoughtspot_password": secrets_by_vendor["thoughtspot"],
    })
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)
    assert "PLAYBOOK: echo.yml" in run.log and "task path:" in run.log, "the log has the -vvvv detail"

    # Positive control: every echo was served, and between them the answers quoted each
    # secret percent-encoded, base64-encoded (Basic header or body), JSON-escaped and HTML-escaped.
    assert sim.pending_faults() == {}
    echoes = [entry for entry in sim.audit() if entry.get("fault") == "echo"]
    assert len(echoes) == sum(loops * len(RENDERS) + len(lookups) for loops, lookups in QUEUES.values())
    for vendor, secret in secrets_by_vendor.items():
        entries = [entry for entry in echoes if entry["vendor"] == vendor]
        quoted = [_echoed(entry) for entry in entries]
        forms = {form for text in quoted for form in secret_forms_in(secret, text)}
        assert "base64" in forms, (vendor, forms)
        if vendor == "thoughtspot" or any(entry["auth_method"] == "client_secret_post" for entry in entries):
            # A secret in the body: quoted percent-encoded, JSON-escaped and HTML-escaped too.
            assert "json" in forms, (vendor, forms)
            assert any(form.startswith("html") for form in forms), (vendor, forms)
            if vendor != "thoughtspot":  # a form body; ThoughtSpot's is JSON
                assert forms & {"percent", "percent-plus"}, (vendor, forms)
        # The raw text of an echo does not hold the secret as it is: only an encoding does.
        if vendor != "thoughtspot":  # ThoughtSpot's JSON body carries the password unencoded
            assert not any(secret in text for text in quoted), vendor
    # The vendor's text reached the user (so masking, not silence, is what hides the secret).
    assert run.output.count("cannot process request body:") >= 8
    assert run.output.count("rejected headers:") >= 6
    assert "bad request {" in run.output

    assert_no_secret_form(secrets_by_vendor.values(), run.stdout, "stdout")
    assert_no_secret_form(secrets_by_vendor.values(), run.stderr, "stderr")
    assert_no_secret_form(secrets_by_vendor.values(), run.log, "ansible.log")

    # The client assertion (private_key_jwt) is a secret too: its signature never shows.
    bodies = [_echoed(entry) for entry in echoes if entry["vendor"] == "oauth2"]
    assertions = [urllib.parse.parse_qs(text.removeprefix("cannot process request body: ")).get("client_assertion")
                  for text in bodies if text.startswith("cannot process request body: client_assertion")
                  or (text.startswith("cannot process") and "client_assertion=" in text)]
    assert assertions and all(assertions), "positive control: an assertion was echoed"
    signatures = [value[0].rpartition(".")[2] for value in assertions]
    assert_no_secret_form(signatures, run.output, "output")


def test_a_secret_in_a_redirect_location_is_masked(sim, run_playbook):
    """A vendor that redirects to a URL whose query carries the form it was sent (status 302)."""
    secret = _secret("redirect-")
    # The client_secret_basic task gets a 404 echo of the headers, the client_secret_post task the redirect.
    sim.add_faults("oauth2", [{"kind": "echo", "render": "headers", "status": 404},
                              {"kind": "echo", "render": "location", "status": 302}])
    run = run_playbook("echo.yml", verbosity=4, extra_vars={
        "echo_renders": ["only"], "echo_client_id": "echo-client", "echo_oauth2_secret": secret,
        "echo_throughline_secret": _secret("unused-"), "echo_thoughttrace_secret": _secret("unused-"),
        "echo_thredd_secret": _secret("unused-"), "echo_thrive_secret": _secret("unused-"),
        "echo_thoughtspot_user": "nobody", "echo_thoughtspot_password": _secret("unused-"),
    })
    assert run.rc == 0, run.output[-3000:]
    echoes = [entry for entry in sim.audit("oauth2") if entry.get("fault") == "echo"]
    assert [entry["status"] for entry in echoes] == [404, 302]
    # Positive control: the Location's query held the form-encoded secret, the other answer the Basic header.
    assert "percent-plus" in secret_forms_in(secret, _echoed(echoes[1]))
    assert "base64" in secret_forms_in(secret, _echoed(echoes[0]))
    assert "HTTP 302 invalid_request: moved to https://" in run.output
    assert "HTTP 404 invalid_request: rejected headers: Authorization: " in run.output
    assert_no_secret_form([secret], run.stdout + run.stderr + run.log)
