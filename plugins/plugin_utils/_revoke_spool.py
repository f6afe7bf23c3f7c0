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
import tempfile

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError, fingerprint
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import (
    atomic_write,
    ensure_private_dir,
    open_private_dir,
    private_dir_problem,
    read_private_file,
)

ENV_NAME = "APIAUTH_SAAS_REVOKE_DIR"
CALLBACK = "apiauth.saas.revoke_at_end"
# What revoking needs besides the host and the token.
CONNECTION_OPTIONS = ("validate_certs", "ca_path", "client_cert", "client_key", "proxy", "timeout", "retries",
                      "allow_http")


def create() -> str:
    """A new private spool directory for one run."""
    path = tempfile.mkdtemp(prefix="apiauth-saas-revoke-")
    ensure_private_dir(os.path.join(path, "pending"), "The revoke spool directory", OptionError)
    return path


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


def remember(spool: str, vendor: str, host: str, token: str, params: dict) -> None:
    """Note one token to revoke at the end (0600, written whole or not at all)."""
    entry = {"vendor": vendor, "host": host, "token": token,
             "options": {name: params.get(name) for name in CONNECTION_OPTIONS if params.get(name) is not None}}
    pending = os.path.join(spool, "pending")
    data = json.dumps(entry).encode("utf-8")
    dir_fd = open_private_dir(pending, "The revoke spool directory", OptionError)
    try:
        atomic_write(fingerprint(token, 32).replace(":", "-") + ".json", data, dir_fd=dir_fd)
    except OSError as exc:
        raise OptionError(f"Cannot note the token for revocation in {pending}: {exc.strerror or exc}.") from None
    finally:
        os.close(dir_fd)


def pending_entries(spool: str) -> list:
    """The tokens noted so far, as (path, entry) pairs; unreadable files are skipped."""
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
        raw = read_private_file(path, 1024 * 1024)
        if raw is None:
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("token"), str) and isinstance(entry.get("host"), str):
            entries.append((path, entry))
    return entries
