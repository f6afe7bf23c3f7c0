# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: config_problems
short_description: What P(apiauth.saas.to_config#filter) would refuse to write, by file and key, without the values
version_added: 0.1.0
description:
  - Returns one message per value, key or section name that the format cannot carry so that its standard reader
    gives it back unchanged, and an empty list when the data can be written. A message names the file and the key
    and says why; it never holds a value, so it can be shown where the values cannot (an C(assert) without
    C(no_log)).
  - Takes the options of P(apiauth.saas.to_config#filter), which it runs.
options:
  _input:
    description: The data, as for P(apiauth.saas.to_config#filter).
    type: raw
    required: true
  format:
    description: The file format.
    type: str
    required: true
    choices: [ini, yaml, json, dotenv, systemd]
  file:
    description: The file, put in front of every message.
    type: str
    default: ""
  ini_interpolation:
    description: As for P(apiauth.saas.to_config#filter).
    type: str
    default: basic
    choices: [basic, none]
seealso:
  - plugin: apiauth.saas.to_config
    plugin_type: filter
author:
  - apiauth.saas maintainers (@apiauth)
"""

EXAMPLES = r"""
- name: Refuse, by name, a value an env file cannot carry, before anything is written
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ {'APP_TOKEN': app_token} | apiauth.saas.config_problems('dotenv', file='/etc/app/app.env') }}"
"""

RETURN = r"""
_value:
  description: The problems found, each naming the file and the key; empty when there is none.
  type: list
  elements: str
  sample:
    - "/etc/app/app.ini: [api] token: the value has white space at the start or end of a line, which configparser strips."
"""

from ansible_collections.apiauth.saas.plugins.module_utils._config_formats import problems


def config_problems(data, format, file="", ini_interpolation="basic"):  # pylint: disable=redefined-builtin
    found = problems(data, str(format), ini_interpolation=str(ini_interpolation))
    return [f"{file}: {problem}" if file else problem for problem in found]


class FilterModule:
    def filters(self):
        return {"config_problems": config_problems}
