#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thredd_token
short_description: Get a Thredd REST API access token and the headers its API needs
version_added: 0.1.0
description:
  - Asks Thredd's OAuth token endpoint for an access token with a client secret or a private key JWT, over TLS
    or mutual TLS with the Thredd transport certificate, for the UAT or the production environment.
  - Returns the token with the API base URL and the headers Thredd requires on every call (C(Authorization),
    C(X-Region), C(Content-Type)), ready for M(ansible.builtin.uri).
  - Checks the transport and signing certificates before any request, failing when one has expired and warning
    when one expires within O(certificate_warn_days); optionally checks that the signing key is published in the
    organisation's JWKS.
  - Tokens live one hour. They are cached on the controller per environment, connectivity, client and secret or
    key, and reused while they stay valid for O(min_ttl) seconds; nothing cached for UAT is ever served for
    production.
  - Runs on the controller; the result is hidden from the task output unless O(censor_result=false).
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.thredd
  - apiauth.saas.private_key_jwt
  - apiauth.saas.http_options
  - apiauth.saas.cache
  - apiauth.saas.token_module
  - apiauth.saas.controller_action
seealso:
  - plugin: apiauth.saas.thredd_token
    plugin_type: lookup
    description: The same token, or the headers, from a lookup.
  - module: apiauth.saas.oauth2_token
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where each of these tasks runs. Against Thredd,
# leave base_url, token_url, jwks_url and ca_path out: environment and
# connectivity pick the URLs.

- name: Get a UAT token with the client secret, for the EMEA region
  apiauth.saas.thredd_token:
    environment: uat
    region: emea
    client_id: "{{ thredd_uat_client_id }}"
    client_secret: "{{ thredd_uat_client_secret }}"
    base_url: "{{ thredd_uat_tls_url }}"
    token_url: "{{ thredd_uat_tls_url }}/oauth2/token"
    ca_path: "{{ sim_ca_path }}"
  register: thredd

- name: Call the API with the ready headers (no_log keeps the token out of the output)
  ansible.builtin.uri:
    url: "{{ thredd.base_url }}/core/api/v1/products"
    headers: "{{ thredd.headers }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true

- name: Mutual TLS and a signed client assertion, the published key checked first
  apiauth.saas.thredd_token:
    environment: uat
    connectivity: mtls
    client_id: "{{ thredd_uat_jwt_client_id }}"
    auth_method: private_key_jwt
    private_key_path: "{{ thredd_signing_key_path }}"
    signing_cert_path: "{{ thredd_signing_cert_path }}"
    key_id: "{{ thredd_key_id }}"
    client_cert: "{{ thredd_transport_cert_path }}"
    client_key: "{{ thredd_transport_key_path }}"
    jwks_preflight: true
    org: "{{ thredd_organisation_id }}"
    jwks_url: "{{ thredd_jwks_base_url }}/{{ thredd_organisation_id }}/jwks.json"
    base_url: "{{ thredd_uat_mtls_url }}"
    token_url: "{{ thredd_uat_mtls_url }}/oauth2/token"
    ca_path: "{{ sim_ca_path }}"
  register: thredd_mtls

- name: The mTLS API wants the same transport certificate
  ansible.builtin.uri:
    url: "{{ thredd_mtls.base_url }}/core/api/v1/products"
    headers: "{{ thredd_mtls.headers }}"
    client_cert: "{{ thredd_transport_cert_path }}"
    client_key: "{{ thredd_transport_key_path }}"
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
  sample: cards.read
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
    - With O(jwks_preflight=true), the request for the published keys counts too.
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
base_url:
  description: The Thredd API base URL for this environment and connectivity (or O(base_url)).
  returned: success
  type: str
  sample: https://uat-api.thredd.com
headers:
  description:
    - The headers Thredd requires on every API call, C(Authorization), C(X-Region) and C(Content-Type), ready for
      the C(headers) option of M(ansible.builtin.uri).
  returned: success
  type: dict
  sample: {"Authorization": "Bearer eyJhbGciOi...", "X-Region": "1", "Content-Type": "application/json"}
region:
  description: The C(X-Region) number, 0 (default), 1 (EMEA) or 2 (APAC).
  returned: success
  type: int
  sample: 1
environment:
  description: The environment the token is for.
  returned: success
  type: str
  sample: uat
connectivity:
  description: V(tls) or V(mtls).
  returned: success
  type: str
  sample: mtls
"""

from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_module
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thredd import THREDD


def main():
    run_module("thredd", THREDD)


if __name__ == "__main__":
    main()
