# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Token cache of the apiauth.saas engine.

Internal to the collection: no stability promise to code outside it.

Three layers, looked up in order: a dictionary shared by every ``TokenCache``
of the process, one file per token in a private directory on the controller,
and the network (a ``fetch`` callable the caller hands in; this module makes
no HTTP request itself). An optional shared layer (``_shared_cache``: one
Redis server for several controllers) sits between the directory and the
network.

Cache key
    SHA-256 over a canonical JSON document holding the request identity (the
    dict the caller gives: vendor, token URL, client id, auth method, scope...)
    and an HMAC-SHA256 of the secret material. The HMAC key is 32 random bytes
    in ``<dir>/.hmac_key`` (0600): a plain hash of a password could be guessed
    offline from the file names, the keyed hash cannot without that file. A
    rotated secret therefore never meets a token obtained with the old one,
    and the secret itself is never written anywhere.

Files
    The directory is created 0700 and refused (``CacheError``) when it exists
    with group or other permission bits or belongs to another user. Entries,
    lock files and key files are 0600. An entry is written to a temporary file
    in the same directory, fsynced, renamed over the old one with
    ``os.replace`` and the directory is fsynced: a reader sees the old entry
    or the new one, never a part. An entry that cannot be read, parsed or
    decrypted is a miss and is overwritten by the next fetch.


Encryption (needs ``cryptography``, a dependency of ansible-core)
    Every entry is encrypted, with or without a ``cache_encryption_key``,
    under a key of its own credential: HKDF-SHA256 over the master key and the
    keyed hash of the secret material that the cache key is made from (the
    HMAC above, 32 bytes, never written anywhere), with the ``info`` label
    ``KDF_LABEL_FILE`` (``KDF_LABEL_SHARED`` in the shared layer). The master
    key comes from ``encryption_key``: a Fernet key (44 characters of URL-safe
    base64 of 32 bytes) gives its 32 bytes as they are; any other text is a
    passphrase, stretched with scrypt (n=2**14, r=8, p=1) and a random 16-byte
    salt kept in ``<dir>/.salt``, one salt per cache directory. Without
    ``encryption_key`` the master key is 32 zero bytes, so the entry still
    needs the secret (and ``.hmac_key``) to be read. So the encryption key
    alone opens nothing (a dump of a fleet's Redis does not give every team's
    tokens to whoever holds the fleet's key), a dump of the directory opens
    nothing without the secret, and a rotated secret never decrypts an old
    entry. The derived key is kept in memory per credential and process
    (``_cache_crypto.ENTRY_KEYS``): a warm hit costs no derivation after the first.
    Without ``cryptography`` nothing is written to disk: tokens stay in memory.

    An honest limit: the keyed hash is only as strong as the secret. Whoever
    holds ``.hmac_key`` (or, for the shared layer, the encryption key) can
    test guesses of a weak password offline against the entry names, as they
    always could; client secrets, secret keys and private keys are not
    guessable, user passwords may be.

    The cryptography itself (master key, scrypt, HKDF, the envelope) is in
    ``_cache_crypto``, shared with the revoke spool and the write hand-off.

Entries (format 2, ``ENTRY_VERSION``)
    One JSON envelope per entry: ``{"v": 2, "alg": "A256GCM", "meta": {...},
    "nonce": ..., "ct": ...}``. ``ct`` is AES-256-GCM of the token record with
    its expiry, time obtained and identity tag; its associated data are the
    entry's name and ``meta``, so the clear metadata cannot be edited (nor an
    entry copied under another name) without making a miss. ``meta`` holds
    what a report of expiring credentials needs without any key
    (``list_entries``): ``vendor``, ``host`` (of the token URL, never a path,
    query or user), ``client_id``, ``expires_at``, ``obtained_at``.

    The client id is in clear in the file layer, on purpose: it is an
    identifier, not a secret (it sits in inventories, vendor consoles and
    request logs), opens nothing without the secret, and the directory is
    0700 and the user's own; a report that names the credential needs it.
    The shared layer is different: its server is reached by every runner of a
    fleet and often run by someone else, and it promised never to tell which
    clients use it, so there ``client_id`` is null and ``client_ref`` holds
    ``client_ref()``, an HMAC of the client id under the shared HMAC key (a
    holder of the encryption key can match the ids they know; a reader of the
    server cannot).

    Entries of format 1 (an earlier version: the whole document as one Fernet
    token under the encryption key alone, or in clear without one) are never
    read: a miss, refetched and overwritten, and removed by the next sweep.

