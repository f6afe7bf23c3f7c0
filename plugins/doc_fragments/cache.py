# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Token cache options."""

    DOCUMENTATION = r"""
options:
  cache:
    description:
      - Reuse a token while it stays valid for at least O(min_ttl) seconds, from memory or from the
        cache directory on the controller, instead of asking the vendor again.
      - With V(false), every call asks the vendor for a new token and nothing is written to disk.
    type: bool
    default: true
  cache_dir:
    description:
      - Directory of the token cache on the controller. It is created with mode C(0700); an existing
        directory that other users can read is refused.
      - Defaults to C(apiauth.saas/tokens) under C($XDG_CACHE_HOME), or under C(~/.cache).
    type: path
  cache_encryption_key:
    description:
      - Encrypt cached tokens at rest with this key (a Fernet key, or any passphrase from which one is
        derived). Needs the C(cryptography) Python library.
      - Entries written with another key are ignored and replaced.
    type: str
  min_ttl:
    description:
      - A cached token is reused only if it stays valid for at least this many seconds; otherwise a new
        one is fetched. The default covers a long play.
    type: int
    default: 900
  force_refresh:
    description:
      - Fetch a new token even if the cache holds a fresh one, and cache the new one.
    type: bool
    default: false
"""

    PLUGINS = r"""
options:
  cache:
    env:
      - name: APIAUTH_SAAS_CACHE
    ini:
      - section: apiauth_saas
        key: cache
    vars:
      - name: apiauth_saas_cache
  cache_dir:
    env:
      - name: APIAUTH_SAAS_CACHE_DIR
    ini:
      - section: apiauth_saas
        key: cache_dir
    vars:
      - name: apiauth_saas_cache_dir
  cache_encryption_key:
    env:
      - name: APIAUTH_SAAS_CACHE_ENCRYPTION_KEY
    vars:
      - name: apiauth_saas_cache_encryption_key
  min_ttl:
    env:
      - name: APIAUTH_SAAS_MIN_TTL
    ini:
      - section: apiauth_saas
        key: min_ttl
    vars:
      - name: apiauth_saas_min_ttl
  force_refresh:
    env:
      - name: APIAUTH_SAAS_FORCE_REFRESH
    vars:
      - name: apiauth_saas_force_refresh
"""
