# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared layer of the token cache: one Redis (or Valkey) server for several controllers.

Internal to the collection: no stability promise to code outside it.

Several job runners (AWX or Automation Platform jobs, each in a fresh
container with an empty home, or CI workers) that ask for the same token meet
here, so a fleet of jobs makes one token request per credential per freshness
window. ``TokenCache`` consults this layer after memory and its own directory
and before the network, through ``SharedTier`` (its single flight drives the
lock below); nothing here makes an HTTP request.

Why ``SharedTier`` lives here and not in ``_token_cache``: it is all the cache
knows about the shared layer (its keys, hits and single flight across
controllers), and like ``RedisLayer`` it is loaded only when a shared backend
is configured, never on a token served from the file cache.

Keys
    ``apiauth.saas:v1:entry:<key>``, ``apiauth.saas:v1:lock:<key>`` and
    ``apiauth.saas:v1:salt``. ``<key>`` is the same SHA-256 over the request
    identity and an HMAC of the secrets as in the file layer, but the HMAC key
    cannot be the directory's random ``.hmac_key``: every runner has its own
    (empty) directory, so runners would never compute the same key and never
    share anything. It is derived from the encryption key, which every runner
    of a fleet is given, so they agree on it; someone reading the server
    without the encryption key can neither read an entry nor tell which secret
    it belongs to.

Entries
    The file layer's envelope (see ``_cache_crypto``): clear metadata, the
    token record AES-256-GCM-encrypted under a key derived (HKDF-SHA256) from
    the shared master key AND the keyed hash of the credential's secret, so
    the encryption key, the Redis password and a dump of the server together
    still open nothing without the client's secret. The shared master key is
    derived (HKDF-SHA256) from ``encryption_key``, which is required: a
    passphrase is first stretched with scrypt and a random salt kept on the
    server (set once with SET NX, read by everyone). The clear metadata holds
    no client id, only its keyed hash (``client_ref``). Entries expire on the
    server when their token does (PX), so the server needs no sweeping; an
    entry of the earlier format (a Fernet token under the encryption key
    alone) is a miss, overwritten under the same name by the next fetch.

Single flight across runners
    A runner that finds no fresh entry takes ``lock:<key>`` with SET NX PX
    and a random value, looks at the entry again, fetches, writes the entry and
    deletes the lock only if it still holds it (compare and delete in one Lua
    script). The others poll the entry with a growing delay. A lock expires
    after ``LOCK_TTL`` seconds, so a runner killed while fetching blocks the
    others no longer than that; a lock without an expiry (not written by this
    code) is stale and removed at once. Nobody waits longer than
    ``_token_cache.SHARED_WAIT_LIMIT``: past it a runner fetches on its own.

Failures
    A server that cannot be reached or times out is a warning: the task goes on
    with the local cache and the network, and this process leaves the server
    alone for ``DOWN_BACKOFF`` seconds. A refused password or permission, a
    missing ``redis`` library, a malformed URL and a missing encryption key
    are errors. No message holds the URL's password or the password option.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from urllib.parse import parse_qsl, unquote, urlsplit

from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (
    HAS_CRYPTOGRAPHY,
    KDF_LABEL_SHARED,
    client_ref,
    derive_entry_key,
    hkdf,
    key_from_mac,
    master_key,
    memo_entry_key,
    open_envelope,
    seal_envelope,
    secret_document,
    secret_mac,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import parse_secret, secret_part
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    CacheError,
    MissingLibraryError,
    OptionError,
    Redactor,
    SharedUnavailable,
)
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import (
    CacheResult,
    begin_wait,
    call_fetch,
    end_wait,
)

BACKENDS = ("file", "redis")
SCHEMES = ("redis", "rediss", "unix")
# The query parameters of cache_redis_url passed on to the redis library: where to find the CA and the client
# certificate of a TLS connection (rediss://), each an absolute path to a file or directory that exists. The
# library would take any other one too, and some would weaken what the collection promises:
# ssl_cert_reqs=none and ssl_check_hostname=false turn off the server's verification, socket_timeout and
# retry_on_timeout lift the bounded waits below. Those are refused.
URL_PATH_PARAMETERS = {"ssl_ca_certs": "file", "ssl_ca_path": "directory", "ssl_certfile": "file",
                       "ssl_keyfile": "file"}
