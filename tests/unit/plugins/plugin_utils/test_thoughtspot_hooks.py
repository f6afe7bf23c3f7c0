# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/_thoughtspot.revoke_at_end_hooks: which tasks use the run's spool, and what they note there.

A real spool is made as the callback makes it (start_run) and read back as
the callback reads it (pending_entries); nothing of the spool is replaced.
"""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError
from ansible_collections.apiauth.saas.plugins.plugin_utils import _revoke_spool as spool
from ansible_collections.apiauth.saas.plugins.plugin_utils._thoughtspot import revoke_at_end_hooks

TOKEN = "ts-token-" + "t" * 40
PARAMS = {"host": "https://analytics.example.invalid/", "username": "embed", "secret_key": "k" * 36,
          "revoke_at_end": True, "ca_path": "/etc/ssl/ca.pem", "timeout": 7}


@pytest.fixture
def run_spool(monkeypatch):
    """A spool as the callback makes it when a run starts, named in the environment the tasks read."""
    directory, lock_fd = spool.start_run()
    monkeypatch.setenv(spool.ENV_NAME, directory)
    yield directory
    os.close(lock_fd)
    spool.end_run()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("params", [dict(PARAMS, revoke_at_end=False), {"host": "https://x.invalid"},
                                    dict(PARAMS, state="absent")])
def test_tasks_that_do_not_ask_use_no_spool(monkeypatch, params):
    monkeypatch.delenv(spool.ENV_NAME, raising=False)
    assert revoke_at_end_hooks(params) == (None, None)


def test_asking_without_the_callback_says_how_to_enable_it(monkeypatch):
    monkeypatch.delenv(spool.ENV_NAME, raising=False)
    with pytest.raises(OptionError, match="callbacks_enabled = apiauth.saas.revoke_at_end"):
        revoke_at_end_hooks(dict(PARAMS))


def test_a_new_token_is_noted_sealed_in_the_run_spool(run_spool):
    cache_dir, on_new_token = revoke_at_end_hooks(dict(PARAMS))
    assert cache_dir == os.path.join(run_spool, "cache")
    assert spool.pending_entries(run_spool) == [], "nothing noted before a token is got"
    on_new_token({"access_token": TOKEN, "expires_at": 4102444800, "obtained_at": 4102441200})
    entries = spool.pending_entries(run_spool)
    assert len(entries) == 1
    path, entry = entries[0]
    assert entry["token"] == TOKEN and entry["host"] == "https://analytics.example.invalid"
    # What revoking needs goes with it; the secret the token was got with does not.
    assert entry["options"].get("ca_path") == "/etc/ssl/ca.pem" and "secret_key" not in entry["options"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    on_disk = b"".join(open(os.path.join(root, name), "rb").read()
                       for root, _dirs, files in os.walk(run_spool) for name in files)
    assert TOKEN.encode() not in on_disk and PARAMS["secret_key"].encode() not in on_disk


pytestmark = [
    pytest.mark.thoughtspot_token,
    pytest.mark.revoke_at_end,
]
