#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thoughtspot_token
short_description: Get or revoke a ThoughtSpot REST API v2.0 token (full, object or custom)
version_added: 0.1.0
description:
  - With O(state=present), gets a ThoughtSpot bearer token for O(username) with the cluster's trusted
    authentication O(secret_key) (preferred) or the user's O(password), through C(auth/token/full),
    C(auth/token/object) or C(auth/token/custom) as O(token_kind) says, and returns it with its times, scope,
    user and a ready C(Authorization) header.
  - Tokens are cached on the controller per cluster, user, org, type and every other request field, and per
    secret, and reused while they stay valid for O(min_ttl) seconds, so a second run gets the same token and
    changes no file rendered from it.
  - A request with O(auto_create) or a O(persist_option) other than V(NONE) may create or change the user, so in
    check mode it is not sent (a cached token is still returned) and the task reports a change.
  - With O(state=absent), revokes a token through C(auth/token/revoke), the one given in O(token) or, without it,
    the one these same options got into the cache, which is then dropped from the cache. The token is validated
    first, so a token that is already invalid or expired is reported as unchanged, and check mode revokes
    nothing. O(revoke_all=true) revokes every token of O(username).
  - To revoke at the end of the playbook run the tokens it got, set O(revoke_at_end=true) and enable the callback
    C(apiauth.saas.revoke_at_end), or put a task with O(state=absent) in an C(always) section (see the examples).
  - Runs on the controller; a result that holds a token is hidden from the task output unless
    O(censor_result=false), while the registered variable keeps it.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  state:
    description:
      - V(present) gets a token, V(absent) revokes one.
    type: str
    choices: [present, absent]
    default: present
  token:
    description:
      - With O(state=absent), the token to revoke. It is revoked with itself as the bearer unless O(admin_token)
        is given.
    type: str
  revoke_all:
    description:
      - With O(state=absent), revoke every token of O(username) (C(user_identifier) alone). ThoughtSpot does not
        say how many there were, so the task always reports a change.
      - Needs O(admin_token), or O(secret_key) or O(password) to get a token of the user to do it with.
    type: bool
    default: false
  censor_result:
    description:
      - Hide the result in the task output, at every verbosity, as C(no_log) would, while the registered
        variable keeps the real values for later tasks.
      - Set to V(false) only while debugging, because the output then shows the token.
    type: bool
    default: true
extends_documentation_fragment:
  - apiauth.saas.controller_action
  - apiauth.saas.thoughtspot
  - apiauth.saas.http_options
  - apiauth.saas.cache
attributes:
  check_mode:
    description:
      - A request that may create or change a user is not sent; a plain token request is, as it changes nothing.
      - O(state=absent) only validates the token in check mode.
    support: full
  diff_mode:
    description: A token has no state to compare.
    support: none
notes:
  - Options fall back to the environment variables the lookup of the same name reads, for example
    E(APIAUTH_THOUGHTSPOT_HOST) or E(APIAUTH_THOUGHTSPOT_SECRET_KEY).
  - The token cache lives on the controller (see O(cache_dir)) and is shared by all hosts, forks and runs of one
    user; many forks asking at once cause one request.
  - O(revoke_at_end) needs the action plugin and the callback; the module file alone refuses it.
seealso:
  - plugin: apiauth.saas.thoughtspot_token
    plugin_type: lookup
    description: The same token from a lookup, for templates.
  - module: apiauth.saas.thoughtspot_token_info
    description: Check that a token is valid and read its user.
  - module: apiauth.saas.thoughtspot_trusted_auth
    description: Enable trusted authentication and read the secret key this module uses.
  - name: ThoughtSpot REST API v2.0 authentication
    description: The vendor's description of these endpoints.
    link: https://developers.thoughtspot.com/docs/api-authv2
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where these tasks run.

- name: Get a full-access token for a user through trusted authentication
  apiauth.saas.thoughtspot_token:
    host: "{{ thoughtspot_host }}"
    username: "{{ thoughtspot_username }}"
    secret_key: "{{ thoughtspot_secret_key }}"
    org: "{{ thoughtspot_org_id }}"
    ca_path: "{{ sim_ca_path }}"
  register: ts

