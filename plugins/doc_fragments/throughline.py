# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a ThroughLine token request."""

    DOCUMENTATION = r"""
options:
  token_url:
    description:
      - ThroughLine's token endpoint. Change it only for a test server.
    type: str
    default: https://api.findahelpline.com/oauth/token
  client_id:
    description:
      - The Client ID of the application, from the ThroughLine Developer Dashboard.
    type: str
    required: true
  client_secret:
    description:
      - The Client Secret of the application. It is sent in the form body of the POST, never in a URL.
    type: str
    required: true
"""

    PLUGINS = r"""
options:
  token_url:
    env:
      - name: APIAUTH_THROUGHLINE_TOKEN_URL
    ini:
      - section: apiauth_throughline
        key: token_url
    vars:
      - name: apiauth_throughline_token_url
  client_id:
    env:
      - name: APIAUTH_THROUGHLINE_CLIENT_ID
    ini:
      - section: apiauth_throughline
        key: client_id
    vars:
      - name: apiauth_throughline_client_id
  client_secret:
    env:
      - name: APIAUTH_THROUGHLINE_CLIENT_SECRET
    vars:
      - name: apiauth_throughline_client_secret
"""
