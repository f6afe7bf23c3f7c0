# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: thrive_token
short_description: Get a THRIVE API access token, cached
version_added: 0.1.0
description:
  - Returns a THRIVE access token, the same token the M(apiauth.saas.thrive_token) module returns, from the same
    cache on the controller.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.token_lookup
  - apiauth.saas.thrive
  - apiauth.saas.thrive.plugins
  - apiauth.saas.http_options
  - apiauth.saas.http_options.plugins
  - apiauth.saas.cache
  - apiauth.saas.cache.plugins
seealso:
  - module: apiauth.saas.thrive_token
    description: The same token from a task, with a registered result.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where this task runs.

- name: Call the THRIVE API with a cached token
  ansible.builtin.uri:
    url: "{{ thrive_staging_base_url }}/api/v1/users"
    headers:
      Authorization: "{{ lookup('apiauth.saas.thrive_token', output='authorization') }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
  vars:
    apiauth_thrive_environment: staging
    apiauth_thrive_tenant_id: "{{ thrive_tenant_id }}"
    apiauth_thrive_client_id: "{{ thrive_client_id }}"
    apiauth_thrive_client_secret: "{{ thrive_client_secret }}"
    apiauth_thrive_scope: [api/read]
    apiauth_thrive_base_url: "{{ thrive_staging_base_url }}"
    apiauth_saas_ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
_raw:
  description:
    - One element. With O(output=token), the access token; with O(output=authorization), the
      C(Authorization) header value; with O(output=record), a dictionary with the keys the
      M(apiauth.saas.thrive_token) module returns.
  type: list
  elements: raw
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import TOKEN_PLUGINS
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import THRIVE
from ansible_collections.apiauth.saas.plugins.plugin_utils._lookup import TokenLookup


class LookupModule(TokenLookup):
    PROFILE = THRIVE
    OPTION_NAMES = tuple(TOKEN_PLUGINS["thrive"])
