# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: thoughttrace_token
short_description: Get a ThoughtTrace API access token, cached
version_added: 0.1.0
description:
  - Returns a ThoughtTrace access token, the same token the M(apiauth.saas.thoughttrace_token) module returns,
    from the same cache on the controller.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.token_lookup
  - apiauth.saas.thoughttrace
  - apiauth.saas.thoughttrace.plugins
  - apiauth.saas.http_options
  - apiauth.saas.http_options.plugins
  - apiauth.saas.cache
  - apiauth.saas.cache.plugins
seealso:
  - module: apiauth.saas.thoughttrace_token
    description: The same token from a task, with a registered result.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where this task runs.

- name: Render a client config with a ThoughtTrace token
  ansible.builtin.copy:
    dest: "{{ app_dir }}/thoughttrace.env"
    mode: "0600"
    content: |
      THOUGHTTRACE_AUTHORIZATION={{ lookup('apiauth.saas.thoughttrace_token', output='authorization') }}
  no_log: true
  vars:
    apiauth_thoughttrace_base_url: "{{ thoughttrace_identity_url }}"
    apiauth_thoughttrace_client_id: "{{ thoughttrace_client_id }}"
    apiauth_thoughttrace_client_secret: "{{ thoughttrace_client_secret }}"
    apiauth_saas_ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
_raw:
  description:
    - One element. With O(output=token), the access token; with O(output=authorization), the
      C(Authorization) header value; with O(output=record), a dictionary with the keys the
      M(apiauth.saas.thoughttrace_token) module returns.
  type: list
  elements: raw
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import TOKEN_PLUGINS
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughttrace import THOUGHTTRACE
from ansible_collections.apiauth.saas.plugins.plugin_utils._lookup import TokenLookup


class LookupModule(TokenLookup):
    PROFILE = THOUGHTTRACE
    OPTION_NAMES = tuple(TOKEN_PLUGINS["thoughttrace"])
