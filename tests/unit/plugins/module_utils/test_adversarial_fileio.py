# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directories that hold secrets, links planted in them, and the single flight of writes that make a secret.

Real files, real links, real processes holding real locks. Each attack has a
positive control: the link or foreign directory is there when the code runs,
the lock was really held by another process, the record really was damaged.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import stat
import time

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _thrive_apikey as tk
from ansible_collections.apiauth.saas.plugins.module_utils._errors import CacheError, OptionError, Progress
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import atomic_write, ensure_private_dir
from ansible_collections.apiauth.saas.plugins.module_utils import _recovery
from ansible_collections.apiauth.saas.plugins.module_utils._recovery import RecoveryFileError, write_recovery_file
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
from ansible_collections.apiauth.saas.plugins.plugin_utils import _revoke_spool as spool

KEY = "K7" * 24


class _LazyModule:
    """_write_flight, imported when a test first uses it (the directory tests need only the other modules)."""

    def __getattr__(self, name):
        from ansible_collections.apiauth.saas.plugins.module_utils import (  # pylint: disable=import-outside-toplevel
            _write_flight,
        )

        return getattr(_write_flight, name)


wf = _LazyModule()
RECORD = {"tenant_id": "t1", "api_key": KEY}
TARGET = {"write": "test", "tenant_id": "t1"}


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _decoy(tmp_path, name="decoy"):
    decoy = tmp_path / name
    decoy.mkdir()
    decoy.chmod(0o755)
    return decoy


# -- planted links and loose directories ------------------------------------------------------


def test_fallback_recovery_directory_planted_as_a_link_is_refused(tmp_path):
    cache_dir = tmp_path / "cache" / "tokens"
    cache_dir.parent.mkdir(mode=0o700)
    decoy = _decoy(tmp_path)
    (cache_dir.parent / "recovery").symlink_to(decoy)
    assert os.path.islink(cache_dir.parent / "recovery")  # positive control: the link is where the fallback goes
    params = {"recovery_file": str(tmp_path / "missing" / "key.json"), "cache_dir": str(cache_dir)}
    with pytest.raises(RecoveryFileError) as caught:
        tk.save_key(params, RECORD)
    assert "fallback recovery directory" in str(caught.value) and "symbolic link" in str(caught.value)
    assert KEY not in str(caught.value)
    assert _mode(decoy) == 0o755 and not list(decoy.iterdir()), "the link's target is neither chmod'ed nor written"


def test_token_cache_directory_that_is_a_link_is_refused(tmp_path):
    target = tmp_path / "real"
    target.mkdir(mode=0o700)
    link = tmp_path / "tokens"
    link.symlink_to(target)
    with pytest.raises(CacheError, match="symbolic link"):
        TokenCache(cache_dir=str(link)).get_or_fetch({"v": "x"}, ["s"], lambda: ({"access_token": "t"}, None))
    assert os.path.islink(link) and not list(target.iterdir())


def test_ensure_private_dir_creates_0700_and_never_chmods_a_link(tmp_path):
    made = tmp_path / "a" / "b"
    ensure_private_dir(str(made), "The test directory")
    assert _mode(made) == 0o700 and _mode(made.parent) == 0o700
    decoy = _decoy(tmp_path)
    (tmp_path / "c").symlink_to(decoy)
    with pytest.raises(Exception, match="symbolic link"):
        ensure_private_dir(str(tmp_path / "c"), "The test directory")
    assert _mode(decoy) == 0o755


def test_recovery_file_that_is_a_link_or_in_a_loose_directory_is_refused(tmp_path):
    decoy = tmp_path / "decoy.json"
    decoy.write_text("{}")
    link = tmp_path / "key.json"
    link.symlink_to(decoy)
    for call in (lambda: _recovery.check_recovery_file(str(link)), lambda: write_recovery_file(str(link), RECORD)):
        assert os.path.islink(link)
        with pytest.raises(RecoveryFileError, match="symbolic link"):
            call()
    assert decoy.read_text() == "{}"
    loose = _decoy(tmp_path, "loose")
    with pytest.raises(RecoveryFileError, match="open to other users"):
        _recovery.check_recovery_file(str(loose / "key.json"))
    with pytest.raises(RecoveryFileError, match="open to other users"):
        write_recovery_file(str(loose / "key.json"), RECORD)
    assert not list(loose.iterdir())
    linked_dir = tmp_path / "linked-dir"
    linked_dir.symlink_to(tmp_path / "private", target_is_directory=True)
    (tmp_path / "private").mkdir(mode=0o700)
    with pytest.raises(RecoveryFileError, match="symbolic link"):
        write_recovery_file(str(linked_dir / "key.json"), RECORD)
    assert not list((tmp_path / "private").iterdir())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory away")
