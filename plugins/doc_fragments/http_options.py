# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """HTTP options of every plugin that calls a vendor."""

    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Verify the server's TLS certificate.
      - Set to V(false) only against a test server; a token sent to an unverified server can be stolen.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) of CA certificates to trust instead of the
        system bundle, for private CAs and for the bundled simulators.
    type: path
  client_cert:
    description:
      - PEM client certificate presented on the TLS connection (mutual TLS). It may also hold the key.
      - Needed where the server requires mutual TLS, for example with C(auth_method=tls_client_auth) of
        M(apiauth.saas.oauth2_token) or C(connectivity=mtls) of M(apiauth.saas.thredd_token).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), when the certificate file does not hold it.
      - A key file that other users can read, or that another user owns, is used with a warning that names
        the option, the file and its mode (never its content), as ssh gives; make it mode C(0600).
    type: path
  proxy:
    description:
      - Proxy URL for the vendor calls, for example V(http://proxy.example.com:3128).
      - Without it, the standard C(HTTPS_PROXY) and C(NO_PROXY) environment variables apply.
    type: str
  timeout:
    description:
      - Seconds to wait for the connection and for each read.
    type: float
    default: 30
  retries:
    description:
      - Extra attempts after a connection error, a timeout or HTTP 408, 429, 500, 502, 503 or 504.
      - Waits grow exponentially with jitter and honour the server's C(Retry-After), up to 60 seconds.
    type: int
    default: 3
  allow_http:
    description:
      - Allow plain C(http://) URLs. Credentials and tokens then cross the network in clear text,
        so use this only for a local test server.
    type: bool
    default: false
"""

    PLUGINS = r"""
options:
  validate_certs:
    env:
      - name: APIAUTH_SAAS_VALIDATE_CERTS
    ini:
      - section: apiauth_saas
        key: validate_certs
    vars:
      - name: apiauth_saas_validate_certs
  ca_path:
    env:
      - name: APIAUTH_SAAS_CA_PATH
    ini:
      - section: apiauth_saas
        key: ca_path
    vars:
      - name: apiauth_saas_ca_path
  client_cert:
    env:
      - name: APIAUTH_SAAS_CLIENT_CERT
    vars:
      - name: apiauth_saas_client_cert
  client_key:
    env:
      - name: APIAUTH_SAAS_CLIENT_KEY
    vars:
      - name: apiauth_saas_client_key
  proxy:
    env:
      - name: APIAUTH_SAAS_PROXY
    ini:
      - section: apiauth_saas
        key: proxy
    vars:
      - name: apiauth_saas_proxy
  timeout:
    env:
      - name: APIAUTH_SAAS_TIMEOUT
    ini:
      - section: apiauth_saas
        key: timeout
    vars:
      - name: apiauth_saas_timeout
  retries:
    env:
      - name: APIAUTH_SAAS_RETRIES
    ini:
      - section: apiauth_saas
        key: retries
    vars:
      - name: apiauth_saas_retries
  allow_http:
    env:
      - name: APIAUTH_SAAS_ALLOW_HTTP
    vars:
      - name: apiauth_saas_allow_http
"""
