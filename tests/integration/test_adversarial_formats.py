"""The roles, run for real at -vvvv, with hostile values: every file they write reads back exactly.

app_config (INI, YAML, JSON, dotenv) on two hosts and secret_store (file JSON, YAML, dotenv; a
systemd env file) get values built to rewrite a file's structure: the INI section payload, quotes,
`$`, `${X}`, backticks, backslashes, `#`, `;`, `=`, `[`, `%`, leading and trailing blanks, line
breaks, Unicode line separators, the empty value. The files are read back with the standard readers
(tests/format_readers.py). What a format cannot carry is refused by file and key, before anything
is written, with no value in the output. And secret_store --diff shows a new fingerprint for a new
value under the same name, never a value.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
import secrets
import sys
from pathlib import Path

import pytest

from conftest import assert_absent, assert_no_traceback
from format_readers import read_dotenv, read_ini, read_json, read_systemd_env, read_yaml

EVIL = "\n[api]\nurl = https://evil.example"
# The role's INI template before values were quoted, verbatim, as a user's own template would be.
OLD_INI_TEMPLATE = """{{ ansible_managed | comment(decoration='; ') }}
{% for section, options in item.data.items() %}
[{{ section }}]
{% for name, value in options.items() %}
{{ name }} = {{ value }}
{% endfor %}
{% if not loop.last %}

