#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thoughtspot_token_info
short_description: Check a ThoughtSpot token and read the user it belongs to
version_added: 0.1.0
description:
  - Asks ThoughtSpot whether O(token) is valid (C(auth/token/validate)) and, when it is, reads its user
    (C(auth/session/user)).
  - An invalid, expired or revoked token is not a failure; the task returns RV(valid=false).
  - Changes nothing; runs on the controller.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  host:
    description:
      - The base URL of the ThoughtSpot cluster, for example C(https://example.thoughtspot.cloud).
    type: str
    required: true
  token:
    description:
      - The token to check.
    type: str
    required: true
  admin_token:
    description:
      - A bearer token to make the validation call with. Without it the token vouches for itself, which is
        enough, since ThoughtSpot refuses an invalid token either way.
    type: str
  read_user:
    description:
      - Also read the user of a valid token (C(auth/session/user)) into RV(user).
    type: bool
    default: true
extends_documentation_fragment:
  - apiauth.saas.controller_action
  - apiauth.saas.http_options
  - apiauth.saas.cache
notes:
  - Nothing is cached. The cache options are accepted so that C(module_defaults) set for the whole
    C(group/apiauth.saas.saas) apply here too.
attributes:
  check_mode:
    description: Reads only, so it runs in check mode as usual.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
seealso:
  - module: apiauth.saas.thoughtspot_token
"""

EXAMPLES = r"""
- name: Get a token
  apiauth.saas.thoughtspot_token:
    host: "{{ thoughtspot_host }}"
    username: "{{ thoughtspot_username }}"
    secret_key: "{{ thoughtspot_secret_key }}"
    ca_path: "{{ sim_ca_path }}"
  register: ts

- name: Check it and read its user
  apiauth.saas.thoughtspot_token_info:
    host: "{{ thoughtspot_host }}"
    token: "{{ ts.access_token }}"
    ca_path: "{{ sim_ca_path }}"
  register: info

- name: Show who it is for
  ansible.builtin.debug:
    msg: "valid={{ info.valid }}, user={{ info.user.name }}, expires {{ info.expiration_time_iso }}"
"""

RETURN = r"""
valid:
  description: Whether ThoughtSpot accepts the token.
  returned: success
  type: bool
  sample: true
reason:
  description: Why the token is not valid.
  returned: when RV(valid) is false
  type: str
  sample: ThoughtSpot says the token is invalid, expired or revoked.
token_fingerprint:
  description: A one-way tag of the token, to match it in logs.
  returned: success
  type: str
  sample: "sha256:4f2a9c0d81be"
creation_time_in_millis:
  description: When the token was made, in milliseconds since the epoch.
  returned: when RV(valid) is true
  type: int
  sample: 1795464000000
expiration_time_in_millis:
  description: When the token expires, in milliseconds since the epoch.
  returned: when RV(valid) is true
  type: int
  sample: 1795467600000
creation_time_iso:
  description: RV(creation_time_in_millis) as an ISO 8601 UTC time.
  returned: when RV(valid) is true
  type: str
  sample: "2026-11-23T19:20:00Z"
expiration_time_iso:
  description: RV(expiration_time_in_millis) as an ISO 8601 UTC time.
  returned: when RV(valid) is true
  type: str
  sample: "2026-11-23T20:20:00Z"
scope:
  description: What the token grants (C(access_type), C(org_id), C(metadata_id)).
  returned: when RV(valid) is true
  type: dict
  sample: {"access_type": "FULL", "org_id": 1, "metadata_id": null}
user_id:
  description: The GUID of the token's user.
  returned: when RV(valid) is true
  type: str
  sample: 59481331-ee53-42be-a548-bd87be6ddd4a
token_type:
  description: The token type ThoughtSpot reports, C(BEARER).
  returned: when RV(valid) is true
  type: str
  sample: BEARER
user:
  description:
    - The token's user, as C(auth/session/user) describes it, limited to C(id), C(name), C(display_name),
      C(email), C(account_type), C(account_status), C(current_org), C(orgs), C(privileges), C(user_groups),
      C(tenant_id) and C(expiration_time_in_millis).
  returned: when RV(valid) is true and O(read_user=true)
  type: dict
  sample: {"id": "59481331-ee53-42be-a548-bd87be6ddd4a", "name": "tsUserA", "current_org": {"id": 1, "name": "Sales"}}
"""

from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_task_module
from ansible_collections.apiauth.saas.plugins.module_utils._thoughtspot_tasks import info_argument_spec, info_task
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import SECRET_OPTIONS


def main():
    run_task_module(info_task, argument_spec=info_argument_spec(), secret_options=SECRET_OPTIONS)


if __name__ == "__main__":
    main()
