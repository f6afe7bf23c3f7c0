"""Attacks on the credential report: markup in names and in forged cache metadata, a recovery directory
holding a link to a secret, a FIFO and a secret used as a field name, and an encrypted key's passphrase."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from html.parser import HTMLParser

from cryptography.hazmat.primitives import serialization

from conftest import ROOT, assert_absent, assert_no_traceback, strong_secret
from secret_forms import assert_no_secret_form
from test_credential_report import make_pair

PLAYBOOKS = ROOT / "playbooks"
HOSTILE = '</svg><script>alert(1)</script><img src=x onerror=alert(2)> | x | y |\n## Injected [link](http://evil.example)'


PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "div", "span", "strong", "ul", "li", "svg",
             "rect", "text", "line", "g", "circle", "polygon", "table", "thead", "tbody", "tr", "th", "td"}


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set = set()
        self.attributes: set = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _value in attrs)


def _tags(html: str) -> set:
    """The elements of a page as a browser's tokenizer finds them; event handler attributes fail at once."""
    collector = _TagCollector()
    collector.feed(html)
    assert not any(name.startswith("on") for name in collector.attributes), collector.attributes
    return collector.tags


def _report(run_playbook, tmp_path, **variables):
    out = tmp_path / "report"
    variables = {"credential_report_output_dir": str(out), "credential_report_json": str(out / "report.json"),
                 "credential_report_fail_on": "never", **variables}
    run = run_playbook(str(PLAYBOOKS / "credential_report.yml"), extra_vars=variables, verbosity=4)
    assert_no_traceback(run)
    assert run.rc == 0, run.output[-3000:]
    return run, {name: (out / name).read_text() for name in ("credential-report.md", "credential-report.html",
                                                             "report.json")}


def _forged_entry(cache_dir, client_id: str) -> None:
    """An entry in the cache's envelope format with forged clear metadata (nothing decrypts it)."""
    cache_dir.mkdir(mode=0o700, exist_ok=True)
    envelope = {"v": 2, "alg": "A256GCM", "nonce": base64.urlsafe_b64encode(os.urandom(12)).decode(),
                "ct": base64.urlsafe_b64encode(os.urandom(48)).decode(),
                "meta": {"vendor": "thredd", "host": "uat-api.example", "client_id": client_id,
                         "expires_at": 4102444800.0, "obtained_at": 4102441200.0}}
    (cache_dir / ("ab" * 32 + ".entry")).write_text(json.dumps(envelope))


def test_adversarial_markup_in_names_stays_text(run_playbook, tmp_path, cache_dir):
    pair = make_pair(tmp_path, "cert", 100)
    _forged_entry(cache_dir, HOSTILE)
    run, files = _report(run_playbook, tmp_path, credential_report_cache_dir=str(cache_dir),
                         credential_report_certificates=[{"path": pair["path"], "name": HOSTILE}],
                         credential_report_keys=[{"name": HOSTILE, "valid_until": "2027-01-01", "location": HOSTILE}])
    report = json.loads(files["report.json"])
    # Positive control: the hostile text reached the report, as a certificate, a key and a token's client id.
    assert sum(1 for c in report["credentials"] if HOSTILE in (c["name"], c.get("client_id"))) == 3
    html = files["credential-report.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for raw in ("<script", "<img", "</svg><"):
        assert raw not in html, f"{raw!r} reached the HTML unescaped"
    tags = _tags(html)
    assert tags <= PAGE_TAGS, f"elements the template does not write: {tags - PAGE_TAGS}"
    assert html.count("<svg") == 1 and html.count("</svg>") == 1
    markdown = files["credential-report.md"]
    assert "&lt;script&gt;" in markdown
    assert not re.search(r"^#+ Injected", markdown, re.M), "a name added a heading"
    assert not re.search(r"(?<!\\)\]\(", markdown), "a name added a link"
    table = markdown.split("## Soonest first", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(report["credentials"]), "a name added or split a table row"
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 8 for row in rows), "a name added a column"


def test_adversarial_recovery_dir_link_fifo_and_secret_names(run_playbook, tmp_path):
    secret = strong_secret("recovered-")
    recovery = tmp_path / "recovery"
    recovery.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"client_id": secret, "client_secret": secret}))
    (recovery / "link.json").symlink_to(elsewhere)
    os.mkfifo(recovery / "pipe.json")
    (recovery / "odd.json").write_text(json.dumps({secret: "x", "tenant_id": "t-1", "api_key": secret}))
    (recovery / "odd.json").chmod(0o644)
    # Positive controls: the link points at a file that holds the secret in a field the report shows, the FIFO
    # would block a plain open, and the odd file uses the secret as a field name.
    assert (recovery / "link.json").is_symlink() and secret in (recovery / "link.json").read_text()
    assert stat.S_ISFIFO(os.lstat(recovery / "pipe.json").st_mode)
    assert secret in (recovery / "odd.json").read_text()

    run, files = _report(run_playbook, tmp_path, credential_report_recovery_dir=str(recovery),
                         credential_report_cache_dir=str(tmp_path / "none"))
    found = {c["name"]: c for c in json.loads(files["report.json"])["credentials"]}
    assert sorted(found) == ["link.json", "odd.json", "pipe.json"]
    assert all(c["kind"] == "recovery_file" and c["status"] == "expired" for c in found.values())
    assert "symbolic link" in " ".join(found["link.json"]["problems"])
    assert not any(key.startswith("record_") for key in found["link.json"])
    assert found["odd.json"]["holds"] == ["api_key", "tenant_id", "(1 other field)"]
    assert "lets other users read it" in " ".join(found["odd.json"]["problems"])
    for where, text in files.items():
        assert_no_secret_form([secret], text, where)
    assert_absent([secret], run)


def test_adversarial_encrypted_key_passphrase_never_shows(run_playbook, tmp_path):
    passphrase = strong_secret("passphrase-")
    pair = make_pair(tmp_path, "encrypted", 100)
    encrypted = pair["obj"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(passphrase.encode()))
    key_path = tmp_path / "encrypted-key.pem"
    key_path.write_bytes(encrypted)
    key_path.chmod(0o600)
    certificates = [{"name": "with passphrase", "path": pair["path"], "key": str(key_path),
                     "key_passphrase": passphrase},
                    {"name": "without passphrase", "path": pair["path"], "key": str(key_path)}]
    run, files = _report(run_playbook, tmp_path, credential_report_certificates=certificates,
                         credential_report_cache_dir=str(tmp_path / "none"))
    found = {c["name"]: c for c in json.loads(files["report.json"])["credentials"]}
    # Positive control: the passphrase was used, since only with it does the key compare (and fit).
    assert found["with passphrase"]["key_matches"] is True and found["with passphrase"]["status"] == "ok"
    assert found["without passphrase"]["status"] == "invalid"
    assert "set key_passphrase" in found["without passphrase"]["problems"][0]
    for where, text in files.items():
        assert_no_secret_form([passphrase, pair["key_pem"]], text, where)
    assert_absent([passphrase, pair["key_pem"], encrypted.decode()], run)


# What this file tests, for `pytest -m <marker>` (tests/README.md).
import pytest  # noqa: E402  # pylint: disable=wrong-import-position

pytestmark = [
    pytest.mark.credential_report,
    pytest.mark.playbook_credential_report,
]