Single flight
    Between "look at the file again", "fetch" and "write" a process holds an
    exclusive ``flock`` on ``<key>.lock``. The kernel drops the lock when its
    holder dies, so a killed process never blocks the others; the lock file may
    stay behind and is harmless. A waiter gives up waiting after
    ``LOCK_TIMEOUT`` seconds and fetches on its own rather than hang.

Shared layer (optional)
    While it holds the lock of a key, a process that found nothing in memory
    or in its directory asks the shared layer (with its own single flight
    across controllers, see ``_shared_cache``), and only then the network. A
    token found there is written to the directory and memory too, and served
    as ``source="shared"``. A shared layer that cannot be reached makes a
    warning, not a failure.

Cleanup
    When it writes, a process sweeps the directory at most once an hour,
    looking at no more than ``SWEEP_LIMIT`` names: entries expired for more
    than a day (judged by their clear ``expires_at``, whoever's key they are
    under), entries of format 1 at once, files that are no entry at all older
    than a week, stray temporary files older than an hour and lock files of
    absent entries older than a day (only while it holds their lock, and
    lockers check that the file they locked is still the one in the
    directory).
Modules
    Split by concern, so that each part can be read alone: ``_cache_crypto``
    (keys and envelope), ``_cache_files`` (the directory: entries, key files,
    sweep, listing) and this module, which decides: the memory layer, the
    order of the layers, the lock and the single flight, locally and through
    the shared layer (``SharedTier``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (  # noqa: F401 - names callers import from here
    ENTRY_KEYS as _ENTRY_KEYS,
    ENTRY_VERSION,
    ENVELOPE_ALG,
    HAS_CRYPTOGRAPHY,
    KDF_LABEL_FILE,
    KDF_LABEL_SHARED,
    canonical_json,
    client_ref,
    derive_entry_key,
    envelope_metadata,
    json_object,
    key_from_mac,
    master_key,
    memo_entry_key,
    open_envelope,
    seal_envelope,
    secret_document as _secret_document,
    secret_mac as _secret_mac,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import (  # noqa: F401 - names callers import from here
    DERIVED_KEYS as _DERIVED_KEYS,
    ENTRY_SUFFIX,
    HANDOFF_MAX_AGE,
    HANDOFF_SUFFIX,
    HMAC_KEY_NAME,
    LAST_SWEEP as _LAST_SWEEP,
    LOCK_SUFFIX,
    SALT_NAME,
    SWEEP_INTERVAL,
    SWEEP_LIMIT,
    FileStore,
    default_cache_dir,
    list_entries,
    parse_secret,
    secret_part,
)
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    MissingLibraryError,
    OptionError,
    Progress,
    SharedUnavailable,
    fingerprint,
)
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import LockTimeout, lock_exclusive

META_FIELDS = ("vendor", "host", "client_id", "expires_at", "obtained_at")

# How long a caller waits for another process's fetch before fetching itself.
LOCK_TIMEOUT = 120.0
# How long a caller waits for another controller's fetch through the shared layer.
SHARED_WAIT_LIMIT = 130.0
_SHARED_POLL_FIRST = 0.02
_SHARED_POLL_MAX = 0.25

# Shared by every TokenCache of the process: (directory, key) -> (record, expires_at).
_MEMORY: dict = {}
_STATE_LOCK = threading.Lock()
# Keys computed by a disabled cache (no file I/O allowed) use this instead of
# the directory's key: stable inside the process, meaningless outside it.
_EPHEMERAL_HMAC_KEY = os.urandom(32)


def _shared_poll_delays():
    """Growing sleeps between two looks at an entry another controller is fetching."""
    delay = _SHARED_POLL_FIRST
    while True:
        yield delay
        delay = min(delay * 2, _SHARED_POLL_MAX)


@dataclass
class CacheResult:
    """What ``TokenCache.get_or_fetch`` returns."""

    record: dict
    source: str  # "memory", "file", "shared" or "network"
    expires_at: float | None
    short_lived: bool = False  # a freshly fetched token already below min_ttl
    warnings: list = field(default_factory=list)


def clear_memory() -> None:
    """Forget every token held in this process's memory layer (tests, reloads)."""
    with _STATE_LOCK:
        _MEMORY.clear()


def _canonical_identity(identity) -> bytes:
    if not isinstance(identity, dict):
        raise OptionError("The token cache identity must be a dictionary.")
    try:
        return canonical_json(identity)
    except (TypeError, ValueError):
        raise OptionError(
            "The token cache identity must hold only JSON values (text, numbers, booleans, "
            "null, lists and dictionaries with text keys)."
        ) from None


def entry_metadata(identity: dict, expires_at, obtained_at) -> dict:
    """The clear part of an entry, from the request identity's conventional fields.

    ``vendor``; the token host from ``token_url`` (host and port, never a user,
    path or query) or from ``host``; the client id from ``client_id`` or, for
    ThoughtSpot, the user name of the request.
    """
    host = None
    for field_name in ("token_url", "host"):
        value = identity.get(field_name)
        if isinstance(value, str) and value:
            try:
                parts = urlsplit(value if "//" in value else "//" + value)
                host = parts.hostname
                if host and parts.port:
                    host = f"{host}:{parts.port}"
            except ValueError:
                host = None
            if host:
                break
    client_id = identity.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        request = identity.get("request")
        client_id = request.get("username") if isinstance(request, dict) else None
    vendor = identity.get("vendor")
    return {
        "vendor": vendor if isinstance(vendor, str) else None,
        "host": host,
        "client_id": client_id if isinstance(client_id, str) and client_id else None,
        "expires_at": expires_at,
        "obtained_at": obtained_at,
    }


def credential_label(meta: dict) -> str:
    """Names a credential in a note to the operator, from its clear metadata: vendor, client id, token host.

    The client id is an identifier, shown as in the file layer's metadata (see
    the module docstring); the note passes through the call's redactor too.
    """
    text = f"{meta.get('vendor') or 'the'} token"
    if meta.get("client_id"):
        text += f" of {meta['client_id']}"
    if meta.get("host"):
        text += f" at {meta['host']}"
    return text


def shared_metadata(meta: dict, hmac_key: bytes) -> dict:
    """``meta`` for the shared layer: the client id replaced by its ``client_ref`` (see the module docstring)."""
    client_id = meta.get("client_id")
    return dict(meta, client_id=None, client_ref=None if client_id is None else client_ref(hmac_key, client_id))


def _check_expires_at(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("fetch() must return the expiry as epoch seconds (a number) or None")
    value = float(value)
    if not math.isfinite(value):
        return None
    return value


def _call_fetch(fetch):
    result = fetch()
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError("fetch() must return a (record, expires_at) tuple")
    record, expires_at = result
    if not isinstance(record, dict):
        raise TypeError("fetch() must return the token record as a dict")
    expires_at = _check_expires_at(expires_at)
    try:
        # Same round trip a file hit goes through, so every layer hands out
        # an equal, independent, JSON-only dict.
        record = json.loads(json.dumps(record, allow_nan=False))
    except (TypeError, ValueError):
        raise TypeError("fetch() must return a token record made of JSON values") from None
    return record, expires_at


class TokenCache:
    """Memory, file and network layers for access tokens; see the module docstring."""

    def __init__(
        self,
        *,
        cache_dir: str | None = None,
        enabled: bool = True,
        encryption_key: str | None = None,
        shared=None,
        clock=time.time,
    ) -> None:
        if cache_dir is None or cache_dir == "":
            cache_dir = default_cache_dir()
        if not isinstance(cache_dir, str):
            raise OptionError("The token cache directory must be a path (text).")
        self._dir = os.path.abspath(os.path.expanduser(cache_dir))
        self._enabled = bool(enabled)
        self._clock = clock
        # A _shared_cache.RedisLayer (or anything with its methods), or None.
        self._shared = shared if self._enabled else None
        self._files = FileStore(self._dir)
        self._tier = SharedTier(self._shared, clock) if self._shared is not None else None
        # cache_encryption_key until _prepare turns it into the master key (a
        # passphrase needs the directory's salt).
        self._encryption_key = None
        self._master = None
        self._master_id = b""
        self._ready = False
        if encryption_key is not None and self._enabled:
            if not isinstance(encryption_key, str) or not encryption_key:
                raise OptionError("The token cache encryption key must be a non-empty text value.")
            if not HAS_CRYPTOGRAPHY:
                raise MissingLibraryError("cryptography", "to encrypt the token cache")
            self._encryption_key = encryption_key

    # -- public API ---------------------------------------------------------------

    @property
    def directory(self) -> str:
        return self._dir

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def encrypted(self) -> bool:
        """True when a ``cache_encryption_key`` takes part in the entries' keys.

        Entries are encrypted under the credential's secret either way (when
        ``cryptography`` is there; without it nothing is written to disk).
        """
        return self._encryption_key is not None or self._master is not None

    def key_for(self, identity: dict, secrets) -> str:
        """The hex cache key of a request identity and its secret material."""
        return self._key(_canonical_identity(identity), secrets)

    def _key(self, identity_doc: bytes, secrets) -> str:
        return self._locate(identity_doc, secrets)[0]

    def _locate(self, identity_doc: bytes, secrets) -> tuple:
        """(cache key, keyed hash of the secrets) in this directory."""
        secrets_doc = _secret_document(secrets)
        if not self._enabled:
            mac = _secret_mac(secrets_doc, _EPHEMERAL_HMAC_KEY)
        else:
            self._prepare()
            mac = _secret_mac(secrets_doc, self._files.hmac_key())
        return key_from_mac(identity_doc, mac), mac

    def _entry_key(self, key: str, mac: bytes):
        """The AES key of this credential's file entry (None without cryptography: nothing goes to disk)."""
        if not HAS_CRYPTOGRAPHY:
            return None
        return memo_entry_key((KDF_LABEL_FILE, self._dir, key, self._master_id),
                               lambda: derive_entry_key(self._master, mac, KDF_LABEL_FILE))

    def get_or_fetch(self, identity: dict, secrets, fetch, *, min_ttl: int = 0, force_refresh: bool = False,
                     progress: Progress | None = None):
        """Return a token record from memory, the cache file, the shared layer or ``fetch()``, in that order.

        ``fetch()`` returns ``(record, expires_at)``; whatever it raises propagates
        unchanged. A cached entry is served only if it has at least ``min_ttl``
        seconds left; an entry of unknown lifetime is never served. Time spent
        waiting for another process's fetch of the same token goes to
        ``progress`` (an ``_errors.Progress``), with a note when the wait starts
        and one when it ends.
        """
        if isinstance(min_ttl, bool) or not isinstance(min_ttl, (int, float)) or min_ttl < 0:
            raise OptionError("The token cache min_ttl must be a number of seconds, zero or more.")
        if not self._enabled:
            # Validate the arguments all the same, so a mistake does not hide
            # until someone turns the cache on.
            _canonical_identity(identity)
            _secret_document(secrets)
            record, expires_at = _call_fetch(fetch)
            return self._network_result(record, expires_at, min_ttl)

        identity_doc = _canonical_identity(identity)
        key, mac = self._locate(identity_doc, secrets)
        identity_fp = fingerprint(identity_doc)
        mem_key = (self._dir, key)

        if not force_refresh:
            hit = self._from_memory(mem_key, min_ttl)
            if hit is not None:
                return hit
        ekey = self._entry_key(key, mac)
        if not force_refresh:
            hit = self._from_file(key, ekey, identity_fp, min_ttl)
            if hit is not None:
                return hit

        meta = entry_metadata(identity, None, None)
        if progress is None:
            progress = Progress()
        lock_fd, wait_started = self._lock(key, progress, meta)
        try:
            hit = None
            if not force_refresh:
                # Another process may have fetched while this one waited.
                hit = self._from_file(key, ekey, identity_fp, min_ttl)
            if wait_started is not None:
                _end_wait(progress, meta, wait_started, "process", hit is not None, lock_fd is not None,
                               force_refresh)
            if hit is not None:
                return hit
            if self._shared is not None:
                record, expires_at, obtained_at, source, warnings = self._tier.fetch(
                    identity_doc, secrets, identity_fp, fetch, min_ttl, force_refresh, meta, progress)
            else:
                record, expires_at = _call_fetch(fetch)
                obtained_at, source, warnings = float(self._clock()), "network", []
            if expires_at is None:
                # Nothing to keep: a token of unknown lifetime is never served.
                # Drop the older entry too, this one supersedes it.
                self._files.remove_entry(key)
                with _STATE_LOCK:
                    _MEMORY.pop(mem_key, None)
            else:
                self._files.write_entry(key, ekey, meta, secret_part(record, expires_at, obtained_at, identity_fp))
                with _STATE_LOCK:
                    _MEMORY[mem_key] = (copy.deepcopy(record), expires_at)
        finally:
            if lock_fd is not None:
                os.close(lock_fd)  # closing the last descriptor releases the flock
        self._files.sweep(self._clock)
        if source == "shared":
            return CacheResult(record, source, expires_at, False, warnings)
        result = self._network_result(record, expires_at, min_ttl)
        result.warnings = warnings
        return result

    def peek(self, identity: dict, secrets) -> dict | None:
        """The cached record of this identity while it has not expired, else None; never fetches.

        For callers that act on a token they may hold (revoke it) without
        wanting a new one.
        """
        if not self._enabled:
            return None
        identity_doc = _canonical_identity(identity)
        key, mac = self._locate(identity_doc, secrets)
        identity_fp = fingerprint(identity_doc)
        hit = self._from_memory((self._dir, key), 0) or \
            self._from_file(key, self._entry_key(key, mac), identity_fp, 0)
        if hit is None and self._shared is not None and not self._shared.is_down():
            try:
                hit = self._tier.hit(*self._tier.locate(identity_doc, secrets), identity_fp, 0)
            except SharedUnavailable:
                self._shared.mark_down()
        return hit.record if hit is not None else None

    def invalidate(self, identity: dict, secrets) -> None:
        """Forget the cached token of this identity (say, after the vendor refused it)."""
        if not self._enabled:
            return
        identity_doc = _canonical_identity(identity)
        key = self._key(identity_doc, secrets)
        with _STATE_LOCK:
            _MEMORY.pop((self._dir, key), None)
        self._files.remove_entry(key)
        if self._shared is not None and not self._shared.is_down():
            try:
                self._shared.delete(self._shared_key(identity_doc, secrets))
            except SharedUnavailable:
                self._shared.mark_down()

    # -- layers -------------------------------------------------------------------

    def _fresh(self, expires_at, min_ttl) -> bool:
        return expires_at is not None and expires_at - float(self._clock()) >= min_ttl

    def _from_memory(self, mem_key, min_ttl):
        with _STATE_LOCK:
            held = _MEMORY.get(mem_key)
        if held is None:
            return None
        record, expires_at = held
        if not self._fresh(expires_at, min_ttl):
            return None
        return CacheResult(copy.deepcopy(record), "memory", expires_at, False)

    def _from_file(self, key, ekey, identity_fp, min_ttl):
        document = self._files.read_entry(self._files.path(key, ENTRY_SUFFIX), key, ekey)
        if document is None or document["identity_fp"] != identity_fp:
            return None
        expires_at = document["expires_at"]
        if not self._fresh(expires_at, min_ttl):
            return None
        record = document["record"]
        with _STATE_LOCK:
            _MEMORY[(self._dir, key)] = (copy.deepcopy(record), expires_at)
        return CacheResult(record, "file", expires_at, False)

    def _shared_key(self, identity_doc: bytes, secrets) -> str:
        return self._shared_locate(identity_doc, secrets)[0]

    def _shared_locate(self, identity_doc: bytes, secrets) -> tuple:
        return self._tier.locate(identity_doc, secrets)

    def _network_result(self, record, expires_at, min_ttl):
        short = expires_at is not None and expires_at - float(self._clock()) < min_ttl
        return CacheResult(record, "network", expires_at, short)

    def _prepare(self) -> None:
        if self._ready:
            return
        self._files.make_dir()
        if self._encryption_key is not None:
            self._master = self._files.derive_master(self._encryption_key)
            self._master_id = hashlib.sha256(self._master).digest()
            self._encryption_key = None
        self._ready = True

    def _lock(self, key: str, progress: Progress, meta: dict) -> tuple:
        """Hold an exclusive flock on ``<key>.lock``: (fd, or None if LOCK_TIMEOUT ran out; when waiting began or None).

        Another process holding the lock is fetching this token: say that this
        one waits for it, since a slow vendor would otherwise look like a hang.
        """
        path = self._files.path(key, LOCK_SUFFIX)
        started = []

        def on_wait():
            started.append(time.monotonic())
            _begin_wait(progress, meta, "process", LOCK_TIMEOUT)

        try:
            return lock_exclusive(path, LOCK_TIMEOUT, on_wait=on_wait)[0], (started[0] if started else None)
        except LockTimeout:
            return None, (started[0] if started else None)
        except OSError as err:
            raise self._files.io_error(f"lock {path}", err) from None


def _begin_wait(progress: Progress, meta: dict, where: str, limit: float) -> None:
    progress.note(1, f"waiting for another {where} to get the {credential_label(meta)} "
                     f"(up to {limit:g} s)")

def _end_wait(progress: Progress, meta: dict, started: float, where: str, got: bool, in_time: bool,
              force_refresh: bool = False) -> None:
    """Count the wait and say how it ended: the token arrived, or this process asks the vendor itself."""
    seconds = max(0.0, time.monotonic() - started)
    progress.paused(seconds)
    if got:
        outcome = "got the token it fetched"
    elif force_refresh and in_time:
        outcome = "asking the vendor all the same (force_refresh)"
    elif in_time:
        outcome = "it left no usable token: asking the vendor"
    else:
        outcome = "gave up waiting: asking the vendor"
    progress.note(1, f"waited {seconds:.1f} s for another {where} to get the {credential_label(meta)}: {outcome}")


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
        mac = _secret_mac(_secret_document(secrets), layer.hmac_key())
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

    def fetch(self, identity_doc, secrets, identity_fp, fetch, min_ttl, force_refresh, meta, progress):
        """(record, expires_at, obtained_at, source, warnings) from the shared layer or one fetch.

        Called with this process's lock of the key held. A shared layer that
        cannot be reached costs a warning: the token is fetched all the same
        (once: a fetch made before the trouble is kept).
        """
        layer = self._layer
        fetched: list = []

        def fetch_once():
            if not fetched:
                record, expires_at = _call_fetch(fetch)
                fetched.append((record, expires_at, float(self._clock())))
            return fetched[0]

        if layer.is_down():
            return fetch_once() + ("network", [layer.unavailable_warning(None)])
        try:
            key, ekey = self.locate(identity_doc, secrets)
            return self._single_flight(key, ekey, identity_fp, fetch_once, min_ttl, force_refresh, meta,
                                       progress) + ([],)
        except SharedUnavailable as exc:
            layer.mark_down()
            return fetch_once() + ("network", [layer.unavailable_warning(str(exc))])

    def _single_flight(self, key, ekey, identity_fp, fetch_once, min_ttl, force_refresh, meta, progress):
        """One runner fetches while the others wait for its entry; see _shared_cache."""
        layer = self._layer
        deadline = time.monotonic() + SHARED_WAIT_LIMIT
        delays = _shared_poll_delays()
        wait_started = None
        where = f"runner (through the shared cache at {layer.label})"

        def end_wait(got: bool, gave_up: bool = False) -> None:
            if wait_started is not None:
                _end_wait(progress, meta, wait_started, where, got, not gave_up, force_refresh)

        while True:
            if not force_refresh:
                hit = self.hit(key, ekey, identity_fp, min_ttl)
                if hit is not None:
                    end_wait(True)
                    return hit.record, hit.expires_at, float(self._clock()), "shared"
            token = layer.acquire(key)
            if token is not None:
                try:
                    if not force_refresh:
                        hit = self.hit(key, ekey, identity_fp, min_ttl)
                        if hit is not None:
                            end_wait(True)
                            return hit.record, hit.expires_at, float(self._clock()), "shared"
                    end_wait(False)
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
                end_wait(False, gave_up=True)
                record, expires_at, obtained_at = fetch_once()
                self._share(key, ekey, meta, identity_fp, record, expires_at, obtained_at)
                return record, expires_at, obtained_at, "network"
            if layer.lock_state(key) == "held":
                if wait_started is None:
                    wait_started = time.monotonic()
                    _begin_wait(progress, meta, where, SHARED_WAIT_LIMIT)
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
