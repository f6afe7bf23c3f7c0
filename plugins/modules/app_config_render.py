#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_config_render
short_description: The file task of the role apiauth.saas.app_config
version_added: 0.1.0
description:
  - Renders the files of the role C(apiauth.saas.app_config) on a host. Use the role; this module is the role's file
    task, and reads the role's variables (C(app_config_files), C(app_config_owner), C(app_config_group),
    C(app_config_mode), C(app_config_backup) and the service variables), documented in the role's argument spec
    (C(ansible-doc -t role apiauth.saas.app_config)). It takes no options.
  - First it checks those variables with the filter P(apiauth.saas.app_config_problems#filter), and fails before
    writing anything when one is refused. The message names the option, the file and the key, never a value.
    The credentials are checked as C(app_config_secrets), the values the role fetched once; C(app_config_credentials)
    is not templated, as that would run its lookups again on every host.
  - Then it runs M(ansible.builtin.template) once per entry of C(app_config_files), on a copy of its own task, with
    the entry as the variable C(item). Owner, group, mode, backup, validate and check mode are the template
    module's.
  - The result never holds a file's content. Per file, it keeps the path, whether the file changed, its backup,
    owner, group and mode, and, on a failure, the message and the output of C(validate), with every credential and
    every value of the file's data masked. There is no content diff, and no checksum (a hash of the content).
    The task therefore needs no C(no_log), and a refusal can be read in a C(rescue).
  - Every file is attempted; the task fails when any file failed, naming each.
author:
  - apiauth.saas maintainers (@apiauth)
options: {}
attributes:
  check_mode:
    description: The template module's check mode; a file that would change is reported as changed.
    support: full
  diff_mode:
    description: A content diff would show the credentials. The role lists the files that changed instead.
    support: none
seealso:
  - module: ansible.builtin.template
  - plugin: apiauth.saas.app_config_problems
    plugin_type: filter
"""

EXAMPLES = r"""
# A play uses the role apiauth.saas.app_config, which fetches the credentials once into app_config_secrets and then
# runs this module. The same two steps by hand, with the role's variables (`make demo` defines the simulator's):
- name: Fetch the credentials once, on the controller
  ansible.builtin.set_fact:
    app_config_secrets:
      throughline: >-
        {{ lookup('apiauth.saas.throughline_token', client_id=throughline_client_id,
                  client_secret=throughline_client_secret, token_url=throughline_token_url, ca_path=sim_ca_path) }}
  run_once: true
  no_log: true

- name: Render the files of app_config_files
  apiauth.saas.app_config_render: {}
  vars:
    app_config_files:
      - dest: "{{ app_dir }}/app.env"
        format: dotenv
        mode: "0600"
        data:
          THROUGHLINE_TOKEN: "{{ app_config_secrets.throughline }}"
  register: app_config_results

- name: Show which files changed (the result holds no content)
  ansible.builtin.debug:
    msg: "{{ app_config_results.results | selectattr('changed') | map(attribute='item.dest') | list }}"
"""

RETURN = r"""
results:
  description: One result per entry of C(app_config_files), in order, without content.
  returned: when the options were accepted
  type: list
  elements: dict
  contains:
    item:
      description: The entry's C(dest), as a loop's C(item) would give it.
      type: dict
      sample: {dest: /etc/reporting/reporting.env}
    changed:
      description: Whether the file changed (in check mode, whether it would).
      type: bool
    failed:
      description: Whether writing this file failed.
      type: bool
      returned: when it failed
    msg:
      description: Why it failed, with every credential and value of the file's data masked.
      type: str
      returned: when it failed
    backup_file:
      description: The backup made of the file before it changed.
      type: str
      returned: when a backup was made
      sample: /etc/reporting/reporting.env.12345.2026-12-07@00:00:00~
msg:
  description: How many files were rendered and changed, or, when the task failed, why.
  returned: always
  type: str
  sample: "2 file(s) rendered, 1 changed."
"""
