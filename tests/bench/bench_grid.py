"""The play benchmark of ``make bench``: four ways to render one config file on many hosts.

Each case runs ``ansible-playbook`` on a generated inventory of local hosts against the bundled
simulator (``tests/simulators``), cold (empty token cache, no config files) and then warm (right
after, same cache and files). A case runs in one of two modes: "reload", where the file task
notifies a handler that stands in for a service reload on every host whose file changed, or
"plain", without it. For every run it records the wall time, the CPU time and the peak memory
(RSS and PSS) of the ``ansible-playbook`` process tree, the token requests the simulator's audit
log saw, which config files changed (by content and mtime), the reloads the handler logged, and
(callback ``bench_phases``) the wall and CPU time the handlers took, from the first handler to
the end.
Nothing here prints a token or a secret: outputs of the plays go to files under the bench
directory and are scanned for the secret and the tokens.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLAYBOOKS = HERE / "playbooks"
COLLECTIONS = ROOT / ".tmp" / "collections"
VARIANTS = ("uri_run_once", "uri_per_host", "lookup", "app_config_role")
BASELINE = "uri_run_once"
MODES = ("reload", "plain")  # with the reload handler, without it
CONFIG_NAME = "app.ini"
RELOAD_LOG = "reloads.log"  # appended to by playbooks/files/bench_reload.sh, one line per reload
TOKEN_LINE = re.compile(r"^token = (.*)$", re.M)
# Written to ansible.cfg for every variant (and quoted in docs/benchmarks.md), with pipelining
# (on unless BENCH_PIPELINING=0: one process per module instead of several, for every variant).
ANSIBLE_SETTINGS = {
    "host_key_checking": "False",
    "retry_files_enabled": "False",
    "gathering": "explicit",
    "stdout_callback": "default",
    "nocolor": "True",
    "deprecation_warnings": "False",
    "localhost_warning": "False",
    # The bench's own callback (callback_plugins/bench_phases.py), enabled for every variant: it
    # records when the handlers started, for the plain figures derived from the reload runs.
    "callbacks_enabled": "bench_phases",
}
# Callbacks a variant enables on top, as its documentation advises for many hosts: apiauth.saas.preload
# (the README), which loads the collection's lookups and filters before Ansible forks its workers.
VARIANT_CALLBACKS = {"lookup": "apiauth.saas.preload", "app_config_role": "apiauth.saas.preload"}


@dataclass
class RunResult:
    variant: str
    hosts: int
    forks: int
    phase: str  # "cold" or "warm"
    rep: int
    mode: str  # "reload" (the file task notifies the reload handler) or "plain" (it does not)
    wall_s: float
    cpu_s: float  # user + system time of the ansible-playbook process tree
    main_cpu_s: float  # of which the ansible-playbook process itself (sampled, up to 0.1 s before its end)
    others_cpu_share: float  # CPU used by other processes of the machine, share of all cores, during the run
    rc: int
    token_requests: int
    files_changed: int
    files_present: int
    peak_rss_mib: float
    peak_pss_mib: float | None  # None: no PSS could be read (no /proc/<pid>/smaps_rollup)
    distinct_tokens: int
    reloads: int  # lines the reload handler added to the hosts' reloads.log during the run
    handler_tasks: int  # handler tasks started (bench_phases callback)
    handlers_wall_s: float  # from the start of the first handler task to the end of the playbook
    handlers_cpu_s: float  # CPU time of the process tree in that span
    # Workers still running at the first handler's start after a wait of up to 1 s: their CPU time, a
    # few ms each, is counted in the handlers' (0 expected).
    unreaped_workers: int
    # The CPU time of the tree split (callback bench_phases): the controller is the ansible-playbook
    # process and its workers, without the module processes the workers ran; None if not recorded.
    controller_cpu_s: float | None = None
    modules_cpu_s: float | None = None
    handlers_controller_cpu_s: float | None = None  # of which from the first handler to the end
    handlers_modules_cpu_s: float | None = None
    # Where the peak PSS was: the main process, the workers, the module processes (MiB), and how many.
    peak_pss_split_mib: dict | None = None
    problems: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def read_pss(pid: int) -> int | None:
    """The proportional set size of a process in bytes (the ``Pss:`` line of /proc/<pid>/smaps_rollup),
    or None if it cannot be read: the process ended, is a zombie (no memory map), or the kernel has no
    smaps_rollup."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


