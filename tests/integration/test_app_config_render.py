"""The file task of the role app_config (the module app_config_render), run for real at -vvvv.

The task has no no_log: the module keeps every file's content out of its result. These tests print the whole
registered result, run with --diff and in check mode, and make a validate command print the file it checks
(as it is and JSON-escaped), then look for every credential in every form the files hold it in: raw, as INI
writes a % (%%), JSON-escaped. Positive controls show that each path was reached: the files hold the values,
the validate command ran, and its output reached the result, masked.

The module writes the files on the host itself, so the rest is about where a secret lands: a link at dest is
replaced, never written through; what is no regular file is refused without blocking; a mode, an owner and a
backup are right from the start, and no temporary file is left behind.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from conftest import assert_absent, assert_no_traceback, strong_secret
from format_readers import read_ini, read_json

MASK = "********"


def _hosts(count: int) -> str:
    lines = "".join(f"app{n} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
                    for n in range(count))
    return f"[app_hosts]\n{lines}"


def _values_file(tmp_path: Path, values: dict) -> str:
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return str(path)


def _forms(value: str) -> list:
    """The forms a value takes in the files and in a validate command's output."""
    return [value, value.replace("%", "%%"), json.dumps(value)[1:-1], json.dumps(value.replace("%", "%%"))[1:-1]]


def _files(out: Path) -> list:
    host = "{{ inventory_hostname }}"
    return [
        {"dest": f"{out}/{host}.ini", "format": "ini",
         "data": {"api": {"url": "https://api.example.com", "token": "{{ app_config_secrets.token }}"}}},
        {"dest": f"{out}/{host}.json", "format": "json", "data": {"token": "{{ app_config_secrets.token }}"}},
    ]


def test_the_result_and_the_diff_hold_no_content(run_playbook, out, tmp_path):
    token = strong_secret("tok-")
    extra = {"hostile_file": _values_file(tmp_path, {"token": token}), "app_config_files": _files(out)}
    run = run_playbook("app_config_render.yml", inventory=_hosts(2), extra_vars=extra, verbosity=4, diff=True)
    assert run.rc == 0, run.output[-3000:]
    assert_no_traceback(run)
    for host in ("app0", "app1"):
        # Positive control: the files hold the token, and the play read each changed path from the result.
        assert read_ini(out / f"{host}.ini", "basic")["api"]["token"] == token
        assert read_json(out / f"{host}.json") == {"token": token}
        assert f"changed: ['{out}/{host}.ini', '{out}/{host}.json']" in run.output
    assert "%%" in (out / "app0.ini").read_text(), "the INI file holds the token's %% form"
    assert_absent(_forms(token), run)

    # Check mode with a new token: reported as changed, nothing written, nothing shown.
    new_token = strong_secret("new-")
    extra["hostile_file"] = _values_file(tmp_path, {"token": new_token})
    check = run_playbook("app_config_render.yml", inventory=_hosts(2), extra_vars=extra, verbosity=4, diff=True,
                         check=True)
    assert check.rc == 0, check.output[-3000:]
    assert check.total("changed") >= 2, check.output[-3000:]
    assert read_json(out / "app0.json") == {"token": token}, "check mode wrote a file"
    assert_absent(_forms(new_token) + _forms(token), check)


def test_a_failed_validate_is_shown_with_every_value_masked(run_playbook, out, tmp_path):
    token = strong_secret("tok-")
    ran = tmp_path / "validate-ran"
    # Prints the file it checks, as it is and JSON-escaped, then refuses it.
    show = "import json,sys; print(json.dumps(open(sys.argv[1]).read()), file=sys.stderr)"
    validate = f"sh -c 'cat \"$0\"; {sys.executable} -c \"{show}\" \"$0\"; touch {ran}; exit 3' %s"
    files = _files(out)
    files[0]["validate"] = validate
    extra = {"hostile_file": _values_file(tmp_path, {"token": token}), "app_config_files": files}
    run = run_playbook("app_config_render.yml", inventory=_hosts(1), extra_vars=extra, verbosity=4)
    assert run.rc != 0
    assert_no_traceback(run)
    # Positive controls: the validate command ran, and its output (the file) reached the result, masked.
    assert ran.exists()
    text = " ".join(run.output.split())
    assert f"app_config: {out}/app0.ini: failed to validate" in text, run.output[-3000:]
    assert f"token = {MASK}" in run.output and MASK in run.output
    assert_absent(_forms(token), run)
    # Every file is attempted: the one without validate is written, the refused one is not.
    assert read_json(out / "app0.json") == {"token": token}
    assert not (out / "app0.ini").exists()


