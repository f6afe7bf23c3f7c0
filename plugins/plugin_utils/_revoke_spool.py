# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tokens to revoke when the playbook run ends (``revoke_at_end``).

Internal to the collection: no stability promise to code outside it.

Tasks run in forked worker processes; callbacks run in the main process and
never see a censored result's values. So the callback
``apiauth.saas.revoke_at_end`` makes a private directory (0700) when the run
starts and names it in ``APIAUTH_SAAS_REVOKE_DIR``, which every worker
inherits. A task with ``revoke_at_end=true`` then

* takes its token from a cache inside that directory, so all hosts and forks
  of the run share one token and no later run is ever served a revoked one;
* writes each token it gets from the network to ``pending/`` (0600), with the
  connection options needed to revoke it.

When the run ends, the callback revokes every pending token and deletes the
directory.

Records (format 2)
    A JSON document with small metadata in clear (vendor, host, expiry, the
    token's fingerprint) and the token with its connection options sealed
    with the token cache's envelope (AES-256-GCM under HKDF-SHA256 keys, the
    metadata authenticated with it), in up to two copies:

    ``run``
        under a random key the callback makes when the run starts. It lives
        only in the memory of the run's processes (forked workers inherit it),
        never on disk or in the environment, so it dies with the run.
    ``cache``
        when the task has ``cache_encryption_key``: under that key, with the
        token cache's key handling (a Fernet key as it is, a passphrase through
        scrypt with a random salt kept in the record). This copy lets a later
        run revoke the token of a run that was killed. It does not also need
        the credential's secret, unlike a cache entry, because the later run's
        callback has no credential; the spool is a private directory on the
        controller, never a shared store, and the copy lives no longer than the
        token.

    So no token is ever in clear on disk, with or without a key.

