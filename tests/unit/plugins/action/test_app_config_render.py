"""The module app_config_render's own logic: the template arguments per file, and what its messages mask.

The module runs end to end in tests/integration/test_app_config_render.py; here, its two pure parts.
file_args must give each entry the role's defaults as the role documents them. redactor_for must mask
every credential and every value of a file's data in the forms a file holds them (raw, as INI writes a %,
JSON-escaped), whatever the value and the text around it: a validate command may print the whole file.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.apiauth.saas.plugins.action.app_config_render import (
    TEMPLATES, file_args, redactor_for)
from ansible_collections.apiauth.saas.plugins.filter.app_config_problems import DATA_FORMATS, role_defaults

ROLE = role_defaults()


@pytest.mark.parametrize("entry, options, expected", [
    ({"dest": "/etc/a.ini", "format": "ini"}, {},
     {"src": str(TEMPLATES / "ini.j2"), "dest": "/etc/a.ini", "mode": "0600", "backup": False}),
    ({"dest": "/etc/a.conf", "src": "my.j2"}, {"app_config_owner": "app", "app_config_backup": True},
     {"src": "my.j2", "dest": "/etc/a.conf", "mode": "0600", "backup": True, "owner": "app"}),
    # The entry's own value wins; an empty owner falls back to the role's, an empty one to none at all.
    ({"dest": "/etc/a.env", "format": "dotenv", "owner": "", "group": "ops", "mode": "0640", "backup": True,
      "validate": "check %s"}, {"app_config_owner": "root", "app_config_group": "app"},
     {"src": str(TEMPLATES / "dotenv.j2"), "dest": "/etc/a.env", "mode": "0640", "backup": True, "owner": "root",
      "group": "ops", "validate": "check %s"}),
    ({"dest": "/etc/a.json", "format": "json", "owner": "", "group": ""}, {},
     {"src": str(TEMPLATES / "json.j2"), "dest": "/etc/a.json", "mode": "0600", "backup": False}),
    # What YAML and Ansible give besides text: a boolean word, an unquoted octal mode (a number), uid and gid 0.
    ({"dest": "/etc/a.yml", "format": "yaml", "backup": "no", "mode": 0o640, "owner": 0, "group": 0},
     {"app_config_owner": "app", "app_config_backup": True},
     {"src": str(TEMPLATES / "yaml.j2"), "dest": "/etc/a.yml", "mode": 0o640, "backup": False, "owner": 0,
      "group": 0}),
    ({"dest": "/etc/b.yml", "format": "yaml"}, {"app_config_backup": "yes"},
     {"src": str(TEMPLATES / "yaml.j2"), "dest": "/etc/b.yml", "mode": "0600", "backup": True}),
])
def test_file_args_take_the_roles_defaults(entry, options, expected):
    assert file_args(entry, dict(ROLE, **options)) == expected


def test_the_built_in_formats_are_the_roles_templates():
    # Found from the module's own file, so that it works outside the role too.
    assert sorted(path.name for path in TEMPLATES.glob("*.j2")) == sorted(f"{fmt}.j2" for fmt in DATA_FORMATS)


# Text a value may hold: printable, with the characters the formats escape (%, quotes, backslash) made common.
VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('%"\\\' '),
                 min_size=6, max_size=40).filter(lambda value: value.strip() == value and len(value) >= 6)
AROUND = st.text(alphabet="abc =:\n[]{}", max_size=12)


def _forms(value: str) -> list:
    ini = value.replace("%", "%%")
    return [value, ini, json.dumps(value)[1:-1], json.dumps(ini)[1:-1]]


@settings(max_examples=150, deadline=None)
@given(value=VALUES, before=AROUND, after=AROUND, where=st.sampled_from(["credentials", "data"]))
def test_every_form_of_a_value_is_masked(value, before, after, where):
    credentials = {"token": value} if where == "credentials" else {}
    files = [{"dest": "/etc/a.ini", "data": {"api": {"token": value}}}] if where == "data" else [{"dest": "/x"}]
    redactor = redactor_for(credentials, files)
    for form in _forms(value):
        text = f"{before}{form}{after}"
        assert form in text  # positive control: the form is there to be masked
        masked = redactor.redact(text)
        assert form not in masked and value not in masked, (form, masked)


def test_numbers_and_nested_values_are_masked_and_booleans_ignored():
    redactor = redactor_for({"a": [{"b": 12345678}], "c": True}, [{"data": {"s": {"t": ["nested-value"]}}}])
    assert redactor.redact("port 12345678 nested-value True") == "port ******** ******** True"


pytestmark = [pytest.mark.app_config_render]
