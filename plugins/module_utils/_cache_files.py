# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file layer of the token cache: one private directory, one encrypted entry per token.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: what lives on disk (the directory and its checks,
the key files, entries written atomically, the hourly sweep, the listing a
credential report reads without any key) does not depend on when a token is
fetched. ``_token_cache`` decides that, with locks and single flight, and
calls this layer to read and write. The formats are described in
``_token_cache``'s docstring; the cryptography is ``_cache_crypto``'s.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import threading
import time

from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (
    envelope_metadata,
    master_key,
    open_envelope,
    seal_envelope,
)
from ansible_collections.apiauth.saas.plugins.module_utils._errors import CacheError
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import (
    O_CLOEXEC,
    O_NOFOLLOW,
    TMP_SUFFIX,
    NotRegularFileError,
    ensure_private_dir,
    fsync_dir,
    open_regular,
    read_limited,
    unlink_quietly,
    write_new_tmp,
)

ENTRY_SUFFIX = ".entry"
LOCK_SUFFIX = ".lock"
HMAC_KEY_NAME = ".hmac_key"
# Hand-off records of writes that make a secret (``_write_flight``), kept in the same directory.
HANDOFF_SUFFIX = ".handoff"
HANDOFF_MAX_AGE = 600.0
SALT_NAME = ".salt"
# Cleanup bounds (see ``_token_cache``'s docstring).
SWEEP_INTERVAL = 3600.0
SWEEP_LIMIT = 512
_DAY = 86400.0
_STALE_UNREADABLE = 7 * _DAY
_STALE_TMP = 3600.0
# An entry file larger than this is not a token entry; it is treated as a miss.
MAX_ENTRY_BYTES = 1024 * 1024

# directory -> HMAC key bytes; (directory, passphrase digest) -> 32-byte master key.
HMAC_KEYS: dict = {}
DERIVED_KEYS: dict = {}
# directory -> time.monotonic() of the last sweep.
LAST_SWEEP: dict = {}
_STATE_LOCK = threading.Lock()