class TreeMemorySampler(threading.Thread):
    """Peaks of the summed RSS and the summed PSS of a process and all its descendants.

    RSS counts a page shared between processes in full in each of them, so the sum counts the pages
    that forked workers share with the main process once per worker. PSS divides a shared page among
    the processes that map it, so the sum counts it once. RSS is sampled every ``interval`` s; PSS,
    whose read walks the page tables of every process, every ``pss_interval`` s and when the RSS sum
    reaches a new peak, at most every ``pss_min_interval`` s, from the same listing of the tree. A
    process that ends during a sample is left out of it. At the PSS peak it also keeps where the PSS was
    (``pss_peak_split``): the main process, its direct children (Ansible's workers) and the processes below
    them (the module processes and their shells), with how many of each.
    """

    def __init__(self, pid: int, interval: float = 0.1, pss_interval: float = 1.0,
                 pss_min_interval: float = 0.5) -> None:
        super().__init__(name="bench-memory", daemon=True)
        self._root = psutil.Process(pid)
        self._interval = interval
        self._pss_interval = pss_interval
        self._pss_min_interval = pss_min_interval
        self._done = threading.Event()
        self.peak = 0
        self.pss_peak: int | None = None  # None until a PSS sample read at least one process
        self.pss_peak_split: dict | None = None
        self.main_cpu = 0.0  # CPU time of the ansible-playbook process itself, last seen

    def run(self) -> None:
        last_pss = -self._pss_interval
        while not self._done.is_set():
            processes = self._tree()
            rss = self._rss(processes)
            new_peak = rss > self.peak
            self.peak = max(self.peak, rss)
            now = time.monotonic()
            if now - last_pss >= (self._pss_min_interval if new_peak else self._pss_interval):
                last_pss = now
                pss, split = self._pss_split(processes, self._root.pid)
                if pss is not None and pss > (self.pss_peak or 0):
                    self.pss_peak, self.pss_peak_split = pss, split
            try:
                times = self._root.cpu_times()
                self.main_cpu = times.user + times.system
            except psutil.Error:
                pass
            self._done.wait(self._interval)

    def _tree(self) -> list:
        try:
            return [self._root] + self._root.children(recursive=True)
        except psutil.Error:
            return []

    @staticmethod
    def _rss(processes: list) -> int:
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass  # ended between the listing and the read
        return total

    @staticmethod
    def _pss_split(processes: list, root_pid: int | None) -> tuple:
        """(summed PSS or None, {kind: bytes, kind_count: processes}) of the processes that could be read;
        kinds: "main" (``root_pid``), "workers" (its children), "modules" (the processes below them)."""
        split = {"main": 0, "workers": 0, "modules": 0, "main_count": 0, "workers_count": 0, "modules_count": 0}
        read = False
        for process in processes:
            value = read_pss(process.pid)
            if value is None:
                continue
            try:
                parent = process.ppid()
            except psutil.Error:
                continue
            kind = "main" if process.pid == root_pid else "workers" if parent == root_pid else "modules"
            split[kind] += value
            split[f"{kind}_count"] += 1
            read = True
        return (split["main"] + split["workers"] + split["modules"] if read else None), split

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


