# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """What every C(*_token) lookup shares."""

    DOCUMENTATION = r"""
options:
  output:
    description:
      - What to return. V(token) is the access token alone, V(authorization) the C(Authorization) header
        value, V(record) a dictionary with the token, its type, scope, expiry and source (the return values
        of the module of the same name).
    type: str
    choices: [token, authorization, record]
    default: token
notes:
  - The token cache lives on the controller (see O(cache_dir)); lookups and modules share it.
  - Options come from keywords, then variables, the environment and C(ansible.cfg); secrets never come from
    C(ansible.cfg).
"""
