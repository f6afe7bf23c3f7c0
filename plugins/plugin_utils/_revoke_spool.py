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
directory. The token is written to disk there exactly as the token cache
writes it (a 0600 file in a 0700 directory); if the controller dies before
the end, the directory stays until the tokens expire on their own.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError, fingerprint
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import _fsync_dir, _unlink_quietly

ENV_NAME = "APIAUTH_SAAS_REVOKE_DIR"
CALLBACK = "apiauth.saas.revoke_at_end"
# What revoking needs besides the host and the token.
CONNECTION_OPTIONS = ("validate_certs", "ca_path", "client_cert", "client_key", "proxy", "timeout", "retries",
                      "allow_http")


def create() -> str:
    """A new private spool directory for one run."""
    path = tempfile.mkdtemp(prefix="apiauth-saas-revoke-")
    os.mkdir(os.path.join(path, "pending"), 0o700)
    return path


def current() -> str:
    """The spool directory of this run; an OptionError that says how to enable it when there is none."""
    path = os.environ.get(ENV_NAME)
    if not path:
        raise OptionError(
            f"revoke_at_end=true needs the callback {CALLBACK}: enable it with callbacks_enabled = {CALLBACK} "
            "in the [defaults] section of ansible.cfg, or ANSIBLE_CALLBACKS_ENABLED, and run ansible-playbook."
        )
    try:
        info = os.lstat(path)
    except OSError:
        raise OptionError(f"{ENV_NAME} names {path}, which does not exist: was the run started by "
                          f"ansible-playbook with the callback {CALLBACK}?") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OptionError(f"{ENV_NAME} names {path}, which is not a private directory of this user (0700).")
    return path


def cache_dir(spool: str) -> str:
    return os.path.join(spool, "cache")


def remember(spool: str, vendor: str, host: str, token: str, params: dict) -> None:
    """Note one token to revoke at the end (0600, written whole or not at all)."""
    entry = {"vendor": vendor, "host": host, "token": token,
             "options": {name: params.get(name) for name in CONNECTION_OPTIONS if params.get(name) is not None}}
    pending = os.path.join(spool, "pending")
    fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=pending)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(entry, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, os.path.join(pending, fingerprint(token, 32).replace(":", "-") + ".json"))
        _fsync_dir(pending)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise OptionError(f"Cannot note the token for revocation in {pending}: {exc.strerror or exc}.") from None


def pending_entries(spool: str) -> list:
    """The tokens noted so far, as (path, entry) pairs; unreadable files are skipped."""
    pending = os.path.join(spool, "pending")
    entries = []
    try:
        names = sorted(os.listdir(pending))
    except OSError:
        return entries
    for name in names:
        if not name.endswith(".json"):
            continue
        path = os.path.join(pending, name)
        try:
            with open(path, encoding="utf-8") as handle:
                entry = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("token"), str) and isinstance(entry.get("host"), str):
            entries.append((path, entry))
    return entries
