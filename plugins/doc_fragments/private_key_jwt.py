# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a private_key_jwt client assertion (RFC 7523)."""

    DOCUMENTATION = r"""
options:
  private_key_path:
    description:
      - PEM or DER private key (RSA of 2048 bits or more, or EC P-256 or P-384) that signs the
        O(auth_method=private_key_jwt) client assertion. Mutually exclusive with O(private_key_content).
      - A key file that other users can read, or that another user owns, is used with a warning that names
        the option, the file and its mode (never its content), as ssh gives; make it mode C(0600). Kubernetes
        mounts secrets C(0644) unless told otherwise.
    type: path
  private_key_content:
    description:
      - The signing key itself, in PEM. Mutually exclusive with O(private_key_path).
    type: str
  private_key_passphrase:
    description:
      - Passphrase of an encrypted signing key.
    type: str
  key_id:
    description:
      - Identifier of the signing key at the provider, sent as the C(kid) header of the client assertion.
    type: str
  signing_algorithm:
    description:
      - JWS algorithm of the client assertion. Defaults from the key type, V(RS256) for RSA keys,
        V(ES256) for P-256 and V(ES384) for P-384 keys. A key that does not fit the algorithm is an error.
    type: str
    choices: [RS256, RS384, RS512, PS256, ES256, ES384]
  assertion_audience:
    description:
      - The C(aud) claim of the client assertion. Defaults to the token URL; some providers want their issuer URL.
    type: str
  assertion_lifetime:
    description:
      - Seconds the client assertion stays valid. RFC 7523 asks for a short life.
    type: int
    default: 60
"""
