# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recovery files: a generated secret is on disk before anything else can fail.

Internal to the collection: no stability promise to code outside it.

Vendors such as THRIVE and ThoughtTrace show a generated key or secret once.
If a later step of the play fails (the secrets store is down, a template has a
typo), the secret would be lost and a second one would have to be generated.
So a module that receives one writes it here first, mode 0600, atomically,
and only then judges the rest of the answer.

Before such a module asks a vendor to make anything, ``check_recovery_file``
proves the file can be written (its directory exists, is ours and private,
the name is not a link, a file can be created there), so a wrong path stops
the task while nothing exists yet. If writing still fails afterwards (a full
disk, the directory swapped meanwhile), the secret goes to a private fallback
directory, or, failing that, into the failed task's censored result.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
import time

from ansible_collections.apiauth.saas.plugins.module_utils._errors import RecoveryFileError
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import (
    atomic_write,
    ensure_private_dir,
    open_private_dir,
    write_new_tmp,
)

DIR_LABEL = "The directory of recovery_file"
FALLBACK_LABEL = "The fallback recovery directory (beside cache_dir)"


def _absolute(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path))


def _check_name(dir_fd: int, name: str, path: str) -> None:
    """The destination may be absent or a regular file of ours; never a link, which could send the secret elsewhere."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise RecoveryFileError(f"recovery_file {path} is a symbolic link; a secret is never written through one.",
                                hint="Remove the link or give recovery_file another path.")
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        raise RecoveryFileError(f"recovery_file {path} exists and is not a regular file of yours.",
                                hint="Remove it or give recovery_file another path.")


def check_recovery_file(path: str, label: str = DIR_LABEL) -> str:
    """Prove, before anything is made, that ``path`` can take a secret; return it absolute.

    Raises RecoveryFileError naming the option when the directory is missing,
    not a private directory of ours, the name is a link, or no file can be
    created there (read-only, no space for an inode...).
    """
    path = _absolute(path)
    directory, name = os.path.split(path)
    if not name:
        raise RecoveryFileError(f"recovery_file {path} names a directory; give a file path.")
    dir_fd = open_private_dir(directory, label, RecoveryFileError)
    try:
        _check_name(dir_fd, name, path)
        try:
            probe = write_new_tmp(directory, name, b"{}\n", dir_fd=dir_fd)
            os.unlink(probe, dir_fd=dir_fd)
        except OSError as exc:
            raise RecoveryFileError(f"Cannot write recovery_file {path}: {exc.strerror or exc}; nothing was sent.",
                                    hint="Point recovery_file at a writable private directory.") from None
    finally:
        os.close(dir_fd)
    return path


def write_recovery_file(path: str, record: dict, label: str = DIR_LABEL) -> str:
    """Write ``record`` as JSON to ``path`` (0600, atomic replace); return the absolute path.

    The directory must exist and be private: creating directories for a secret
    silently, with whatever mode, would hide a wrong path until it mattered.
    The directory is opened without following links and the file is written
    relative to that descriptor, so the checks hold for the write itself.
    """
    path = _absolute(path)
    directory, name = os.path.split(path)
    payload = dict(record, written_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    data = (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode("utf-8")
    dir_fd = open_private_dir(directory, label, RecoveryFileError)
    try:
        _check_name(dir_fd, name, path)
        atomic_write(name, data, dir_fd=dir_fd)
    except OSError as exc:
        raise RecoveryFileError(f"Cannot write recovery_file {path}: {exc.strerror or exc}.") from None
    finally:
        os.close(dir_fd)
    return path


def fallback_directory(cache_dir: str | None) -> str:
    """``<cache_dir>/../recovery``, created 0700 and checked like the cache directory itself."""
    # Imported here: _cache_files imports nothing from this module, but keep the dependency one way.
    from ansible_collections.apiauth.saas.plugins.module_utils._cache_files import (  # pylint: disable=import-outside-toplevel
        default_cache_dir,
    )

    cache_dir = _absolute((cache_dir or default_cache_dir()).rstrip("/") or "/")
    directory = os.path.join(os.path.dirname(cache_dir), "recovery")
    ensure_private_dir(directory, FALLBACK_LABEL, RecoveryFileError)
    return directory


def write_fallback(stem: str, record: dict, cache_dir: str | None) -> str:
    """Write ``record`` to a new private file in the fallback directory; return its path."""
    directory = fallback_directory(cache_dir)
    return write_recovery_file(os.path.join(directory, f"{stem}-{int(time.time())}-{os.urandom(3).hex()}.json"), record, FALLBACK_LABEL)
