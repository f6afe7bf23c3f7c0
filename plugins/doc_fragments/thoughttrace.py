# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a ThoughtTrace token request."""

    DOCUMENTATION = r"""
options:
  base_url:
    description:
      - The base URL of the ThoughtTrace IdP API; the token endpoint is C(<base_url>/connect/token).
      - O(identity_url) is its older name, still accepted.
    type: str
    aliases: [identity_url]
    default: https://identity.thoughttrace.com
  token_url:
    description:
      - The token endpoint, instead of C(<base_url>/connect/token).
    type: str
  client_id:
    description:
      - The client ID of the API client (ThoughtTrace admin menu, Access, API Clients).
    type: str
    required: true
  client_secret:
    description:
      - The client secret, shown once when the client is created or given a new secret.
    type: str
    required: true
"""

    PLUGINS = r"""
options:
  base_url:
    env:
      # Ansible takes the last one set: the new name wins over the old.
      - name: APIAUTH_THOUGHTTRACE_IDENTITY_URL
      - name: APIAUTH_THOUGHTTRACE_BASE_URL
    ini:
      - section: apiauth_thoughttrace
        key: identity_url
      - section: apiauth_thoughttrace
        key: base_url
    vars:
      - name: apiauth_thoughttrace_identity_url
      - name: apiauth_thoughttrace_base_url
  token_url:
    env:
      - name: APIAUTH_THOUGHTTRACE_TOKEN_URL
    ini:
      - section: apiauth_thoughttrace
        key: token_url
    vars:
      - name: apiauth_thoughttrace_token_url
  client_id:
    env:
      - name: APIAUTH_THOUGHTTRACE_CLIENT_ID
    ini:
      - section: apiauth_thoughttrace
        key: client_id
    vars:
      - name: apiauth_thoughttrace_client_id
  client_secret:
    env:
      - name: APIAUTH_THOUGHTTRACE_CLIENT_SECRET
    vars:
      - name: apiauth_thoughttrace_client_secret
"""
