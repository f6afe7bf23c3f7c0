# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recovery files: a generated secret is on disk before anything else can fail.

Internal to the collection: no stability promise to code outside it.

Vendors such as THRIVE and ThoughtTrace show a generated key or secret once.
If a later step of the play fails (the secrets store is down, a template has a
typo), the secret would be lost and a second one would have to be generated.
So a module that receives one writes it here first, mode 0600, atomically,
and only then returns.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile

from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import _fsync_dir, _unlink_quietly


class RecoveryFileError(ApiAuthError):
    """The recovery file could not be written; the message says where the secret is safe, if anywhere."""


def write_recovery_file(path: str, record: dict) -> str:
    """Write ``record`` as JSON to ``path`` (0600, atomic replace); return the absolute path.

    The directory must exist: creating directories for a secret silently, with
    whatever mode, would hide a wrong path until it mattered.
    """
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise RecoveryFileError(f"The directory of recovery_file {path} does not exist; create it (mode 0700).")
    payload = dict(record, written_at=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    fd, tmp = tempfile.mkstemp(prefix=".recovery-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise RecoveryFileError(f"Cannot write recovery_file {path}: {exc.strerror or exc}.") from None
    try:
        _fsync_dir(directory)
    except OSError:
        pass  # the file is in place; only its durability across a crash is at stake
    return path
