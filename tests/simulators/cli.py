"""Command line: ``python tests/simulators serve|run ...``.

    serve --state-dir DIR [--port P] [--verbose]
        Serve until SIGTERM/SIGINT. Writes DIR/ca.pem, DIR/audit.jsonl,
        DIR/demo-vars.yml (0600), demo keys/certs, then DIR/sim.json once listening.
        --port is the main listener's; extra vendor listeners (Thredd) get random ports,
        listed in sim.json under "listeners".

    run --state-dir DIR [--port P] [--verbose] -- CMD [ARGS...]
        Serve in this process, run CMD with APIAUTH_SIM_BASE_URL,
        APIAUTH_SIM_CA_PATH, APIAUTH_SIM_STATE_DIR and APIAUTH_SIM_VARS in its
        environment, stop, and exit with CMD's exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from . import VENDOR_MODULES, admin
from .core import MAIN_LISTENER, SimApp, SimServer, write_file_atomic
from .varsfile import write_vars_file

SIM_JSON = "sim.json"
VARS_FILE = "demo-vars.yml"


@dataclass
class RunningSim:
    app: SimApp
    server: SimServer  # the main listener
    thread: threading.Thread
    info: dict[str, Any]
    # Extra vendor listeners (e.g. Thredd's four), each with its serving thread.
    extra: list[tuple[SimServer, threading.Thread]] = field(default_factory=list)

    def stop(self) -> None:
        servers = [(self.server, self.thread)] + list(self.extra)
        for server, _thread in servers:
            server.shutdown()
            server.server_close()
        for _server, thread in servers:
            thread.join(timeout=5)
        try:
            os.unlink(os.path.join(self.app.state_dir, SIM_JSON))
        except OSError:
            pass


def build_app(state_dir: str, vendor_modules: tuple[str, ...] = VENDOR_MODULES, verbose: bool = False) -> SimApp:
    """App with the admin API and the given vendor modules mounted (not listening yet)."""
    app = SimApp(state_dir, verbose=verbose)
    admin.register(app)
    app.load_vendors(vendor_modules)
    return app


def launch(state_dir: str, port: int = 0, verbose: bool = False) -> RunningSim:
    """Build, seed and start the server in a background thread; write sim.json last."""
    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    sim_json = os.path.join(state_dir, SIM_JSON)
    try:
        os.unlink(sim_json)  # a stale one would make waiters talk to a dead server
    except FileNotFoundError:
        pass

    app = build_app(state_dir, VENDOR_MODULES, verbose=verbose)
    server = SimServer(app, port)
    # Bound before seeding: demo vars carry the listeners' URLs.
    extra_servers = [SimServer(app, 0, listener=name) for name in app.listeners if name != MAIN_LISTENER]

    variables: dict[str, str] = {"sim_base_url": app.base_url, "sim_ca_path": app.ca_path}
    for module in app.vendors.values():
        seed = getattr(module, "seed_demo", None)
        if seed is not None:
            variables.update(seed(app))
    vars_path = os.path.join(state_dir, VARS_FILE)
    write_vars_file(vars_path, variables)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="apiauth-sim", daemon=True)
    thread.start()
    extra = []
    for extra_server in extra_servers:
        extra_thread = threading.Thread(target=extra_server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"apiauth-sim-{extra_server.listener}", daemon=True)
        extra_thread.start()
        extra.append((extra_server, extra_thread))
    info = {
        "base_url": app.base_url,
        "port": server.port,
        "ca_path": app.ca_path,
        "audit_log": app.audit_path,
        "state_dir": state_dir,
        "vars_path": vars_path,
        "pid": os.getpid(),
        "listeners": {name: spec.url for name, spec in app.listeners.items()},
    }
    write_file_atomic(sim_json, json.dumps(info, indent=2) + "\n", 0o644)
    return RunningSim(app, server, thread, info, extra)


def _serve(args: argparse.Namespace) -> int:
    sim = launch(args.state_dir, args.port, args.verbose)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"apiauth simulator listening on {sim.info['base_url']} (state dir {sim.info['state_dir']})", flush=True)
    while not stop.wait(0.5):
        pass
    sim.stop()
    return 0


def _run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("run: a command is required after --", file=sys.stderr)
        return 2
    sim = launch(args.state_dir, args.port, args.verbose)
    env = dict(os.environ)
    env.update({
        "APIAUTH_SIM_BASE_URL": sim.info["base_url"],
        "APIAUTH_SIM_CA_PATH": sim.info["ca_path"],
        "APIAUTH_SIM_STATE_DIR": sim.info["state_dir"],
        "APIAUTH_SIM_VARS": sim.info["vars_path"],
    })
    try:
        try:
            child = subprocess.Popen(command, env=env)  # pylint: disable=consider-using-with
        except OSError as exc:
            print(f"run: cannot start {command[0]!r}: {exc.strerror}", file=sys.stderr)
            return 127
        # Pass SIGTERM on to the command; SIGINT (Ctrl-C) already reaches it through the terminal.
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the child got the SIGINT too; wait for it to finish
    finally:
        sim.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/simulators",
                                     description="HTTPS simulator of SaaS token endpoints (loopback only).")
    sub = parser.add_subparsers(dest="action", required=True)
    for name, helptext in (("serve", "serve until SIGTERM/SIGINT"),
                           ("run", "serve while running a command, then exit with its code")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--state-dir", required=True, help="directory for CA, keys, vars, audit log (created 0700)")
        p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: random)")
        p.add_argument("--verbose", action="store_true", help="log one line per request to stderr (no secrets)")
        if name == "run":
            p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    args = parser.parse_args(argv)
    return _serve(args) if args.action == "serve" else _run(args)
