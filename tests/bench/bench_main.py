"""``make bench``: the collection's ways of delivering a token against hand-written plays.

    python tests/bench/bench_main.py      (make bench; settings from BENCH_* variables, see
                                           docs/benchmarks.md or the end of this file's output)
    python tests/bench/bench_main.py --render [DIR]
                                          (rewrite DIR's benchmarks.md and .png from its
                                           benchmarks.json, without running anything; DIR
                                           defaults to docs)

Starts the bundled simulator (``tests/simulators``, through its ``Simulator`` fixture), runs the
micro-benchmarks (bench_micro.py) and the grid of plays (bench_grid.py), and writes
``benchmarks.md``, ``benchmarks.png`` and ``benchmarks.json`` (bench_report.py). Work files and
the plays' outputs go to ``.tmp/bench/``. Exits 1 if a play failed or a check did not hold.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

# pylint: disable=wrong-import-position
import bench_grid  # noqa: E402
import bench_micro  # noqa: E402
import bench_report  # noqa: E402
import psutil  # noqa: E402
from ansible.release import __version__ as ansible_version  # noqa: E402
from simulators.fixtures import Simulator  # noqa: E402

CLIENT_ID = "bench-client"
CELLS = ROOT / ".tmp" / "bench" / "cells"  # finished cells of the grid, for BENCH_RESUME=1
# The naive play is no target and the dearest at 500 hosts: measured at 50 hosts only by default. Two runs
# at 500 hosts, so that those cells show a spread of their own.
DEFAULTS = {"hosts": "50 500", "forks": "10 50", "runs": "50:3 500:2", "skip": "500:uri_per_host",
            "plain": "derived"}
# Quick mode runs the plain plays too, to compare the plain figures derived from the reload runs
# with measured ones.
QUICK = {"hosts": "10", "forks": "5", "runs": "1", "skip": "none", "plain": "both"}
PLAIN_CHOICES = ("derived", "measured", "both")
# Seconds per host and run (cold or warm) of a play, to estimate a grid's duration before it has
# timings of its own: about what uri_run_once with the reload handler takes on the 2-core machine
# of docs/benchmarks.md (its CPU time per host and run, halved). The naive play costs about 1.4 times
# as much.
SECONDS_PER_HOST_RUN = 0.65
COST_WEIGHT = {"uri_per_host": 1.4}


def _ints(text: str) -> list[int]:
    return [int(item) for item in text.replace(",", " ").split()]


def runs_per_hosts(text: str, hosts: list[int]) -> dict[int, int]:
    """``"3"`` or ``"50:3 500:2"`` -> runs for each host count (nearest smaller listed size, else the smallest)."""
    if ":" not in text:
        return {size: int(text) for size in hosts}
    pairs = sorted(tuple(int(part) for part in item.split(":", 1)) for item in text.replace(",", " ").split())
    result = {}
    for size in hosts:
        eligible = [runs for listed, runs in pairs if listed <= size]
        result[size] = eligible[-1] if eligible else pairs[0][1]
    return result


def skips_per_hosts(text: str, hosts: list[int]) -> dict[int, list[str]]:
    """``"500:uri_per_host"`` -> the variants left out at each host count (``variant`` alone: at all;
    ``none``: nothing)."""
    result: dict[int, list[str]] = {size: [] for size in hosts}
    for item in text.replace(",", " ").split():
        if item == "none":
            continue
        size_text, _sep, variant = item.rpartition(":")
        if variant not in bench_grid.VARIANTS:
            raise SystemExit(f"BENCH_SKIP: unknown variant {variant!r} in {item!r}; known: "
                             f"{' '.join(bench_grid.VARIANTS)}")
        if variant == bench_grid.BASELINE:
            raise SystemExit(f"BENCH_SKIP: {bench_grid.BASELINE} is the baseline of every ratio; it cannot be left out")
        if size_text and not size_text.isdigit():
            raise SystemExit(f"BENCH_SKIP: {item!r} is not hosts:variant")
        for size in hosts:
            if not size_text or int(size_text) == size:
                result[size] = sorted(set(result[size]) | {variant})
    return result


def settings() -> dict:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    base = QUICK if quick else DEFAULTS
    hosts = _ints(os.environ.get("BENCH_HOSTS") or base["hosts"])
    variants = tuple((os.environ.get("BENCH_VARIANTS") or " ".join(bench_grid.VARIANTS)).split())
    unknown = set(variants) - set(bench_grid.VARIANTS)
    if unknown:
        raise SystemExit(f"BENCH_VARIANTS: unknown {sorted(unknown)}; known: {' '.join(bench_grid.VARIANTS)}")
    plain = os.environ.get("BENCH_PLAIN") or base["plain"]
    if plain not in PLAIN_CHOICES:
        raise SystemExit(f"BENCH_PLAIN: {plain!r}; one of {' '.join(PLAIN_CHOICES)}")
    out = os.environ.get("BENCH_OUT") or ("" if not quick else str(ROOT / ".tmp" / "bench" / "quick"))
    return {
        "quick": quick,
        "hosts": hosts,
        "forks": _ints(os.environ.get("BENCH_FORKS") or base["forks"]),
        "runs": runs_per_hosts(os.environ.get("BENCH_RUNS") or base["runs"], hosts),
        "variants": variants,
        # Empty is unset (the Makefile exports every BENCH_* variable, set or not); "none" leaves nothing out.
        "skip": skips_per_hosts(os.environ.get("BENCH_SKIP") or base["skip"], hosts),
        "plain": plain,
        # The modes the grid runs: always with the handler; without it too unless derived only.
        "modes": ["reload"] + (["plain"] if plain in ("measured", "both") else []),
        "micro": os.environ.get("BENCH_MICRO", "1") != "0",
        "pipelining": os.environ.get("BENCH_PIPELINING", "1") != "0",
        "resume": os.environ.get("BENCH_RESUME", "") not in ("", "0"),
        "out": Path(out) if out else ROOT / "docs",
        "lookup_calls": 400 if quick else 2000,
        "cold_calls": 10 if quick else 50,
        "workers": 5 if quick else 30,
        "tasks": 5 if quick else 20,
        "task_reps": 2 if quick else 7,
    }


def machine_info() -> dict:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": psutil.virtual_memory().total / 2**30,
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "ansible_core": ansible_version,
        "load_before": " ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def fingerprint(config: dict, hosts: int) -> dict:
    """What a saved cell must match to be reused by BENCH_RESUME=1: settings, the code under test and the
    code that runs and measures a play (bench_grid.py: a cell saved before a change to what a run records,
    such as its peak PSS, is run again)."""
    digest = hashlib.sha256()
    paths = [path for folder in ("plugins", "roles", "tests/bench/playbooks", "tests/bench/callback_plugins")
             for path in sorted((ROOT / folder).rglob("*"))]
    for path in paths + [HERE / "bench_grid.py"]:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return {"variants": list(config["variants"]), "runs": config["runs"][hosts], "pipelining": config["pipelining"],
            "skip": config["skip"][hosts], "modes": config["modes"], "ansible_core": ansible_version,
            "code": digest.hexdigest()}


def cell_cases(config: dict, hosts: int, rep: int = 0) -> list[tuple[str, str]]:
    """(mode, variant) of round ``rep`` of a cell, in the order they run.

    The variants rotate every round, so that machine noise hits them alike. A variant's modes run one
    right after the other (in turn first), so that the plain runs measured beside the reload runs see
    the same machine load when BENCH_PLAIN=both checks the derived figures.
    """
    variants = [variant for variant in config["variants"] if variant not in config["skip"][hosts]]
    shift = rep % len(variants) if variants else 0
    modes = config["modes"] if rep % 2 == 0 else config["modes"][::-1]
    return [(mode, variant) for variant in variants[shift:] + variants[:shift] for mode in modes]


def case_cost(hosts: int, variant: str) -> float:
    """Relative cost of a case (cold + warm run), for the time estimates."""
    return 2 * hosts * COST_WEIGHT.get(variant, 1.0)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 600 else f"{seconds / 60:.1f} min"


def grid(bench: bench_grid.PlayBench, config: dict, log) -> tuple[list[dict], list[dict]]:
    """All runs of the grid, and the cells reused from an earlier session (BENCH_RESUME=1).

    A cell (host count, forks) is saved when all its rounds are done, and reused only whole, so
    that the variants of one cell always ran in the same session.
    """
    CELLS.mkdir(parents=True, exist_ok=True)
    cells = [(hosts, forks) for hosts in config["hosts"] for forks in config["forks"]]
    total = sum(config["runs"][hosts] * len(cell_cases(config, hosts)) for hosts, _forks in cells)
    cost_total = sum(config["runs"][hosts] * case_cost(hosts, variant)
                     for hosts, _forks in cells for _mode, variant in cell_cases(config, hosts))
    log(f"grid: {total} cases (cold + warm run each), modes {' '.join(config['modes'])}; estimated "
        f"{_minutes(cost_total * SECONDS_PER_HOST_RUN)} at {SECONDS_PER_HOST_RUN} s per host and run")
    done = 0
    cost_done = cost_run = 0.0  # cost_run: of the cases run in this session (not resumed)
    grid_clock = time.monotonic()
    runs, resumed = [], []
    for hosts, forks in cells:
        saved_path = CELLS / f"{hosts}h-{forks}f.json"
        expected = fingerprint(config, hosts)
        if config["resume"] and saved_path.exists():
            saved = json.loads(saved_path.read_text(encoding="utf-8"))
            if saved["fingerprint"] == expected:
                runs += saved["runs"]
                resumed.append({"hosts": hosts, "forks": forks, "started": saved["started"],
                                "duration_s": saved["duration_s"]})
                done += config["runs"][hosts] * len(cell_cases(config, hosts))
                cost_done += sum(config["runs"][hosts] * case_cost(hosts, variant)
                                 for _mode, variant in cell_cases(config, hosts))
                log(f"[{done}/{total}] {hosts} hosts, forks {forks}: reused from {saved['started']}")
                continue
        cell_started, cell_clock, cell_runs = _now(), time.monotonic(), []
        for rep in range(config["runs"][hosts]):
            for mode, variant in cell_cases(config, hosts, rep):
                cold, warm = bench.case(variant, hosts, forks, rep, mode)
                done += 1
                cost = case_cost(hosts, variant)
                cost_done += cost
                cost_run += cost
                # The rest at the rate this session measured so far.
                left = (cost_total - cost_done) * (time.monotonic() - grid_clock) / cost_run
                log(f"[{done}/{total}] {hosts} hosts, forks {forks}, round {rep + 1}, {variant}, {mode}: "
                    f"cold {cold.wall_s:.1f} s {cold.token_requests} req {cold.files_changed} files "
                    f"{cold.reloads} reloads; warm {warm.wall_s:.1f} s {warm.token_requests} req "
                    f"{warm.files_changed} files {warm.reloads} reloads; about {_minutes(left)} left"
                    + ("  PROBLEM" if cold.problems or warm.problems else ""))
                cell_runs += [cold.as_dict(), warm.as_dict()]
        saved_path.write_text(json.dumps({"fingerprint": expected, "started": cell_started,
                                          "duration_s": time.monotonic() - cell_clock, "runs": cell_runs}),
                              encoding="utf-8")
        runs += cell_runs
    return runs, resumed


def _now() -> str:
    return datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def micro_benchmarks(bench: bench_grid.PlayBench, sim, secret: str, config: dict, log) -> dict:
    cache_dir = bench.work / "micro-cache"
    options = {"token_url": sim.token_url("oauth2"), "client_id": CLIENT_ID, "client_secret": secret,
               "ca_path": sim.ca_path, "cache_dir": str(cache_dir)}
    log("micro-benchmarks: the lookup")
    lookup = bench_micro.run_lookup_micro({"options": options, "calls": config["lookup_calls"],
                                           "cold_calls": config["cold_calls"], "workers": config["workers"]})
    log("micro-benchmarks: token tasks")
    tasks = bench_micro.task_micro(bench, tasks=config["tasks"], reps=config["task_reps"], cache_dir=cache_dir)
    return {"lookup": lookup, "tasks": tasks}


def _range_ms(values: list[float]) -> str:
    """Per-case medians (a cell's cold or warm runs) of a per-host figure, summed up."""
    if len(values) == 1:
        return f"{values[0]:.0f} ms (one case)"
    return (f"a median {statistics.median(values):.0f} ms over the {len(values)} cases (cell, cold or warm), from "
            f"{min(values):.0f} to {max(values):.0f} ms")


def findings(rows: list[dict], micro: dict) -> list[str]:
    """The explanation of the numbers, with the numbers of this run."""
    lines = []
    lookups = micro.get("lookup", {})
    first = lookups.get("first_call_in_worker")
    warm = lookups.get("warm_memory")
    requests_import = lookups.get("import_requests_in_worker")
    task = micro.get("tasks", {}).get("per_task", {})
    baseline = bench_grid.BASELINE
    plain = bench_report.plain_mode(rows)
    extras = bench_report.extra_per_host(rows, baseline)
    preloaded = lookups.get("first_call_in_worker_preloaded")
    if first and warm:
        text = (
            "- **The lookup runs once per host, each time in a new process.** Ansible forks a worker per host "
            "and task, and a worker's memory layer is gone when it exits, so in `lookup` every host's worker "
            "calls the plugin again and reads the token from the file cache. Ansible never loads lookups in its "
            "main process, so without help each worker also parses the lookup's documentation and compiles the "
            f"collection's Python modules: {first['cpu_median_ms']:.0f} ms of CPU per host "
            f"({first['median_ms']:.0f} ms wall, p90 {first['p90_ms']:.0f} ms) in the micro-benchmark, against "
            f"{warm['cpu_median_ms']:.2f} ms for a call in a process that has the plugin loaded.")
        if preloaded:
            text += (
                " `lookup` runs with the callback `apiauth.saas.preload`, which loads the lookups in the main "
                "process when the playbook starts, so that the workers forked after it inherit them: then a "
                f"worker's first call costs {preloaded['cpu_median_ms']:.1f} ms of CPU "
                f"({preloaded['median_ms']:.1f} ms wall), for a cost of "
                f"{lookups['preload_in_main_process']['cpu_median_ms']:.0f} ms once per run.")
        lines.append(text)
        lookup_plain = [value[0] for key, value in extras.items() if key[0] == plain and key[4] == "lookup"]
        if lookup_plain:
            lines[-1] += (f" In the plays without the handler ({plain}), the extra CPU per host of `lookup` over "
                          f"`uri_run_once` was {_range_ms(lookup_plain)}.")
    if requests_import:
        lines.append(
            "- **`requests` is imported only for a request.** A worker that imported it would pay "
            f"{requests_import['cpu_median_ms']:.0f} ms of CPU ({requests_import['median_ms']:.0f} ms wall) here "
            "on top of the first call above; `plugins/module_utils/_http.py` imports it with the first HTTP "
            "client, so a cached token costs none of it (the micro-benchmark checks that the first call in a "
            "worker did not import it).")
    if any(row["variant"] == "app_config_role" for row in rows):
        text = (
            "- **The role runs one task per host.** Per host, `app_config` runs the file task, its module "
            "`apiauth.saas.app_config_render`, which checks the role's arguments and every value against its "
            "file's format in Python, before any file is written, then renders every file on the controller "
            "(Ansible's `template` lookup) and writes them all in one module process on the host, where "
            "`ansible.builtin.template` runs two per file (`stat`, then `copy` or `file`). The credentials are "
            "templated once for the play, by a `set_fact` with `run_once`, and the file data refer to that fact. "
            "Ansible's automatic argument validation, which would add a task per host and template the "
            "credentials in it (so call the lookup "
            "in every host's worker), is avoided: the options are documented in `meta/argument_specs.yml` under "
            "an entry point of their own. The diff-mode summary is one `run_once` task. With a service, the file "
            "task notifies the topic of the chosen service manager only, so each host whose file changed runs "
            "one handler task; a warm run changes no file and runs none. Against `uri_run_once` (a `uri` task "
            "with `run_once`, then the template on every host) that is the same number of tasks per host and one "
            "module process less.")
        role_plain = [value[0] for key, value in extras.items() if key[0] == plain and key[4] == "app_config_role"]
        if role_plain:
            text += f" Without the handler ({plain}), its extra CPU per host was {_range_ms(role_plain)}"
            controller = [value[0] for key, value in bench_report.extra_per_host(rows, baseline, "controller_cpu").items()
                          if key[0] == plain and key[4] == "app_config_role"]
            modules = [value[0] for key, value in bench_report.extra_per_host(rows, baseline, "modules_cpu").items()
                       if key[0] == plain and key[4] == "app_config_role"]
            if controller and modules:
                text += (f"; of the controller alone (`ansible-playbook` and its workers) {_range_ms(controller)}, "
                         f"and of the module processes {_range_ms(modules)}")
            text += "."
        if task.get("debug"):
            text += (f" For scale, a trivial task (`ansible.builtin.debug`) takes about "
                     f"{task['debug']['median_ms']:.0f} ms per host on this machine (micro-benchmarks).")
        lines.append(text)
    reload_base = [row for row in rows if row["mode"] == bench_report.RELOAD and row["variant"] == baseline
                   and row["reloads"] == [row["hosts"]] and row["handlers_cpu_s"] is not None]
    if reload_base:
        cpu_ms = [row["handlers_cpu_s"] / row["hosts"] * 1000 for row in reload_base]
        wall_ms = [row["handlers_wall_s"] / row["hosts"] * 1000 for row in reload_base]
        text = (
            "- **A reload on every host costs the hand-written plays on every run.** From the first handler task "
            f"to the end, the reloads of `uri_run_once` took a median {statistics.median(cpu_ms):.0f} ms of CPU "
            f"(from {min(cpu_ms):.0f} to {max(cpu_ms):.0f}) and {statistics.median(wall_ms):.0f} ms of wall time "
            f"(from {min(wall_ms):.0f} to {max(wall_ms):.0f}) per host, over the {len(reload_base)} cases (cell, cold "
            "or warm).")
        warm_ours = [row for row in rows if row["mode"] == bench_report.RELOAD and row["phase"] == "warm"
                     and row["variant"] in bench_report.COLLECTION_VARIANTS]
        if warm_ours:
            ratios = [row["ratio"] for row in warm_ours if row["ratio"] is not None]
            text += (" The collection's variants reloaded " + "/".join(
                str(value) for value in sorted({value for row in warm_ours for value in row["reloads"]}))
                + " host(s) on their warm runs")
            if ratios:
                text += (f", and took {min(ratios):.2f} to {max(ratios):.2f} × the wall time of `uri_run_once` "
                         "there")
            text += "."
        lines.append(text)
    mains = [row for row in rows if row["cpu_s"] and row["main_cpu_s"] is not None]
    if mains:
        share = statistics.median(row["main_cpu_s"] / row["cpu_s"] for row in mains)
        lines.append(
            "- **Most of the time is Ansible's per-host work, in every variant.** Each `template` task runs "
            "`stat` on the host, then `copy` when the content differs (`file` when it does not), each a Python "
            "process, in a worker forked for that host; the role's file task runs one. The `ansible-playbook` "
            "process itself used a median "
            f"{share * 100:.0f} % of each play's CPU time; the rest is workers and module processes. The "
            "collection's own work (one token request, file-cache reads) is milliseconds per run.")
    return lines


def scan_for_secrets(texts: list[str], secrets_seen: set[str]) -> None:
    for text in texts:
        for value in secrets_seen:
            if value and value in text:
                raise SystemExit("a secret or token would be written to the results: refusing")


def report_text(data: dict) -> str:
    """benchmarks.md for the results; adds the targets and findings it shows to ``data``."""
    data["rows"] = bench_report.summarize(data["runs"], data["config"], data["baseline"])
    data["targets"] = bench_report.targets(data["rows"], data["micro"])
    data["findings"] = findings(data["rows"], data["micro"])
    return bench_report.markdown(data)


def write_report(data: dict, text: str, out: Path) -> None:
    """benchmarks.md and .png; benchmarks.json is written by the run itself."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.md").write_text(text, encoding="utf-8")
    bench_report.chart(data["rows"], tuple(data["config"]["variants"]), out / "benchmarks.png")


def render(out: Path) -> int:
    """Rewrite the report from a saved benchmarks.json (after a change to its text, not to its numbers).

    The tables are summarized again from the runs it holds.
    """
    source = out / "benchmarks.json"
    if not source.is_file():
        print(f"bench: no {source} to render; run `make bench` first", file=sys.stderr)
        return 2
    data = json.loads(source.read_text(encoding="utf-8"))
    write_report(data, report_text(data), out)
    print(f"bench: rewrote {out / 'benchmarks.md'} and .png from {source}")
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--render"]:
        return render(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs")
    started = time.monotonic()
    # A SIGTERM ends the run through the finally clauses: the simulator and the play stop with it.
    signal.signal(signal.SIGTERM, _terminate)
    config = settings()
    work = ROOT / ".tmp" / "bench" / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if not config["resume"]:
        shutil.rmtree(CELLS, ignore_errors=True)

    def log(message: str) -> None:
        print(f"bench {time.monotonic() - started:7.0f}s  {message}", flush=True)

    machine = machine_info()
    log(f"hosts {config['hosts']}, forks {config['forks']}, runs {config['runs']}, variants "
        f"{' '.join(config['variants'])}, left out {config['skip']}, plain figures {config['plain']}; "
        f"results to {config['out']}")
    secret = secrets.token_urlsafe(32)
    sim = Simulator.start(str(work / "sim"))
    try:
        sim.add_client("oauth2", client_id=CLIENT_ID, client_secret=secret)
        bench = bench_grid.PlayBench(sim, work, CLIENT_ID, secret, pipelining=config["pipelining"])
        micro = micro_benchmarks(bench, sim, secret, config, log) if config["micro"] else {}
        runs, resumed = grid(bench, config, log)
    finally:
        sim.stop()

    machine["load_after"] = " ".join(f"{value:.1f}" for value in os.getloadavg())
    shares = [run["others_cpu_share"] for run in runs] or [0.0]
    machine["others_cpu_share_median"] = statistics.median(shares)
    machine["others_cpu_share_max"] = max(shares)
    machine["loaded"] = machine["others_cpu_share_median"] > 0.10
    problems = [f"{run['variant']} ({run['mode']}) at {run['hosts']} hosts, forks {run['forks']}, {run['phase']}, "
                f"round {run['rep'] + 1}: {problem}" for run in runs for problem in run["problems"]]
    data = {
        "generated": _now(),
        "duration_s": time.monotonic() - started,
        "resumed": resumed,
        "machine": machine,
        "baseline": bench_grid.BASELINE,
        "config": {
            "hosts": config["hosts"], "forks": config["forks"], "runs": config["runs"],
            "variants": list(config["variants"]), "skip": config["skip"], "plain": config["plain"],
            "modes": config["modes"],
            "ansible_cfg": bench.cfg.read_text(encoding="utf-8").replace(str(ROOT), ".").splitlines(),
        },
        "micro": micro,
        "runs": runs,
        "problems": problems,
    }
    text = report_text(data)
    raw = json.dumps(data, indent=1, default=str)
    scan_for_secrets([text, raw], {secret} | bench.tokens_seen)
    out = config["out"]
    write_report(data, text, out)
    (out / "benchmarks.json").write_text(raw + "\n", encoding="utf-8")
    log(f"wrote {out / 'benchmarks.md'}, .png and .json in {(time.monotonic() - started) / 60:.1f} minutes")
    for mode in bench_report.modes_of(data["rows"]):
        print("\n".join(bench_report.grid_table([row for row in data["rows"] if row["mode"] == mode])))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
