# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a Thredd token request."""

    DOCUMENTATION = r"""
options:
  environment:
    description:
      - The Thredd environment. V(uat) is User Acceptance Test, V(production) is live.
      - Production needs its own credentials; a token cached for one environment is never served for the other.
    type: str
    required: true
    choices: [uat, production]
  connectivity:
    description:
      - V(tls), or V(mtls) for mutual TLS with the Thredd transport certificate in O(client_cert).
      - With the environment, it picks the API base URL returned as C(base_url).
    type: str
    default: tls
    choices: [tls, mtls]
  region:
    description:
      - The Thredd region for the C(X-Region) header of API calls, V(default) (0), V(emea) (1) or V(apac) (2).
    type: str
    default: default
    choices: [default, emea, apac, '0', '1', '2']
  base_url:
    description:
      - The API base URL, instead of the one O(environment) and O(connectivity) pick
        (C(https://uat-api.thredd.com), C(https://uat-mtls.thredd.com), C(https://api.thredd.com),
        C(https://mtls.thredd.com)).
    type: str
  token_url:
    description:
      - The token endpoint, instead of the one O(environment) picks (C(https://threddid.com/oauth2/token) for
        production, C(https://uat.threddid.com/oauth2/token) for UAT), for example for a private deployment or
        the legacy C(connect/token) endpoint.
    type: str
  client_id:
    description:
      - The Client ID of the OAuth Client of your application in Thredd Portal.
    type: str
    required: true
  client_secret:
    description:
      - The client secret, for O(auth_method=client_secret_post). It is sent in the form body, never in a URL.
    type: str
  auth_method:
    description:
      - How the client proves itself, named as for M(apiauth.saas.oauth2_token).
      - V(client_secret_post) sends the client secret in the form body, as Thredd documents; V(private_key_jwt)
        signs a client assertion with the private key of your Thredd signing certificate (O(private_key_path) or
        O(private_key_content), with O(key_id) set to the certificate's KID, which Thredd requires), so no secret
        is sent. Without O(key_id), V(private_key_jwt) fails before any request.
      - V(client_secret) is the older name of V(client_secret_post), still accepted.
    type: str
    default: client_secret_post
    choices: [client_secret_post, private_key_jwt, client_secret]
  signing_cert_path:
    description:
      - The Thredd signing certificate (PEM or DER) of the private key, with O(auth_method=private_key_jwt).
        When set, it is checked before any request like the transport certificate is, and it must hold the
        public half of the private key.
    type: path
  certificate_warn_days:
    description:
      - Warn when the transport certificate (O(client_cert)) or the signing certificate (O(signing_cert_path))
        expires within this many days. Thredd's certificates live 350 days. An expired certificate fails the
        task before any request.
    type: int
    default: 30
  content_type:
    description:
      - The C(Content-Type) value in the returned C(headers).
    type: str
    default: application/json
  jwks_preflight:
    description:
      - Before asking for a token, fetch the organisation's JWKS and fail clearly when the public key of the
        signing key is not published there under O(key_id). Needs O(auth_method=private_key_jwt).
    type: bool
    default: false
  org:
    description:
      - Your Thredd organisation id, which names the organisation's JWKS for O(jwks_preflight).
      - O(organisation_id) is its older name, still accepted.
      - It becomes a segment of the JWKS URL's path, so it must start with a letter or digit and hold only
        letters, digits, C(.), C(_), C(~) and C(-); any other value is refused before anything is sent.
    type: str
    aliases: [organisation_id]
  jwks_url:
    description:
      - The JWKS URL for O(jwks_preflight), instead of C(https://jwks.threddid.com/<org>/jwks.json).
    type: str
"""

    PLUGINS = r"""
options:
  environment:
    env:
      - name: APIAUTH_THREDD_ENVIRONMENT
    ini:
      - section: apiauth_thredd
        key: environment
    vars:
      - name: apiauth_thredd_environment
  connectivity:
    env:
      - name: APIAUTH_THREDD_CONNECTIVITY
    ini:
      - section: apiauth_thredd
        key: connectivity
    vars:
      - name: apiauth_thredd_connectivity
  region:
    env:
      - name: APIAUTH_THREDD_REGION
    ini:
      - section: apiauth_thredd
        key: region
    vars:
      - name: apiauth_thredd_region
  base_url:
    env:
      - name: APIAUTH_THREDD_BASE_URL
    ini:
      - section: apiauth_thredd
        key: base_url
    vars:
      - name: apiauth_thredd_base_url
  token_url:
    env:
      - name: APIAUTH_THREDD_TOKEN_URL
    ini:
      - section: apiauth_thredd
        key: token_url
    vars:
      - name: apiauth_thredd_token_url
  client_id:
    env:
      - name: APIAUTH_THREDD_CLIENT_ID
    ini:
      - section: apiauth_thredd
        key: client_id
    vars:
      - name: apiauth_thredd_client_id
  client_secret:
    env:
      - name: APIAUTH_THREDD_CLIENT_SECRET
    vars:
      - name: apiauth_thredd_client_secret
  auth_method:
    env:
      - name: APIAUTH_THREDD_AUTH_METHOD
    ini:
      - section: apiauth_thredd
        key: auth_method
    vars:
      - name: apiauth_thredd_auth_method
  signing_cert_path:
    env:
      - name: APIAUTH_THREDD_SIGNING_CERT_PATH
    vars:
      - name: apiauth_thredd_signing_cert_path
  org:
    env:
      # Ansible takes the last one set: the new name wins over the old.
      - name: APIAUTH_THREDD_ORGANISATION_ID
      - name: APIAUTH_THREDD_ORG
    ini:
      - section: apiauth_thredd
        key: organisation_id
      - section: apiauth_thredd
        key: org
    vars:
      - name: apiauth_thredd_organisation_id
      - name: apiauth_thredd_org
  private_key_path:
    env:
      - name: APIAUTH_THREDD_PRIVATE_KEY_PATH
    vars:
      - name: apiauth_thredd_private_key_path
  private_key_content:
    env:
      - name: APIAUTH_THREDD_PRIVATE_KEY_CONTENT
    vars:
      - name: apiauth_thredd_private_key_content
  private_key_passphrase:
    env:
      - name: APIAUTH_THREDD_PRIVATE_KEY_PASSPHRASE
    vars:
      - name: apiauth_thredd_private_key_passphrase
  key_id:
    env:
      - name: APIAUTH_THREDD_KEY_ID
    vars:
      - name: apiauth_thredd_key_id
"""