@pytest.mark.parametrize("entry, words", [
    ({"format": "template", "src": "no-such-template.j2"}, "no-such-template.j2"),
    ({"format": "json", "owner": "no-such-user-apiauth"}, "no-such-user-apiauth"),
])
def test_a_file_that_cannot_be_written_is_named_and_the_others_are_written(run_playbook, out, tmp_path, entry,
                                                                           words):
    token = strong_secret("tok-")
    files = _files(out)
    files.insert(0, dict(entry, dest=f"{out}/broken", data={"token": "{{ app_config_secrets.token }}"}))
    extra = {"hostile_file": _values_file(tmp_path, {"token": token}), "app_config_files": files}
    run = run_playbook("app_config_render.yml", inventory=_hosts(1), extra_vars=extra, verbosity=4)
    assert run.rc != 0
    assert_no_traceback(run)
    text = " ".join(run.output.split())
    assert f"app_config: {out}/broken: " in text and words in text, run.output[-3000:]
    assert read_json(out / "app0.json") == {"token": token}
    assert read_ini(out / "app0.ini", "basic")["api"]["token"] == token
    assert_absent(_forms(token), run)


def test_an_option_is_refused_not_ignored(run_playbook, tmp_path):
    # The module reads the role's variables; an option given to it (here the role's variable as an option) is a
    # mistake, refused by name before anything is written. Control: the same play without the option passes.
    playbook = tmp_path / "option.yml"
    task = {"apiauth.saas.app_config_render": {"app_config_files": []}}
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    run = run_playbook(str(playbook))
    assert run.rc != 0 and "Unsupported parameters for apiauth.saas.app_config_render: app_config_files." in run.output
    task["apiauth.saas.app_config_render"] = {}
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    assert run_playbook(str(playbook)).rc == 0


def _leftovers(directory: Path) -> list:
    """Temporary files of the module left in a directory (it writes .<name>.<pid>.<random>.tmp beside the file)."""
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