PREFIX = "apiauth.saas:v1:"
# Longest a runner may hold the lock while it fetches: then the lock expires.
LOCK_TTL = 120.0
# After a connection failure this process does not try the server again for this long.
DOWN_BACKOFF = 30.0
CONNECT_TIMEOUT = 3.0
SOCKET_TIMEOUT = 5.0
_MAX_ENTRY_BYTES = 1024 * 1024
_SALT_BYTES = 16

# Deletes the lock only if it still holds this runner's value.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
# Deletes a lock that has no expiry (a lock this code writes always has one).
_DROP_STALE = "if redis.call('pttl', KEYS[1]) == -1 then return redis.call('del', KEYS[1]) else return 0 end"

_STATE_LOCK = threading.Lock()
# (pid, url, password digest) -> client; server label -> monotonic time until which it is left alone.
_CLIENTS: dict = {}
_DOWN: dict = {}
# (server label, encryption key digest) -> (hmac key, entry master key)
_KEYS: dict = {}


def server_label(url: str) -> str:
    """``scheme://host:port/db`` of a Redis URL: what messages may show (no user, password or query)."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return f"unix://{parts.path}"
        host = parts.hostname or "localhost"
        if ":" in host:
            host = f"[{host}]"
        port = parts.port or 6379
    except ValueError:
        return "<unparsable Redis URL>"
    return f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"


def _check_query(url: str, scheme: str) -> None:
    """Refuse the query parameters of a Redis URL that the collection does not pass on (URL_PATH_PARAMETERS).

    A message names the parameter, never its value.
    """
    try:
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        raise OptionError("cache_redis_url has a query that cannot be read.") from None
    names = [name for name, _value in pairs]
    allowed = ", ".join(sorted(URL_PATH_PARAMETERS))
    for name, value in pairs:
        if name not in URL_PATH_PARAMETERS:
            raise OptionError(
                f"cache_redis_url: the query parameter {name!r} is not taken; only {allowed} are. The verification "
                f"of a TLS server and the time limits of the shared cache cannot be changed.")
        if names.count(name) > 1:
            raise OptionError(f"cache_redis_url: the query parameter {name!r} is given more than once.")
        if scheme != "rediss":
            raise OptionError(f"cache_redis_url: {name} is for a TLS connection; use rediss://.")
        kind = URL_PATH_PARAMETERS[name]
        exists = os.path.isfile(value) if kind == "file" else os.path.isdir(value)
        if not os.path.isabs(value) or not exists:
            raise OptionError(f"cache_redis_url: {name} must be the absolute path of a {kind} that exists on the "
                              f"controller.")


def _url_password(url: str):
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def _hkdf(master: bytes, purpose: bytes) -> bytes:
    return hkdf(master, b"apiauth.saas shared token cache v1 " + purpose)


class RedisLayer:
    """The shared layer on one Redis server; see the module docstring."""

    def __init__(self, *, url: str, password: str | None, encryption_key: str | None, client=None) -> None:
        if not isinstance(url, str) or not url:
            raise OptionError("cache_backend=redis needs cache_redis_url, for example redis://redis.example.com:6379/0.")
        try:
            scheme = urlsplit(url).scheme
        except ValueError:
            scheme = ""
        if scheme not in SCHEMES:
            raise OptionError(
                f"cache_redis_url must start with {', '.join(s + '://' for s in SCHEMES)}; "
                f"got {server_label(url) if scheme else 'a value without a scheme'}."
            )
        _check_query(url, scheme)
        if password and _url_password(url):
            raise OptionError("Give the Redis password once: in cache_redis_password or in cache_redis_url, not both.")
        if not encryption_key:
            raise OptionError(
                "cache_backend=redis needs cache_encryption_key: a shared cache never holds tokens in clear, and the "
                "runners that share it derive their common cache keys from it.",
                hint="Give every runner the same key, for example from an AWX credential of the type "
                     "'apiauth.saas token cache'.",
            )
        if not HAS_CRYPTOGRAPHY:
            raise MissingLibraryError("cryptography", "to encrypt the shared token cache")
        self._url = url
        self._password = password or None
        self._encryption_key = encryption_key
        self.label = server_label(url)
        self._redactor = Redactor([password, _url_password(url), url])
        self._client = client
        self._keys = None

    # -- connection ---------------------------------------------------------------

    def _connect(self):
        if self._client is not None:
            return self._client
        try:
            import redis  # pylint: disable=import-outside-toplevel
            from redis.backoff import NoBackoff  # pylint: disable=import-outside-toplevel
            from redis.retry import Retry  # pylint: disable=import-outside-toplevel
        except ImportError:
            error = MissingLibraryError("redis", "for cache_backend=redis")
            error.hint = "Install it into the Python that runs Ansible (pip install 'redis>=4.5'), or in the " \
                         "execution environment (see execution-environment/ in the collection)."
            raise error from None
        memo = (os.getpid(), self._url, hashlib.sha256((self._password or "").encode("utf-8")).digest())
        with _STATE_LOCK:
            client = _CLIENTS.get(memo)
        if client is None:
            try:
                client = redis.Redis.from_url(
                    self._url, password=self._password, socket_connect_timeout=CONNECT_TIMEOUT,
                    socket_timeout=SOCKET_TIMEOUT, retry=Retry(NoBackoff(), 0), decode_responses=False,
                )
            except (ValueError, TypeError) as exc:
                raise OptionError(f"cache_redis_url is not a usable Redis URL ({self.label}): "
                                  f"{self._redactor.redact(str(exc))}.") from None
            with _STATE_LOCK:
                client = _CLIENTS.setdefault(memo, client)
        self._client = client
        return client

    def _call(self, method: str, *args, **kwargs):
        """One command; connection trouble -> SharedUnavailable, refused credentials -> CacheError."""
        client = self._connect()  # first: it says what to install when redis is missing
        import redis.exceptions as rex  # pylint: disable=import-outside-toplevel

        try:
            return getattr(client, method)(*args, **kwargs)
        except rex.AuthenticationError as exc:
            raise self._refused("did not accept the password", exc) from None
        except rex.NoPermissionError as exc:
            raise self._refused("refused a command (check the user's ACL: it needs GET, SET, PTTL, DEL, EVAL)",
                                exc) from None
        except (rex.ConnectionError, rex.TimeoutError, OSError) as exc:
            raise SharedUnavailable(f"{type(exc).__name__}: {self._redactor.redact(str(exc))}") from None
        except rex.ResponseError as exc:
            text = str(exc)
            if text.startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
                raise self._refused("refused the connection's credentials", exc) from None
            raise CacheError(f"The shared token cache at {self.label} answered with an error: "
                             f"{self._redactor.redact(text)}.") from None
        except rex.RedisError as exc:
            raise SharedUnavailable(f"{type(exc).__name__}: {self._redactor.redact(str(exc))}") from None

    def _refused(self, what: str, exc: Exception) -> CacheError:
        return CacheError(
            f"The shared token cache at {self.label} {what} ({type(exc).__name__}: {self._redactor.redact(str(exc))}).",
            hint="Check cache_redis_password (or the user and password in cache_redis_url) and the server's ACL.",
        )

    # -- keys -----------------------------------------------------------------------

    def _material(self):
        """(HMAC key, entry master key) derived from the encryption key, the same on every runner."""
        if self._keys is not None:
            return self._keys
        memo = (self.label, hashlib.sha256(self._encryption_key.encode("utf-8")).digest())
        with _STATE_LOCK:
            held = _KEYS.get(memo)
        if held is None:
            master = master_key(self._encryption_key, self._salt)
            held = (_hkdf(master, b"entry keys"), _hkdf(master, b"entries"))
            with _STATE_LOCK:
                _KEYS[memo] = held
        self._keys = held
        return held

    def _salt(self) -> bytes:
        name = PREFIX + "salt"
        self._call("set", name, os.urandom(_SALT_BYTES), nx=True)
        salt = self._call("get", name)
        if not isinstance(salt, bytes) or len(salt) != _SALT_BYTES:
            raise CacheError(f"The shared token cache at {self.label} holds a damaged salt ({name}).",
                             hint=f"Delete the key {name}; cached entries then become misses.")
        return salt

    def hmac_key(self) -> bytes:
        return self._material()[0]

    def entry_master(self) -> bytes:
        """The key material every runner shares; each entry's key also needs its credential's secret."""
        return self._material()[1]

    # -- entries ----------------------------------------------------------------------

    def read(self, key: str):
        """The stored envelope of ``key`` (bytes, still encrypted), or None when there is none.

        The token cache opens it with the credential's entry key; an entry of
        another key or an older format is a miss there, overwritten by the next fetch.
        """
        raw = self._call("get", PREFIX + "entry:" + key)
        if not raw or not isinstance(raw, bytes) or len(raw) > _MAX_ENTRY_BYTES:
            return None
        return raw

    def write(self, key: str, envelope: bytes, ttl: float) -> None:
        """Store an entry (an envelope the caller sealed) for ``ttl`` seconds."""
        self._call("set", PREFIX + "entry:" + key, envelope, px=max(1, int(ttl * 1000)))

    def read_checked(self, key: str) -> tuple:
        """``(present, raw)``: whether an entry of ``key`` exists, and its stored bytes when they are usable.

        For callers that must tell "nothing there" from "something there that
        cannot be opened" (the hand-off records of writes that make a secret).
        """
        raw = self._call("get", PREFIX + "entry:" + key)
        if not raw:
            return False, None
        if not isinstance(raw, bytes) or len(raw) > _MAX_ENTRY_BYTES:
            return True, None
        return True, raw

    def server_time(self) -> float:
        """The server's clock (TIME), in epoch seconds: one clock for every runner that shares the server."""
        seconds, micros = self._call("time")
        return int(seconds) + int(micros) / 1e6

    def delete(self, key: str) -> None:
        self._call("delete", PREFIX + "entry:" + key)

    # -- lock -------------------------------------------------------------------------

    def acquire(self, key: str):
        """A token naming this holder if the lock of ``key`` was free, else None."""
        token = base64.b16encode(os.urandom(16))
        if self._call("set", PREFIX + "lock:" + key, token, nx=True, px=int(LOCK_TTL * 1000)):
            return token
        return None

    def release(self, key: str, token: bytes) -> None:
        self._call("eval", _RELEASE, 1, PREFIX + "lock:" + key, token)

    def lock_state(self, key: str) -> str:
        """``free``, ``held`` or ``stale`` (no expiry); a stale lock is removed."""
        name = PREFIX + "lock:" + key
        ttl = self._call("pttl", name)
        if ttl == -2:
            return "free"
        if ttl == -1:
            self._call("eval", _DROP_STALE, 1, name)
            return "stale"
        return "held"

    # -- availability -------------------------------------------------------------------

    def is_down(self) -> bool:
        with _STATE_LOCK:
            until = _DOWN.get(self.label)
        return until is not None and time.monotonic() < until

    def mark_down(self) -> None:
        with _STATE_LOCK:
            _DOWN[self.label] = time.monotonic() + DOWN_BACKOFF

    def unavailable_warning(self, reason: str | None) -> str:
        why = f" ({reason})" if reason else f" (it failed less than {int(DOWN_BACKOFF)} s ago)"
        return (f"The shared token cache at {self.label} cannot be reached{why}: this task went on with the local "
                "cache and the network, so other runners may ask for the same token.")