def test_recovery_directory_of_another_user_is_refused(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    assert os.stat(foreign).st_uid == 65534
    with pytest.raises(RecoveryFileError, match="another user"):
        _recovery.check_recovery_file(str(foreign / "key.json"))
    with pytest.raises(RecoveryFileError, match="another user"):
        write_recovery_file(str(foreign / "key.json"), RECORD)
    assert not list(foreign.iterdir())


def test_write_relative_to_a_checked_directory_ignores_a_swap(tmp_path):
    """The directory is opened once; a link put in its place afterwards does not receive the file."""
    directory = tmp_path / "dir"
    directory.mkdir(mode=0o700)
    decoy = _decoy(tmp_path)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.rename(directory, tmp_path / "moved")
        directory.symlink_to(decoy)
        assert os.path.islink(directory)
        atomic_write("key.json", b"secret", dir_fd=fd)
    finally:
        os.close(fd)
    assert (tmp_path / "moved" / "key.json").read_bytes() == b"secret" and not list(decoy.iterdir())
    assert _mode(tmp_path / "moved" / "key.json") == 0o600


def test_before_rename_sees_the_new_content_alone_and_a_refusal_keeps_the_old_file(tmp_path):
    """The hook runs on the temporary file while the old file is still in place; what it raises keeps the old file."""
    target = tmp_path / "app.env"
    target.write_bytes(b"old")
    seen = []

    def inspect(tmp):
        seen.append((open(tmp, "rb").read(), _mode(tmp), target.read_bytes()))
        os.chmod(tmp, 0o640)

    atomic_write(str(target), b"new", before_rename=inspect)
    # Control: the hook ran on the new content before the rename, and what it set is what landed.
    assert seen == [(b"new", 0o600, b"old")] and target.read_bytes() == b"new" and _mode(target) == 0o640

    def refuse(tmp):
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        atomic_write(str(target), b"newer", before_rename=refuse)
    assert target.read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == ["app.env"]


def test_revoke_spool_refuses_a_linked_pending_directory(tmp_path, monkeypatch):
    path, held = spool.start_run()  # as the callback starts a run: a spool and its run key
    try:
        assert _mode(path) == 0o700 and _mode(os.path.join(path, "pending")) == 0o700
        decoy = _decoy(tmp_path)
        (decoy / "planted.json").write_text(json.dumps({"token": "t" * 30, "host": "https://evil.example"}))
        os.rmdir(os.path.join(path, "pending"))
        os.symlink(decoy, os.path.join(path, "pending"))
        monkeypatch.setenv(spool.ENV_NAME, path)
        with pytest.raises(OptionError, match="symbolic link"):
            spool.current()
        with pytest.raises(OptionError, match="symbolic link"):
            spool.remember(path, "thoughtspot", "https://ts.example", "tok" * 12, {})
        assert sorted(os.listdir(decoy)) == ["planted.json"], "nothing written through the link"
        assert spool.pending_entries(path) == [], "nothing read through the link"
    finally:
        import shutil  # pylint: disable=import-outside-toplevel

        os.close(held)
        spool.end_run()
        shutil.rmtree(path, ignore_errors=True)


def test_revoke_spool_skips_a_planted_entry_link(tmp_path):
    path, held = spool.start_run()  # as the callback starts a run: a spool and its run key
    try:
        spool.remember(path, "thoughtspot", "https://ts.example", "real-token-" * 4, {})
        outside = tmp_path / "outside.json"
        outside.write_text(json.dumps({"token": "planted" * 6, "host": "https://evil.example"}))
        os.symlink(outside, os.path.join(path, "pending", "planted.json"))
        entries = spool.pending_entries(path)
        assert [entry["host"] for _path, entry in entries] == ["https://ts.example"]
        assert all(_mode(p) == 0o600 for p, _entry in entries)
    finally:
        import shutil  # pylint: disable=import-outside-toplevel

        os.close(held)
        spool.end_run()
        shutil.rmtree(path, ignore_errors=True)


# -- single flight of writes, across real processes ---------------------------------------------


def _holder(params, ready, release, secret, mode):
    """Child process: hold the flight, then leave a record (or damage it, or die holding the lock)."""
    with wf.WriteFlight(params, TARGET, what="test key") as flight:
        ready.set()
        release.wait(30)
        if mode == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.3)
        flight.hand_off({"api_key": secret})
        if mode == "damage":
            data = bytearray(open(flight.handoff_path, "rb").read())  # pylint: disable=consider-using-with
            data[-5] ^= 0x01
            with open(flight.handoff_path, "wb") as handle:
                handle.write(bytes(data))


