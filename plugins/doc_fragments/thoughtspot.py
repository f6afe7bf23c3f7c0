# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of a ThoughtSpot token request (REST API v2.0 auth/token/full, object and custom)."""

    DOCUMENTATION = r"""
options:
  host:
    description:
      - The base URL of the ThoughtSpot cluster, for example C(https://example.thoughtspot.cloud). The
        endpoints are under C(<host>/api/rest/2.0/).
    type: str
    required: true
  username:
    description:
      - The ThoughtSpot user the token is for.
      - Required to get a token. With O(secret_key) it may be any user, created on the fly with O(auto_create).
    type: str
  secret_key:
    description:
      - The cluster's or org's trusted authentication secret key (see M(apiauth.saas.thoughtspot_trusted_auth)),
        with which an authenticator service gets tokens on behalf of users without their passwords.
      - Preferred over O(password). Give one of the two.
    type: str
  password:
    description:
      - The user's password. Sending a user's password to get a token is the resource-owner password pattern
        that OAuth security advice discourages, and clusters with multi-factor authentication refuse it;
        prefer O(secret_key).
    type: str
  admin_token:
    description:
      - A bearer token of a ThoughtSpot administrator, sent in the C(Authorization) header of the token request,
        for clusters that want trusted authentication requests to come from an administrator.
      - With O(apiauth.saas.thoughtspot_token#module:state=absent), it authorizes revoking another user's token.
    type: str
  token_kind:
    description:
      - V(full) is a token with the user's full access (C(auth/token/full)).
      - V(object) is a read-only token for one object, O(object_id) (C(auth/token/object)).
      - V(custom) is a token with attribute-based access control rules (C(auth/token/custom)) from
        O(filter_rules), O(parameter_values), O(variable_values) and O(objects).
      - O(token_type) is its older name, still accepted; the C(token_type) of a result is the C(Authorization)
        scheme, C(Bearer).
    type: str
    aliases: [token_type]
    choices: [full, object, custom]
    default: full
  object_id:
    description:
      - The GUID of the object an V(object) token may view. Required with O(token_kind=object), refused
        otherwise.
    type: str
  org:
    description:
      - The org the token is for. ThoughtSpot takes an integer C(org_id) for V(full) and V(object) tokens and
        a string C(org_identifier) (id or name) for V(custom) tokens; this option is sent as each wants, so
        for V(full) and V(object) it must be the org's numeric id.
      - When not given, ThoughtSpot uses the org of the user's last session.
    type: str
    aliases: [org_id, org_identifier]
  validity_time_in_sec:
    description:
      - How long the token lives, in seconds.
      - ThoughtSpot's own default is 300 seconds, shorter than the cache's O(min_ttl), so such a token could
        never be reused and every task would get a new one; this option defaults to one hour instead.
    type: int
    default: 3600
  auto_create:
    description:
      - Create the user if it does not exist (just-in-time provisioning). With V(full) tokens ThoughtSpot also
        updates an existing user's O(email), O(display_name) and O(groups).
      - Such a request can change the user, so it is not sent in check mode.
      - When not given, V(false) for V(full) and V(object) tokens and V(true) for V(custom) tokens, as the API
        defaults; it is always sent explicitly.
    type: bool
  groups:
    description:
      - Groups (names or GUIDs) to give the user with O(auto_create). Sent as C(group_identifiers) for V(full)
        and V(object) tokens and as C(groups) of C({identifier}) for V(custom) tokens.
    type: list
    elements: str
    aliases: [group_identifiers]
  email:
    description:
      - The user's email address, set with O(auto_create).
    type: str
  display_name:
    description:
      - The user's display name, set with O(auto_create).
    type: str
  persist_option:
    description:
      - For V(custom) tokens, what ThoughtSpot keeps of the rules for the user's later sessions.
        V(NONE) keeps nothing, V(APPEND) adds the rules, V(REPLACE) replaces them, V(RESET) clears them.
        Anything but V(NONE) changes the user, so it is not sent in check mode.
      - Defaults to V(NONE) with O(token_kind=custom); refused with other types.
    type: str
    choices: [NONE, APPEND, REPLACE, RESET]
  filter_rules:
    description:
      - For V(custom) tokens, row-level filter rules, each a dictionary such as
        C({column_name, operator, values}), as ThoughtSpot's C(auth/token/custom) describes.
    type: list
    elements: dict
  parameter_values:
    description:
      - For V(custom) tokens, parameter values, each C({name, values}).
    type: list
    elements: dict
  variable_values:
    description:
      - For V(custom) tokens, formula variable values, each C({name, values}).
    type: list
    elements: dict
  objects:
    description:
      - For V(custom) tokens, the objects the rules apply to, each C({type, identifier}).
    type: list
    elements: dict
  revoke_at_end:
    description:
      - Revoke the token when the C(ansible-playbook) run ends, through the callback
        C(apiauth.saas.revoke_at_end), which must be enabled (the task fails and says how otherwise).
      - Such tokens are shared by all hosts of the run but kept out of the ordinary cache, so a later run
        never gets a revoked token.
      - The token is noted on the controller encrypted, never in clear. With O(cache_encryption_key) it is noted a
        second time under that key, so that if the run is killed before its end, the next run whose callback has
        the same key (E(APIAUTH_SAAS_CACHE_ENCRYPTION_KEY)) revokes it.
    type: bool
    default: false
"""

    PLUGINS = r"""
options:
  host:
    env:
      - name: APIAUTH_THOUGHTSPOT_HOST
    ini:
      - section: apiauth_thoughtspot
        key: host
    vars:
      - name: apiauth_thoughtspot_host
  username:
    env:
      - name: APIAUTH_THOUGHTSPOT_USERNAME
    ini:
      - section: apiauth_thoughtspot
        key: username
    vars:
      - name: apiauth_thoughtspot_username
  secret_key:
    env:
      - name: APIAUTH_THOUGHTSPOT_SECRET_KEY
    vars:
      - name: apiauth_thoughtspot_secret_key
  password:
    env:
      - name: APIAUTH_THOUGHTSPOT_PASSWORD
    vars:
      - name: apiauth_thoughtspot_password
  admin_token:
    env:
      - name: APIAUTH_THOUGHTSPOT_ADMIN_TOKEN
    vars:
      - name: apiauth_thoughtspot_admin_token
  org:
    env:
      - name: APIAUTH_THOUGHTSPOT_ORG
    ini:
      - section: apiauth_thoughtspot
        key: org
    vars:
      - name: apiauth_thoughtspot_org
"""
