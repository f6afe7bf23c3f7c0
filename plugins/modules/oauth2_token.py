#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: oauth2_token
short_description: Get an OAuth 2.0 access token with the client credentials grant
version_added: 0.1.0
description:
  - Asks any OAuth 2.0 provider for an access token with the client credentials grant (RFC 6749 section 4.4),
    authenticating with a client secret, a signed JWT (RFC 7523) or a TLS client certificate (RFC 8705).
  - The token is cached on the controller and reused while it stays valid for O(min_ttl) seconds, so many hosts,
    forks and runs share one token and templates rendered from it do not change between runs.
  - Runs on the controller; the result is hidden from the task output unless O(censor_result=false).
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.oauth2
  - apiauth.saas.private_key_jwt
  - apiauth.saas.http_options
  - apiauth.saas.cache
  - apiauth.saas.token_module
  - apiauth.saas.controller_action
seealso:
  - plugin: apiauth.saas.oauth2_token
    plugin_type: lookup
    description: The same token from a lookup, for templates.
  - module: apiauth.saas.throughline_token
  - name: RFC 6749 section 4.4, Client Credentials Grant
    description: The grant this module uses.
    link: https://www.rfc-editor.org/rfc/rfc6749#section-4.4
  - name: RFC 7523, JWT Profile for OAuth 2.0 Client Authentication
    description: How O(auth_method=private_key_jwt) signs its assertion.
    link: https://www.rfc-editor.org/rfc/rfc7523
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where each of these tasks runs.

- name: Get a token, client id and secret in an HTTP Basic header
  apiauth.saas.oauth2_token:
    token_url: "{{ oauth2_token_url }}"
    client_id: "{{ demo_basic_client_id }}"
    client_secret: "{{ demo_basic_client_secret }}"
    scope: [api.read]
    ca_path: "{{ sim_ca_path }}"
  register: api_token

- name: Call the API with it; no_log keeps the header out of the output
  ansible.builtin.uri:
    url: "{{ sim_base_url }}/oauth2/api/whoami"
    headers:
      Authorization: "{{ api_token.authorization }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true

- name: Sign a JWT with a private key instead of sending a secret
  apiauth.saas.oauth2_token:
    token_url: "{{ oauth2_token_url }}"
    client_id: "{{ demo_jwt_client_id }}"
    auth_method: private_key_jwt
    private_key_path: "{{ demo_jwt_key_path }}"
    key_id: "{{ demo_jwt_key_id }}"
    ca_path: "{{ sim_ca_path }}"

- name: Authenticate with a TLS client certificate
  apiauth.saas.oauth2_token:
    token_url: "{{ oauth2_token_url }}"
    client_id: "{{ demo_mtls_client_id }}"
    auth_method: tls_client_auth
    client_cert: "{{ demo_mtls_cert_path }}"
    client_key: "{{ demo_mtls_key_path }}"
    ca_path: "{{ sim_ca_path }}"

- name: Secret in the form body, and a fresh token whatever the cache holds
  apiauth.saas.oauth2_token:
    token_url: "{{ oauth2_token_url }}"
    client_id: "{{ demo_post_client_id }}"
    client_secret: "{{ demo_post_client_secret }}"
    auth_method: client_secret_post
    force_refresh: true
    ca_path: "{{ sim_ca_path }}"
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
  sample: api.read api.write
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
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import GENERIC


def main():
    run_module("oauth2", GENERIC)


if __name__ == "__main__":
    main()
