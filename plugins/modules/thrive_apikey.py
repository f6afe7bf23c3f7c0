#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thrive_apikey
short_description: Generate a THRIVE API key at most once, only when no valid key is known
version_added: 0.1.0
description:
  - Generates a THRIVE API key with the C(generateApiKey) GraphQL mutation on the tenants endpoint, authenticated
    with an admin's bearer token and a correlation id, and returns it ready for HTTP Basic auth (user name = tenant
    id, password = key).
  - THRIVE shows a key once and has no API to list or revoke keys, so whether to generate is decided from the key
    you already hold (O(current_api_key), typically read from your secrets store, and O(current_valid_until)).
    While it stays valid for more than O(renew_before) seconds nothing is generated and the task reports no change.
  - The mutation is sent at most once per run. It is never retried once it may have reached THRIVE, because a retry
    could generate a second key. GraphQL C(errors) answered with HTTP 200 are failures with their messages.
  - The admin token is a JWT that expires every 60 minutes; its expiry is read without verifying it, and an expired
    token fails the task before any request, saying how to get a fresh one.
  - With O(recovery_file), a new key is written there (mode C(0600), atomically) before the module returns, so a
    later failure in the play cannot lose it. The file's directory is checked before the mutation is sent; if it is
    missing, not a private directory of yours (mode C(0700)) or the file name is a symbolic link, the task fails and
    nothing is generated.
  - A key found in THRIVE's answer is written to the recovery file before anything else about the answer is judged.
    If the rest of the answer is wrong, or the file cannot be written after all (a full disk), the task fails, and
    the key is still in the failed task's registered result (RV(api_key)), hidden from the output like any result
    holding a key; the failure message says where the key is.
  - An answer without C(validUntil) (or with C(null)) is not an error; RV(valid_until) is V(null), a warning says
    so, and the key is treated as one that does not expire (a later run given it without O(current_valid_until)
    keeps it) unless O(rotate) says otherwise.
  - B(Single flight.) Runs that overlap for one tenant (two schedules of a rotation, or the task run for several hosts
    at once) generate one key between them. The run that generates holds an exclusive lock in O(cache_dir) and, with
    O(cache_backend=redis), one on the shared server for runners on other controllers; the others wait. When it has
    the key, it leaves a hand-off record for them (mode C(0600) in O(cache_dir), encrypted with
    O(cache_encryption_key) when one is set; on the Redis server, always encrypted; used for at most 10 minutes).
    A run that started before that record was written returns that key instead of generating another, with
    RV(changed=false), RV(generated=false) and a RV(reason) saying another run just generated it; it writes it to its
    own O(recovery_file) too. A record that cannot be read (written with another O(cache_encryption_key)) fails the
    task without sending anything.
  - Runs on the controller; the result is hidden from the task output unless O(censor_result=false).
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  environment:
    description:
      - V(staging) (C(https://tenant.api.learnstaging.link/tenants)) or V(production) (C(https://tenant.api.link/tenants)).
    type: str
    required: true
    choices: [staging, production]
  url:
    description:
      - The tenants endpoint, instead of the one O(environment) picks.
    type: str
  admin_token:
    description:
      - The admin's bearer token, copied from the C(Authorization) header of a THRIVE Learn request in the browser
        (with or without the C(Bearer) prefix). Falls back to the environment variable C(APIAUTH_THRIVE_ADMIN_TOKEN).
    type: str
    required: true
  correlation_id:
    description:
      - The C(correlation-id) header value. Generated (a UUID) when omitted, and returned.
    type: str
  tenant_id:
    description:
      - The THRIVE tenant id, for example C(eu-west-2_AbCdEf123); the user name of HTTP Basic auth with the key.
        Falls back to C(APIAUTH_THRIVE_TENANT_ID).
      - It must have THRIVE's form, the AWS region, C(_), then letters and digits (at most 55 characters).
      - When O(admin_token) names a tenant (its C(custom:tenant_id) or C(tenant_id) claim), it must be this
        one; otherwise the task fails before anything is sent, since THRIVE would make the key for the token's
        tenant.
    type: str
    required: true
  token_type:
    description:
      - The C(tokenType) of the key.
    type: str
    default: permanent
  services:
    description:
      - The services the key is for.
    type: list
    elements: str
    default: [api-service]
  current_api_key:
    description:
      - The key you hold now, typically read from your secrets store. While it stays valid past O(renew_before),
        no key is generated.
    type: str
  current_valid_until:
    description:
      - When O(current_api_key) expires, as ISO 8601 (THRIVE's C(validUntil)) or seconds since the epoch.
        Without it a given key is kept and never renewed.
    type: str
  renew_before:
    description:
      - Generate a new key when the current one expires within this many seconds. Default 30 days.
    type: int
    default: 2592000
  rotate:
    description:
      - V(when_needed) generates only as described above; V(always) generates a new key regardless.
    type: str
    default: when_needed
    choices: [when_needed, always]
  recovery_file:
    description:
      - Write a new key here (JSON, mode C(0600), atomic replace) before returning. The directory must exist, belong
        to you and have mode C(0700); the file may not be a symbolic link. This is checked before anything is sent.
      - If it cannot be written all the same, the key goes to a private file in a C(recovery) directory beside
        O(cache_dir) (by default C(~/.cache/apiauth.saas/recovery/), created with mode C(0700), never through a link)
        and the task fails naming that file; if that fails too, the key is in the failed task's registered result.
    type: path
  censor_result:
    description:
      - Hide the result (which holds the key) from the task output at every verbosity; the registered variable
        keeps it. Set to V(false) only while debugging.
    type: bool
    default: true
extends_documentation_fragment:
  - apiauth.saas.controller_action
  - apiauth.saas.http_options
  - apiauth.saas.cache
notes:
  - Nothing is cached. The cache options are accepted so that C(module_defaults) set for the whole
    C(group/apiauth.saas.saas) apply here too. O(cache_dir) holds the lock and hand-off record of the single flight
    (also with O(cache=false)) and places the fallback recovery directory; O(cache_encryption_key) encrypts the
    hand-off record; O(cache_backend=redis) with its options extends the single flight to other controllers (a server
    that cannot be reached is a warning, and the run goes on under this controller's lock only).
attributes:
  check_mode:
    description: Reports whether a key would be generated and sends nothing.
    support: full
  diff_mode:
    description: The diff shows a fingerprint of the key, never the key; it is hidden with the rest of a censored result.
    support: full
seealso:
  - module: apiauth.saas.thrive_token
    description: THRIVE's OAuth client credentials, when the API offers them to you.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where these tasks run; app_dir stands for a
# private directory. Against THRIVE, leave url and ca_path out.

- name: Generate a key only if the one held is missing or expires within 30 days
  apiauth.saas.thrive_apikey:
    environment: staging
    tenant_id: "{{ thrive_tenant_id }}"
    admin_token: "{{ thrive_admin_token }}"
    current_api_key: "{{ held_api_key | default(omit) }}"
    current_valid_until: "{{ held_valid_until | default(omit) }}"
    recovery_file: "{{ app_dir }}/thrive-apikey.json"
    url: "{{ thrive_staging_tenants_url }}"
    ca_path: "{{ sim_ca_path }}"
  register: thrive_key

- name: Use it with HTTP Basic auth
  ansible.builtin.uri:
    url: "{{ thrive_staging_base_url }}/api/v1/me"
    headers:
      Authorization: "{{ thrive_key.authorization }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
"""

RETURN = r"""
changed:
  description: Whether a key was (or in check mode would be) generated.
  returned: always
  type: bool
generated:
  description: Whether a key was generated by this run.
  returned: success
  type: bool
  sample: true
reason:
  description: Why a key was or was not generated, or that another run generated the key returned moments ago.
  returned: success
  type: str
  sample: no current API key was given
api_key:
  description:
    - The new key, the key another run generated moments ago, or O(current_api_key) when it was kept. Not returned
      in check mode when a key would be generated.
    - Also returned when the task fails after a key was received, so the registered variable keeps it.
  returned: success and not check mode, and on a failure after a key was received
  type: str
  sample: 5cK0vUtQ2fQ8mJ1xZxNqkz6T3wG9eH4bR7yL0pA2
valid_until:
  description:
    - When the key expires, as THRIVE says (ISO 8601), or O(current_valid_until) when it was kept.
    - V(null) when THRIVE did not say, or said something that is not a time (with a warning).
  returned: success and not check mode
  type: str
  sample: "2027-11-23T19:00:00Z"
tenant_id:
  description: The tenant id.
  returned: success
  type: str
  sample: eu-west-2_AbCdEf123
username:
  description: The HTTP Basic user name, the tenant id.
  returned: success and not check mode
  type: str
  sample: eu-west-2_AbCdEf123
password:
  description: The HTTP Basic password, the key.
  returned: success and not check mode
  type: str
  sample: 5cK0vUtQ2fQ8mJ1xZxNqkz6T3wG9eH4bR7yL0pA2
authorization:
  description: The ready C(Authorization) header value, C(Basic) with the tenant id and the key.
  returned: success and not check mode
  type: str
  sample: Basic ZXUtd2VzdC0yX0FiQ2RFZjEyMzo1Y0swdlV0UTJmUThtSjF4WnhOcWt6NlQzd0c5ZUg0YlI3eUwwcEEy
correlation_id:
  description: The correlation id sent, or that would have been sent.
  returned: success
  type: str
  sample: 4b8f2c0e-58a4-4b6f-9d43-6f0f8c1d2e3a
recovery_file:
  description: Where the new key was written.
  returned: when a key was generated (or taken over from another run) and O(recovery_file) is set
  type: str
  sample: /etc/apiauth/thrive-apikey.json
"""

from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_task_module
from ansible_collections.apiauth.saas.plugins.module_utils._thrive_apikey import apikey_task
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import APIKEY_SPEC


def main():
    run_task_module(apikey_task, argument_spec=APIKEY_SPEC, check_mode=True, diff_mode=True)


if __name__ == "__main__":
    main()
