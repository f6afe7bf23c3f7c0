# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: thredd_token
short_description: Get a Thredd REST API access token, or the headers its API needs, cached
version_added: 0.1.0
description:
  - Returns a Thredd access token, the same token the M(apiauth.saas.thredd_token) module returns, from the same
    cache on the controller; or the headers every Thredd API call needs.
  - A template that renders the token on many hosts causes one request per credential while the token stays
    fresh, and a second run renders the same token. Nothing cached for UAT is ever served for production.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  output:
    description:
      - What to return. V(token) is the access token alone, V(authorization) the C(Authorization) header value,
        V(headers) the dictionary of C(Authorization), C(X-Region) and C(Content-Type) for an API call, V(record)
        a dictionary with the return values of the M(apiauth.saas.thredd_token) module.
    type: str
    choices: [token, authorization, headers, record]
    default: token
extends_documentation_fragment:
  - apiauth.saas.token_lookup
  - apiauth.saas.thredd
  - apiauth.saas.thredd.plugins
  - apiauth.saas.private_key_jwt
  - apiauth.saas.http_options
  - apiauth.saas.http_options.plugins
  - apiauth.saas.cache
  - apiauth.saas.cache.plugins
seealso:
  - module: apiauth.saas.thredd_token
    description: The same token from a task, with the base URL and headers in a registered result.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where this task runs. Against Thredd, leave
# the URLs and the CA out.

- name: Call the Thredd API with headers from the lookup
  ansible.builtin.uri:
    url: "{{ thredd_uat_tls_url }}/core/api/v1/products"
    headers: "{{ lookup('apiauth.saas.thredd_token', output='headers') }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
  vars:
    apiauth_thredd_environment: uat
    apiauth_thredd_region: apac
    apiauth_thredd_client_id: "{{ thredd_uat_client_id }}"
    apiauth_thredd_client_secret: "{{ thredd_uat_client_secret }}"
    apiauth_thredd_base_url: "{{ thredd_uat_tls_url }}"
    apiauth_thredd_token_url: "{{ thredd_uat_tls_url }}/oauth2/token"
    apiauth_saas_ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
_raw:
  description:
    - One element. With O(output=token), the access token; with O(output=authorization), the C(Authorization)
      header value; with O(output=headers), a dictionary of the headers; with O(output=record), a dictionary with
      the keys the M(apiauth.saas.thredd_token) module returns.
  type: list
  elements: raw
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import TOKEN_PLUGINS
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thredd import THREDD
from ansible_collections.apiauth.saas.plugins.plugin_utils._lookup import TokenLookup


class LookupModule(TokenLookup):
    PROFILE = THREDD
    OPTION_NAMES = tuple(TOKEN_PLUGINS["thredd"])