def default_cache_dir() -> str:
    """``$XDG_CACHE_HOME/apiauth.saas/tokens``, else ``~/.cache/apiauth.saas/tokens``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore a relative value.
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "apiauth.saas", "tokens")


def list_entries(cache_dir: str | None = None) -> list:
    """The clear metadata of every entry in a cache directory, without any key; nothing is decrypted.

    One dict per entry in the current format: ``key`` (the entry's name),
    ``vendor``, ``host``, ``client_id``, ``expires_at``, ``obtained_at`` (epoch
    seconds or None). Entries of an older format, damaged files, symlinks and
    anything larger than an entry are left out. A missing directory has none.
    """
    directory = os.path.abspath(os.path.expanduser(cache_dir or default_cache_dir()))
    found = []
    try:
        names = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return found
    except OSError as err:
        raise CacheError(f"Cannot list the token cache directory {directory}: {err.strerror}.",
                         hint="Check that it is a directory you own.") from None
    for name in names:
        if not name.endswith(ENTRY_SUFFIX) or name.startswith("."):
            continue
        raw = read_small_file(os.path.join(directory, name))
        meta = None if raw is None else envelope_metadata(raw)
        if meta is not None:
            found.append(dict(meta, key=name[: -len(ENTRY_SUFFIX)]))
    return found


def _not_our_key_file(path: str) -> CacheError:
    return CacheError(f"The token cache key file {path} is not a regular file of yours.",
                      hint="Remove it; it is recreated with the next token.")


def read_small_file(path: str):
    """The bytes of a regular file (never through a symlink), or None: absent, not regular, too large."""
    try:
        fd = open_regular(path, follow_links=False)
    except OSError:
        return None
    try:
        return read_limited(fd, MAX_ENTRY_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)


class FileStore:
    """The entries, key files and cleanup of one cache directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def path(self, key: str, suffix: str) -> str:
        return os.path.join(self.directory, key + suffix)

    def make_dir(self) -> None:
        # The same checks as every directory that holds secrets: ours, 0700, not a link.
        ensure_private_dir(self.directory, "The token cache directory (cache_dir)", CacheError)

    def key_file(self, name: str, size: int) -> bytes:
        """Read ``<dir>/<name>``, creating it with ``size`` random bytes if absent.

        The new file is written under a temporary name and published with
        ``os.link``, which fails if the name exists: every process ends up with
        the bytes of whichever process published first, and nobody ever sees a
        partly written key.
        """
        path = os.path.join(self.directory, name)
        for _attempt in range(3):
            data = self._read_key_file(path, size)
            if data is not None:
                return data
            tmp = self._write_tmp(name, os.urandom(size))
            try:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    continue  # another process published first: read theirs
                except OSError as err:
                    if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                        raise self.io_error(f"create {path}", err) from None
                    # No hard links on this file system: an exclusive create
                    # instead (a reader racing it may see it empty and retry).
                    self._create_exclusive(path, tmp)
                    continue
                try:
                    fsync_dir(self.directory)
                except OSError:
                    pass
            finally:
                unlink_quietly(tmp)
        data = self._read_key_file(path, size)
        if data is None:
            # Damaged (wrong length): replace it. Old entries just become misses.
            tmp = self._write_tmp(name, os.urandom(size))
            try:
                os.replace(tmp, path)
            except OSError as err:
                unlink_quietly(tmp)
                raise self.io_error(f"replace the damaged {path}", err) from None
            data = self._read_key_file(path, size)
            if data is None:
                raise CacheError(
                    f"Cannot read back the token cache key file {path}.",
                    hint=f"Remove {path} and check the file system holding {self.directory}.",
                )
        return data

    def _create_exclusive(self, path: str, tmp: str) -> None:
        with os.fdopen(open_regular(tmp, follow_links=False), "rb") as handle:
            data = handle.read()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        except FileExistsError:
            return
        except OSError as err:
            raise self.io_error(f"create {path}", err) from None
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _read_key_file(self, path: str, size: int):
        try:
            fd = open_regular(path, follow_links=False)
        except FileNotFoundError:
            return None
        except OSError as err:
            if isinstance(err, NotRegularFileError) or err.errno == errno.ELOOP:
                raise _not_our_key_file(path) from None
            raise self.io_error(f"read {path}", err) from None
        try:
            st = os.fstat(fd)
            if st.st_uid != os.geteuid():
                raise _not_our_key_file(path)
            if stat.S_IMODE(st.st_mode) & 0o077:
                raise CacheError(
                    f"The token cache key file {path} is open to other users.",
                    hint=f"Run 'chmod 600 {path}'.",
                )
            data = os.read(fd, size + 1)
        finally:
            os.close(fd)
        if len(data) != size:
            return None
        return data

    def hmac_key(self) -> bytes:
        with _STATE_LOCK:
            held = HMAC_KEYS.get(self.directory)
        if held is None:
            held = self.key_file(HMAC_KEY_NAME, 32)
            with _STATE_LOCK:
                HMAC_KEYS.setdefault(self.directory, held)
                held = HMAC_KEYS[self.directory]
        return held

    def derive_master(self, encryption_key: str) -> bytes:
        memo = (self.directory, hashlib.sha256(encryption_key.encode("utf-8")).digest())
        with _STATE_LOCK:
            held = DERIVED_KEYS.get(memo)
        if held is not None:
            return held
        derived = master_key(encryption_key, lambda: self.key_file(SALT_NAME, 16))
        with _STATE_LOCK:
            DERIVED_KEYS[memo] = derived
        return derived

    # -- entries ----------------------------------------------------------------------

    def read_entry(self, path: str, name: str, ekey):
        """The entry document at ``path``, or None for anything but a good entry this credential can open."""
        if ekey is None:
            return None
        try:
            fd = open_regular(path, follow_links=False)
        except NotRegularFileError:
            return None
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ELOOP, errno.EISDIR, errno.ENOTDIR):
                return None
            raise self.io_error(f"read {path}", err) from None
        try:
            raw = read_limited(fd, MAX_ENTRY_BYTES)
        except OSError as err:
            raise self.io_error(f"read {path}", err) from None
        finally:
            os.close(fd)
        if raw is None:
            return None
        secret = open_envelope(raw, ekey, name)
        return None if secret is None else parse_secret(secret)

    def _write_tmp(self, name: str, data: bytes) -> str:
        """Write ``data`` to a new private temporary file beside ``name``; return its path."""
        try:
            return write_new_tmp(self.directory, name, data)
        except OSError as err:
            raise self.io_error(f"write a file in {self.directory}", err) from None

    def write_entry(self, key: str, ekey, meta: dict, secret: dict) -> None:
        if ekey is None:
            return  # no cryptography: the token stays in memory, never in clear on disk
        path = self.path(key, ENTRY_SUFFIX)
        meta = dict(meta, expires_at=secret["expires_at"], obtained_at=secret["obtained_at"])
        tmp = self._write_tmp(key + ENTRY_SUFFIX, seal_envelope(ekey, key, meta, secret))
        try:
            os.replace(tmp, path)
        except OSError as err:
            unlink_quietly(tmp)
            raise self.io_error(f"replace {path}", err) from None
        try:
            fsync_dir(self.directory)
        except OSError:
            pass  # the entry is in place; only its durability across a crash is at stake

    def remove_entry(self, key: str) -> None:
        path = self.path(key, ENTRY_SUFFIX)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as err:
            raise self.io_error(f"remove {path}", err) from None

    def io_error(self, action: str, err: OSError) -> CacheError:
        reason = err.strerror or err.__class__.__name__
        return CacheError(
            f"The token cache cannot {action}: {reason}.",
            hint=(
                f"Check that {self.directory} is a directory you own with mode 0700, on a writable file "
                "system with free space, or turn the token cache off."
            ),
        )

    # -- cleanup ------------------------------------------------------------------------

    def sweep(self, clock) -> None:
        """Clean the directory, at most once per ``SWEEP_INTERVAL`` and process; never fails a call."""
        started = time.monotonic()
        with _STATE_LOCK:
            last = LAST_SWEEP.get(self.directory)
            if last is not None and started - last < SWEEP_INTERVAL:
                return
            LAST_SWEEP[self.directory] = started
        try:
            _sweep_now(self.directory, float(clock()))
        except (OSError, CacheError):
            pass  # cleanup is best effort and never fails a call


