"""docs/benchmarks.md and docs/benchmarks.png from the results of ``make bench``."""

from __future__ import annotations

import statistics
from collections import defaultdict

# Targets of the collection variants (docs/benchmarks.md says how each is judged).
WALL_TOLERANCE = 1.05  # "no worse than the best baseline": median wall within 5 % of it
LOOKUP_WARM_MS = 1.0
COLLECTION_VARIANTS = ("lookup", "app_config_role")
DESCRIPTIONS = {
    "uri_run_once": "best hand-written play: `ansible.builtin.uri` token request with `run_once` "
                    "(`no_log`), then `ansible.builtin.template`",
    "uri_per_host": "naive hand-written play: `ansible.builtin.uri` on every host (`no_log`), then the template",
    "lookup": "the template calls `lookup('apiauth.saas.oauth2_token')`, options from `apiauth_oauth2_*` "
              "variables, cache directory from `APIAUTH_SAAS_CACHE_DIR`",
    "app_config_role": "`apiauth.saas.app_config` role, `app_config_credentials` from the lookup, "
                       "one `format: ini` file (the role's README)",
}
MICRO_ROWS = (
    ("warm_memory", "lookup, warm, memory layer (in process)"),
    ("set_options", "of which Ansible resolving the lookup's options (`set_options`)"),
    ("warm_file", "lookup, warm, file cache (memory layer cleared before each call)"),
    ("cold_force_refresh", "lookup, cold: `force_refresh=true`, one HTTPS request + cache write"),
    ("cache_off", "lookup, `cache=false`: one HTTPS request, nothing written"),
    ("first_call_in_worker", "lookup, first call in a new worker process (plugin load + file cache)"),
    ("import_requests_in_worker", "for comparison: `import requests` in a new worker process"),
)


def _median(values):
    return statistics.median(values) if values else None


def _fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:.{digits}f}"


def cells(runs: list[dict]) -> dict:
    """(hosts, forks, phase, variant) -> the runs of that case."""
    grouped: dict = defaultdict(list)
    for run in runs:
        grouped[(run["hosts"], run["forks"], run["phase"], run["variant"])].append(run)
    return grouped


def summarize(runs: list[dict], variants: tuple, baseline: str) -> list[dict]:
    """One row per case: medians, ratio to the baseline of the same cell, counts."""
    grouped = cells(runs)
    rows = []
    for hosts, forks, phase in sorted({key[:3] for key in grouped}, key=lambda k: (k[0], k[1], k[2] != "cold")):
        base = grouped.get((hosts, forks, phase, baseline))
        base_wall = _median([run["wall_s"] for run in base]) if base else None
        for variant in variants:
            case = grouped.get((hosts, forks, phase, variant))
            if not case:
                continue
            wall = _median([run["wall_s"] for run in case])
            rows.append({
                "hosts": hosts, "forks": forks, "phase": phase, "variant": variant, "runs": len(case),
                "wall_s": wall, "wall_min_s": min(run["wall_s"] for run in case),
                "wall_max_s": max(run["wall_s"] for run in case),
                "ratio": wall / base_wall if base_wall else None,
                "cpu_s": _median([run["cpu_s"] for run in case]),
                "main_cpu_s": _median([run["main_cpu_s"] for run in case]),
                "token_requests": sorted({run["token_requests"] for run in case}),
                "files_changed": sorted({run["files_changed"] for run in case}),
                "peak_rss_mib": max(run["peak_rss_mib"] for run in case),
                "others_cpu_share": _median([run["others_cpu_share"] for run in case]),
                "problems": [problem for run in case for problem in run["problems"]],
            })
    return rows


def _counts(values: list[int]) -> str:
    return "/".join(str(value) for value in values)


def grid_table(rows: list[dict]) -> list[str]:
    lines = [
        "| hosts | forks | run | variant | runs | wall s (median) | min–max | × best baseline | CPU s | "
        "token requests | files changed | peak RSS MiB | others' CPU |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['hosts']} | {row['forks']} | {row['phase']} | `{row['variant']}` | {row['runs']} | "
            f"{_fmt(row['wall_s'])} | {_fmt(row['wall_min_s'])}–{_fmt(row['wall_max_s'])} | "
            f"{_fmt(row['ratio'], 2)} | {_fmt(row['cpu_s'])} | {_counts(row['token_requests'])} | "
            f"{_counts(row['files_changed'])} | {_fmt(row['peak_rss_mib'], 0)} | "
            f"{row['others_cpu_share'] * 100:.0f} % |"
        )
    return lines


