#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thoughtspot_trusted_auth
short_description: Enable or disable ThoughtSpot trusted authentication and return its secret key
version_added: 0.1.0
description:
  - Enables (O(state=present)) or disables (O(state=absent)) trusted authentication for the whole cluster or for
    one O(org), and returns the secret key with which M(apiauth.saas.thoughtspot_token) gets tokens on behalf of
    users.
  - Reads the current setting first (C(auth/search)) and writes (C(auth/configure)) only when it differs, so a
    second run reports no change and keeps the same key. Enabling makes a key only when there is none;
    disabling revokes the key, and every token request made with it then fails.
  - Check mode sends no change; diff mode shows the status and a fingerprint of the key, never the key.
  - Authenticates as an administrator with O(admin_token), or with O(username) and O(password), whose full
    token is fetched and cached as M(apiauth.saas.thoughtspot_token) does.
  - Runs on the controller; a result that holds the key is hidden from the task output unless
    O(censor_result=false), while the registered variable keeps it. Because of that, Ansible shows no diff for
    such a result; check mode (or RV(key_fingerprint)) shows what changed.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  host:
    description:
      - The base URL of the ThoughtSpot cluster, for example C(https://example.thoughtspot.cloud).
    type: str
    required: true
  state:
    description:
      - V(present) enables trusted authentication, V(absent) disables it and revokes the key.
    type: str
    choices: [present, absent]
    default: present
  org:
    description:
      - The org (numeric id or name) whose trusted authentication to manage; the cluster's when not given.
    type: str
  admin_token:
    description:
      - A bearer token of a ThoughtSpot administrator.
      - Give either this or O(username) and O(password).
    type: str
  username:
    description:
      - An administrator's user name, to get a token with O(password).
    type: str
  password:
    description:
      - The administrator's password. Clusters with multi-factor authentication refuse it; use O(admin_token).
    type: str
  censor_result:
    description:
      - Hide a result that holds the secret key in the task output, at every verbosity, while the registered
        variable keeps it.
    type: bool
    default: true
extends_documentation_fragment:
  - apiauth.saas.controller_action
  - apiauth.saas.http_options
  - apiauth.saas.cache
attributes:
  check_mode:
    description: Reads the current setting and reports what would change, without changing it.
    support: full
  diff_mode:
    description: Shows the status and the key's fingerprint before and after.
    support: full
notes:
  - The cache options apply to the administrator's token when O(username) and O(password) are given.
seealso:
  - module: apiauth.saas.thoughtspot_token
    description: Get tokens with the secret key.
"""

EXAMPLES = r"""
- name: Enable trusted authentication for the Sales org and get its key
  apiauth.saas.thoughtspot_trusted_auth:
    host: "{{ thoughtspot_host }}"
    org: Sales
    username: "{{ thoughtspot_admin_username }}"
    password: "{{ thoughtspot_admin_password }}"
    ca_path: "{{ sim_ca_path }}"
  register: trusted

- name: Show which key it is, never the key itself
  ansible.builtin.debug:
    msg: "Trusted authentication of {{ trusted.org.name }} is {{ trusted.auth_status }}, key {{ trusted.key_fingerprint }}"

- name: Get a token with the org's key
  apiauth.saas.thoughtspot_token:
    host: "{{ thoughtspot_host }}"
    username: "{{ thoughtspot_username }}"
    secret_key: "{{ trusted.secret_key }}"
    org: "{{ trusted.org.id }}"
    ca_path: "{{ sim_ca_path }}"
  register: ts

- name: Disable it again, which revokes the key
  apiauth.saas.thoughtspot_trusted_auth:
    host: "{{ thoughtspot_host }}"
    org: Sales
    state: absent
    username: "{{ thoughtspot_admin_username }}"
    password: "{{ thoughtspot_admin_password }}"
    ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
auth_status:
  description: The setting after the task (in check mode, as it would be), C(ENABLED) or C(DISABLED).
  returned: success
  type: str
  sample: ENABLED
scope:
  description: V(cluster) or V(org).
  returned: success
  type: str
  sample: org
org:
  description: The org's id and name; null for the cluster.
  returned: success
  type: dict
  sample: {"id": 1, "name": "Sales"}
secret_key:
  description: The trusted authentication secret key.
  returned: when trusted authentication is enabled after the task (not for a key check mode would make)
  type: str
  sample: 69fb6d98-1696-42c0-9841-22b078c04060
key_fingerprint:
  description: A one-way tag of the key, to tell keys apart in logs and diffs; null when there is none.
  returned: success
  type: str
  sample: "sha256:4f2a9c0d81be"
diff:
  description: The status and key fingerprint before and after.
  returned: in diff mode
  type: dict
  sample: {"before": {"auth_status": "DISABLED", "key_fingerprint": null},
           "after": {"auth_status": "ENABLED", "key_fingerprint": "sha256:4f2a9c0d81be"}}
"""

from ansible_collections.apiauth.saas.plugins.module_utils import _thoughtspot_tasks as tasks
from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_task_module
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import SECRET_OPTIONS


def main():
    run_task_module(tasks.trusted_auth_task, argument_spec=tasks.trusted_auth_argument_spec(),
                    mutually_exclusive=tasks.TRUSTED_AUTH_MUTUALLY_EXCLUSIVE,
                    required_one_of=tasks.TRUSTED_AUTH_REQUIRED_ONE_OF,
                    required_together=tasks.TRUSTED_AUTH_REQUIRED_TOGETHER,
                    secret_options=SECRET_OPTIONS, check_mode=True, diff_mode=True)


if __name__ == "__main__":
    main()
