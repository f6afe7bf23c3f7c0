# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of key and certificate files: a bounded read, and the choice of a PEM block.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: the TLS client certificate check, the signing key
loader, the certificate report and the cache identity all read files the user
names; each read them its own way, one without any bound. Here a file is read
the same way for all of them, never more than ``limit + 1`` bytes (so a
caller can tell "too large" from "exactly at the limit"), and the caller keeps
its own messages, which name its own option. Links are followed: these paths
are the user's own choice (a mounted secret is often a link), unlike the
cache's files. Only a regular file is read (``_fileio.open_regular``): a FIFO
or a device given by mistake fails at once with "not a regular file" instead
of hanging the run.
"""

from __future__ import annotations

import os
import re

from ansible_collections.apiauth.saas.plugins.module_utils._fileio import open_regular

# A key or certificate file is a few kilobytes; a chain a few more.
MAX_MATERIAL_BYTES = 1024 * 1024

_PEM_BLOCKS = {
    "CERTIFICATE": re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S),
}


def read_material(path: str, limit: int = MAX_MATERIAL_BYTES) -> bytes:
    """At most ``limit + 1`` bytes of the regular file at ``path``; OSError as raised (NotRegularFileError for
    a directory, a FIFO or a device)."""
    with os.fdopen(open_regular(path), "rb") as handle:
        return handle.read(limit + 1)


def first_pem_block(data: bytes, label: str) -> bytes | None:
    """The first ``-----BEGIN <label>-----`` ... ``-----END <label>-----`` block of ``data``, or None."""
    pattern = _PEM_BLOCKS.get(label)
    if pattern is None:
        pattern = re.compile(rb"-----BEGIN " + re.escape(label.encode("ascii")) + rb"-----.+?-----END "
                             + re.escape(label.encode("ascii")) + rb"-----", re.S)
    match = pattern.search(data)
    return match.group(0) if match else None
