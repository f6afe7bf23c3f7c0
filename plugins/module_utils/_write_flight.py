# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single flight of the writes that make a secret, across processes and controllers.

Internal to the collection: no stability promise to code outside it.

THRIVE's ``generateApiKey`` and ThoughtTrace's client creation and new secret
make something that cannot be listed or taken back (THRIVE) or that replaces
what another run just received (a new secret). Two runs that overlap (two
schedules, two forks running the task for one tenant) must therefore make one,
and both must end with it.

Lock
    An exclusive ``flock`` on ``<cache_dir>/write-<target>.lock``, where
    ``<target>`` is a SHA-256 of what the write is about (vendor, endpoint,
    tenant or client name...). The kernel drops it when its holder dies, so a
    killed run blocks nobody; the token cache's cleanup removes lock files
    unused for a day, under the lock. With ``cache_backend=redis`` the holder
    also takes ``lock:write:<target>`` on the server (SET NX PX, see
    ``_shared_cache``), so runners on other controllers wait too. A server that
    cannot be reached costs a warning: the write goes on under the local lock.

Hand-off record
    Once the holder has received the secret and written its recovery file, it
    leaves ``write-<target>.handoff`` (0600, written atomically; encrypted
    with ``cache_encryption_key`` when one is set, in ``_cache_crypto``'s
    envelope under a key derived from it as the cache's entries are) and, with Redis, the same
    record on the server, encrypted, expiring after ``HANDOFF_TTL``. The next
    holder of the lock reads it: a record written after that run started
    means another run made the secret while this one was on its way, so this
    run returns that secret (reporting no change) instead of making a second.
    A record written before the run started is never used; one older than
    ``HANDOFF_TTL`` is removed. A recent record that cannot be read (written
    with another encryption key, damaged) stops the task before anything is
    sent, since a second secret might otherwise be made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time

from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (
    HAS_CRYPTOGRAPHY,
    as_fernet_key,
    b64,
    derive_entry_key,
    hkdf,
    json_object,
    master_key,
    open_envelope,
    seal_envelope,
    unb64,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import (
    HANDOFF_MAX_AGE,
    HANDOFF_SUFFIX,
    default_cache_dir,
)
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    CacheError,
    HandOffUnreadable,
    MissingLibraryError,
    Progress,
    SharedUnavailable,
)
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import (
    LockTimeout,
    atomic_write,
    ensure_private_dir,
    lock_exclusive,
    read_private_file,
    unlink_quietly,
)
from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import shared_layer

SHARED_HANDOFF_LABEL = b"apiauth.saas hand-off record, shared layer"

# How long a run waits for another run's write before giving up (sending nothing).
WRITE_LOCK_WAIT = 300.0
# How long a hand-off record may be used, and then lives on disk at most.
HANDOFF_TTL = HANDOFF_MAX_AGE
NAME_PREFIX = "write-"
LOCK_SUFFIX = ".lock"
RECORD_VERSION = 1
_MAGIC_PLAIN = b"apiauth.saas hand-off v1 plain\n"
# Format 2 of a sealed record: _cache_crypto's envelope. Format 1 (a Fernet token) is never read again.
_MAGIC_SEALED = b"apiauth.saas hand-off v2 sealed\n"
HANDOFF_LABEL = b"apiauth.saas write hand-off v2"
_ENVELOPE_NAME = "write hand-off"
_MAX_RECORD = 64 * 1024
_SHARED_POLL_FIRST = 0.02
_SHARED_POLL_MAX = 0.25
DIR_LABEL = "The token cache directory (cache_dir), which holds the locks of writes that make a secret,"


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _record_key(encryption_key: str, salt: bytes | None) -> bytes:
    """The AES key of a hand-off record: the cache's master key (scrypt with ``salt`` for a passphrase), by HKDF."""
    if not HAS_CRYPTOGRAPHY:
        raise MissingLibraryError("cryptography", "to encrypt the hand-off record of a new secret")
    return hkdf(master_key(encryption_key, lambda: salt or b""), HANDOFF_LABEL)


def seal(record: dict, encryption_key: str | None) -> bytes:
    """The bytes of a hand-off record file: plain JSON, or encrypted when a key is given.

    Encrypted, it is ``_cache_crypto``'s envelope, the salt of a passphrase in its clear metadata.
    """
    if not encryption_key:
        return _MAGIC_PLAIN + _canonical(record)
    salt = None if as_fernet_key(encryption_key) is not None else os.urandom(16)
    meta = {"salt": None if salt is None else b64(salt)}
    return _MAGIC_SEALED + seal_envelope(_record_key(encryption_key, salt), _ENVELOPE_NAME, meta, record)


def unseal(data: bytes, encryption_key: str | None):
    """The record in ``data``, or None when it cannot be read with this key (or without one).

    A record of format 1 (Fernet, before the shared envelope) is never read: it lives
    ``HANDOFF_TTL`` at most, and an unreadable recent one stops the waiting run safely.
    """
    try:
        if data.startswith(_MAGIC_PLAIN):
            if encryption_key:
                return None  # a plain record where sealed ones are written: not ours to trust
            document = json.loads(data[len(_MAGIC_PLAIN):].decode("utf-8"))
        elif data.startswith(_MAGIC_SEALED):
            if not encryption_key:
                return None
            raw = data[len(_MAGIC_SEALED):]
            envelope = json_object(raw)
            meta = envelope.get("meta") if envelope is not None else None
            if not isinstance(meta, dict):
                return None
            salt = None
            if meta.get("salt") is not None:
                salt = unb64(meta["salt"])
                if not salt:
                    return None
            document = open_envelope(raw, _record_key(encryption_key, salt), _ENVELOPE_NAME)
        else:
            return None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeError):
        return None
    return document if isinstance(document, dict) else None