class MachineLoad:
    """CPU time the rest of the machine used while a run went on (other people's work, not ours)."""

    def __init__(self, sim_pid: int) -> None:
        self._ours = [psutil.Process(sim_pid), psutil.Process()]  # the simulator and this driver
        self._busy = self._machine_busy()
        self._ours_cpu = self._ours_time()

    @staticmethod
    def _machine_busy() -> float:
        times = psutil.cpu_times()
        return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))

    def _ours_time(self) -> float:
        total = 0.0
        for process in self._ours:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def others_share(self, play_cpu: float, wall: float) -> float:
        """Share of all cores (0..1) busy with neither the play, the simulator nor this driver."""
        busy = self._machine_busy() - self._busy
        others = busy - play_cpu - (self._ours_time() - self._ours_cpu)
        return round(max(0.0, others) / (wall * (os.cpu_count() or 1)), 3)


@dataclass
class Case:
    """One variant in one cell of the grid: a cold run then a warm run in ``case_dir``."""

    variant: str
    hosts: int
    forks: int
    rep: int
    mode: str
    inventory: Path
    names: list[str]
    case_dir: Path

    @property
    def dest_root(self) -> Path:
        return self.case_dir / "dest"

    @property
    def cache_dir(self) -> Path:
        return self.case_dir / "token-cache"  # absent at first: the collection creates it 0700


def count_reloads(dest_root: Path, hosts: list[str]) -> int:
    """Lines in all hosts' reloads.log: one per reload the handler ran."""
    total = 0
    for host in hosts:
        try:
            with open(dest_root / host / RELOAD_LOG, "rb") as handle:
                total += sum(1 for _line in handle)
        except FileNotFoundError:
            pass
    return total


def snapshot(dest_root: Path, hosts: list[str]) -> dict[str, tuple[int, str] | None]:
    """Per host: (mtime_ns, sha256 of the content) of its config file, or None if absent."""
    state: dict[str, tuple[int, str] | None] = {}
    for host in hosts:
        path = dest_root / host / CONFIG_NAME
        try:
            data = path.read_bytes()
            state[host] = (path.stat().st_mtime_ns, hashlib.sha256(data).hexdigest())
        except FileNotFoundError:
            state[host] = None
    return state