- name: Use it
  ansible.builtin.uri:
    url: "{{ ts.base_url }}/auth/session/user"
    headers: "{{ ts.headers }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true

- name: A read-only token for one object, for a user created on first use
  apiauth.saas.thoughtspot_token:
    host: "{{ thoughtspot_host }}"
    username: embed-viewer-001
    secret_key: "{{ thoughtspot_secret_key }}"
    token_kind: object
    object_id: "{{ thoughtspot_object_id }}"
    auto_create: true
    display_name: Embedded viewer 001
    groups: [Viewers]
    ca_path: "{{ sim_ca_path }}"
  register: viewer

- name: A token with row-level rules (attribute-based access control), nothing persisted
  apiauth.saas.thoughtspot_token:
    host: "{{ thoughtspot_host }}"
    username: "{{ thoughtspot_username }}"
    secret_key: "{{ thoughtspot_secret_key }}"
    token_kind: custom
    org: Sales
    persist_option: NONE
    filter_rules:
      - column_name: Region
        operator: IN
        values: [EMEA]
    ca_path: "{{ sim_ca_path }}"
  register: abac

- name: Use a short-lived token and revoke it whatever happens
  block:
    - name: Get it
      apiauth.saas.thoughtspot_token:
        host: "{{ thoughtspot_host }}"
        username: "{{ thoughtspot_username }}"
        secret_key: "{{ thoughtspot_secret_key }}"
        validity_time_in_sec: 600
        min_ttl: 60
        cache: false
        ca_path: "{{ sim_ca_path }}"
      register: short
  always:
    - name: Revoke it
      apiauth.saas.thoughtspot_token:
        host: "{{ thoughtspot_host }}"
        state: absent
        token: "{{ short.access_token }}"
        ca_path: "{{ sim_ca_path }}"
      when: short.access_token is defined
"""

RETURN = r"""
access_token:
  description: The bearer token.
  returned: success with O(state=present), except in check mode when no request was sent
  type: str
  sample: dHNVc2VyQTpKSE5vYVhKdk1TUlRTRUV0TWpVMkpEVXdNREF3TUNS
authorization:
  description: The value of the C(Authorization) header, C(Bearer <token>).
  returned: when RV(access_token) is
  type: str
  sample: Bearer dHNVc2VyQTpKSE5vYVhKdk1TUlRTRUV0TWpVMkpEVXdNREF3TUNS
headers:
  description: The headers of a ThoughtSpot API call, ready for the C(headers) option of M(ansible.builtin.uri).
  returned: when RV(access_token) is
  type: dict
  sample: {"Authorization": "Bearer dHNVc2VyQTpK...", "Accept": "application/json"}
base_url:
  description: The REST API v2.0 base URL, C(<host>/api/rest/2.0).
  returned: when RV(access_token) is
  type: str
  sample: https://example.thoughtspot.cloud/api/rest/2.0
token_type:
  description: Always C(Bearer), the scheme of the C(Authorization) header (O(token_kind) is in RV(scope)).
  returned: when RV(access_token) is
  type: str
  sample: Bearer
scope:
  description:
    - What the token grants, as ThoughtSpot returns it. C(access_type) is C(FULL) or C(REPORT_BOOK_VIEW) (object
      tokens, with C(metadata_id)); C(CUSTOM) for custom tokens.
  returned: when RV(access_token) is
  type: dict
  sample: {"access_type": "FULL", "org_id": 1, "metadata_id": null}
creation_time_in_millis:
  description: When ThoughtSpot made the token, in milliseconds since the epoch.
  returned: when RV(access_token) is
  type: int
  sample: 1795464000000
expiration_time_in_millis:
  description: When the token expires by ThoughtSpot's clock, in milliseconds since the epoch.
  returned: when RV(access_token) is
  type: int
  sample: 1795467600000
creation_time_iso:
  description: RV(creation_time_in_millis) as an ISO 8601 UTC time.
  returned: when RV(access_token) is
  type: str
  sample: "2026-11-23T19:20:00Z"