def _sweep_now(directory: str, now: float) -> None:
    wall = time.time()
    names = []
    with os.scandir(directory) as entries:
        for item in entries:
            names.append(item.name)
            if len(names) >= SWEEP_LIMIT:
                break
    present = set(names)
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        age = wall - st.st_mtime
        if name.startswith(".") and name.endswith(TMP_SUFFIX):
            if age > _STALE_TMP:
                unlink_quietly(path)
        elif name.endswith(ENTRY_SUFFIX):
            # Read without the lock first, so fresh entries cost no lock.
            if _stale_entry(read_small_file(path), age, now, os.path.lexists(path)):
                _drop_locked(directory, name[: -len(ENTRY_SUFFIX)], path, age, now)
        elif name.endswith(LOCK_SUFFIX):
            key = name[: -len(LOCK_SUFFIX)]
            if age > _DAY and key + ENTRY_SUFFIX not in present:
                _drop_locked(directory, key, None, age, now)
        elif name.endswith(HANDOFF_SUFFIX):
            # A write's hand-off record holds a secret and is used for minutes only (see _write_flight).
            if age > HANDOFF_MAX_AGE:
                unlink_quietly(path)


def _drop_locked(directory: str, key: str, entry_path, age: float, now: float) -> None:
    """Remove a stale entry (if ``entry_path``) and its lock file, under its lock.

    Nothing is removed while another process holds the lock, and the entry
    is judged again once the lock is held, so a token written meanwhile stays.
    """
    lock_path = os.path.join(directory, key + LOCK_SUFFIX)
    try:
        fd = os.open(lock_path, os.O_RDWR | O_NOFOLLOW | O_CLOEXEC)
    except FileNotFoundError:
        fd = None
    except OSError:
        return
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # in use right now: leave it for a later sweep
        if entry_path is not None:
            if not _stale_entry(read_small_file(entry_path), age, now, os.path.lexists(entry_path)):
                return
            unlink_quietly(entry_path)
        if fd is not None:
            unlink_quietly(lock_path)
    finally:
        if fd is not None:
            os.close(fd)


def secret_part(record: dict, expires_at, obtained_at, identity_fp: str) -> dict:
    """What an entry keeps encrypted: the token record, and the times and identity it is judged by."""
    return {"record": record, "expires_at": expires_at, "obtained_at": obtained_at, "identity_fp": identity_fp}


def _old_format(raw) -> bool:
    """An entry an earlier version wrote: a Fernet token, or the clear version 1 document."""
    if not raw:
        return False
    if raw.startswith(b"gAAAAA"):  # Fernet's version byte 0x80, base64url
        return True
    if raw[:1] != b"{":
        return False
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and document.get("v") == 1


def _stale_entry(raw, age: float, now: float, present: bool) -> bool:
    """Whether the sweep removes an entry: long expired, of an older format, or unreadable for a week."""
    if raw is not None and _old_format(raw):
        # Never served again, and possibly a token in clear: gone at the first sweep.
        return True
    meta = None if raw is None else envelope_metadata(raw)
    if meta is None:
        return age > _STALE_UNREADABLE and present
    expires_at = meta["expires_at"]
    return age > _DAY and (expires_at is None or now - expires_at > _DAY)


def parse_secret(document: dict):
    """The decrypted part of an entry, checked; None for anything but a good entry."""
    if not isinstance(document, dict):
        return None
    record = document.get("record")
    expires_at = document.get("expires_at")
    obtained_at = document.get("obtained_at")
    identity_fp = document.get("identity_fp")
    if not isinstance(record, dict) or not isinstance(identity_fp, str):
        return None
    for number in (expires_at, obtained_at):
        if number is not None and (isinstance(number, bool) or not isinstance(number, (int, float))):
            return None
    if obtained_at is None:
        return None
    return {
        "record": record,
        "expires_at": None if expires_at is None else float(expires_at),
        "obtained_at": float(obtained_at),
        "identity_fp": identity_fp,
    }
