# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: app_config_problems
short_description: The check of the options of the role apiauth.saas.app_config, by option, file and key, without values
version_added: 0.1.0
description:
  - Returns one message per option of the role apiauth.saas.app_config that is not what the role takes, and, when
    the options are right, one per value that a file's format cannot carry (P(apiauth.saas.config_problems#filter)).
    Returns an empty list when the role can write every file.
  - A message names the option, the file (C(app_config_files[N] (dest))) and the key, never a value, so it can be
    shown where the values cannot.
  - The role runs it in its file task on every host, before anything is written; it is a filter, not a template,
    so that each host's worker runs Python instead of compiling a long template (docs/benchmarks.md).
options:
  _input:
    description:
      - The role's variables, by name. A name left out is not checked, as the role's default for it is right.
      - V(app_config_credentials) is the value of the credentials, not the expression that fetches them.
    type: dict
    required: true
seealso:
  - plugin: apiauth.saas.config_problems
    plugin_type: filter
author:
  - apiauth.saas maintainers (@apiauth)
"""

EXAMPLES = r"""
- name: Check the options of apiauth.saas.app_config before a play that runs it
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: >-
      {{ {'app_config_credentials': {'token': app_token},
          'app_config_files': [{'dest': '/etc/app/app.env', 'format': 'dotenv', 'data': {'APP_TOKEN': app_token}}]}
         | apiauth.saas.app_config_problems }}
"""

RETURN = r"""
_value:
  description: The problems found; empty when there is none.
  type: list
  elements: str
  sample:
    - "app_config_files[0] (relative/app.env): dest must be an absolute path."
"""

import functools
import os
from collections.abc import Mapping, Sequence
from numbers import Number
from pathlib import Path
from types import MappingProxyType

import yaml

from ansible_collections.apiauth.saas.plugins.module_utils._config_formats import problems as format_problems
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import open_regular

# The role, found from this file, so that the filter and the module apiauth.saas.app_config_render work outside it too.
ROLE = Path(__file__).resolve().parents[2] / "roles" / "app_config"
# What the role writes itself (with apiauth.saas.to_config), and "template", the user's own template.
DATA_FORMATS = ("ini", "yaml", "json", "dotenv")
FORMATS = DATA_FORMATS + ("template",)
# The keys of an entry of app_config_files (roles/app_config/meta/argument_specs.yml).
INI_INTERPOLATIONS = ("basic", "none")
SERVICE_ACTIONS = ("reload", "restart")
SERVICE_MANAGERS = ("service", "command")
FILE_KEYS = ("dest", "format", "ini_interpolation", "data", "src", "owner", "group", "mode", "backup", "validate")
# What Ansible reads as a boolean.
BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0", "y", "n", "t", "f", "1.0", "0.0")


@functools.lru_cache(maxsize=1)
def role_defaults() -> Mapping:
    """The defaults of the role's variables, from their one home, the role's defaults/main.yml.

    Left out: app_config_secrets, whose default is an expression that the role's first task replaces by
    the fetched credentials.
    """
    with os.fdopen(open_regular(str(ROLE / "defaults" / "main.yml")), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    defaults.pop("app_config_secrets", None)
    return MappingProxyType(defaults)


def _text(value: object) -> bool:
    """A string, or a number Ansible turns into one (owner 0, mode 0o600): what the file options take."""
    return isinstance(value, (str, Number))


def _boolean(value: object) -> bool:
    return isinstance(value, bool) or str(value).lower() in BOOL_WORDS


def _list_of(value: object, kind: type) -> bool:
    return (isinstance(value, Sequence) and not isinstance(value, (str, bytes))
            and all(isinstance(element, kind) for element in value))


def _file_problems(index: int, entry: Mapping) -> list[str]:
    dest = entry.get("dest")
    where = f"app_config_files[{index}]" + (f" ({dest})" if isinstance(dest, str) else "")
    found = []
    unknown = sorted(str(key) for key in entry if key not in FILE_KEYS)
    if unknown:
        found.append(f"{where}: unknown keys {', '.join(unknown)}; the keys are {', '.join(FILE_KEYS)}.")
    fmt = entry.get("format", "template")
    if not isinstance(dest, str) or not os.path.isabs(dest):
        found.append(f"{where}: dest must be an absolute path.")
    if not isinstance(fmt, str) or fmt not in FORMATS:
        found.append(f"{where}: format must be one of {', '.join(FORMATS)}.")
    elif fmt == "template" and not isinstance(entry.get("src"), str):
        found.append(f"{where}: src (your template) is needed with format template or without format.")
    elif fmt != "template" and not isinstance(entry.get("data"), Mapping):
        found.append(f"{where}: data must be a dict with format {fmt}.")
    if entry.get("ini_interpolation", "basic") not in INI_INTERPOLATIONS:
        found.append(f"{where}: ini_interpolation must be {' or '.join(INI_INTERPOLATIONS)}.")
    found.extend(f"{where}: {key} must be a string." for key in ("owner", "group", "mode", "validate")
                 if key in entry and not _text(entry[key]))
    if "backup" in entry and not _boolean(entry["backup"]):
        found.append(f"{where}: backup must be true or false.")
    return found


def app_config_problems(options: Mapping) -> list[str]:
    if not isinstance(options, Mapping):
        return ["app_config_problems takes a dict of the role's variables."]
    # A name left out takes the role's default, which is right.
    options = {**role_defaults(), **options}
    found = []
    if not isinstance(options["app_config_credentials"], Mapping):
        found.append("app_config_credentials must be a dict of names to values.")
    found.extend(f"{name} must be a string." for name in
                 ("app_config_owner", "app_config_group", "app_config_mode", "app_config_service")
                 if not _text(options[name]))
    if not _boolean(options["app_config_backup"]):
        found.append("app_config_backup must be true or false.")
    if options["app_config_service_action"] not in SERVICE_ACTIONS:
        found.append(f"app_config_service_action must be {' or '.join(SERVICE_ACTIONS)}.")
    manager = options["app_config_service_manager"]
    if manager not in SERVICE_MANAGERS:
        found.append(f"app_config_service_manager must be {' or '.join(SERVICE_MANAGERS)}.")
    command = options["app_config_service_command"]
    if not _list_of(command, str):
        found.append("app_config_service_command must be a list of arguments (strings).")
    elif str(options["app_config_service"]) and manager == "command" and not command:
        found.append("app_config_service_command must not be empty with app_config_service_manager=command.")
    files = options["app_config_files"]
    if not _list_of(files, Mapping):
        found.append("app_config_files must be a list of dicts, one per file.")
        return found
    for index, entry in enumerate(files):
        found.extend(_file_problems(index, entry))
    if found:
        return found
    # The values, only once every entry is right: each file's format decides what its values may hold.
    for entry in files:
        fmt = entry.get("format", "template")
        if fmt in DATA_FORMATS:
            interpolation = str(entry.get("ini_interpolation", "basic"))
            found.extend(f"{entry['dest']}: {problem}"
                         for problem in format_problems(entry["data"], fmt, ini_interpolation=interpolation))
    return found


class FilterModule:
    def filters(self):
        return {"app_config_problems": app_config_problems}
