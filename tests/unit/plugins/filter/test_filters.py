# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's filters as a template uses them: through Ansible's Templar and the collection loader.

What a file written by to_config holds is read back with the format's
standard reader (tests/format_readers.py), never with our own parser.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.apiauth.saas.plugins.filter import app_config_problems as check

from format_readers import read_dotenv, read_ini, read_json, read_yaml

SECRET = "s3cr3t-" + "f" * 30 + " = 'quoted' \"twice\" $HOME #not-a-comment"


def render(expression: str, **variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def test_fingerprint_is_a_short_sha256_and_never_the_value():
    shown = render("{{ value | apiauth.saas.fingerprint }}", value=SECRET)
    assert shown == "sha256:" + hashlib.sha256(SECRET.encode()).hexdigest()[:12]
    assert SECRET not in shown and "f" * 30 not in shown
    # Not a string is turned into one first.
    assert render("{{ 5 | apiauth.saas.fingerprint }}") == render("{{ '5' | apiauth.saas.fingerprint }}")
    assert render("{{ 'a' | apiauth.saas.fingerprint }}") != render("{{ 'b' | apiauth.saas.fingerprint }}")


@pytest.mark.parametrize("fmt, reader, suffix", [
    ("dotenv", read_dotenv, ".env"), ("json", read_json, ".json"), ("yaml", read_yaml, ".yml"),
])
def test_to_config_round_trips_through_the_standard_reader(tmp_path, fmt, reader, suffix):
    data = {"API_TOKEN": SECRET, "API_URL": "https://api.example.invalid/v1?a=1&b=2"}
    path = tmp_path / f"app{suffix}"
    path.write_text(render("{{ data | apiauth.saas.to_config(fmt) }}", data=data, fmt=fmt))
    assert reader(path) == data


def test_to_config_ini_round_trips_and_refuses_by_name(tmp_path):
    data = {"api": {"token": SECRET, "url": "https://api.example.invalid/%(not)s"}}
    path = tmp_path / "app.ini"
    path.write_text(render("{{ data | apiauth.saas.to_config('ini') }}", data=data))
    assert read_ini(path) == data
    with pytest.raises(Exception) as caught:
        render("{{ data | apiauth.saas.to_config('ini', file='/srv/app.ini') }}", data={"api": {"a=b": SECRET}})
    text = str(caught.value)
    assert "cannot write /srv/app.ini" in text and "a=b" in text
    assert "f" * 30 not in text, "the refusal names the option, never the value"


def test_config_problems_lists_what_to_fix_without_values():
    problems = render("{{ data | apiauth.saas.config_problems('dotenv', file='/srv/.env') }}",
                      data={"1BAD": "x", "GOOD": SECRET, "NUL": "a\x00" + SECRET})
    assert len(problems) == 2 and all(problem.startswith("/srv/.env: ") for problem in problems)
    assert any("1BAD" in problem and "shell variable name" in problem for problem in problems)
    assert any("NUL" in problem and "NUL character" in problem for problem in problems)
    assert not any("f" * 30 in problem for problem in problems)
    # Positive control: data the format carries has no problem.
    assert render("{{ data | apiauth.saas.config_problems('dotenv') }}", data={"GOOD": SECRET}) == []


def test_from_env_file_reads_variables_and_comments_and_hides_the_text_of_a_bad_file():
    text = "# the app's settings\nAPI_TOKEN='%s'\nAPI_URL=https://api.example.invalid\n" % SECRET.replace("'", "")
    parsed = render("{{ text | apiauth.saas.from_env_file }}", text=text)
    assert parsed["variables"] == {"API_TOKEN": SECRET.replace("'", ""), "API_URL": "https://api.example.invalid"}
    assert parsed["comments"] == ["# the app's settings"]
    with pytest.raises(Exception) as caught:
        render("{{ text | apiauth.saas.from_env_file }}", text="API_TOKEN='" + SECRET.replace("'", ""))
    assert "unterminated" in str(caught.value) and "f" * 30 not in str(caught.value)


def test_from_env_file_takes_export_as_a_keyword_not_part_of_the_name():
    text = "export API_TOKEN=abc\nexport\tAPI_URL='https://api.example.invalid'\nexporter=1\nexport=2\n"
    parsed = render("{{ text | apiauth.saas.from_env_file }}", text=text)
    # "exporter" and a variable named "export" are names of their own (positive controls).
    assert parsed["variables"] == {"API_TOKEN": "abc", "API_URL": "https://api.example.invalid", "exporter": "1",
                                   "export": "2"}


def test_app_config_problems_names_each_bad_option_and_file_never_a_value():
    options = {
        "app_config_credentials": [SECRET], "app_config_owner": {"x": 1}, "app_config_backup": "maybe",
        "app_config_service_action": "stop", "app_config_service_manager": "init",
        "app_config_service_command": "systemctl reload app",
        "app_config_files": [
            {"dest": "relative/app.ini", "format": "ini", "data": {"api": {"token": SECRET}}, "colour": 1},
            {"dest": "/srv/app.conf", "format": "toml", "backup": "perhaps", "mode": [SECRET]},
            {"dest": "/srv/app.j2.out"},
            {"dest": "/srv/app.env", "format": "dotenv", "data": SECRET, "ini_interpolation": "extended"},
        ],
    }
    problems = render("{{ options | apiauth.saas.app_config_problems }}", options=options)
    expected = [
        "app_config_credentials must be a dict of names to values.",
        "app_config_owner must be a string.",
        "app_config_backup must be true or false.",
        "app_config_service_action must be reload or restart.",
        "app_config_service_manager must be service or command.",
        "app_config_service_command must be a list of arguments (strings).",
        "app_config_files[0] (relative/app.ini): unknown keys colour; the keys are dest, format,",
        "app_config_files[0] (relative/app.ini): dest must be an absolute path.",
        "app_config_files[1] (/srv/app.conf): format must be one of ini, yaml, json, dotenv, template.",
        "app_config_files[1] (/srv/app.conf): backup must be true or false.",
        "app_config_files[1] (/srv/app.conf): mode must be a string.",
        "app_config_files[2] (/srv/app.j2.out): src (your template) is needed",
        "app_config_files[3] (/srv/app.env): data must be a dict with format dotenv.",
        "app_config_files[3] (/srv/app.env): ini_interpolation must be basic or none.",
    ]
    text = " ".join(problems)
    assert [part for part in expected if part not in text] == []
    assert "f" * 30 not in text, "a message names the option and the file, never a value"


def test_app_config_problems_checks_the_values_once_the_options_are_right():
    files = [{"dest": "/srv/app.env", "format": "dotenv", "data": {"1BAD": "x", "TOKEN": "a\x00" + SECRET}},
             {"dest": "/srv/app.conf", "src": "app.conf.j2", "owner": 0, "mode": "0640", "backup": "yes"}]
    problems = render("{{ {'app_config_files': files} | apiauth.saas.app_config_problems }}", files=files)
    assert any(p.startswith("/srv/app.env: ") and "1BAD" in p for p in problems)
    assert any(p.startswith("/srv/app.env: ") and "NUL character" in p for p in problems)
    assert "f" * 30 not in " ".join(problems)
    # Positive controls: right options and values a format carries have no problem, and the role's own
    # command manager needs its command.
    files[0]["data"] = {"TOKEN": SECRET}
    assert render("{{ {'app_config_files': files, 'app_config_credentials': {'t': 1}}"
                  " | apiauth.saas.app_config_problems }}", files=files) == []
    assert render("{{ {'app_config_service': 'app', 'app_config_service_manager': 'command'}"
                  " | apiauth.saas.app_config_problems }}") == [
        "app_config_service_command must not be empty with app_config_service_manager=command."]


def test_app_config_problems_takes_the_keys_and_choices_of_the_role_argument_spec():
    """The filter's lists and the role's documented options are one set: neither may drift."""
    spec_file = Path(check.__file__).parents[2] / "roles" / "app_config" / "meta" / "argument_specs.yml"
    options = yaml.safe_load(spec_file.read_text())["argument_specs"]["app_config"]["options"]
    files = options["app_config_files"]["options"]
    assert tuple(files) == check.FILE_KEYS
    assert tuple(files["format"]["choices"]) == check.FORMATS
    assert tuple(files["ini_interpolation"]["choices"]) == check.INI_INTERPOLATIONS
    assert tuple(options["app_config_service_action"]["choices"]) == check.SERVICE_ACTIONS
    assert tuple(options["app_config_service_manager"]["choices"]) == check.SERVICE_MANAGERS
    # The defaults live in defaults/main.yml, which the filter and the module read; the spec documents them.
    assert {name: option.get("default") for name, option in options.items()} == dict(check.role_defaults())


def test_app_config_problems_takes_the_role_defaults_for_what_is_left_out():
    assert render("{{ {} | apiauth.saas.app_config_problems }}") == []
    # Positive control: the same option given wrong is named.
    assert render("{{ {'app_config_service_action': 'stop'} | apiauth.saas.app_config_problems }}") == [
        "app_config_service_action must be reload or restart."]


pytestmark = [
    pytest.mark.fingerprint,
    pytest.mark.to_config,
    pytest.mark.config_problems,
    pytest.mark.app_config_problems,
    pytest.mark.from_env_file,
]