def _contend(params_holder, params_waiter, mode="ok"):
    """A child takes the flight first; this process enters it while the child holds it.

    The child goes on only when this process says it waits for the lock (its first progress note), so
    the child can never finish, or die, before this process has tried the lock, however loaded the machine.
    """
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()

    def show(_level, text):
        if text.startswith("waiting for another"):
            release.set()

    # Started before the holder's record.
    waiter = wf.WriteFlight(params_waiter, TARGET, what="test key", progress=Progress(show, verbosity=1))
    child = context.Process(target=_holder, args=(params_holder, ready, release, KEY, mode))
    child.start()
    try:
        assert ready.wait(30), "the child took the lock"
        with waiter as flight:
            assert flight.waited, "positive control: the lock was held by the other process"
            return flight.handed_off(), flight
    finally:
        child.join(30)


@pytest.fixture
def params(tmp_path):
    return {"cache_dir": str(tmp_path / "tokens")}


def test_a_waiter_keeps_the_secret_the_holder_made(params):
    handed, flight = _contend(params, params)
    assert handed == {"api_key": KEY}
    assert _mode(flight.handoff_path) == 0o600 and _mode(os.path.dirname(flight.handoff_path)) == 0o700


def test_a_record_encrypted_with_the_cache_key_holds_no_secret_in_clear(params):
    sealed = dict(params, cache_encryption_key="a passphrase, not a Fernet key")
    handed, flight = _contend(sealed, sealed)
    assert handed == {"api_key": KEY}
    assert KEY.encode() not in open(flight.handoff_path, "rb").read()  # pylint: disable=consider-using-with


@pytest.mark.parametrize("case", ["damaged", "other-key", "plain-where-sealed"])
def test_a_recent_record_that_cannot_be_read_stops_the_waiter(params, case):
    holder, waiter, mode = params, params, "ok"
    if case == "damaged":
        holder = waiter = dict(params, cache_encryption_key="k" * 43 + "=")
        mode = "damage"
    elif case == "other-key":
        holder = dict(params, cache_encryption_key="first passphrase")
        waiter = dict(params, cache_encryption_key="second passphrase")
    else:
        waiter = dict(params, cache_encryption_key="k" * 43 + "=")
    with pytest.raises(wf.HandOffUnreadable) as caught:
        _contend(holder, waiter, mode)
    assert "nothing was sent" in str(caught.value) and KEY not in str(caught.value)


def test_a_killed_holder_leaves_nothing_to_hand_over(params):
    started = time.monotonic()
    handed, flight = _contend(params, params, mode="die")
    assert handed is None and not os.path.exists(flight.handoff_path)
    assert time.monotonic() - started < 20


def test_a_record_older_than_the_run_is_never_used(params, tmp_path):
    with wf.WriteFlight(params, TARGET, what="test key") as earlier:
        earlier.hand_off({"api_key": KEY})
    time.sleep(0.05)
    with wf.WriteFlight(params, TARGET, what="test key") as later:
        assert os.path.exists(later.handoff_path)  # positive control: the record is there
        assert later.handed_off() is None
    other = wf.WriteFlight(params, dict(TARGET, tenant_id="t2"), what="test key")
    assert other.handoff_path != later.handoff_path


def test_an_expired_record_is_removed(params):
    with wf.WriteFlight(params, TARGET, what="test key", clock=lambda: time.time() - 2 * wf.HANDOFF_TTL) as old:
        old.hand_off({"api_key": KEY})
    path = old.handoff_path
    os.utime(path, (time.time() - 2 * wf.HANDOFF_TTL,) * 2)
    later = wf.WriteFlight(params, TARGET, what="test key")
    with later:
        later.started = time.time() - 3 * wf.HANDOFF_TTL  # it "started" before the record: only age can drop it
        assert later.handed_off() is None
    assert not os.path.exists(path)


def test_a_record_for_another_target_is_not_taken(params):
    with wf.WriteFlight(params, TARGET, what="test key") as holder:
        pass
    other = wf.WriteFlight(params, dict(TARGET, tenant_id="t2"), what="test key")
    record = {"v": wf.RECORD_VERSION, "target": holder.target_fp, "written_at": time.time() + 1,
              "secret": {"api_key": KEY}}
    with other:
        # A record moved to another target's name: its content names the first target.
        atomic_write(other.handoff_path, wf.seal(record, None))
        with pytest.raises(wf.HandOffUnreadable):
            other.handed_off()