class PlayBench:
    """Runs the variants against one simulator; ``sim`` is a ``simulators.fixtures.Simulator``."""

    def __init__(self, sim, work: Path, client_id: str, client_secret: str, *, pipelining: bool = True) -> None:
        self.sim = sim
        self.pipelining = pipelining
        self.work = work
        self.client_id = client_id
        self.client_secret = client_secret
        self.cfg = work / "ansible.cfg"
        self.vars_file = work / "vars.json"
        self._layout: str | None = None  # the first config file seen, token aside: all must match it
        self.tokens_seen: set[str] = set()  # every token found in a rendered file, for secret scans
        self._write_settings()

    # ---- setup

    def _write_settings(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        settings = dict(ANSIBLE_SETTINGS, pipelining=str(self.pipelining))
        lines = ["[defaults]"] + [f"{key} = {value}" for key, value in settings.items()]
        lines += [f"callback_plugins = {HERE / 'callback_plugins'}"]
        lines += [f"local_tmp = {self.work / 'ansible-local-tmp'}", f"remote_tmp = {self.work / 'ansible-remote-tmp'}"]
        self.cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
        variables = {
            "oauth2_token_url": self.sim.token_url("oauth2"),
            "sim_ca_path": self.sim.ca_path,
            "bench_base_url": self.sim.base_url + "/oauth2/api",
            "bench_client_id": self.client_id,
            "bench_client_secret": self.client_secret,
        }
        fd = os.open(self.vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(variables, handle)

    def inventory(self, hosts: int) -> tuple[Path, list[str]]:
        names = [f"h{index:04d}" for index in range(1, hosts + 1)]
        path = self.work / f"inventory-{hosts}.ini"
        if not path.exists():
            lines = ["[bench]"] + names + [
                "",
                "[bench:vars]",
                "ansible_connection=local",
                f"ansible_python_interpreter={sys.executable}",
            ]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path, names

    def environment(self, cache_dir: Path) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("ANSIBLE_", "APIAUTH_"))}
        env.update(
            ANSIBLE_CONFIG=str(self.cfg),
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            APIAUTH_SAAS_CACHE_DIR=str(cache_dir),
        )
        return env

    # ---- one case: a cold run and a warm run

    def case(self, variant: str, hosts: int, forks: int, rep: int, mode: str = "reload") -> list[RunResult]:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        inventory, names = self.inventory(hosts)
        case_dir = self.work / "cases" / f"{variant}-{mode}-{hosts}h-{forks}f-r{rep}"
        shutil.rmtree(case_dir, ignore_errors=True)
        case = Case(variant, hosts, forks, rep, mode, inventory, names, case_dir)
        for name in names:
            (case.dest_root / name).mkdir(parents=True)
        results = [self._run(case, "cold"), self._run(case, "warm")]
        # The rendered files of 500 hosts add up over a grid: keep only the logs.
        shutil.rmtree(case.dest_root, ignore_errors=True)
        shutil.rmtree(case.cache_dir, ignore_errors=True)
        return results

    def _run(self, case: Case, phase: str) -> RunResult:
        before = snapshot(case.dest_root, case.names)
        reloads_before = count_reloads(case.dest_root, case.names)
        self.sim.clear_audit()
        log_path = case.case_dir / f"{phase}.log"
        phases_path = case.case_dir / f"{phase}-phases.json"
        phases_path.unlink(missing_ok=True)
        Path(f"{phases_path}.workers").unlink(missing_ok=True)
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(case.inventory),
               "-f", str(case.forks), "-e", f"@{self.vars_file}", "-e", f"bench_dest_root={case.dest_root}",
               "-e", f"bench_reload={str(case.mode == 'reload').lower()}",
               str(PLAYBOOKS / f"{case.variant}.yml")]
        env = dict(self.environment(case.cache_dir), BENCH_PHASES=str(phases_path))
        if case.variant in VARIANT_CALLBACKS:
            env["ANSIBLE_CALLBACKS_ENABLED"] = f"{ANSIBLE_SETTINGS['callbacks_enabled']},{VARIANT_CALLBACKS[case.variant]}"
        machine = MachineLoad(self.sim.process.pid)
        with open(log_path, "wb") as log:
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            with subprocess.Popen(cmd, cwd=str(case.case_dir), env=env, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL) as proc:
                sampler = TreeMemorySampler(proc.pid)
                sampler.start()
                try:
                    rc = proc.wait()
                except BaseException:
                    proc.terminate()  # the bench is stopping: stop the play too
                    proc.wait()
                    sampler.stop()
                    raise
            wall = time.perf_counter() - started
            children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak = sampler.stop()
        # The workers are waited for by ansible-playbook, so their time is in its children's time.
        cpu = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
        requests = sum(1 for entry in self.sim.audit("oauth2")
                       if entry.get("endpoint") == "token" and entry.get("client_id") == self.client_id)
        after = snapshot(case.dest_root, case.names)
        reloads = count_reloads(case.dest_root, case.names) - reloads_before
        problems, tokens = self._check(case, log_path, rc)
        try:
            phases = json.loads(phases_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            phases = None
            problems.append("the bench_phases callback wrote no record")
        handlers = self._handlers(phases)
        split = self._split(phases, Path(f"{phases_path}.workers"))
        if case.mode == "plain" and (reloads or handlers[0]):
            problems.append(f"{reloads} reload(s), {handlers[0]} handler task(s) in a run without the handler")
        changed = sum(1 for name in case.names if before[name] != after[name])
        if case.mode == "reload" and reloads != changed:
            problems.append(f"{reloads} reload(s) for {changed} changed file(s): one per changed file expected")
        return RunResult(
            variant=case.variant, hosts=case.hosts, forks=case.forks, phase=phase, rep=case.rep, mode=case.mode,
            wall_s=round(wall, 3), cpu_s=round(cpu, 3), main_cpu_s=round(sampler.main_cpu, 3),
            others_cpu_share=machine.others_share(cpu, wall), rc=rc, token_requests=requests,
            files_changed=changed,
            files_present=sum(1 for name in case.names if after[name] is not None),
            peak_rss_mib=round(peak / 2**20, 1),
            peak_pss_mib=None if sampler.pss_peak is None else round(sampler.pss_peak / 2**20, 1),
            peak_pss_split_mib=None if sampler.pss_peak_split is None else {
                key: value if key.endswith("_count") else round(value / 2**20, 1)
                for key, value in sampler.pss_peak_split.items()},
            distinct_tokens=len(tokens), reloads=reloads,
            handler_tasks=handlers[0], handlers_wall_s=handlers[1], handlers_cpu_s=handlers[2],
            unreaped_workers=handlers[3], **split, problems=problems)

    @staticmethod
    def _handlers(phases: dict | None) -> tuple[int, float, float, int]:
        """(handler tasks, wall s, CPU s, workers not yet ended) from the first handler to the end,
        from bench_phases' record."""
        if phases is None:
            return 0, 0.0, 0.0, 0
        started, end = phases["handlers_started"], phases["stats"]
        if started is None:
            return phases["handler_tasks"], 0.0, 0.0, 0
        return (phases["handler_tasks"], round(end["wall_s"] - started["wall_s"], 3),
                round(end["cpu_s"] - started["cpu_s"], 3), started["running_children"])

    @staticmethod
    def _split(phases: dict | None, workers_path: Path) -> dict:
        """The CPU time of the controller (ansible-playbook and its workers) and of the module processes,
        for the whole run and from the first handler on, from bench_phases' record and its workers'
        file; {} if not recorded."""
        if phases is None:
            return {}
        try:
            lines = workers_path.read_text(encoding="utf-8").split()
        except OSError:
            return {}
        end, started = phases["stats"], phases["handlers_started"]
        if "main_cpu_s" not in end:
            return {}
        workers = {"task": [0.0, 0.0], "handler": [0.0, 0.0]}
        for kind, own, children in zip(lines[0::3], lines[1::3], lines[2::3]):
            workers[kind][0] += float(own)
            workers[kind][1] += float(children)
        handlers_main = end["main_cpu_s"] - started["main_cpu_s"] if started else 0.0
        return {
            "controller_cpu_s": round(end["main_cpu_s"] + workers["task"][0] + workers["handler"][0], 3),
            "modules_cpu_s": round(workers["task"][1] + workers["handler"][1], 3),
            "handlers_controller_cpu_s": round(handlers_main + workers["handler"][0], 3),
            "handlers_modules_cpu_s": round(workers["handler"][1], 3),
        }

    def _check(self, case: Case, log_path: Path, rc: int) -> tuple[list[str], set[str]]:
        """Every host got the same file as in every variant but for the token, and no token or
        secret reached the output."""
        problems = []
        tokens: set[str] = set()
        layouts = set()
        for name in case.names:
            path = case.dest_root / name / CONFIG_NAME
            if not path.exists():
                problems.append(f"no {CONFIG_NAME} on {name}")
                continue
            text = path.read_text(encoding="utf-8")
            tokens.update(TOKEN_LINE.findall(text))
            layouts.add(TOKEN_LINE.sub("token = <token>", text))
        if len(layouts) > 1:
            problems.append(f"{len(layouts)} different file layouts")
        for layout in layouts:
            if self._layout is None:
                self._layout = layout
            elif layout != self._layout:
                problems.append("the file differs from the other variants' (token aside)")
        self.tokens_seen |= tokens
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if self.client_secret in output or any(token and token in output for token in tokens):
            problems.append("a secret or token appears in the play's output")
        if rc != 0:
            tail = output[-1500:]
            for token in tokens | {self.client_secret}:
                tail = tail.replace(token, "<redacted>")
            problems.append(f"ansible-playbook exited {rc}: {tail}")
        return problems, tokens