def shared_layer(params: dict):
    """The shared layer the cache options ask for, or None for the default file backend."""
    backend = params.get("cache_backend") or "file"
    if backend not in BACKENDS:
        raise OptionError(f"cache_backend must be one of {', '.join(BACKENDS)}; got {backend!r}.")
    if backend == "file" or params.get("cache") is False:
        return None
    return RedisLayer(url=params.get("cache_redis_url") or "", password=params.get("cache_redis_password") or None,
                      encryption_key=params.get("cache_encryption_key") or None)


# -- the cache's use of the shared layer ----------------------------------------------------------------------


# Growing sleeps of a runner waiting for another runner's fetch.
_SHARED_POLL_FIRST = 0.02
_SHARED_POLL_MAX = 0.25


def _shared_poll_delays():
    """Growing sleeps between two looks at an entry another controller is fetching."""
    delay = _SHARED_POLL_FIRST
    while True:
        yield delay
        delay = min(delay * 2, _SHARED_POLL_MAX)


def shared_metadata(meta: dict, hmac_key: bytes) -> dict:
    """``meta`` for the shared layer: the client id replaced by its ``client_ref`` (see the module docstring)."""
    client_id = meta.get("client_id")
    return dict(meta, client_id=None, client_ref=None if client_id is None else client_ref(hmac_key, client_id))


