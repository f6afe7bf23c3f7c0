# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: throughline_token
short_description: Get a ThroughLine API access token, cached
version_added: 0.1.0
description:
  - Returns a ThroughLine access token, the same token the M(apiauth.saas.throughline_token) module returns,
    from the same cache on the controller.
  - A template that renders the token on many hosts causes one request while the token stays fresh, and a
    second run renders the same token, so files written from it do not change.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.token_lookup
  - apiauth.saas.throughline
  - apiauth.saas.throughline.plugins
  - apiauth.saas.http_options
  - apiauth.saas.http_options.plugins
  - apiauth.saas.cache
  - apiauth.saas.cache.plugins
seealso:
  - module: apiauth.saas.throughline_token
    description: The same token from a task, with a registered result.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator. In production leave token_url and the CA out.

- name: Call the ThroughLine API with a cached token
  ansible.builtin.uri:
    url: "{{ sim_base_url }}/throughline/api/v1/helplines"
    headers:
      Authorization: "{{ lookup('apiauth.saas.throughline_token', output='authorization') }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
  vars:
    apiauth_throughline_client_id: "{{ throughline_client_id }}"
    apiauth_throughline_client_secret: "{{ throughline_client_secret }}"
    apiauth_throughline_token_url: "{{ throughline_token_url }}"
    apiauth_saas_ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
_raw:
  description:
    - One element. With O(output=token), the access token; with O(output=authorization), the
      C(Authorization) header value; with O(output=record), a dictionary with the keys the
      M(apiauth.saas.throughline_token) module returns.
  type: list
  elements: raw
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import TOKEN_PLUGINS
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_throughline import THROUGHLINE as PROFILE
from ansible_collections.apiauth.saas.plugins.plugin_utils._lookup import TokenLookup


class LookupModule(TokenLookup):
    PROFILE = PROFILE
    OPTION_NAMES = tuple(TOKEN_PLUGINS["throughline"])