Killed runs
    The callback holds an exclusive ``flock`` on its spool directory for as
    long as the run lives (the kernel drops it when the last process of the
    run dies). When a run starts, its callback sweeps the spool directories
    beside its own that nobody holds (``sweep_stale``): each record still
    valid is revoked when its ``cache`` copy opens with the callback's
    ``cache_encryption_key``, and removed once revoked; a record that cannot
    be opened (no key, another key) or revoked (the host is unreachable) stays
    until its token has expired, then is removed; a spool with no record left
    is removed. Records of an earlier version (a token in clear) in a spool
    nobody holds are removed a day after the spool was last written (an old
    version's live run holds no lock, and its tokens are long expired then).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import os
import shutil
import stat
import tempfile
import time

from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import HTTP_OPTIONS
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, OptionError, Redactor, fingerprint
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import (
    atomic_write,
    ensure_private_dir,
    open_private_dir,
    private_dir_problem,
    read_private_file,
    unlink_quietly,
)
from ansible_collections.apiauth.saas.plugins.module_utils._cache_crypto import (
    HAS_CRYPTOGRAPHY,
    b64,
    canonical_json,
    derive_entry_key,
    json_object,
    master_key,
    open_envelope,
    seal_envelope,
)

ENV_NAME = "APIAUTH_SAAS_REVOKE_DIR"
CALLBACK = "apiauth.saas.revoke_at_end"
PREFIX = "apiauth-saas-revoke-"
# What revoking needs besides the host and the token: the HTTP options.
CONNECTION_OPTIONS = HTTP_OPTIONS
RECORD_VERSION = 2
KDF_LABEL_RUN = b"apiauth.saas revoke spool v2: run key"
KDF_LABEL_CACHE = b"apiauth.saas revoke spool v2: cache encryption key"
# A record is removed this long after its token expired (clock skew between controller and vendor).
EXPIRY_GRACE = 300.0
# Records of an earlier version, and spools with nothing to revoke, nobody holds and untouched this long.
STALE_AGE = 86400.0
_SALT_BYTES = 16
_STALE_TMP = 3600.0
_MAX_RECORD_BYTES = 1024 * 1024

# The run key of this run, set by the callback in the main process before any worker forks.
_RUN_KEY = None


def create() -> str:
    """A new private spool directory for one run."""
    path = tempfile.mkdtemp(prefix=PREFIX)
    ensure_private_dir(os.path.join(path, "pending"), "The revoke spool directory", OptionError)
    return path


def start_run() -> tuple:
    """For the callback: (spool directory, descriptor holding its lock) of a new run, and a new run key."""
    global _RUN_KEY  # pylint: disable=global-statement
    if not HAS_CRYPTOGRAPHY:
        raise OptionError(f"The callback {CALLBACK} needs the Python library cryptography on the controller.")
    path = create()
    _RUN_KEY = os.urandom(32)
    return path, hold(path)


def hold(path: str) -> int:
    """An exclusive flock on the spool directory, held while the returned descriptor (and its forks) live."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def end_run() -> None:
    global _RUN_KEY  # pylint: disable=global-statement
    _RUN_KEY = None


def current() -> str:
    """The spool directory of this run; an OptionError that says how to enable it when there is none."""
    path = os.environ.get(ENV_NAME)
    if not path:
        raise OptionError(
            f"revoke_at_end=true needs the callback {CALLBACK}: enable it with callbacks_enabled = {CALLBACK} "
            "in the [defaults] section of ansible.cfg, or ANSIBLE_CALLBACKS_ENABLED, and run ansible-playbook."
        )
    if not os.path.lexists(path):
        raise OptionError(f"{ENV_NAME} names {path}, which does not exist: was the run started by "
                          f"ansible-playbook with the callback {CALLBACK}?")
    for directory in (path, os.path.join(path, "pending")):
        problem = private_dir_problem(directory)
        if problem is not None:
            raise OptionError(f"{ENV_NAME} names {path}, which is not a private directory of this user (0700): "
                              f"{directory} {problem}.")
    return path


def cache_dir(spool: str) -> str:
    return os.path.join(spool, "cache")


# -- records --------------------------------------------------------------------------


def _cache_copy_key(encryption_key: str, salt: bytes) -> bytes:
    return derive_entry_key(master_key(encryption_key, lambda: salt), b"", KDF_LABEL_CACHE)


def seal_record(*, vendor: str, host: str, token: str, options: dict, expires_at, obtained_at,
                run_key: bytes | None, encryption_key: str | None) -> bytes:
    """A format 2 record: metadata in clear, token and options sealed under each key given."""
    name = "revoke:" + fingerprint(token, 32)
    meta = {"vendor": vendor, "host": host, "expires_at": expires_at, "obtained_at": obtained_at,
            "token_fp": fingerprint(token)}
    secret = {"token": token, "options": options}
    copies = {}
    salt = os.urandom(_SALT_BYTES)
    if run_key:
        copies["run"] = seal_envelope(derive_entry_key(run_key, b"", KDF_LABEL_RUN), name, meta,
                                      secret).decode("ascii")
    if encryption_key:
        copies["cache"] = seal_envelope(_cache_copy_key(encryption_key, salt), name, meta,
                                        secret).decode("ascii")
    if not copies:
        raise OptionError("A token to revoke needs a key to be sealed with.")
    return canonical_json({"v": RECORD_VERSION, "name": name, "meta": meta, "salt": b64(salt), "copies": copies})


def _record(raw):
    document = json_object(raw)
    if document is None or document.get("v") != RECORD_VERSION:
        return None
    if not isinstance(document.get("name"), str) or not isinstance(document.get("copies"), dict) or \
            not isinstance(document.get("meta"), dict):
        return None
    return document


def record_metadata(raw) -> dict | None:
    """The clear part of a format 2 record (vendor, host, expires_at, obtained_at, token_fp), or None."""
    document = _record(raw)
    if document is None:
        return None
    meta = document["meta"]
    expires_at = meta.get("expires_at")
    if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)):
        expires_at = None
    return {"vendor": meta.get("vendor"), "host": meta.get("host"), "expires_at": expires_at,
            "obtained_at": meta.get("obtained_at"), "token_fp": meta.get("token_fp")}


def open_record(raw, *, run_key: bytes | None = None, encryption_key: str | None = None) -> dict | None:
    """The record's ``{vendor, host, token, options, expires_at}`` if a key given opens a copy, else None."""
    document = _record(raw)
    if document is None:
        return None
    copies, name = document["copies"], document["name"]
    secret = None
    if run_key and isinstance(copies.get("run"), str):
        secret = open_envelope(copies["run"].encode("ascii", "replace"),
                               derive_entry_key(run_key, b"", KDF_LABEL_RUN), name)
    if secret is None and encryption_key and isinstance(copies.get("cache"), str):
        try:
            salt = base64.urlsafe_b64decode(str(document.get("salt", "")).encode("ascii"))
        except (ValueError, UnicodeEncodeError, binascii.Error):
            salt = b""
        if len(salt) == _SALT_BYTES:
            secret = open_envelope(copies["cache"].encode("ascii", "replace"),
                                   _cache_copy_key(encryption_key, salt), name)
    if secret is None or not isinstance(secret.get("token"), str):
        return None
    meta = record_metadata(raw)
    options = secret.get("options") if isinstance(secret.get("options"), dict) else {}
    if not isinstance(meta["host"], str):
        return None
    return {"vendor": meta["vendor"], "host": meta["host"], "token": secret["token"], "options": options,
            "expires_at": meta["expires_at"]}


def remember(spool: str, vendor: str, host: str, token: str, params: dict, *, expires_at=None,
             obtained_at=None) -> None:
    """Note one token to revoke at the end (0600, sealed, written whole or not at all)."""
    if _RUN_KEY is None:
        raise OptionError(f"revoke_at_end=true: the callback {CALLBACK} did not start this run's spool in this "
                          "process; run the playbook with ansible-playbook and the callback enabled.")
    options = {name: params.get(name) for name in CONNECTION_OPTIONS if params.get(name) is not None}
    raw = seal_record(vendor=vendor, host=host, token=token, options=options, expires_at=expires_at,
                      obtained_at=obtained_at if obtained_at is not None else time.time(), run_key=_RUN_KEY,
                      encryption_key=params.get("cache_encryption_key") or None)
    pending = os.path.join(spool, "pending")
    dir_fd = open_private_dir(pending, "The revoke spool directory", OptionError)
    try:
        atomic_write(fingerprint(token, 32).replace(":", "-") + ".json", raw, dir_fd=dir_fd)
    except OSError as exc:
        raise OptionError(f"Cannot note the token for revocation in {pending}: {exc.strerror or exc}.") from None
    finally:
        os.close(dir_fd)


def pending_entries(spool: str, *, run_key: bytes | None = None, encryption_key: str | None = None) -> list:
    """The tokens noted so far that these keys open, as (path, entry) pairs; others are skipped.

    Without keys given, this run's key.
    """
    pending = os.path.join(spool, "pending")
    entries = []
    if private_dir_problem(pending) is not None:
        return entries  # a directory someone else could have filled: nothing in it is trusted
    try:
        names = sorted(os.listdir(pending))
    except OSError:
        return entries
    for name in names:
        if not name.endswith(".json"):
            continue
        path = os.path.join(pending, name)
        raw = read_private_file(path, _MAX_RECORD_BYTES)
        entry = None if raw is None else open_record(raw, run_key=run_key or _RUN_KEY, encryption_key=encryption_key)
        if entry is not None:
            entries.append((path, entry))
    return entries


# -- killed runs ----------------------------------------------------------------------


class SweepReport:
    """What ``sweep_stale`` did, for the callback's one line."""

    def __init__(self) -> None:
        self.revoked = 0
        self.already_invalid = 0
        self.expired = 0
        self.kept = 0
        self.spools_removed = 0
        self.failures: list = []  # (token fingerprint, host, message)

    def __bool__(self) -> bool:
        return bool(self.revoked or self.already_invalid or self.expired or self.kept or self.spools_removed
                    or self.failures)


def sweep_stale(base: str, *, own: str | None, encryption_key: str | None, revoke, now: float | None = None,
                report: SweepReport | None = None) -> SweepReport:
    """Revoke or expire the records of spools under ``base`` that no live run holds; see the module docstring.

    ``revoke(entry)`` revokes one opened record: True when revoked, False when
    it was already invalid; an ApiAuthError or OSError keeps the record.
    """
    report = report or SweepReport()
    now = time.time() if now is None else now
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return report
    for name in names:
        path = os.path.join(base, name)
        if not name.startswith(PREFIX) or (own is not None and os.path.abspath(path) == os.path.abspath(own)):
            continue
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            continue  # not a spool this user made: none of our business
        try:
            fd = hold(path)
        except OSError:
            continue  # a live run holds it (EWOULDBLOCK), or it cannot be opened: not ours to judge
        try:
            _sweep_spool(path, info, encryption_key, revoke, now, report)
        finally:
            os.close(fd)
    return report


def _sweep_spool(path: str, info, encryption_key, revoke, now: float, report: SweepReport) -> None:
    pending = os.path.join(path, "pending")
    left = sealed = 0
    try:
        names = sorted(os.listdir(pending))
    except OSError:
        names = []
    for name in names:
        record_path = os.path.join(pending, name)
        try:
            age = now - os.lstat(record_path).st_mtime
        except OSError:
            continue
        raw = read_private_file(record_path, _MAX_RECORD_BYTES)
        meta = record_metadata(raw)
        if meta is None:
            # A clear record of an earlier version, damage, or a temporary file of a
            # killed write: kept a day (an hour for a temporary file), in case an
            # earlier version's run, which holds no lock, is alive and writing.
            if age > STALE_AGE or (name.startswith(".entry-") and age > _STALE_TMP):
                unlink_quietly(record_path)
            else:
                left += 1
            continue
        sealed += 1
        if _keep_or_drop(record_path, raw, meta, age, encryption_key, revoke, now, report):
            left += 1
    if left == 0 and (sealed or now - info.st_mtime > STALE_AGE):
        shutil.rmtree(path, ignore_errors=True)
        report.spools_removed += 1


def _keep_or_drop(record_path, raw, meta, age, encryption_key, revoke, now, report) -> bool:
    """Deal with one sealed record of a dead run; True when it stays."""
    expires_at = meta["expires_at"]
    if (expires_at is not None and now > expires_at + EXPIRY_GRACE) or (expires_at is None and age > STALE_AGE):
        unlink_quietly(record_path)
        report.expired += 1
        return False
    entry = open_record(raw, encryption_key=encryption_key) if encryption_key else None
    if entry is None:
        report.kept += 1
        return True
    try:
        if revoke(entry):
            report.revoked += 1
        else:
            report.already_invalid += 1
    except (ApiAuthError, OSError) as exc:
        report.failures.append((meta["token_fp"], meta["host"], Redactor([entry["token"]]).redact(str(exc))))
        report.kept += 1
        return True
    unlink_quietly(record_path)
    return False