class WriteFlight:
    """Context manager: hold the single flight of one write, read and leave hand-off records.

    ``target`` is a JSON dict naming what the write is about; ``what`` names
    the secret in messages ("THRIVE API key"), ``about`` what it is for, in
    the notes of ``progress`` (an ``_errors.Progress``), which say when this
    run starts waiting for another run's write and when the wait ends.
    """

    def __init__(self, params: dict, target: dict, *, what: str, about: str = "", clock=time.time,
                 progress: Progress | None = None) -> None:
        self.what = what
        self._about = f" for {about}" if about else ""
        self.progress = progress if progress is not None else Progress()
        self._wait_started = None
        self._clock = clock
        self._dir = os.path.abspath(os.path.expanduser(params.get("cache_dir") or default_cache_dir()))
        self._encryption_key = params.get("cache_encryption_key") or None
        self._target_doc = _canonical(target)
        self.target_fp = hashlib.sha256(self._target_doc).hexdigest()
        self._lock_path = os.path.join(self._dir, NAME_PREFIX + self.target_fp + LOCK_SUFFIX)
        self.handoff_path = os.path.join(self._dir, NAME_PREFIX + self.target_fp + HANDOFF_SUFFIX)
        self._shared = shared_layer(dict(params, cache=True))
        self._shared_key = None
        self._shared_token = None
        self._shared_started = None
        self._fd = None
        # Taken before anything else: a record written after this moment is another run's, made while this one ran.
        self.started = float(clock())
        self.waited = False
        self.warnings: list = []

    # -- the lock ---------------------------------------------------------------------

    def __enter__(self) -> "WriteFlight":
        ensure_private_dir(self._dir, DIR_LABEL, CacheError)
        self._shared_begin()
        try:
            self._fd, self.waited = lock_exclusive(self._lock_path, WRITE_LOCK_WAIT,
                                                   on_wait=lambda: self._begin_wait("run"))
            self._end_wait("run", True)
        except LockTimeout:
            self._end_wait("run", False)
            raise ApiAuthError(
                f"Another run has been making the {self.what} for this target for more than {int(WRITE_LOCK_WAIT)} s "
                "(it holds the lock); this run waited and sent nothing.",
                hint="Let the other run finish, then run this task again: it will keep what the other run made.",
            ) from None
        except OSError as err:
            raise CacheError(f"Cannot lock {self._lock_path}: {err.strerror or type(err).__name__}; nothing was sent.",
                             hint="Check that cache_dir is a directory you own with mode 0700, on a writable "
                                  "file system.") from None
        try:
            self._shared_acquire()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._release()

    def _begin_wait(self, who: str) -> None:
        self._wait_started = time.monotonic()
        self.progress.note(1, f"waiting for another {who} making the {self.what}{self._about} "
                              f"(up to {WRITE_LOCK_WAIT:g} s)")

    def _end_wait(self, who: str, got: bool) -> None:
        """Count a wait that began, and say how it ended: the lock is this run's now, or it gave up."""
        if self._wait_started is None:
            return
        seconds = max(0.0, time.monotonic() - self._wait_started)
        self._wait_started = None
        self.progress.paused(seconds)
        outcome = "this run goes on (it keeps what the other made, if anything)" if got else \
            "gave up waiting; nothing was sent"
        self.progress.note(1, f"waited {seconds:.1f} s for another {who} making the {self.what}{self._about}: "
                              f"{outcome}")

    def _release(self) -> None:
        if self._shared_token is not None:
            try:
                self._shared.release(self._shared_key, self._shared_token)
            except (SharedUnavailable, CacheError):
                pass  # the lock expires on its own
            self._shared_token = None
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None

    def _shared_down(self, reason: str | None) -> None:
        self._shared.mark_down()
        self._shared_key = None
        self.warnings.append(
            self._shared.unavailable_warning(reason).replace(
                "this task went on with the local cache and the network, so other runners may ask for the same "
                "token.",
                f"this task made the {self.what} under this controller's lock only, so a runner on another "
                "controller may make one too."))

    def _shared_begin(self) -> None:
        if self._shared is None:
            return
        if self._shared.is_down():
            self._shared_down(None)
            return
        try:
            digest = hmac.new(self._shared.hmac_key(), self._target_doc, hashlib.sha256).hexdigest()
            self._shared_key = "write:" + digest
            self._shared_started = self._shared.server_time()
        except SharedUnavailable as exc:
            self._shared_down(str(exc))

    def _shared_acquire(self) -> None:
        if self._shared_key is None:
            return
        layer = self._shared
        deadline = time.monotonic() + WRITE_LOCK_WAIT
        delay = _SHARED_POLL_FIRST
        try:
            while True:
                token = layer.acquire(self._shared_key)
                if token is not None:
                    self._shared_token = token
                    self._end_wait(f"runner (through the shared cache at {layer.label})", True)
                    return
                self.waited = True
                if self._wait_started is None:
                    self._begin_wait(f"runner (through the shared cache at {layer.label})")
                if time.monotonic() >= deadline:
                    self._end_wait(f"runner (through the shared cache at {layer.label})", False)
                    raise ApiAuthError(
                        f"Another runner has been making the {self.what} for this target for more than "
                        f"{int(WRITE_LOCK_WAIT)} s (it holds the lock on {layer.label}); this run sent nothing.",
                        hint="Let it finish, then run this task again.")
                if layer.lock_state(self._shared_key) == "held":
                    time.sleep(delay)
                    delay = min(delay * 2, _SHARED_POLL_MAX)
        except SharedUnavailable as exc:
            self._shared_down(str(exc))

    # -- hand-off records -----------------------------------------------------------------

    def handed_off(self) -> dict | None:
        """The secret another run made for this target since this run started, or None.

        Call only while holding the flight. Raises HandOffUnreadable when a
        record written since this run started cannot be read.
        """
        found = self._local_record()
        if found is None and self._shared_key is not None:
            found = self._shared_record()
        return found

    def _local_record(self) -> dict | None:
        try:
            info = os.lstat(self.handoff_path)
        except FileNotFoundError:
            return None
        except OSError:
            info = None
        now = float(self._clock())
        data = read_private_file(self.handoff_path, _MAX_RECORD)
        record = None if data is None else unseal(data, self._encryption_key)
        if not self._valid(record):
            recent = info is not None and info.st_mtime >= self.started - 1 and now - info.st_mtime < HANDOFF_TTL
            if recent:
                raise HandOffUnreadable(
                    f"Another run made the {self.what} for this target while this one waited, but its hand-off "
                    f"record {self.handoff_path} cannot be read (written with another cache_encryption_key, or "
                    "damaged); nothing was sent, so no second one was made.",
                    hint="The other run's result and recovery file hold it. Store it, then run this task again with "
                         "it as the current one.")
            if info is not None and now - info.st_mtime >= HANDOFF_TTL:
                unlink_quietly(self.handoff_path)
            return None
        written = record["written_at"]
        if now - written >= HANDOFF_TTL:
            unlink_quietly(self.handoff_path)
            return None
        return record["secret"] if written >= self.started else None

    def _shared_record(self) -> dict | None:
        try:
            present, raw = self._shared.read_checked(self._shared_key)
            record = None if raw is None else open_envelope(raw, self._shared_record_key(), self._shared_key)
        except SharedUnavailable as exc:
            self._shared_down(str(exc))
            return None
        if not present:
            return None
        if not self._valid(record):
            # Its name is derived from the shared encryption key, so only a damaged or forged entry lands here.
            self.warnings.append(f"The shared hand-off record of this {self.what} on {self._shared.label} cannot "
                                 "be read; it was ignored.")
            return None
        return record["secret"] if record["written_at"] >= self._shared_started else None

    def _shared_record_key(self) -> bytes:
        # Every runner of the fleet must open the record, and their admin
        # credentials differ, so it is bound to the shared encryption key and
        # the target only; it lives HANDOFF_TTL seconds.
        target_mac = hmac.new(self._shared.hmac_key(), self._target_doc, hashlib.sha256).digest()
        return derive_entry_key(self._shared.entry_master(), target_mac, SHARED_HANDOFF_LABEL)

    def _valid(self, record) -> bool:
        return (isinstance(record, dict) and record.get("v") == RECORD_VERSION
                and record.get("target") == self.target_fp and isinstance(record.get("secret"), dict)
                and isinstance(record.get("written_at"), (int, float)) and not isinstance(record["written_at"], bool))

    def hand_off(self, secret: dict) -> None:
        """Leave ``secret`` for runs waiting on this flight. Call while holding it, after the recovery file.

        A failure costs a warning only: the secret is already in the recovery
        file and the result, and the waiting runs find the vendor's state.
        """
        record = {"v": RECORD_VERSION, "target": self.target_fp, "written_at": float(self._clock()),
                  "secret": secret}
        try:
            atomic_write(self.handoff_path, seal(record, self._encryption_key))
        except OSError as err:
            self.warnings.append(f"Could not leave the hand-off record {self.handoff_path} "
                                 f"({err.strerror or type(err).__name__}): a run waiting for this one may make "
                                 f"another {self.what}.")
        if self._shared_key is None:
            return
        try:
            shared_record = dict(record, written_at=self._shared.server_time())
            self._shared.write(self._shared_key,
                               seal_envelope(self._shared_record_key(), self._shared_key, {}, shared_record),
                               HANDOFF_TTL)
        except SharedUnavailable as exc:
            self._shared_down(str(exc))