{% endif %}
{% endfor %}
"""


def _tag() -> str:
    return secrets.token_hex(10)


def _hostile() -> dict[str, str]:
    """Values every format of both roles can carry (INI's few limits respected), each with a random part."""
    return {
        "ini_payload": f"tok-{_tag()}{EVIL}",
        "quotes": f"it's \"quoted\" '{_tag()}' \\\" \\'",
        "dollars": f"$HOME ${{HOME}} $(id) `id` {_tag()} %(url)s %% 100%",
        "markup": f"a=b; c#d [section] {{x}} : - ~ !!str {_tag()}",
        # Template markup: written as it is, never evaluated (a credential is untrusted text, or unsafe before
        # ansible-core 2.19, and Ansible templates neither).
        "jinja": f"{{{{ 7 * 6 }}}} {{% if true %}}{_tag()}{{% endif %}} {{# note #}} {{{{ lookup('env', 'HOME') }}}}",
        "backslashes": f"C:\\temp\\{_tag()}\\n\\\\x",
        "lines": f"first {_tag()}\nsecond = 2\n\n[third]\n#inside\tvalue",
        "unicode": f"\u00e9\u202e\u2028line-sep\u2029\x85nel {_tag()} \U0001f600",
        "empty": "",
    }


def _env_safe(values: dict[str, str]) -> dict[str, str]:
    """python-dotenv expands ${...} whatever the quoting: dotenv files get the others (systemd carries it)."""
    return {name.upper(): value for name, value in values.items() if "${" not in value}


def _ini_safe(values: dict[str, str]) -> dict[str, str]:
    """configparser drops a continuation line that starts with # or ;."""
    return {name: value for name, value in values.items() if "\n#" not in value}


def _write_hostile(tmp_path: Path, values: dict) -> str:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return str(path)


def _hosts(count: int = 2) -> str:
    lines = "".join(f"app{n} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                    for n in range(count))
    return f"[app_hosts]\n{lines}"


def _ref(names) -> dict:
    return {name: "{{ app_config_secrets['" + name + "'] }}" for name in names}


def _app_config_files(out: Path, values: dict, old_template: Path) -> list:
    ini_values, env_values = _ini_safe(values), _env_safe(values)
    host = "{{ inventory_hostname }}"
    ini_data = {"api": {"url": "https://api.example.com", "token": "{{ app_config_secrets.ini_payload }}"},
                "more": _ref(ini_values)}
    return [
        {"dest": f"{out}/{host}.ini", "format": "ini", "data": ini_data},
        {"dest": f"{out}/{host}-raw.ini", "format": "ini", "ini_interpolation": "none", "data": ini_data},
        {"dest": f"{out}/{host}-old.ini", "src": str(old_template), "data": ini_data},
        {"dest": f"{out}/{host}.yaml", "format": "yaml", "data": {"app": _ref(values)}},
        {"dest": f"{out}/{host}.json", "format": "json", "data": {"app": _ref(values)}},
        {"dest": f"{out}/{host}.env", "format": "dotenv",
         "data": {name.upper(): "{{ app_config_secrets['" + name + "'] }}" for name in values if name.upper() in env_values}},
    ]


def test_app_config_writes_hostile_values_that_read_back_exactly(run_playbook, out, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/expanded")
    values = _hostile()
    old_template = tmp_path / "old-ini.j2"
    old_template.write_text(OLD_INI_TEMPLATE)
    extra = {"hostile_file": _write_hostile(tmp_path, values),
             "app_config_files": _app_config_files(out, values, old_template)}
    run = run_playbook("adversarial_app_config.yml", inventory=_hosts(), extra_vars=extra, verbosity=4, diff=True)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)

    ini = {"api": {"url": "https://api.example.com", "token": values["ini_payload"]}, "more": _ini_safe(values)}
    for host in ("app0", "app1"):
        # Positive control: the value held the payload, and the template that writes it verbatim (the role's
        # INI template before this change) gives configparser the attacker's api.url.
        assert EVIL in values["ini_payload"]
        old = configparser.ConfigParser(strict=False, interpolation=None)
        old.read(out / f"{host}-old.ini", encoding="utf-8")
        assert old.get("api", "url") == "https://evil.example"

        assert read_ini(out / f"{host}.ini", "basic") == ini
        assert read_ini(out / f"{host}-raw.ini", "none") == ini
        assert read_yaml(out / f"{host}.yaml") == {"app": values}
        assert read_json(out / f"{host}.json") == {"app": values}
        env = out / f"{host}.env"
        assert read_dotenv(env) == read_systemd_env(env) == _env_safe(values)
    assert_absent(list(values.values()), run)

    again = run_playbook("adversarial_app_config.yml", inventory=_hosts(), extra_vars=extra)
    assert again.rc == 0 and again.total("changed") == 0, again.output[-3000:]


@pytest.mark.parametrize("fmt, value, words", [
    ("ini", "tok-{tag}\r\n[api]\nurl = https://evil.example", "holds a carriage return"),
    ("ini", "  tok-{tag}", "white space at the start or end of a line"),
    ("ini", "tok-{tag}\n# a comment", "starts with '#' or ';'"),
    ("dotenv", "tok-{tag}-${{HOME}}", "python-dotenv replaces with a variable"),
    ("dotenv", "tok-{tag}\x00", "NUL character"),
])
def test_app_config_refuses_by_file_and_key_what_a_format_cannot_carry(run_playbook, out, tmp_path, fmt, value,
                                                                       words):
    tag = _tag()
    value = value.format(tag=tag)
    data = ({"api": {"url": "https://api.example.com", "token": "{{ app_config_secrets.token }}"}} if fmt == "ini"
            else {"API_TOKEN": "{{ app_config_secrets.token }}"})
    dest = f"{out}/{{{{ inventory_hostname }}}}.{fmt}"
    extra = {"hostile_file": _write_hostile(tmp_path, {"token": value}),
             "app_config_files": [{"dest": dest, "format": fmt, "data": data},
                                  {"dest": f"{out}/fine.json", "format": "json", "data": {"a": "b"}}]}
    run = run_playbook("adversarial_app_config.yml", inventory=_hosts(), extra_vars=extra, verbosity=4)
    assert run.rc != 0
    assert_no_traceback(run)
    text = " ".join(run.output.split())
    key = "[api] token" if fmt == "ini" else "API_TOKEN"
    for host in ("app0", "app1"):
        assert f"app_config: {out}/{host}.{fmt}: {key}: " in text and words in text, run.output[-3000:]
    assert tag not in run.output, "the value shows in the output"
    assert_absent([value], run)
    assert not list(out.iterdir()), "nothing is written when a value is refused"


STORES = {
    "json": {"backend": "file", "format": "json", "read": read_json},
    "yaml": {"backend": "file", "format": "yaml", "read": read_yaml},
    "dotenv": {"backend": "file", "format": "dotenv", "read": None},
    "env_file": {"backend": "env_file", "read": None},
}


@pytest.mark.parametrize("kind", STORES)
def test_secret_store_writes_hostile_values_that_read_back_exactly(run_playbook, out, tmp_path, monkeypatch, kind):
    monkeypatch.setenv("HOME", "/home/expanded")
    values = _hostile()
    if kind in ("dotenv", "env_file"):
        values = {name.upper(): value for name, value in values.items()}
        if kind == "dotenv":
            values = _env_safe(values)
    store = {"backend": STORES[kind]["backend"], "format": STORES[kind].get("format", "json"),
             "path": str(tmp_path / f"store.{kind}")}
    extra = {"hostile_file": _write_hostile(tmp_path, values), "store": store}
    run = run_playbook("adversarial_secret_store.yml", extra_vars=extra, verbosity=4, diff=True)
    assert run.rc == 0, run.output[-4000:]
    assert_no_traceback(run)

    path = Path(store["path"])
    metadata = {"valid_until": "2030-01-01T00:00:00Z"}
    if STORES[kind]["read"]:
        assert STORES[kind]["read"](path) == {**values, "_metadata": metadata}
    else:
        assert read_systemd_env(path) == values
        if kind == "dotenv":
            assert read_dotenv(path) == values
    # The role reads back what it wrote (the secrets, and the metadata no value could forge).
    read_back = json.loads((out / "read-back.json").read_text())
    assert read_back == {"exists": True, "secrets": values, "metadata": metadata}
    assert_absent(list(values.values()), run, (out / "diff.json").read_text())

    again = run_playbook("adversarial_secret_store.yml", extra_vars=extra)
    assert again.rc == 0 and again.total("changed") == 0, again.output[-3000:]


@pytest.mark.parametrize("kind, value, words", [
    ("dotenv", "tok-{tag}-${{X}}", "python-dotenv replaces with a variable"),
    ("dotenv", "tok-{tag}\r", "carriage return"),
    ("env_file", "tok-{tag}\x00", "NUL character"),
    ("env_file", "tok-{tag}\ufeff", "byte order mark"),
])
def test_secret_store_refuses_by_file_and_key_what_a_format_cannot_carry(run_playbook, out, tmp_path, kind, value,
                                                                         words):
    tag = _tag()
    value = value.format(tag=tag)
    store = {"backend": STORES[kind]["backend"], "format": STORES[kind].get("format", "json"),
             "path": str(out / f"store.{kind}")}
    extra = {"hostile_file": _write_hostile(tmp_path, {"API_TOKEN": value, "OTHER": "fine"}), "store": store}
    run = run_playbook("adversarial_secret_store.yml", extra_vars=extra, verbosity=4)
    assert run.rc != 0
    assert_no_traceback(run)
    text = " ".join(run.output.split())
    assert f"secret_store: {store['path']}: API_TOKEN: " in text and words in text, run.output[-3000:]
    assert tag not in run.output
    assert not Path(store["path"]).exists()


def _fingerprint(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def _diff_message(run) -> dict:
    block = run.stdout.split("Show what changes, as fingerprints]", 1)[1].split("TASK [", 1)[0]
    return json.loads(block[block.index("{"):block.rindex("}") + 1])["msg"]


@pytest.mark.parametrize("kind", ["json", "env_file"])
def test_secret_store_diff_shows_a_new_fingerprint_for_a_new_value_under_the_same_name(
        run_playbook, out, tmp_path, kind):
    store = {"backend": STORES[kind]["backend"], "format": STORES[kind].get("format", "json"),
             "path": str(tmp_path / f"store.{kind}")}
    old_value, new_value, kept = f"old-{_tag()}-{_tag()}", f"new-{_tag()}-{_tag()}", f"kept-{_tag()}-{_tag()}"
    first = run_playbook("adversarial_secret_store.yml", extra_vars={
        "hostile_file": _write_hostile(tmp_path, {"API_TOKEN": old_value, "KEPT": kept}), "store": store})
    assert first.rc == 0, first.output[-3000:]
    written = Path(store["path"]).read_bytes()

    changed = run_playbook("adversarial_secret_store.yml", verbosity=4, diff=True, extra_vars={
        "hostile_file": _write_hostile(tmp_path, {"API_TOKEN": new_value, "KEPT": kept}), "store": store})
    assert changed.rc == 0, changed.output[-3000:]
    # Positive control: the store really was rewritten with the new value.
    assert Path(store["path"]).read_bytes() != written and new_value.encode() in Path(store["path"]).read_bytes()
    shown = _diff_message(changed)
    assert shown["before"]["secrets"] == {"API_TOKEN": _fingerprint(old_value), "KEPT": _fingerprint(kept)}
    assert shown["after"]["secrets"] == {"API_TOKEN": _fingerprint(new_value), "KEPT": _fingerprint(kept)}
    assert json.loads((out / "diff.json").read_text())["msg"] == shown
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", shown["after"]["secrets"]["API_TOKEN"])
    assert_absent([old_value, new_value, kept], changed, (out / "diff.json").read_text())

    # The same value again: no change, so no message.
    same = run_playbook("adversarial_secret_store.yml", diff=True, extra_vars={
        "hostile_file": _write_hostile(tmp_path, {"API_TOKEN": new_value, "KEPT": kept}), "store": store})
    assert same.rc == 0 and same.total("changed") == 0
    assert "skipping" in same.stdout.split("Show what changes, as fingerprints]", 1)[1].split("TASK [", 1)[0]


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.role_app_config,
    pytest.mark.role_secret_store,
    pytest.mark.to_config,
    pytest.mark.from_env_file,
    pytest.mark.config_problems,
    pytest.mark.app_config_problems,
    pytest.mark.fingerprint,
]