def micro_table(micro: dict) -> list[str]:
    lines = ["| what | median ms | p90 ms | CPU ms (median) | samples |", "|---|---:|---:|---:|---:|"]
    lookups = micro.get("lookup", {})
    for key, label in MICRO_ROWS:
        if key in lookups:
            item = lookups[key]
            lines.append(f"| {label} | {item['median_ms']:.3f} | {item['p90_ms']:.3f} | "
                         f"{item['cpu_median_ms']:.3f} | {item['n']} |")
    tasks = micro.get("tasks")
    if tasks:
        for key, label in (("token", "one `apiauth.saas.oauth2_token` task (warm, file cache)"),
                           ("debug", "for comparison: one `ansible.builtin.debug` task")):
            item = tasks["per_task"][key]
            lines.append(f"| {label} | {item['median_ms']:.1f} | {item['p90_ms']:.1f} | – | {item['n']} tasks |")
    return lines


def targets(rows: list[dict], micro: dict) -> list[tuple[str, bool | None, str]]:
    """(target, met, evidence) for the collection variants."""
    ours = [row for row in rows if row["variant"] in COLLECTION_VARIANTS]
    cold = [row for row in ours if row["phase"] == "cold"]
    warm = [row for row in ours if row["phase"] == "warm"]
    result = []

    def check(label, selected, ok, evidence):
        result.append((label, (all(ok(row) for row in selected) if selected else None), evidence))

    check("1 token request per credential per run, cold", cold, lambda row: row["token_requests"] == [1],
          "cold runs: " + ", ".join(sorted({_counts(row["token_requests"]) for row in cold})) + " request(s)")
    check("0 token requests on a warm run", warm, lambda row: row["token_requests"] == [0],
          "warm runs: " + ", ".join(sorted({_counts(row["token_requests"]) for row in warm})) + " request(s)")
    check("0 config files changed on a warm re-run", warm, lambda row: row["files_changed"] == [0],
          "warm runs: " + ", ".join(sorted({_counts(row["files_changed"]) for row in warm})) + " file(s) changed")
    worst = max((row for row in ours if row["ratio"] is not None), key=lambda row: row["ratio"], default=None)
    evidence = "no baseline" if worst is None else (
        f"worst: `{worst['variant']}` at {worst['hosts']} hosts, forks {worst['forks']}, {worst['phase']}: "
        f"{worst['ratio']:.2f} × `uri_run_once`")
    check(f"wall time no worse than the best baseline (median within {int(round((WALL_TOLERANCE - 1) * 100))} %)",
          [row for row in ours if row["ratio"] is not None], lambda row: row["ratio"] <= WALL_TOLERANCE, evidence)
    warm_memory = micro.get("lookup", {}).get("warm_memory")
    if warm_memory:
        result.append((f"warm in-process lookup well under {LOOKUP_WARM_MS:g} ms (median and p90)",
                       warm_memory["p90_ms"] < LOOKUP_WARM_MS,
                       f"median {warm_memory['median_ms']:.3f} ms, p90 {warm_memory['p90_ms']:.3f} ms"))
    return result


