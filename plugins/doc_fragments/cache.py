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
      - The token a task reuses is the one it fetches itself, or the admin token it needs
        (M(apiauth.saas.thoughttrace_client)). M(apiauth.saas.thoughtspot_token_info) and
        M(apiauth.saas.thoughtspot_trusted_auth) fetch no token; they accept the cache options, from
        C(module_defaults) of the C(saas) group, and use none of them.
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
      - A key that takes part in the encryption of cached tokens (a Fernet key, or any passphrase from which
        one is derived with scrypt).
      - Every cache entry is encrypted (AES-256-GCM), with or without this key, under a key derived (HKDF-SHA256)
        from this key and from a keyed hash of the client's own secret (client secret, secret key, password or
        private key). This key alone, or a copy of the cache directory or of the Redis server, opens no token
        without the client's secret; a rotated secret never reads the old entry.
      - Each entry keeps a little metadata in clear (the vendor, the token host, the client id, when the token was
        obtained and when it expires), so that what expires when can be listed without any key. The client
        id is an identifier, not a secret, and the cache directory is private (mode C(0700)); on a shared Redis
        server the client id is replaced by a keyed hash of it, so a reader of the server cannot tell which
        clients use it.
      - Entries written with another key, or by an earlier version of the collection, are ignored and replaced.
    type: str
  cache_backend:
    description:
      - V(file) keeps tokens in memory and in O(cache_dir) on this controller only.
      - V(redis) adds a layer shared by several controllers (AWX or Automation Platform jobs, each in a fresh
        container, or CI runners); that is a Redis server, or one that speaks its protocol such as Valkey, at
        O(cache_redis_url). Runners that ask for the same token at once make one request between them; the
        others wait for its result (at most about two minutes) and a token held there is served as
        C(source=shared).
      - V(redis) needs O(cache_encryption_key), the same on every runner, because entries on the server are
        encrypted with it and their keys are derived from it. It also needs the C(redis) Python library on the controller.
      - A server that cannot be reached or does not answer in time is a warning, and the task goes on with the
        local cache and the vendor; a refused password is an error.
    type: str
    choices: [file, redis]
    default: file
  cache_redis_url:
    description:
      - The Redis server of O(cache_backend=redis), as C(redis://host:6379/0), C(rediss://host:6380/0) (TLS) or
        C(unix:///path/redis.sock). A user name may be given as C(redis://user@host:6379/0).
      - With C(rediss://), the query parameters C(ssl_ca_certs) (a private CA, as C(?ssl_ca_certs=/path/ca.pem)),
        C(ssl_ca_path), C(ssl_certfile) and C(ssl_keyfile) (a client certificate) are passed on to the C(redis)
        library, each the absolute path of a file (a directory for C(ssl_ca_path)) on the controller. Any other
        query parameter is refused, as some would turn off the verification of the server (C(ssl_cert_reqs),
        C(ssl_check_hostname)) or the time limits of the shared cache.
      - Prefer O(cache_redis_password) to a password in the URL.
    type: str
  cache_redis_password:
    description:
      - The password of the Redis server (or of the URL's user).
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
  cache_backend:
    env:
      - name: APIAUTH_SAAS_CACHE_BACKEND
    ini:
      - section: apiauth_saas
        key: cache_backend
    vars:
      - name: apiauth_saas_cache_backend
  cache_redis_url:
    env:
      - name: APIAUTH_SAAS_CACHE_REDIS_URL
    vars:
      - name: apiauth_saas_cache_redis_url
  cache_redis_password:
    env:
      - name: APIAUTH_SAAS_CACHE_REDIS_PASSWORD
    vars:
      - name: apiauth_saas_cache_redis_password
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