class SharedTier:
    """The shared layer as the cache uses it: its keys, its hits, and the single flight across controllers."""

    def __init__(self, layer, clock) -> None:
        # A _shared_cache.RedisLayer (or anything with its methods).
        self._layer = layer
        self._clock = clock

    def _fresh(self, expires_at, min_ttl) -> bool:
        return expires_at is not None and expires_at - float(self._clock()) >= min_ttl

    def locate(self, identity_doc: bytes, secrets) -> tuple:
        """(shared key, AES key of its entry).

        The shared layer's own HMAC key, derived from the encryption key: the
        directory's random one differs on every runner. The entry key needs the
        secret's keyed hash as well, so the encryption key alone opens nothing.
        """
        layer = self._layer
        mac = secret_mac(secret_document(secrets), layer.hmac_key())
        key = key_from_mac(identity_doc, mac)
        master = layer.entry_master()
        ekey = memo_entry_key((KDF_LABEL_SHARED, layer.label, key, hashlib.sha256(master).digest()),
                              lambda: derive_entry_key(master, mac, KDF_LABEL_SHARED))
        return key, ekey

    def hit(self, key, ekey, identity_fp, min_ttl):
        raw = self._layer.read(key)
        secret = None if raw is None else open_envelope(raw, ekey, key)
        document = None if secret is None else parse_secret(secret)
        if document is None or document["identity_fp"] != identity_fp:
            return None
        if not self._fresh(document["expires_at"], min_ttl):
            return None
        return CacheResult(document["record"], "shared", document["expires_at"], False)

    def fetch(self, identity_doc, secrets, identity_fp, fetch, min_ttl, force_refresh, meta, progress, wait_limit):
        """(record, expires_at, obtained_at, source, warnings) from the shared layer or one fetch.

        Called with this process's lock of the key held. A shared layer that
        cannot be reached costs a warning: the token is fetched all the same
        (once: a fetch made before the trouble is kept).
        """
        layer = self._layer
        fetched: list = []

        def fetch_once():
            if not fetched:
                record, expires_at = call_fetch(fetch)
                fetched.append((record, expires_at, float(self._clock())))
            return fetched[0]

        if layer.is_down():
            return fetch_once() + ("network", [layer.unavailable_warning(None)])
        try:
            key, ekey = self.locate(identity_doc, secrets)
            return self._single_flight(key, ekey, identity_fp, fetch_once, min_ttl, force_refresh, meta,
                                       progress, wait_limit) + ([],)
        except SharedUnavailable as exc:
            layer.mark_down()
            return fetch_once() + ("network", [layer.unavailable_warning(str(exc))])

    def _single_flight(self, key, ekey, identity_fp, fetch_once, min_ttl, force_refresh, meta, progress,
                       wait_limit):
        """One runner fetches while the others wait for its entry; see the module docstring."""
        layer = self._layer
        deadline = time.monotonic() + wait_limit
        delays = _shared_poll_delays()
        wait_started = None
        where = f"runner (through the shared cache at {layer.label})"

        def finish_wait(got: bool, gave_up: bool = False) -> None:
            if wait_started is not None:
                end_wait(progress, meta, wait_started, where, got, not gave_up, force_refresh)

        while True:
            if not force_refresh:
                hit = self.hit(key, ekey, identity_fp, min_ttl)
                if hit is not None:
                    finish_wait(True)
                    return hit.record, hit.expires_at, float(self._clock()), "shared"
            token = layer.acquire(key)
            if token is not None:
                try:
                    if not force_refresh:
                        hit = self.hit(key, ekey, identity_fp, min_ttl)
                        if hit is not None:
                            finish_wait(True)
                            return hit.record, hit.expires_at, float(self._clock()), "shared"
                    finish_wait(False)
                    record, expires_at, obtained_at = fetch_once()
                    self._share(key, ekey, meta, identity_fp, record, expires_at, obtained_at)
                    return record, expires_at, obtained_at, "network"
                finally:
                    try:
                        layer.release(key, token)
                    except SharedUnavailable:
                        pass  # the lock expires on its own
            if time.monotonic() >= deadline:
                # Waited long enough for another runner: fetch, and share what we got.
                finish_wait(False, gave_up=True)
                record, expires_at, obtained_at = fetch_once()
                self._share(key, ekey, meta, identity_fp, record, expires_at, obtained_at)
                return record, expires_at, obtained_at, "network"
            if layer.lock_state(key) == "held":
                if wait_started is None:
                    wait_started = time.monotonic()
                    begin_wait(progress, meta, where, wait_limit)
                time.sleep(next(delays))

    def _share(self, key, ekey, meta, identity_fp, record, expires_at, obtained_at) -> None:
        if expires_at is None:
            self._layer.delete(key)  # superseded, and this one cannot be served
            return
        ttl = expires_at - float(self._clock())
        if ttl <= 0:
            return
        meta = dict(shared_metadata(meta, self._layer.hmac_key()), expires_at=expires_at, obtained_at=obtained_at)
        self._layer.write(key, seal_envelope(ekey, key, meta,
                                             secret_part(record, expires_at, obtained_at, identity_fp)), ttl)