def test_a_link_at_dest_is_replaced_never_written_through(run_playbook, out, tmp_path):
    token = strong_secret("tok-")
    victim = tmp_path / "victim.conf"
    victim.write_text("victim\n")
    victim.chmod(0o644)
    # One link to an existing file, one dangling link to where a secret would land if followed.
    (out / "app0.ini").symlink_to(victim)
    (out / "app0.json").symlink_to(tmp_path / "planted.json")
    extra = {"hostile_file": _values_file(tmp_path, {"token": token}), "app_config_files": _files(out)}
    run = run_playbook("app_config_render.yml", inventory=_hosts(1), extra_vars=extra, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    # Positive control: both files were written, as regular files in place of the links.
    assert read_ini(out / "app0.ini", "basic")["api"]["token"] == token
    assert read_json(out / "app0.json") == {"token": token}
    assert not (out / "app0.ini").is_symlink() and not (out / "app0.json").is_symlink()
    assert victim.read_text() == "victim\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not (tmp_path / "planted.json").exists()
    assert stat.S_IMODE((out / "app0.ini").stat().st_mode) == 0o600
    assert _leftovers(out) == []
    assert_absent(_forms(token), run)


def test_what_is_no_file_is_refused_at_once_and_the_others_are_written(run_playbook, out, tmp_path):
    token = strong_secret("tok-")
    os.mkfifo(out / "fifo.json")
    (out / "dir.json").mkdir()
    data = {"token": "{{ app_config_secrets.token }}"}
    refused = {
        f"{out}/fifo.json": ({"format": "json"}, "is not a regular file"),
        f"{out}/dir.json": ({"format": "json"}, "is a directory"),
        f"{out}/missing/app.json": ({"format": "json"}, f"Destination directory {out}/missing does not exist"),
        f"{out}/preserve.json": ({"format": "json", "mode": "preserve"}, "mode preserve is not supported"),
        f"{out}/badmode.json": ({"format": "json", "mode": "u=rwz"}, "mode u=rwz is neither octal"),
        f"{out}/nopercent.json": ({"format": "json", "validate": "true"}, "validate must contain %s"),
    }
    files = [dict(entry, dest=dest, data=data) for dest, (entry, _words) in refused.items()] + _files(out)
    extra = {"hostile_file": _values_file(tmp_path, {"token": token}), "app_config_files": files}
    # A FIFO read would block until a writer came: run_playbook's timeout would end the test with an error.
    run = run_playbook("app_config_render.yml", inventory=_hosts(1), extra_vars=extra, verbosity=4)
    assert run.rc != 0
    assert_no_traceback(run)
    text = " ".join(run.output.split())
    for dest, (_entry, words) in refused.items():
        assert f"{dest}: {words}" in text, (dest, run.output[-3000:])
    # Positive control: the right files were written, the refused ones not.
    assert read_json(out / "app0.json") == {"token": token}
    assert read_ini(out / "app0.ini", "basic")["api"]["token"] == token
    assert stat.S_ISFIFO((out / "fifo.json").lstat().st_mode) and (out / "dir.json").is_dir()
    for name in ("preserve.json", "badmode.json", "nopercent.json"):
        assert not (out / name).exists()
    assert _leftovers(out) == []
    assert_absent(_forms(token), run)


def test_modes_owners_and_backups(run_playbook, out, tmp_path):
    """Modes (octal and symbolic), an owner given as a number, a mode change alone (in check mode, then for real),
    and a backup, which holds the old file with its mode from the start."""
    old, new = strong_secret("tok-"), strong_secret("tok-")
    values = tmp_path / "values.json"

    def play(token, mode, check=False, backup=True):
        values.write_text(json.dumps({"token": token}))
        files = [
            {"dest": f"{out}/sym.json", "format": "json", "mode": "u=rw,g=r",
             "data": {"t": "{{ app_config_secrets.token }}"}},
            {"dest": f"{out}/app.json", "format": "json", "mode": mode, "backup": backup, "owner": str(os.getuid()),
             "data": {"t": "{{ app_config_secrets.token }}"}},
            # No mode: a new file is the owner's alone (0600), whatever the umask.
            {"dest": f"{out}/nomode.json", "format": "json", "mode": "",
             "data": {"t": "{{ app_config_secrets.token }}"}},
        ]
        extra = {"hostile_file": str(values), "app_config_files": files}
        run = run_playbook("app_config_render.yml", inventory=_hosts(1), extra_vars=extra, verbosity=4, check=check)
        assert run.rc == 0, run.output[-3000:]
        assert_absent(_forms(old) + _forms(new), run)
        return " ".join(run.output.split())

    def mode_of(name):
        return stat.S_IMODE((out / name).stat().st_mode)

    def backups():
        return sorted(path for path in out.iterdir()
                      if path.name.startswith("app.json.") and path.name.endswith("~"))

    assert f"changed: ['{out}/sym.json', '{out}/app.json', '{out}/nomode.json']" in play(old, "0600")
    assert mode_of("sym.json") == 0o640 and mode_of("app.json") == 0o600 and mode_of("nomode.json") == 0o600
    assert backups() == [], "no backup of a file that did not exist"
    assert "changed: []" in play(old, "0600"), "the same content and mode change nothing"
    assert f"changed: ['{out}/app.json']" in play(old, "0400", check=True)
    assert mode_of("app.json") == 0o600, "check mode changed the mode"
    assert f"changed: ['{out}/app.json']" in play(old, "0400")
    assert mode_of("app.json") == 0o400 and read_json(out / "app.json") == {"t": old}
    assert backups() == [], "a mode change alone makes no backup"
    # backup "no" is false (a word Ansible reads as a boolean), and a mode may be a number (unquoted YAML octal).
    assert f"changed: ['{out}/app.json']" in play(old, 0o440, backup="no")
    assert mode_of("app.json") == 0o440 and backups() == []
    assert f"changed: ['{out}/sym.json', '{out}/app.json', '{out}/nomode.json']" in play(new, "0440")
    assert read_json(out / "app.json") == {"t": new} and mode_of("app.json") == 0o440
    [backup] = backups()
    assert read_json(backup) == {"t": old} and stat.S_IMODE(backup.stat().st_mode) == 0o440
    assert _leftovers(out) == []


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [pytest.mark.app_config_render, pytest.mark.role_app_config, pytest.mark.smoke]