def chart(rows: list[dict], variants: tuple, path) -> None:
    """Wall time (per forks setting) and token requests against the number of hosts, per variant."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    forks_values = sorted({row["forks"] for row in rows})
    figure, axes = plt.subplots(1, len(forks_values) + 1, figsize=(5.2 * (len(forks_values) + 1), 4.6))
    looks = dict(zip(("uri_run_once", "uri_per_host", "lookup", "app_config_role"),
                     (("tab:gray", "o", 10), ("tab:red", "s", 8), ("tab:blue", "^", 8), ("tab:green", "D", 5))))
    styles = {"cold": "-", "warm": "--"}
    host_values = sorted({row["hosts"] for row in rows})

    def draw(axis, points, variant, phase):
        colour, marker, size = looks[variant]
        axis.plot([p[0] for p in points], [p[1] for p in points], styles[phase], marker=marker, markersize=size,
                  color=colour, fillstyle="full" if phase == "cold" else "none", label=f"{variant} ({phase})")

    def hosts_axis(axis):
        if len(host_values) > 1:
            axis.set_xscale("log")
        axis.set_xticks(host_values)
        axis.set_xticklabels([str(value) for value in host_values])
        axis.minorticks_off()
        axis.set_xlabel("hosts")
        axis.grid(True, alpha=0.3)
    for axis, forks in zip(axes, forks_values):
        for variant in variants:
            for phase in styles:
                points = sorted((row["hosts"], row["wall_s"]) for row in rows
                                if row["variant"] == variant and row["forks"] == forks and row["phase"] == phase)
                if points:
                    draw(axis, points, variant, phase)
        axis.set_title(f"wall time, forks {forks}")
        axis.set_ylabel("seconds (median of the runs)")
        axis.set_ylim(bottom=0)
        hosts_axis(axis)
    token_axis = axes[-1]
    for variant in variants:
        for phase in styles:
            points = sorted({(row["hosts"], max(row["token_requests"])) for row in rows
                             if row["variant"] == variant and row["phase"] == phase})
            if points:
                draw(token_axis, points, variant, phase)
    token_axis.set_yscale("symlog", linthresh=1)
    most = max((max(row["token_requests"]) for row in rows), default=1)
    ticks = [tick for tick in (0, 1, 10, 100, 1000, 10000) if tick <= max(most, 1)]
    token_axis.set_yticks(ticks)
    token_axis.set_yticklabels([str(tick) for tick in ticks])
    token_axis.set_title("token requests per run (simulator audit log)")
    token_axis.set_ylabel("requests")
    hosts_axis(token_axis)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize="small")
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _per_host_extra(rows: list[dict], baseline: str) -> list[str]:
    """Extra CPU (ms per host) of each variant over the baseline of the same cell."""
    by_case = {(row["hosts"], row["forks"], row["phase"], row["variant"]): row for row in rows}
    lines = ["| hosts | forks | run | " + " | ".join(f"`{v}`" for v in COLLECTION_VARIANTS) + " |",
             "|---:|---:|---|" + "---:|" * len(COLLECTION_VARIANTS)]
    for hosts, forks, phase in sorted({key[:3] for key in by_case}, key=lambda k: (k[0], k[1], k[2] != "cold")):
        base = by_case.get((hosts, forks, phase, baseline))
        if base is None:
            continue
        cells_text = []
        for variant in COLLECTION_VARIANTS:
            row = by_case.get((hosts, forks, phase, variant))
            cells_text.append("–" if row is None else f"{(row['cpu_s'] - base['cpu_s']) / hosts * 1000:+.0f}")
        lines.append(f"| {hosts} | {forks} | {phase} | " + " | ".join(cells_text) + " |")
    return lines


def _resumed(resumed) -> str:
    if not resumed:
        return "."
    cells_text = ", ".join(f"{cell['hosts']} hosts × forks {cell['forks']}" for cell in resumed)
    minutes = sum(cell["duration_s"] for cell in resumed) / 60
    started = sorted(cell["started"] for cell in resumed)[0]
    return (f", plus {minutes:.1f} minutes in an earlier session (from {started}) for the cells {cells_text}, "
            "reused with `BENCH_RESUME=1` after that session was stopped; a cell is reused only whole, with the "
            "same settings and the same code under test.")


def _subtraction(tasks) -> str:
    if not tasks or not tasks.get("by_subtraction"):
        return ""
    by = tasks["by_subtraction"]
    return (" Cross-check, (play of N tasks − play without tasks) / N, median over the plays: "
            f"{by['token']['median_ms']:.0f} ms for a token task, {by['debug']['median_ms']:.0f} ms for a debug task.")


def claim(rows: list[dict], hosts: int = 50, forks: int = 10) -> list[str]:
    """The users' claim next to what this run measured in the same cell, if the grid has it."""
    found = {(row["phase"], row["variant"]): row for row in rows if row["hosts"] == hosts and row["forks"] == forks}
    best, naive = found.get(("warm", "uri_run_once")), found.get(("warm", "uri_per_host"))
    if best is None or naive is None:
        return []
    cold_best, cold_naive = found.get(("cold", "uri_run_once")), found.get(("cold", "uri_per_host"))
    return [
        f"The users' claim, for {hosts} hosts and forks {forks}: the best hand-written play takes about 23 s, makes "
        f"1 token request per run and rewrites all {hosts} files on every run; the naive one about 39 s with "
        f"{hosts} requests. Measured here: `uri_run_once` {_fmt(cold_best and cold_best['wall_s'])} s cold and "
        f"{_fmt(best['wall_s'])} s warm, {_counts(best['token_requests'])} request(s) per run, "
        f"{_counts(best['files_changed'])} of {hosts} files changed by the second run; `uri_per_host` "
        f"{_fmt(cold_naive and cold_naive['wall_s'])} s and {_fmt(naive['wall_s'])} s, "
        f"{_counts(naive['token_requests'])} requests per run. (Times depend on the settings below, the same "
        "for every variant, and on the machine's load.)",
        "",
    ]


