"""The secret scan: every module and token lookup, with good and wrong credentials, in
normal, check and diff mode, at -vvvv with ANSIBLE_LOG_PATH set and the cache encrypted.

No client secret, private key, password, admin token, secret key, access token
or API key may appear in stdout, stderr, the log, the cache files or any file
the run wrote other than its intended destination (received.json and the
recovery files). The secrets are long and random (the simulator's seeded
ones, and strong_secret() here), so a match cannot be a coincidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import assert_absent, assert_no_traceback, files_text, strong_secret

SECRET_VARS = ("_secret", "_password", "_secret_key", "_admin_token")
KEY_VARS = ("demo_jwt_key_path", "demo_mtls_key_path", "thredd_signing_key_path", "thredd_transport_key_path")
MODES = {"normal": {}, "check": {"check": True}, "diff": {"diff": True}}


def _pem_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _seeded_secrets(sim) -> list:
    demo = sim.demo_vars()
    values = [value for name, value in demo.items() if name.endswith(SECRET_VARS)]
    values += [Path(demo[name]).read_text() for name in KEY_VARS]
    assert len(values) >= 14 and all(len(value) >= 30 for value in values)
    return values


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_anywhere(sim, run_playbook, out, cache_dir, mode):
    wrong_secret, wrong_key, cache_key = strong_secret("wrong-"), _pem_key(), strong_secret("cache-key-")
    run = run_playbook("secret_scan.yml", verbosity=4, env={"APIAUTH_SAAS_CACHE_ENCRYPTION_KEY": cache_key},
                       extra_vars={"wrong_secret": wrong_secret, "wrong_key": wrong_key, "scan_mode": mode},
                       **MODES[mode])
    assert run.rc == 0, run.output[-6000:]
    assert_no_traceback(run)
    assert "ESTABLISH LOCAL CONNECTION" in run.log, "the log has the -vvvv detail"
    # Every failure path ran and failed (an unknown token is "valid: false" to token_info, not a failure).
    assert run.log.count("...ignoring") == 11, run.output[-6000:]

    received = json.loads((out / "received.json").read_text())
    lookups = received.pop("lookups")
    assert len(lookups) == 6 and all(lookups)
    # Check mode makes no THRIVE key and no ThoughtTrace client; the other modes do.
    made = {"thrive_key", "thoughttrace_client"}
    assert {name for name, value in received.items() if not value} == (made if mode == "check" else set())
    received = [value for value in received.values() if value] + lookups
    destinations = {out / "received.json"} | set(out.glob("received-*.json"))
    others = "".join(path.read_bytes().decode("latin-1") for path in out.rglob("*")
                     if path.is_file() and path not in destinations)
    cache_files = files_text(cache_dir)
    assert cache_files, "the encrypted cache was written"
    assert_absent(received + _seeded_secrets(sim) + [wrong_secret, wrong_key, cache_key], run, others, cache_files)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.oauth2_token,
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughttrace_token,
    pytest.mark.thredd_token,
    pytest.mark.thrive_token,
    pytest.mark.throughline_token,
    pytest.mark.thoughtspot_token_info,
    pytest.mark.thoughtspot_trusted_auth,
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
]