expiration_time_iso:
  description: RV(expiration_time_in_millis) as an ISO 8601 UTC time.
  returned: when RV(access_token) is
  type: str
  sample: "2026-11-23T20:20:00Z"
expires_in:
  description: Seconds the token stays valid from now, by the controller's clock.
  returned: when RV(access_token) is
  type: int
  sample: 3542
expires_at:
  description: When the token expires, in seconds since the epoch, counted from when it was requested.
  returned: when RV(access_token) is
  type: int
  sample: 1795467600
expires_at_iso:
  description: RV(expires_at) as an ISO 8601 UTC time.
  returned: when RV(access_token) is
  type: str
  sample: "2026-11-23T20:20:00Z"
obtained_at:
  description: When the token was requested, in seconds since the epoch.
  returned: when RV(access_token) is
  type: int
  sample: 1795464000
obtained_at_iso:
  description: RV(obtained_at) as an ISO 8601 UTC time.
  returned: when RV(access_token) is
  type: str
  sample: "2026-11-23T19:20:00Z"
lifetime:
  description: The token's whole life in seconds.
  returned: when RV(access_token) is
  type: int
  sample: 3600
user_id:
  description: The GUID of the user the token is for.
  returned: when RV(access_token) is
  type: str
  sample: 59481331-ee53-42be-a548-bd87be6ddd4a
username:
  description: The name of the user the token is for.
  returned: when RV(access_token) is
  type: str
  sample: tsUserA
org_id:
  description: The org the token is for.
  returned: when RV(access_token) is
  type: int
  sample: 1
org_name:
  description: The org's name (custom tokens only; null otherwise).
  returned: when RV(access_token) is
  type: str
  sample: Sales
token_id:
  description: The id ThoughtSpot gives a custom token (null otherwise).
  returned: when RV(access_token) is
  type: str
  sample: 6c1f2a0e-7d1b-4f0e-9a55-2d1b8e3c4f70
source:
  description: Where the token came from, V(network) (a new token, reported as changed), V(memory), V(file) or V(shared) (O(cache_backend=redis)).
  returned: when RV(access_token) is
  type: str
  sample: file
attempts:
  description:
    - How many HTTP requests this task tried to get the token, retries included. V(1) when nothing was
      retried, V(0) when a cache (memory, file or shared) served it.
    - With O(state=absent), how many it tried to check and revoke the token (and, for O(revoke_all=true) without
      O(admin_token), to get the user's token first).
    - At C(-v) each retry is shown as it happens, with the vendor's answer or the connection error, the attempt
      number and how long the task waits before the next one (the backoff, or the vendor's C(Retry-After)).
  returned: when RV(access_token) is, and with O(state=absent)
  type: int
  sample: 1
waited:
  description:
    - Seconds this task spent waiting, to a tenth of a second. Waits before retries, and waits for another fork
      or run that was getting the same token (see the C(-v) notes in the operations guide).
  returned: when RV(access_token) is, and with O(state=absent)
  type: float
  sample: 0.0
skipped_request:
  description: True in check mode when a request that may change the user was not sent.
  returned: in check mode, when no token was requested
  type: bool
  sample: true
revoked:
  description: Whether this task revoked a token.
  returned: with O(state=absent)
  type: bool
  sample: true
token_fingerprint:
  description: A one-way tag of the token the task looked at, to match it in logs.
  returned: with O(state=absent), when a token was found
  type: str
  sample: "sha256:4f2a9c0d81be"
msg:
  description: What the task did or would do.
  returned: with O(state=absent), and in check mode when no request was sent
  type: str
  sample: The token was revoked.
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import MUTUALLY_EXCLUSIVE, module_spec
from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_task_module
from ansible_collections.apiauth.saas.plugins.module_utils._thoughtspot_tasks import module_token_task
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import SECRET_OPTIONS


def main():
    run_task_module(module_token_task, argument_spec=module_spec("thoughtspot"),
                    mutually_exclusive=MUTUALLY_EXCLUSIVE["thoughtspot"], secret_options=SECRET_OPTIONS,
                    check_mode=True)


if __name__ == "__main__":
    main()
