# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: to_config
short_description: Write data as an INI, YAML, JSON, dotenv or systemd environment file, value for value
version_added: 0.1.0
description:
  - Returns the text of a configuration file holding the input, such that the format's standard reader gives back
    every value, key and section name exactly as given. A value can never add a section, an option or a variable
    of its own, nor change another.
  - 'The readers: Python''s C(configparser) for V(ini) (C(ConfigParser) with its basic interpolation, so every C(%)
    is written as C(%%); or C(RawConfigParser) with O(ini_interpolation=none)); C(yaml.safe_load) for V(yaml);
    C(json) for V(json); python-dotenv and systemd''s C(EnvironmentFile=) for V(dotenv); C(EnvironmentFile=)
    alone for V(systemd).'
  - Env values are single-quoted, or double-quoted with C(\\) and C(\") escapes when they hold a single quote or a
    backslash; nothing in them is expanded by either reader. INI values that span lines are written as
    indented continuation lines, which configparser joins back.
  - What a format cannot carry fails the task with a message that names the file (O(file)) and the key, never the
    value. See P(apiauth.saas.config_problems#filter) for the list of such problems, and the roles' READMEs for what each
    format cannot carry.
  - Runs on the controller, like every filter; the roles apiauth.saas.app_config and apiauth.saas.secret_store
    write their files with it.
options:
  _input:
    description:
      - The data. For V(ini), a dict of sections, each a dict of options; for V(dotenv) and V(systemd), a dict of
        variable names to values; for V(yaml) and V(json), any data.
      - Values of V(ini), V(dotenv) and V(systemd) are text; numbers and booleans are written as Python's C(str()),
        null as an empty value.
    type: raw
    required: true
  format:
    description: The file format.
    type: str
    required: true
    choices: [ini, yaml, json, dotenv, systemd]
  file:
    description: The file the text is for, to name in messages.
    type: str
    default: ""
  ini_interpolation:
    description:
      - V(basic) writes for C(configparser.ConfigParser) (a C(%) is written C(%%)); V(none) writes for
        C(configparser.RawConfigParser) or C(ConfigParser(interpolation=None)) (a C(%) is written as it is).
    type: str
    default: basic
    choices: [basic, none]
  indent:
    description: Indentation of V(yaml) and V(json).
    type: int
    default: 2
  sort_keys:
    description: Sort sections, keys and names.
    type: bool
    default: false
seealso:
  - plugin: apiauth.saas.config_problems
    plugin_type: filter
  - plugin: apiauth.saas.from_env_file
    plugin_type: filter
author:
  - apiauth.saas maintainers (@apiauth)
"""

EXAMPLES = r"""
- name: An INI file whose token cannot add a section or override the URL, whatever it holds
  ansible.builtin.copy:
    dest: /etc/app/app.ini
    mode: "0600"
    content: "{{ {'api': {'url': 'https://api.example.com', 'token': app_token}} | apiauth.saas.to_config('ini', file='/etc/app/app.ini') }}"
  no_log: true

- name: A systemd EnvironmentFile; a $ or a backtick in a value stays as it is
  ansible.builtin.copy:
    dest: /etc/app/app.env
    mode: "0600"
    content: "{{ {'APP_TOKEN': app_token} | apiauth.saas.to_config('systemd', file='/etc/app/app.env') }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The text of the file, ending with a line break (YAML and JSON as C(to_nice_yaml) and C(to_nice_json) write them).
  type: str
  sample: "[api]\nurl = https://api.example.com\ntoken = 0a1b2c\n"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apiauth.saas.plugins.module_utils._config_formats import FormatRefused, render


def to_config(data, format, file="", ini_interpolation="basic", indent=2, sort_keys=False):  # pylint: disable=redefined-builtin
    try:
        return render(data, str(format), ini_interpolation=str(ini_interpolation), indent=int(indent),
                      sort_keys=bool(sort_keys))
    except FormatRefused as refused:
        where = f"cannot write {file}" if file else f"cannot write the {format} data"
        raise AnsibleFilterError(f"apiauth.saas.to_config: {where}: {refused}") from None


class FilterModule:
    def filters(self):
        return {"to_config": to_config}
