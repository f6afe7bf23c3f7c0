# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A FIFO, a device or a directory where a file is read: a clear error at once, never a hung run.

``open()`` of a FIFO waits until something opens it for writing. A path
option pointed at one by mistake (``/dev/stdin``, a named pipe left by a
secrets tool) would hang the play with no message. Every place the
collection reads a file is tried here with a real FIFO. Each reader runs in a
thread; one still blocked after a few seconds is a failure (the test then
opens the FIFO for writing to free it). Positive control: a plain ``open`` of
the same FIFO does block, so the check can tell.

The source check keeps the class closed: no module of the collection opens a
file for reading except through ``_fileio.open_regular``.
"""

from __future__ import annotations

import ast
import datetime
import os
import threading
from pathlib import Path

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _cache_files, _credential_report, _fileio
from ansible_collections.apiauth.saas.plugins.module_utils._certs import load_certificate
from ansible_collections.apiauth.saas.plugins.module_utils._credential_report import _recovery_summary
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError
from ansible_collections.apiauth.saas.plugins.module_utils._http_options import (
    HttpOptions,
    check_client_cert,
    validate_options,
)
from ansible_collections.apiauth.saas.plugins.module_utils._jws import load_private_key
from ansible_collections.apiauth.saas.plugins.module_utils._pem import read_material
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import _read_key_material

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
WAIT = 5.0


def _outcome(call) -> tuple:
    """``(finished, result or exception)`` of ``call()`` run in a thread for at most WAIT seconds."""
    box = {}

    def run():
        try:
            box["value"] = call()
        except BaseException as exc:  # pylint: disable=broad-except
            box["value"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(WAIT)
    return not worker.is_alive(), box.get("value")


def _free(path) -> None:
    """Free any reader still blocked on the FIFO at ``path``, so no thread outlives the test."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "named-pipe.pem"
    os.mkfifo(path, 0o600)
    yield str(path)
    _free(path)


def test_positive_control_a_plain_open_of_a_fifo_blocks(fifo):
    finished = _outcome(lambda: open(fifo, "rb").close())[0]  # pylint: disable=consider-using-with
    assert not finished, "open() of a FIFO returned at once: this test could not tell a blocking reader"


def _certificate_report(path):
    entry = _credential_report.certificate_entry({"path": path}, datetime.datetime.now(datetime.timezone.utc), 30, [])
    if entry["status"] != "invalid":
        return entry
    raise ApiAuthError("; ".join(entry["problems"]))


# What reads a user's file: (name, call). Each must fail with the collection's own error, at once.
USER_READERS = [
    ("signing key (private_key_path)", lambda p: load_private_key(path=p)),
    ("certificate check (signing_cert_path)", lambda p: load_certificate(p, what="signing certificate")),
    ("cache identity of key material", lambda p: _read_key_material(p, "client_cert")),
    ("TLS client certificate (client_cert)", lambda p: check_client_cert(p, None, "client_cert", "client_key")),
    ("CA bundle (ca_path)", lambda p: validate_options(HttpOptions(ca_path=p))),
    ("credential report certificate", _certificate_report),
]


@pytest.mark.parametrize("name,call", USER_READERS, ids=[reader[0] for reader in USER_READERS])
def test_a_fifo_given_as_a_file_option_fails_at_once_with_a_clear_error(name, call, fifo):
    finished, outcome = _outcome(lambda: call(fifo))
    assert finished, f"{name}: blocked on a FIFO"
    assert isinstance(outcome, ApiAuthError), f"{name}: {outcome!r}"
    message = str(outcome)
    assert fifo in message and "not a regular file" in message, message
    assert "Traceback" not in message


def test_a_fifo_given_as_the_report_key_is_named(tmp_path, fifo):
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "fifo-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
            .sign(key, hashes.SHA256()))
    cert_path = tmp_path / "cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    finished, entry = _outcome(lambda: _credential_report.certificate_entry(
        {"path": str(cert_path), "key": fifo}, now, 30, []))
    assert finished, "the report blocked on a FIFO given as the key"
    assert isinstance(entry, dict), repr(entry)
    # Positive control: the certificate itself was read (its dates are there); only the key failed.
    assert entry["expires_at"] is not None
    assert any("not a regular file" in problem and fifo in problem for problem in entry["problems"]), entry


def test_collection_files_that_are_fifos_are_skipped(tmp_path):
    directory = tmp_path / "cache"
    _fileio.ensure_private_dir(str(directory), "cache_dir")
    os.mkfifo(directory / "planted.entry", 0o600)
    os.mkfifo(directory / "planted.json", 0o600)
    store = _cache_files.FileStore(str(directory))
    calls = [
        ("cache entry", lambda: store.read_entry(str(directory / "planted.entry"), "planted", b"k" * 32)),
        ("small file", lambda: _cache_files.read_small_file(str(directory / "planted.entry"))),
        ("private file", lambda: _fileio.read_private_file(str(directory / "planted.json"), 4096)),
        # Reached only after an lstat said "regular file": the name can be swapped in between.
        ("recovery file summary", lambda: _recovery_summary(str(directory / "planted.json"))),
    ]
    try:
        for name, call in calls:
            finished, outcome = _outcome(call)
            assert finished, f"{name}: blocked on a FIFO"
            assert not isinstance(outcome, BaseException) or isinstance(outcome, ApiAuthError), f"{name}: {outcome!r}"
    finally:
        for planted in ("planted.entry", "planted.json"):
            _free(directory / planted)


def test_read_material_reads_a_regular_file_and_refuses_the_rest(tmp_path, fifo):
    path = tmp_path / "plain.pem"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n")
    assert read_material(str(path)).startswith(b"-----BEGIN CERTIFICATE-----")
    for other in (fifo, str(tmp_path), "/dev/null"):
        with pytest.raises(_fileio.NotRegularFileError):
            read_material(other)


def _reads_without_open_regular(path: Path) -> list:
    """Calls in ``path`` that open a file for reading without ``open_regular``: ``open()`` or ``os.open(O_RDONLY)``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.name == "open_regular":
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "open":
                found.append(f"{path.name}:{node.lineno} {function.name}: open()")
            elif (isinstance(node.func, ast.Attribute) and node.func.attr == "open"
                  and isinstance(node.func.value, ast.Name) and node.func.value.id == "os" and len(node.args) > 1):
                flags = ast.unparse(node.args[1])
                if "O_RDONLY" in flags and "O_DIRECTORY" not in flags:
                    found.append(f"{path.name}:{node.lineno} {function.name}: os.open({flags})")
    return found


def test_every_file_read_goes_through_open_regular():
    sources = sorted(PLUGINS.rglob("*.py"))
    assert any(path.name == "_fileio.py" for path in sources)  # positive control: the tree was found
    found = [line for path in sources for line in _reads_without_open_regular(path)]
    assert not found, "Read files through _fileio.open_regular (regular files only, never blocking):\n" + \
        "\n".join(found)


def test_the_source_check_finds_a_plain_open(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef read(p):\n    with open(p) as f:\n        return f.read()\n\n"
                      "def raw(p):\n    return os.open(p, os.O_RDONLY | os.O_CLOEXEC)\n")
    assert len(_reads_without_open_regular(sample)) == 2
