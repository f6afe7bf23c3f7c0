# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File I/O for every place the collection keeps a secret on the controller.

Internal to the collection: no stability promise to code outside it.

The token cache, the recovery files, the hand-off records of writes that make
a secret and the revoke spool all keep secrets in files. They share these
rules, kept here once so no caller can forget one:

- A directory that holds secrets belongs to this user, has no group or other
  permission bits (0700) and is not a symbolic link. A missing one is created
  0700, component by component, never through a link planted in its place.
- Files are opened with ``O_NOFOLLOW``: a link planted where a secret is read
  or written is refused, never followed.
- A file is read only when it is a regular file, checked on the open
  descriptor (``open_regular``). It is opened with ``O_NONBLOCK``, so a FIFO,
  a terminal or a socket found at the path is refused at once instead of
  blocking the run until someone writes to it.
- A file is written whole or not at all: to a new 0600 temporary file in the
  same directory (``O_EXCL``), fsynced, renamed into place, and the directory
  is fsynced.
- Single flight between processes uses an exclusive ``flock`` on a lock file.
  The kernel drops the lock with its holder, so a killed process never blocks
  the others; a lock file removed while someone waited on it is taken again.
"""

from __future__ import annotations

import binascii
import errno
import fcntl
import os
import stat
import time
from collections.abc import Callable

from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, LockTimeout, UnsafePathError

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
TMP_SUFFIX = ".tmp"


class NotRegularFileError(OSError):
    """The path names a directory, a FIFO, a device or a socket: nothing this collection reads."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file", path)


