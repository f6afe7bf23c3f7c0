# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: thoughtspot_token
short_description: Get a ThoughtSpot REST API v2.0 token (full, object or custom), cached
version_added: 0.1.0
description:
  - Returns a ThoughtSpot token, the same token the M(apiauth.saas.thoughtspot_token) module returns, from the
    same cache on the controller.
  - A request with O(auto_create) or a O(persist_option) other than V(NONE) may create or change the user; a
    lookup cannot tell check mode apart, so it sends it in check mode too. Use the module when that matters.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  output:
    description:
      - What to return. V(token) is the token alone, V(authorization) the C(Authorization) header value,
        V(headers) the headers of a ThoughtSpot API call, V(record) a dictionary with the return values of the
        module of the same name.
    type: str
    choices: [token, authorization, headers, record]
    default: token
extends_documentation_fragment:
  - apiauth.saas.thoughtspot
  - apiauth.saas.thoughtspot.plugins
  - apiauth.saas.http_options
  - apiauth.saas.http_options.plugins
  - apiauth.saas.cache
  - apiauth.saas.cache.plugins
notes:
  - The token cache lives on the controller (see O(cache_dir)); lookups and modules share it.
  - Options come from keywords, then variables, the environment and C(ansible.cfg); secrets never come from
    C(ansible.cfg).
seealso:
  - module: apiauth.saas.thoughtspot_token
    description: The same token from a task, with a registered result, and revocation.
  - module: apiauth.saas.thoughtspot_trusted_auth
    description: Enable trusted authentication and read its secret key.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where this task runs.

- name: Render an embedding config with a trusted-authentication token for one user
  ansible.builtin.copy:
    dest: "{{ app_dir }}/thoughtspot.env"
    mode: "0600"
    content: |
      THOUGHTSPOT_AUTHORIZATION={{ lookup('apiauth.saas.thoughtspot_token', output='authorization') }}
  no_log: true
  vars:
    apiauth_thoughtspot_host: "{{ thoughtspot_host }}"
    apiauth_thoughtspot_username: "{{ thoughtspot_username }}"
    apiauth_thoughtspot_secret_key: "{{ thoughtspot_secret_key }}"
    apiauth_saas_ca_path: "{{ sim_ca_path }}"

- name: Call the ThoughtSpot API with ready headers
  ansible.builtin.uri:
    url: "{{ thoughtspot_host }}/api/rest/2.0/auth/session/user"
    headers: "{{ lookup('apiauth.saas.thoughtspot_token', host=thoughtspot_host, username=thoughtspot_username,
                 secret_key=thoughtspot_secret_key, ca_path=sim_ca_path, output='headers') }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One element. With O(output=token), the token; with O(output=authorization), the C(Authorization) header
      value; with O(output=headers), a dictionary of headers; with O(output=record), a dictionary with the keys
      the M(apiauth.saas.thoughtspot_token) module returns.
  type: list
  elements: raw
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import TOKEN_PLUGINS
from ansible_collections.apiauth.saas.plugins.module_utils._thoughtspot_tasks import token_task
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import TokenOutcome
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import redactor_for
from ansible_collections.apiauth.saas.plugins.plugin_utils._lookup import TokenLookup
from ansible_collections.apiauth.saas.plugins.plugin_utils._thoughtspot import revoke_at_end_hooks


class LookupModule(TokenLookup):
    OPTION_NAMES = tuple(TOKEN_PLUGINS["thoughtspot"])

    def fetch(self, params, progress=None):
        cache_dir, on_new_token = revoke_at_end_hooks(params)
        answer = token_task(dict(params, state="present"), check_mode=False, cache_dir=cache_dir,
                            on_new_token=on_new_token, progress=progress)
        record, warnings = dict(answer[0]), answer[2]
        source = record.pop("source")
        # What the module's result adds: a lookup returns the record as the other lookups do.
        for name in ("changed", "attempts", "waited"):
            record.pop(name, None)
        return TokenOutcome(record=record, source=source, warnings=warnings)

    def redactor(self, params):
        return redactor_for(params)
