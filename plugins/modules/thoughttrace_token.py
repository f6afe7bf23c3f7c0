#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thoughttrace_token
short_description: Get a ThoughtTrace API access token
version_added: 0.1.0
description:
  - Asks the ThoughtTrace IdP API (C(<base_url>/connect/token)) for an access token with the client id and
    secret of an API client, sent as form data.
  - RV(authorization) spells the scheme C(bearer) as ThoughtTrace documents it.
  - The token is cached on the controller and reused while it stays valid for O(min_ttl) seconds.
  - Runs on the controller; the result is hidden from the task output unless O(censor_result=false).
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.thoughttrace
  - apiauth.saas.http_options
  - apiauth.saas.cache
  - apiauth.saas.token_module
  - apiauth.saas.controller_action
seealso:
  - plugin: apiauth.saas.thoughttrace_token
    plugin_type: lookup
    description: The same token from a lookup, for templates.
  - module: apiauth.saas.oauth2_token
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where these tasks run. Against ThoughtTrace,
# leave base_url and ca_path out.

- name: Get a ThoughtTrace token
  apiauth.saas.thoughttrace_token:
    client_id: "{{ thoughttrace_client_id }}"
    client_secret: "{{ thoughttrace_client_secret }}"
    base_url: "{{ thoughttrace_identity_url }}"
    ca_path: "{{ sim_ca_path }}"
  register: thoughttrace

- name: List workspaces with it
  ansible.builtin.uri:
    url: "{{ sim_base_url }}/thoughttrace/api/v1/workspaces"
    headers:
      Authorization: "{{ thoughttrace.authorization }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
"""

RETURN = r"""
access_token:
  description: The access token. Also in RV(authorization), ready for a header.
  returned: success
  type: str
  sample: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl
authorization:
  description: The C(Authorization) header value, scheme and token, for example for M(ansible.builtin.uri).
  returned: success
  type: str
  sample: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl
token_type:
  description: The token type as the server named it.
  returned: success
  type: str
  sample: Bearer
scope:
  description: The granted scopes, space-separated; the requested ones when the server did not say.
  returned: success
  type: str
  sample: api
expires_in:
  description: Seconds the token stays valid from now; null when the server did not say.
  returned: success
  type: int
  sample: 3542
expires_at:
  description: When the token expires, in seconds since the epoch; null when the server did not say.
  returned: success
  type: int
  sample: 1795467600
expires_at_iso:
  description: RV(expires_at) as an ISO 8601 UTC time.
  returned: success
  type: str
  sample: "2026-11-23T20:20:00Z"
obtained_at:
  description: When the token was requested, in seconds since the epoch.
  returned: success
  type: int
  sample: 1795464000
obtained_at_iso:
  description: RV(obtained_at) as an ISO 8601 UTC time.
  returned: success
  type: str
  sample: "2026-11-23T19:20:00Z"
lifetime:
  description: The token's whole life in seconds as the server gave it (C(expires_in) at issue).
  returned: success
  type: int
  sample: 3600
source:
  description: Where the token came from, V(network) (a new token, reported as changed), V(memory), V(file) or V(shared) (O(cache_backend=redis)).
  returned: success
  type: str
  sample: file
attempts:
  description:
    - How many HTTP requests this task tried to get the token, retries included. V(1) when nothing was
      retried, V(0) when a cache (memory, file or shared) served it.
    - At C(-v) each retry is shown as it happens, with the vendor's answer or the connection error, the attempt
      number and how long the task waits before the next one (the backoff, or the vendor's C(Retry-After)).
  returned: success
  type: int
  sample: 1
waited:
  description:
    - Seconds this task spent waiting, to a tenth of a second. Waits before retries, and waits for another fork
      or run that was getting the same token (see the C(-v) notes in the operations guide).
  returned: success
  type: float
  sample: 0.0
"""

from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_module
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughttrace import THOUGHTTRACE


def main():
    run_module("thoughttrace", THOUGHTTRACE)


if __name__ == "__main__":
    main()