def open_regular(path: str, *, follow_links: bool = True) -> int:
    """A read-only descriptor on the regular file at ``path``; OSError (NotRegularFileError included) otherwise.

    ``O_NONBLOCK`` keeps ``open`` itself from waiting: on a FIFO it would block
    until a writer came, and a run would hang with no message. It changes
    nothing for a regular file. The type is checked on the descriptor, not on
    the name, so a swap between a check and the open cannot slip past.
    ``follow_links`` is false for the collection's own files (cache, recovery):
    a link there is refused (ELOOP).
    """
    flags = os.O_RDONLY | O_CLOEXEC | O_NONBLOCK | (0 if follow_links else O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise NotRegularFileError(path)
    return fd


def fsync_dir(path: str) -> None:
    """Make a rename or a new file in ``path`` durable across a crash."""
    fd = os.open(path, os.O_RDONLY | O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def open_nofollow(path: str, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that refuses a symbolic link at ``path`` (ELOOP) and leaks no descriptor to children."""
    return os.open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode)


def _info_problem(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory"
    if info.st_uid != os.geteuid():
        return f"belongs to another user (uid {info.st_uid})"
    if stat.S_IMODE(info.st_mode) & 0o077:
        return f"is open to other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def private_dir_problem(path: str) -> str | None:
    """Why ``path`` may not hold secrets (a sentence), or None when it is a private directory of ours.

    ``lstat``, not ``stat``: a link to a directory, even a private one, is refused,
    since whoever can replace the link can redirect the secrets.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "does not exist"
    except OSError as err:
        return f"cannot be examined ({err.strerror or type(err).__name__})"
    return _info_problem(info)


def check_private_dir(path: str, label: str, error: type = UnsafePathError) -> None:
    """Raise ``error`` naming ``label`` unless ``path`` is a private directory of this user (see above)."""
    problem = private_dir_problem(path)
    if problem is not None:
        raise _dir_error(path, label, problem, error)


def _dir_error(path: str, label: str, problem: str, error: type) -> ApiAuthError:
    if problem.startswith("is open to other users"):
        hint = f"Secrets must be private: run 'chmod 700 {path}'."
    elif problem == "does not exist":
        hint = f"Create it with mode 0700 ('mkdir -m 700 {path}')."
    else:
        hint = "Use a real directory (not a link) that you own, with mode 0700."
    return error(f"{label} {path} {problem}.", hint=hint)


def open_private_dir(path: str, label: str, error: type = UnsafePathError) -> int:
    """A descriptor of the private directory ``path`` (no link followed), checked as ``check_private_dir`` does.

    Files created relative to it (``dir_fd``) land in the directory that was
    checked, even if its name is swapped for a link afterwards.
    """
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        check_private_dir(path, label, error)  # says what is wrong with it
        raise error(f"{label} {path} cannot be opened.", hint="Use a directory you own, with mode 0700.") from None
    problem = _info_problem(os.fstat(fd))
    if problem is not None:
        os.close(fd)
        raise _dir_error(path, label, problem, error)
    return fd


def ensure_private_dir(path: str, label: str, error: type = UnsafePathError) -> None:
    """Create ``path`` (and missing parents) with mode 0700, then check it as ``check_private_dir`` does.

    Only the components created here get mode 0700; existing parents are left
    alone. ``mkdir`` never follows a link at the name it creates, and the
    result is checked with ``lstat``, so a link planted at ``path`` (before or
    during the creation) is refused, never chmod'ed or written through.
    """
    missing = []
    current = path
    while not os.path.lexists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for component in reversed(missing):
        try:
            os.mkdir(component, 0o700)
        except FileExistsError:
            continue  # another process was quicker; the check below judges the result
        except OSError as err:
            raise error(f"Cannot create {label} {component}: {err.strerror or type(err).__name__}.",
                        hint="Create it with mode 0700, or point the option at a writable directory.") from None
        try:
            # Through a descriptor opened without following links: the umask may
            # have taken bits off, and a name swapped for a link meanwhile is not chmod'ed.
            fd = os.open(component, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            continue  # check_private_dir says what is wrong
        try:
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.fchmod(fd, 0o700)
        except OSError:
            pass
        finally:
            os.close(fd)
    check_private_dir(path, label, error)


def write_new_tmp(directory: str, name: str, data: bytes, *, dir_fd: int | None = None) -> str:
    """Write ``data`` to a new 0600 file beside ``name`` (``O_EXCL``, no links), fsynced; return its path.

    With ``dir_fd`` the file is created in that directory and the path returned
    is relative to it. OSError propagates, after the temporary file is removed.
    """
    tmp_name = f".{name}.{os.getpid()}.{binascii.hexlify(os.urandom(6)).decode()}{TMP_SUFFIX}"
    tmp = tmp_name if dir_fd is not None else os.path.join(directory, tmp_name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600, dir_fd=dir_fd)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_at(tmp, dir_fd)
        raise
    os.close(fd)
    return tmp


def _unlink_at(path: str, dir_fd: int | None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except OSError:
        pass


def atomic_write(path: str, data: bytes, *, dir_fd: int | None = None,
                 before_rename: Callable[[str], None] | None = None) -> None:
    """Replace ``path`` with ``data``, whole or not at all (0600 temporary file, fsync, rename, fsync of the dir).

    ``os.replace`` renames over a link at ``path`` instead of writing through
    it. With ``dir_fd``, ``path`` is a name in that directory. OSError
    propagates; no temporary file is left behind.

    ``before_rename`` gets the temporary file's path while no one else can see
    it: its owner and mode are set there, so the file never shows its content
    with the wrong ones, and a check of the content can refuse it. Whatever it
    raises propagates, and the old file stays as it was.
    """
    directory, name = os.path.split(path)
    if dir_fd is not None and directory:
        raise ValueError("with dir_fd, path must be a bare file name")
    tmp = write_new_tmp(directory, name, data, dir_fd=dir_fd)
    try:
        if before_rename is not None:
            before_rename(tmp)
        os.replace(tmp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_at(tmp, dir_fd)
        raise
    try:
        if dir_fd is not None:
            os.fsync(dir_fd)
        else:
            fsync_dir(directory or ".")
    except OSError:
        pass  # the file is in place; only its durability across a crash is at stake


def read_private_file(path: str, limit: int) -> bytes | None:
    """The bytes of a regular 0600-style file of ours at ``path`` (no links), or None when absent or unusable.

    None also for a file longer than ``limit``, of another user, or open to
    others: nothing read from there can be trusted to be ours.
    """
    try:
        fd = open_regular(path, follow_links=False)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            return None
        return read_limited(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_limited(fd: int, limit: int) -> bytes | None:
    """All bytes from ``fd``, or None once there are more than ``limit`` (a file that is not ours to parse)."""
    chunks = []
    total = 0
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)


def lock_exclusive(path: str, timeout: float, *, on_wait=None) -> tuple:
    """Hold an exclusive ``flock`` on ``path`` (created 0600, no links); returns ``(fd, waited)``.

    ``waited`` says whether another process held the lock when this one first
    tried. ``on_wait()`` is called once, then, if given. Raises LockTimeout
    after ``timeout`` seconds of waiting, OSError when the file cannot be
    opened. Closing ``fd`` releases the lock. A lock file removed (by a
    cleanup) while this process waited on it is opened and locked again, since
    a lock on an unlinked file would protect nothing.
    """
    deadline = time.monotonic() + timeout
    delay = 0.002
    waited = False
    while True:
        fd = open_nofollow(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as err:
                    if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                if not waited:
                    waited = True
                    if on_wait is not None:
                        on_wait()
                if time.monotonic() >= deadline:
                    raise LockTimeout(path)
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
            held = os.fstat(fd)
            try:
                now = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                return fd, waited
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
