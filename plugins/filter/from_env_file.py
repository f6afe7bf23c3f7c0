# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: from_env_file
short_description: Read the variables and comments of a dotenv or systemd environment file
version_added: 0.1.0
description:
  - Reads the text of an environment file by the rules of systemd's C(EnvironmentFile=) (systemd.exec(5)) - the
    files P(apiauth.saas.to_config#filter) writes for V(dotenv) and V(systemd), and hand-written ones.
  - Unquoted values take backslash escapes and continuation lines, single-quoted values are verbatim,
    double-quoted values take the escapes C(\"), C(\\), C(\`), C(\$) and continuation lines. Quoted values may span
    lines. Nothing is expanded.
  - Comments are the lines that start with C(#) or C(;) outside any value, so a value cannot forge one.
  - "A leading C(export) and white space, as in files that a shell also sources (C(export APP_TOKEN=...)), is
    not part of the name: the variable is C(APP_TOKEN), as dotenv tools read it. systemd itself ignores such lines."
options:
  _input:
    description: The text of the file.
    type: str
    required: true
seealso:
  - plugin: apiauth.saas.to_config
    plugin_type: filter
author:
  - apiauth.saas maintainers (@apiauth)
"""

EXAMPLES = r"""
- name: Read an env file
  ansible.builtin.slurp:
    src: /etc/app/app.env
  register: env_file
  no_log: true

- name: Use one of its variables
  ansible.builtin.set_fact:
    app_token: "{{ (env_file.content | b64decode | apiauth.saas.from_env_file).variables.APP_TOKEN }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The file's variables and comment lines.
  type: dict
  contains:
    variables:
      description: Names to values, in the order of the file; a later assignment of a name wins.
      type: dict
      sample: {APP_TOKEN: "0a1b2c"}
    comments:
      description: The comment lines, as written.
      type: list
      elements: str
      sample: ["# Written by apiauth.saas.secret_store; changes here are overwritten."]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.apiauth.saas.plugins.module_utils._config_formats import parse_env


def from_env_file(text):
    try:
        variables, comments = parse_env(str(text))
    except ValueError as err:
        # The error names what is wrong (an unterminated quote), never the text.
        raise AnsibleFilterError(f"apiauth.saas.from_env_file: the env file cannot be read: {err}.") from None
    return {"variables": variables, "comments": comments}


class FilterModule:
    def filters(self):
        return {"from_env_file": from_env_file}