def markdown(data: dict) -> str:
    """The whole of docs/benchmarks.md."""
    machine, config, rows, micro = data["machine"], data["config"], data["rows"], data["micro"]
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tests/bench/bench_main.py`); do not edit by hand. "
        f"Generated {data['generated']} in {data['duration_s'] / 60:.1f} minutes" + _resumed(data.get("resumed")),
        "",
        "The question: does delivering a token with the collection cost more than the hand-written plays it "
        "replaces? Four plays render the same small INI file (base URL + token) on every host of an inventory "
        "of local hosts, against the bundled OAuth 2.0 simulator (`oauth2` vendor, client credentials, "
        "`client_secret_basic`, tokens valid 3600 s; the collection's default `min_ttl` of 900 s).",
        "",
        "## Machine",
        "",
        f"- {machine['cpu_count']} CPUs ({machine['cpu_model']}), {machine['memory_gib']:.0f} GiB RAM, "
        f"{machine['platform']}",
        f"- Python {machine['python']}, ansible-core {machine['ansible_core']}",
        f"- load average before / after: {machine['load_before']} / {machine['load_after']}; "
        f"median share of all CPUs used by other processes during the runs: "
        f"{machine['others_cpu_share_median'] * 100:.0f} % (max {machine['others_cpu_share_max'] * 100:.0f} %)",
        "",
    ]
    if machine["loaded"]:
        out += [
            "> **The machine was shared and loaded while this ran.** Other people's processes used "
            f"{machine['others_cpu_share_median'] * 100:.0f} % of the CPUs in the median run (up to "
            f"{machine['others_cpu_share_max'] * 100:.0f} %), so wall times are noisy and slower than on an idle "
            "machine; the runs were interleaved so that the noise hits every variant alike, and the CPU seconds "
            "of each play (less sensitive to load) are given next to the wall times.",
            "",
        ]
    out += [
        "## Variants and settings",
        "",
    ]
    for variant in config["variants"]:
        out.append(f"- `{variant}` ([playbook](../tests/bench/playbooks/{variant}.yml)): {DESCRIPTIONS[variant]}")
    out += [
        "",
        "Every variant runs with the same `ansible.cfg`, written by the bench:",
        "",
        "```ini",
        *config["ansible_cfg"],
        "```",
        "",
        "With `pipelining` on (`BENCH_PIPELINING=0` turns it off) a module is one process instead of several, "
        "in every variant: the plays get faster, so the collection's own per-host costs weigh more in the "
        "ratios, not less.",
        "",
        "Inventory: hosts `h0001`… in group `bench` with `ansible_connection=local` and "
        "`ansible_python_interpreter` = the venv's Python; each host writes `<bench dir>/dest/<host>/app.ini` "
        "(mode 0600). `gather_facts: false`, the `default` stdout callback, `-f <forks>`. The environment has "
        "no other `ANSIBLE_*` variable than `ANSIBLE_CONFIG`, `ANSIBLE_COLLECTIONS_PATH` (this tree) and "
        "`ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false`, and `APIAUTH_SAAS_CACHE_DIR` (a fresh directory per case).",
        "",
        "## Method",
        "",
        f"- Grid: hosts {config['hosts']} × forks {config['forks']} × cold and warm. Runs per cell: "
        + ", ".join(f"{runs} at {hosts} hosts" for hosts, runs in config["runs"].items())
        + (". With one run the median is that run." if 1 in config["runs"].values() else "."),
        "- One case = a cold run (new empty token cache directory, no config files; the per-host directories "
        "exist) and, right after, a warm run (same cache directory, same files). Within a cell the variants "
        "run round-robin, the order rotated every round, so that machine noise hits them alike.",
        "- wall: `ansible-playbook` start to exit. × best baseline: median wall over the median wall of "
        "`uri_run_once` in the same cell and run (cold or warm). CPU s: user + system time of the "
        "`ansible-playbook` process tree (its waited-for children: workers and module processes).",
        "- token requests: requests of the bench client that reached the simulator's token endpoint, from its "
        "audit log (cleared before every run). Several values = not all runs agreed.",
        "- files changed: config files whose content (SHA-256) or mtime differ after the run; on a cold run "
        "that is every file created.",
        "- peak RSS: highest sum of the resident set sizes of the `ansible-playbook` process and all its "
        "descendants, sampled every 0.1 s with psutil. Forked workers share most pages, which this sum counts "
        "once per process, so it overstates real use; it is the same measure for every variant.",
        "- others' CPU: CPU time used by processes other than the play, the simulator and the bench driver, "
        "as a share of all CPUs during the run.",
        "",
        "## Results",
        "",
        *claim(rows),
        *grid_table(rows),
        "",
        "![Wall time and token requests against the number of hosts](benchmarks.png)",
        "",
        "## Micro-benchmarks",
        "",
        "The lookup called from Python in a process like `ansible-playbook`'s (Ansible loaded, the collection "
        "not yet), against the same simulator. \"First call in a new worker\" forks a child, as Ansible forks "
        "one worker per host and task, and times loading the plugin and one call served from the file cache. "
        f"The tasks run {micro.get('tasks', {}).get('tasks_per_play', 'N')} to a play on localhost, "
        f"{micro.get('tasks', {}).get('reps', '?')} plays of each kind interleaved with plays without tasks; a "
        "task's time is from its start to its result as `ansible-playbook` sees them (a callback of the bench), "
        "the first task of each play left out."
        + _subtraction(micro.get("tasks")),
        "",
        *micro_table(micro),
        "",
        "## Targets",
        "",
        "| target (collection variants) | met | evidence |",
        "|---|---|---|",
    ]
    for label, met, evidence in data["targets"]:
        verdict = "n/a" if met is None else ("yes" if met else "**no**")
        out.append(f"| {label} | {verdict} | {evidence} |")
    out += [
        "",
        "## Where the time goes",
        "",
        "Extra CPU of the play tree per host over `uri_run_once` in the same cell (ms per host, median runs):",
        "",
        *_per_host_extra(rows, data["baseline"]),
        "",
        *data["findings"],
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                                   # the default grid; writes docs/benchmarks.{md,png,json}",
        "make bench BENCH_QUICK=1                     # quick check: 10 hosts, forks 5, 1 run; writes .tmp/bench/quick/",
        'make bench BENCH_HOSTS="50" BENCH_FORKS="10" BENCH_RUNS=5',
        ".venv/bin/python tests/bench/bench_main.py --render   # rewrite this page and the chart from the .json",
        "```",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
        "| `BENCH_HOSTS` | `50 500` | inventory sizes |",
        "| `BENCH_FORKS` | `10 50` | `-f` values |",
        "| `BENCH_RUNS` | `50:3 500:1` | runs per cell: one number for all, or `hosts:runs` pairs (hosts not "
        "listed get the value of the nearest smaller size) |",
        "| `BENCH_VARIANTS` | all four | a subset, space-separated |",
        "| `BENCH_MICRO` | `1` | `0` skips the micro-benchmarks |",
        "| `BENCH_PIPELINING` | `1` | `0` runs every variant with Ansible's default `pipelining = False` |",
        "| `BENCH_RESUME` | unset | `1`: reuse the cells a stopped run finished (`.tmp/bench/cells/`), if "
        "settings and code under test are unchanged |",
        "| `BENCH_QUICK` | unset | `1`: `BENCH_HOSTS=10 BENCH_FORKS=5 BENCH_RUNS=1`, smaller micro-benchmarks, "
        "output in `.tmp/bench/quick/` |",
        "| `BENCH_OUT` | `docs` (`.tmp/bench/quick` in quick mode) | where `benchmarks.md`, `.png` and `.json` go |",
        "",
        "`make bench` installs `tests/requirements-bench.txt` (psutil, matplotlib) into `.venv`; it is not "
        "part of `make test`. Play outputs and work files stay in `.tmp/bench/` (not committed). No token or "
        "secret is printed: the plays' outputs are checked for the client secret and for every token "
        "issued, and so are these results.",
    ]
    if data["problems"]:
        out += ["", "## Problems", ""] + [f"- {problem}" for problem in data["problems"]]
    return "\n".join(out) + "\n"
