# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: oauth2_token
short_description: Get an OAuth 2.0 client credentials access token, cached
version_added: 0.1.0
description:
  - Returns an access token from any OAuth 2.0 provider with the client credentials grant, the same token the
    M(apiauth.saas.oauth2_token) module returns, from the same cache on the controller.
  - A template that renders the token on many hosts causes one request per credential while the token stays
    fresh, and a second run renders the same token, so files written from it do not change.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
extends_documentation_fragment:
  - apiauth.saas.token_lookup
  - apiauth.saas.oauth2
  - apiauth.saas.private_key_jwt
  - apiauth.saas.oauth2.plugins
  - apiauth.saas.http_options
  - apiauth.saas.http_options.plugins
  - apiauth.saas.cache
  - apiauth.saas.cache.plugins
seealso:
  - module: apiauth.saas.oauth2_token
    description: The same token from a task, with check mode support and a registered result.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where these tasks run; app_dir is where your
# application reads its configuration.

- name: Render a config file with a token (no_log keeps it out of the output)
  ansible.builtin.copy:
    dest: "{{ app_dir }}/app.ini"
    mode: "0600"
    content: |
      [api]
      token = {{ lookup('apiauth.saas.oauth2_token', token_url=oauth2_token_url,
                        client_id=demo_basic_client_id, client_secret=demo_basic_client_secret,
                        ca_path=sim_ca_path) }}
  no_log: true

- name: Take the whole record and show only what is not secret
  ansible.builtin.debug:
    msg: "The token expires at {{ record.expires_at_iso }}"
  vars:
    record: "{{ lookup('apiauth.saas.oauth2_token', output='record', token_url=oauth2_token_url,
                       client_id=demo_jwt_client_id, auth_method='private_key_jwt',
                       private_key_path=demo_jwt_key_path, key_id=demo_jwt_key_id, ca_path=sim_ca_path) }}"

- name: Options from variables instead of keywords
  ansible.builtin.uri:
    url: "{{ sim_base_url }}/oauth2/api/whoami"
    headers:
      Authorization: "{{ lookup('apiauth.saas.oauth2_token', output='authorization') }}"
    ca_path: "{{ sim_ca_path }}"
  no_log: true
  vars:
    apiauth_oauth2_token_url: "{{ oauth2_token_url }}"
    apiauth_oauth2_client_id: "{{ demo_post_client_id }}"
    apiauth_oauth2_client_secret: "{{ demo_post_client_secret }}"
    apiauth_oauth2_auth_method: client_secret_post
    apiauth_saas_ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
_raw:
  description:
    - One element. With O(output=token), the access token; with O(output=authorization), the
      C(Authorization) header value; with O(output=record), a dictionary with the keys the
      M(apiauth.saas.oauth2_token) module returns (C(access_token), C(authorization), C(token_type),
      C(scope), C(expires_in), C(expires_at), C(expires_at_iso), C(obtained_at), C(obtained_at_iso),
      C(lifetime), C(source)).
  type: list
  elements: raw
"""

from ansible_collections.apiauth.saas.plugins.module_utils._catalogue import TOKEN_PLUGINS
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import GENERIC
from ansible_collections.apiauth.saas.plugins.plugin_utils._lookup import TokenLookup


class LookupModule(TokenLookup):
    PROFILE = GENERIC
    OPTION_NAMES = tuple(TOKEN_PLUGINS["oauth2"])
