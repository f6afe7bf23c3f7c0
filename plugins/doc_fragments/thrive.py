# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a THRIVE OAuth token request."""

    DOCUMENTATION = r"""
options:
  environment:
    description:
      - The THRIVE environment, V(staging) (C(public.api.learnstaging.link)) or V(production)
        (C(public.api.learn.link)).
    type: str
    required: true
    choices: [staging, production]
  tenant_id:
    description:
      - The THRIVE tenant id, for example C(eu-west-2_AbCdEf123); each tenant has its own token endpoint.
      - It must have THRIVE's form, the AWS region, C(_), then letters and digits (at most 55 characters);
        any other value is refused before anything is sent, so it cannot change the token URL's path.
    type: str
    required: true
  base_url:
    description:
      - The base URL of the token endpoint, instead of the one O(environment) picks; the token URL is
        C(<base_url>/oauth2/token/<tenant_id>).
    type: str
  token_url:
    description:
      - The whole token URL, instead of C(<base_url>/oauth2/token/<tenant_id>).
    type: str
  client_id:
    description:
      - The OAuth client id.
    type: str
    required: true
  client_secret:
    description:
      - The OAuth client secret.
    type: str
    required: true
  auth_method:
    description:
      - V(client_secret_basic) sends the id and secret in an HTTP Basic header, V(client_secret_post) in the form body.
    type: str
    default: client_secret_basic
    choices: [client_secret_basic, client_secret_post]
  scope:
    description:
      - The scopes to request, as a list or a space-separated string (V(api/read api/write)); ask for the least
        the job needs. The client's default scopes when omitted.
      - THRIVE's scopes are C(api/all), C(api/read), C(api/write) and C(api/webhooks); any other is refused before
        anything is sent.
    type: list
    elements: str
"""

    PLUGINS = r"""
options:
  environment:
    env:
      - name: APIAUTH_THRIVE_ENVIRONMENT
    ini:
      - section: apiauth_thrive
        key: environment
    vars:
      - name: apiauth_thrive_environment
  tenant_id:
    env:
      - name: APIAUTH_THRIVE_TENANT_ID
    ini:
      - section: apiauth_thrive
        key: tenant_id
    vars:
      - name: apiauth_thrive_tenant_id
  base_url:
    env:
      - name: APIAUTH_THRIVE_BASE_URL
    ini:
      - section: apiauth_thrive
        key: base_url
    vars:
      - name: apiauth_thrive_base_url
  token_url:
    env:
      - name: APIAUTH_THRIVE_TOKEN_URL
    ini:
      - section: apiauth_thrive
        key: token_url
    vars:
      - name: apiauth_thrive_token_url
  client_id:
    env:
      - name: APIAUTH_THRIVE_CLIENT_ID
    ini:
      - section: apiauth_thrive
        key: client_id
    vars:
      - name: apiauth_thrive_client_id
  client_secret:
    env:
      - name: APIAUTH_THRIVE_CLIENT_SECRET
    vars:
      - name: apiauth_thrive_client_secret
  auth_method:
    env:
      - name: APIAUTH_THRIVE_AUTH_METHOD
    ini:
      - section: apiauth_thrive
        key: auth_method
    vars:
      - name: apiauth_thrive_auth_method
  scope:
    env:
      - name: APIAUTH_THRIVE_SCOPE
    vars:
      - name: apiauth_thrive_scope
"""
