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
    order of the layers and the lock and single flight of this controller.
    ``_shared_cache.SharedTier`` runs the single flight across controllers,
    loaded only with a shared backend.
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

from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (
    HAS_CRYPTOGRAPHY,
    KDF_LABEL_FILE,
    canonical_json,
    derive_entry_key,
    key_from_mac,
    memo_entry_key,
    secret_document as _secret_document,
    secret_mac as _secret_mac,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (  # noqa: F401 pylint: disable=unused-import
    ENTRY_KEYS as _ENTRY_KEYS,  # the process's entry keys; tests clear and count them here
    client_ref,
    envelope_metadata,
    master_key,
    open_envelope,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import (
    ENTRY_SUFFIX,
    LOCK_SUFFIX,
    FileStore,
    default_cache_dir,
    secret_part,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import (  # noqa: F401 pylint: disable=unused-import
    DERIVED_KEYS as _DERIVED_KEYS,  # tests clear these here to derive again
    LAST_SWEEP as _LAST_SWEEP,
    list_entries,
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

# Shared by every TokenCache of the process: (directory, key) -> (record, expires_at).
_MEMORY: dict = {}
_STATE_LOCK = threading.Lock()
# Keys computed by a disabled cache (no file I/O allowed) use this instead of
# the directory's key: stable inside the process, meaningless outside it.
_EPHEMERAL_HMAC_KEY = os.urandom(32)


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


def _check_expires_at(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("fetch() must return the expiry as epoch seconds (a number) or None")
    value = float(value)
    if not math.isfinite(value):
        return None
    return value


def call_fetch(fetch):
    """``fetch()``'s ``(record, expires_at)``, checked and made JSON-only; what it raises propagates."""
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
        self._tier = None
        if self._shared is not None:
            # Imported only with a shared layer: a token served from the file cache loads no Redis code.
            from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import SharedTier  # pylint: disable=import-outside-toplevel

            self._tier = SharedTier(self._shared, clock)
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
            record, expires_at = call_fetch(fetch)
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
                end_wait(progress, meta, wait_started, "process", hit is not None, lock_fd is not None,
                         force_refresh)
            if hit is not None:
                return hit
            if self._shared is not None:
                record, expires_at, obtained_at, source, warnings = self._tier.fetch(
                    identity_doc, secrets, identity_fp, fetch, min_ttl, force_refresh, meta, progress,
                    SHARED_WAIT_LIMIT)
            else:
                record, expires_at = call_fetch(fetch)
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
            begin_wait(progress, meta, "process", LOCK_TIMEOUT)

        try:
            return lock_exclusive(path, LOCK_TIMEOUT, on_wait=on_wait)[0], (started[0] if started else None)
        except LockTimeout:
            return None, (started[0] if started else None)
        except OSError as err:
            raise self._files.io_error(f"lock {path}", err) from None


def begin_wait(progress: Progress, meta: dict, where: str, limit: float) -> None:
    progress.note(1, f"waiting for another {where} to get the {credential_label(meta)} "
                     f"(up to {limit:g} s)")


def end_wait(progress: Progress, meta: dict, started: float, where: str, got: bool, in_time: bool,
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
