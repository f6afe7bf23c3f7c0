# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a generic OAuth 2.0 client credentials request."""

    DOCUMENTATION = r"""
options:
  token_url:
    description:
      - The provider's token endpoint, for example V(https://idp.example.com/oauth2/token).
    type: str
    required: true
  client_id:
    description:
      - The OAuth client identifier.
    type: str
    required: true
  client_secret:
    description:
      - The client secret, for O(auth_method=client_secret_basic) and O(auth_method=client_secret_post).
      - Give it from a vault-encrypted variable or the environment, never in plain text.
    type: str
  auth_method:
    description:
      - How the client authenticates to the token endpoint.
      - V(client_secret_basic) sends the id and secret in an HTTP Basic C(Authorization) header (RFC 6749 section 2.3.1).
      - V(client_secret_post) sends them in the form body.
      - V(private_key_jwt) sends a JWT signed with the client's private key (RFC 7523); no secret leaves the controller.
        Prefer it where the provider offers it.
      - V(tls_client_auth) authenticates with the TLS client certificate in O(client_cert) (RFC 8705).
    type: str
    choices: [client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth]
    default: client_secret_basic
  basic_auth_encoding:
    description:
      - With O(auth_method=client_secret_basic), V(form) form-urlencodes the id and secret before base64,
        as RFC 6749 section 2.3.1 requires; V(raw) sends them as they are, for servers that do not decode them.
      - It matters only when the id or secret holds characters such as C(:), C(+), C(/), C(%) or a space.
    type: str
    choices: [form, raw]
    default: form
  scope:
    description:
      - Scopes to request, as a list or a space-separated string. Ask for the least the job needs.
    type: list
    elements: str
  extra_params:
    description:
      - Further form parameters for the token request, for example C(audience) or C(resource).
      - They may not set C(grant_type), C(scope) or the client authentication parameters.
    type: dict
"""

    PLUGINS = r"""
options:
  token_url:
    env:
      - name: APIAUTH_OAUTH2_TOKEN_URL
    ini:
      - section: apiauth_oauth2
        key: token_url
    vars:
      - name: apiauth_oauth2_token_url
  client_id:
    env:
      - name: APIAUTH_OAUTH2_CLIENT_ID
    ini:
      - section: apiauth_oauth2
        key: client_id
    vars:
      - name: apiauth_oauth2_client_id
  client_secret:
    env:
      - name: APIAUTH_OAUTH2_CLIENT_SECRET
    vars:
      - name: apiauth_oauth2_client_secret
  auth_method:
    env:
      - name: APIAUTH_OAUTH2_AUTH_METHOD
    ini:
      - section: apiauth_oauth2
        key: auth_method
    vars:
      - name: apiauth_oauth2_auth_method
  scope:
    env:
      - name: APIAUTH_OAUTH2_SCOPE
    vars:
      - name: apiauth_oauth2_scope
  private_key_path:
    env:
      - name: APIAUTH_OAUTH2_PRIVATE_KEY_PATH
    vars:
      - name: apiauth_oauth2_private_key_path
  private_key_content:
    env:
      - name: APIAUTH_OAUTH2_PRIVATE_KEY_CONTENT
    vars:
      - name: apiauth_oauth2_private_key_content
  private_key_passphrase:
    env:
      - name: APIAUTH_OAUTH2_PRIVATE_KEY_PASSPHRASE
    vars:
      - name: apiauth_oauth2_private_key_passphrase
  key_id:
    env:
      - name: APIAUTH_OAUTH2_KEY_ID
    vars:
      - name: apiauth_oauth2_key_id
"""
