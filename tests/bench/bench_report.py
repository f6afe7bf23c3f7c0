"""docs/benchmarks.md and docs/benchmarks.png from the results of ``make bench``."""

from __future__ import annotations

import statistics
from collections import defaultdict

# Targets of the collection variants (docs/benchmarks.md says how each is judged).
RATIO_COLD = 1.0  # with the handler, cold: no slower than the best hand-written play
RATIO_WARM = 0.85  # with the handler, warm: it reloads nothing, the hand-written plays reload every host
RATIO_PLAIN = 1.0  # without the handler, cold and warm
PSS_TOLERANCE = 1.10  # peak PSS at most 10 % above the baseline's (peak RSS is shown beside it, not judged)
LOOKUP_WARM_MS = 1.0
FIRST_CALL_MS = 15.0  # CPU of a new worker's first lookup call
ROLE_EXTRA_MS = 20.0  # app_config_role's extra CPU per host over the baseline, without the handler
COLLECTION_VARIANTS = ("lookup", "app_config_role")
RELOAD, PLAIN, DERIVED = "reload", "plain", "plain (derived)"
MODES = (RELOAD, PLAIN, DERIVED)
MODE_TITLE = {RELOAD: "with the reload handler", PLAIN: "without the handler (measured)",
              DERIVED: "without the handler (derived)"}
MODE_TEXT = {RELOAD: "with the reload handler", PLAIN: "without the handler, measured",
             DERIVED: "without the handler, derived from the reload runs"}
DESCRIPTIONS = {
    "uri_run_once": "best hand-written play: `ansible.builtin.uri` token request with `run_once` "
                    "(`no_log`), then `ansible.builtin.template`, which notifies the reload handler",
    "uri_per_host": "naive hand-written play: `ansible.builtin.uri` on every host (`no_log`), then the template, "
                    "which notifies the reload handler",
    "lookup": "the template calls `lookup('apiauth.saas.oauth2_token')`, options from `apiauth_oauth2_*` "
              "variables, cache directory from `APIAUTH_SAAS_CACHE_DIR`, the callback `apiauth.saas.preload` "
              "enabled (the README's advice for a lookup on many hosts); the template notifies the reload handler",
    "app_config_role": "`apiauth.saas.app_config` role, `app_config_credentials` from the lookup, "
                       "one `format: ini` file, the callback `apiauth.saas.preload` enabled (the role's README); "
                       "the reload through the role's handler",
}
MICRO_ROWS = (
    ("warm_memory", "lookup, warm, memory layer (in process)"),
    ("set_options", "of which Ansible resolving the lookup's options (`set_options`)"),
    ("warm_file", "lookup, warm, file cache (memory layer cleared before each call)"),
    ("cold_force_refresh", "lookup, cold: `force_refresh=true`, one HTTPS request + cache write"),
    ("cache_off", "lookup, `cache=false`: one HTTPS request, nothing written"),
    ("first_call_in_worker", "lookup, first call in a new worker process (plugin load + file cache)"),
    ("preload_in_main_process", "callback `apiauth.saas.preload`: loading the lookups and filters, once per run"),
    ("first_call_in_worker_preloaded", "lookup, first call in a new worker, forked after that preload"),
    ("import_requests_in_worker", "for comparison: `import requests` in a new worker process"),
)


def _median(values):
    return statistics.median(values) if values else None


def _fmt(value, digits=1):
    if value is None:
        return "–"
    return f"{value:.{digits}f}"


def _signed(value, digits=0):
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def normalize(runs: list[dict]) -> list[dict]:
    """Runs of an older benchmarks.json: written before the reload handler was in the plays, all plain;
    before the peak PSS was recorded, without it."""
    defaults = {"mode": PLAIN, "reloads": 0, "handler_tasks": 0, "handlers_wall_s": 0.0, "handlers_cpu_s": 0.0,
                "unreaped_workers": 0, "controller_cpu_s": None, "modules_cpu_s": None,
                "handlers_controller_cpu_s": None, "handlers_modules_cpu_s": None, "peak_pss_mib": None}
    return [dict(defaults, **run) for run in runs]


def derive(runs: list[dict]) -> list[dict]:
    """The plain figures of each reload run: the run up to the start of its first handler.

    Handlers run only after all tasks of the play (the end-of-play flush), so the part of a run
    before the first handler is the play without the handler; ``handlers_wall_s`` and
    ``handlers_cpu_s`` (callback bench_phases) are the span from there to the end of the
    playbook. A run without handlers is its own plain figure. Peak memory is not derived.
    """
    result = []
    for run in runs:
        if run["mode"] != RELOAD:
            continue
        split = {key: (None if run[key] is None or run[f"handlers_{key}"] is None
                       else round(run[key] - run[f"handlers_{key}"], 3))
                 for key in ("controller_cpu_s", "modules_cpu_s")}
        result.append(dict(run, mode=DERIVED, wall_s=round(run["wall_s"] - run["handlers_wall_s"], 3),
                           cpu_s=round(run["cpu_s"] - run["handlers_cpu_s"], 3), reloads=0, handler_tasks=0,
                           handlers_wall_s=0.0, handlers_cpu_s=0.0, main_cpu_s=None, peak_rss_mib=None,
                           peak_pss_mib=None, others_cpu_share=None, **split, handlers_controller_cpu_s=0.0,
                           handlers_modules_cpu_s=0.0, problems=[]))
    return result


def cells(runs: list[dict]) -> dict:
    """(mode, hosts, forks, phase, variant) -> the runs of that case."""
    grouped: dict = defaultdict(list)
    for run in runs:
        grouped[(run["mode"], run["hosts"], run["forks"], run["phase"], run["variant"])].append(run)
    return grouped


def _stats(case: list[dict], key: str) -> tuple:
    values = [run[key] for run in case if run[key] is not None]
    if not values:
        return None, None, None
    return _median(values), min(values), max(values)


def summarize(runs: list[dict], config: dict, baseline: str) -> list[dict]:
    """One row per case (mode, hosts, forks, phase, variant): medians, ranges, ratio to the baseline
    of the same cell, mode and phase, counts. The plain figures derived from the reload runs are rows
    of mode "plain (derived)" unless BENCH_PLAIN was ``measured``."""
    runs = normalize(runs)
    plain = config.get("plain", "measured" if all(run["mode"] == PLAIN for run in runs) else "derived")
    if plain in ("derived", "both"):
        runs = runs + derive(runs)
    variants = list(config["variants"])
    grouped = cells(runs)
    rows = []
    keys = sorted({key[:4] for key in grouped},
                  key=lambda k: (MODES.index(k[0]), k[1], k[2], k[3] != "cold"))
    for mode, hosts, forks, phase in keys:
        base = grouped.get((mode, hosts, forks, phase, baseline))
        base_wall = _median([run["wall_s"] for run in base]) if base else None
        for variant in variants:
            case = grouped.get((mode, hosts, forks, phase, variant))
            if not case:
                continue
            wall, wall_min, wall_max = _stats(case, "wall_s")
            cpu, cpu_min, cpu_max = _stats(case, "cpu_s")
            rss, rss_min, rss_max = _stats(case, "peak_rss_mib")
            pss, pss_min, pss_max = _stats(case, "peak_pss_mib")
            rows.append({
                "mode": mode, "hosts": hosts, "forks": forks, "phase": phase, "variant": variant, "runs": len(case),
                "wall_s": wall, "wall_min_s": wall_min, "wall_max_s": wall_max,
                "ratio": wall / base_wall if base_wall else None,
                "cpu_s": cpu, "cpu_min_s": cpu_min, "cpu_max_s": cpu_max,
                "main_cpu_s": _stats(case, "main_cpu_s")[0],
                "token_requests": sorted({run["token_requests"] for run in case}),
                "files_changed": sorted({run["files_changed"] for run in case}),
                "reloads": sorted({run["reloads"] for run in case}),
                "peak_rss_mib": rss, "peak_rss_min_mib": rss_min, "peak_rss_max_mib": rss_max,
                "peak_pss_mib": pss, "peak_pss_min_mib": pss_min, "peak_pss_max_mib": pss_max,
                # Where the highest of the runs' PSS peaks was (bench_grid's split; None before it recorded one).
                "peak_pss_split_mib": max(case, key=lambda run: run.get("peak_pss_mib") or 0).get("peak_pss_split_mib"),
                "others_cpu_share": _stats(case, "others_cpu_share")[0],
                # per round, to pair a variant's runs with the baseline's of the same round
                "cpu_by_rep": sorted([run["rep"], run["cpu_s"]] for run in case),
                **{f"{key}_by_rep": sorted([run["rep"], run[key]] for run in case if run[key] is not None)
                   for key in ("controller_cpu_s", "modules_cpu_s")},
                "handlers_cpu_s": _stats(case, "handlers_cpu_s")[0],
                "handlers_wall_s": _stats(case, "handlers_wall_s")[0],
                "problems": [problem for run in case for problem in run["problems"]],
            })
    return rows


def modes_of(rows: list[dict]) -> list[str]:
    present = {row["mode"] for row in rows}
    return [mode for mode in MODES if mode in present]


def plain_mode(rows: list[dict]) -> str | None:
    """The plain figures the targets are judged from: measured ones if the grid ran them, else derived."""
    present = set(modes_of(rows))
    return PLAIN if PLAIN in present else (DERIVED if DERIVED in present else None)


def _counts(values: list[int]) -> str:
    return "/".join(str(value) for value in values)


def _span(row: dict, low: str, high: str, digits: int = 1) -> str:
    """min–max of the runs, or "1 run"."""
    if row["runs"] == 1:
        return "1 run"
    if row[low] is None:
        return "–"
    return f"{row[low]:.{digits}f}–{row[high]:.{digits}f}"


def grid_table(rows: list[dict]) -> list[str]:
    """The results of one or more modes, one line per case."""
    lines = [
        "| hosts | forks | run | mode | variant | runs | wall s (median) | min–max | × `uri_run_once` | "
        "CPU s (median) | min–max | token requests | files changed | reloads | peak RSS MiB (median) | "
        "peak PSS MiB (median) | others' CPU |",
        "|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        others = row["others_cpu_share"]
        lines.append(
            f"| {row['hosts']} | {row['forks']} | {row['phase']} | {row['mode']} | `{row['variant']}` | "
            f"{row['runs']} | {_fmt(row['wall_s'])} | {_span(row, 'wall_min_s', 'wall_max_s')} | "
            f"{_fmt(row['ratio'], 2)} | {_fmt(row['cpu_s'])} | {_span(row, 'cpu_min_s', 'cpu_max_s')} | "
            f"{_counts(row['token_requests'])} | {_counts(row['files_changed'])} | "
            f"{_counts(row['reloads']) if row['mode'] != DERIVED else '–'} | {_fmt(row['peak_rss_mib'], 0)} | "
            f"{_fmt(row['peak_pss_mib'], 0)} | {'–' if others is None else f'{others * 100:.0f} %'} |"
        )
    return lines


def _plain_rows(rows: list[dict]) -> list[dict]:
    """The plain rows, measured and derived of the same case next to each other."""
    plain = [row for row in rows if row["mode"] in (PLAIN, DERIVED)]
    variants = list(dict.fromkeys(row["variant"] for row in rows))
    return sorted(plain, key=lambda row: (row["hosts"], row["forks"], row["phase"] != "cold",
                                          variants.index(row["variant"]), MODES.index(row["mode"])))


def derivation_table(rows: list[dict]) -> list[str]:
    """Plain figures derived from the reload runs against the plain runs measured beside them."""
    found = {(row["mode"], row["hosts"], row["forks"], row["phase"], row["variant"]): row for row in rows}
    lines = ["| hosts | forks | run | variant | wall s measured | wall s derived | difference | CPU s measured | "
             "CPU s derived | difference | per host |",
             "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in _plain_rows(rows):
        if row["mode"] != PLAIN:
            continue
        other = found.get((DERIVED, row["hosts"], row["forks"], row["phase"], row["variant"]))
        if other is None:
            continue
        wall_diff = other["wall_s"] - row["wall_s"]
        cpu_diff = other["cpu_s"] - row["cpu_s"]
        lines.append(
            f"| {row['hosts']} | {row['forks']} | {row['phase']} | `{row['variant']}` | {_fmt(row['wall_s'])} | "
            f"{_fmt(other['wall_s'])} | {_signed(wall_diff, 1)} s ({_signed(wall_diff / row['wall_s'] * 100)} %) | "
            f"{_fmt(row['cpu_s'])} | {_fmt(other['cpu_s'])} | {_signed(cpu_diff, 1)} s "
            f"({_signed(cpu_diff / row['cpu_s'] * 100)} %) | {_signed(cpu_diff / row['hosts'] * 1000)} ms |")
    return lines if len(lines) > 2 else []


def derivation_summary(rows: list[dict]) -> dict | None:
    """Median and largest relative difference, derived against measured, of wall and CPU."""
    found = {(row["mode"], row["hosts"], row["forks"], row["phase"], row["variant"]): row for row in rows}
    walls, cpus = [], []
    for row in rows:
        other = found.get((DERIVED,) + (row["hosts"], row["forks"], row["phase"], row["variant"]))
        if row["mode"] == PLAIN and other:
            walls.append((other["wall_s"] - row["wall_s"]) / row["wall_s"])
            cpus.append((other["cpu_s"] - row["cpu_s"]) / row["cpu_s"])
    if not walls:
        return None
    return {"cases": len(walls), "wall_median": _median(walls), "wall_worst": max(walls, key=abs),
            "cpu_median": _median(cpus), "cpu_worst": max(cpus, key=abs)}


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


def extra_per_host(rows: list[dict], baseline: str, measure: str = "cpu") -> dict:
    """(mode, hosts, forks, phase, variant) -> extra CPU ms per host over the baseline of the same
    cell, mode and phase: (median, min, max, rounds), each round against the baseline's run of the
    same round. ``measure``: "cpu" (the play's process tree), "controller_cpu" (ansible-playbook and its
    workers) or "modules_cpu" (the module processes the workers ran)."""
    by_case = {(row["mode"], row["hosts"], row["forks"], row["phase"], row["variant"]): row for row in rows}
    field = f"{measure}_by_rep" if measure == "cpu" else f"{measure}_s_by_rep"
    result = {}
    for key, row in by_case.items():
        base = by_case.get(key[:4] + (baseline,))
        if row["variant"] == baseline or base is None:
            continue
        base_cpu = dict((rep, cpu) for rep, cpu in base.get(field, []))
        # Runs of a round are paired; a row whose run has no partner (a round left out) is not.
        values = [(cpu - base_cpu[rep]) / row["hosts"] * 1000 for rep, cpu in row.get(field, []) if rep in base_cpu]
        if values:
            result[key] = (_median(values), min(values), max(values), len(values))
    return result


def _split_text(split: dict) -> str:
    """Where a PSS peak was, as bench_grid splits it: the main process, the workers, the module processes."""
    return (f"main {split['main']:.0f} MiB, {split['workers_count']} workers {split['workers']:.0f} MiB, "
            f"{split['modules_count']} module processes {split['modules']:.0f} MiB")


def _extra_text(item) -> str:
    if item is None:
        return "–"
    median, low, high, count = item
    spread = "1 run" if count == 1 else f"{_signed(low)} to {_signed(high)}"
    return f"{_signed(median)} ({spread})"


def extra_table(rows: list[dict], baseline: str, measure: str = "cpu") -> list[str]:
    extras = extra_per_host(rows, baseline, measure)
    variants = [variant for variant in dict.fromkeys(row["variant"] for row in rows) if variant != baseline]
    lines = ["| mode | hosts | forks | run | " + " | ".join(f"`{variant}`" for variant in variants) + " |",
             "|---|---:|---:|---|" + "---:|" * len(variants)]
    for mode, hosts, forks, phase in sorted({key[:4] for key in extras},
                                            key=lambda k: (MODES.index(k[0]), k[1], k[2], k[3] != "cold")):
        cells_text = [_extra_text(extras.get((mode, hosts, forks, phase, variant))) for variant in variants]
        lines.append(f"| {mode} | {hosts} | {forks} | {phase} | " + " | ".join(cells_text) + " |")
    return lines


def _split_tables(rows: list[dict], baseline: str) -> list[str]:
    """The extra CPU split into the controller's and the module processes' (callback bench_phases)."""
    if not extra_per_host(rows, baseline, "controller_cpu"):
        return []
    return ["Of the controller: the `ansible-playbook` process and its workers, where the templating, the "
            "plugins (the collection's among them) and Ansible's work per host and task run:",
            "", *extra_table(rows, baseline, "controller_cpu"), "",
            "Of the module processes the workers ran (`stat`, `copy` or `file`, the reload's `command`; the role's "
            "own writer instead of the first two): most of the tree's CPU time, so most of its noise:",
            "", *extra_table(rows, baseline, "modules_cpu"), ""]


def _where(row: dict) -> str:
    return f"`{row['variant']}` at {row['hosts']} hosts, forks {row['forks']}, {row['phase']}"


def targets(rows: list[dict], micro: dict, baseline: str = "uri_run_once") -> list[tuple[str, bool | None, str]]:
    """(target, met, evidence) for the collection variants, each judged from this run's numbers."""
    ours = [row for row in rows if row["variant"] in COLLECTION_VARIANTS]
    real = [row for row in ours if row["mode"] != DERIVED]  # runs of their own (derived rows repeat counts)
    plain = plain_mode(rows)
    result = []

    def check(label, selected, ok, evidence):
        result.append((label, (all(ok(row) for row in selected) if selected else None), evidence))

    def ratio_target(label, selected, limit):
        selected = [row for row in selected if row["ratio"] is not None]
        worst = max(selected, key=lambda row: row["ratio"], default=None)
        evidence = "no runs" if worst is None else (
            f"worst: {_where(worst)}: {worst['ratio']:.2f} × (wall {_fmt(worst['wall_s'])} s, "
            f"{_span(worst, 'wall_min_s', 'wall_max_s')} s)").replace("1 run s", "1 run")
        check(label, selected, lambda row: row["ratio"] <= limit, evidence)

    reload_rows = [row for row in ours if row["mode"] == RELOAD]
    ratio_target(f"with the handler, cold: median wall ≤ {RATIO_COLD:.2f} × `uri_run_once`, every cell",
                 [row for row in reload_rows if row["phase"] == "cold"], RATIO_COLD)
    ratio_target(f"with the handler, warm: median wall ≤ {RATIO_WARM:.2f} × `uri_run_once`, every cell",
                 [row for row in reload_rows if row["phase"] == "warm"], RATIO_WARM)
    source = {PLAIN: "measured plain runs", DERIVED: "derived from the reload runs", None: "none"}[plain]
    ratio_target(f"without the handler ({source}): median wall ≤ {RATIO_PLAIN:.2f} × `uri_run_once`, every cell",
                 [row for row in ours if row["mode"] == plain], RATIO_PLAIN)

    cold = [row for row in real if row["phase"] == "cold"]
    warm = [row for row in real if row["phase"] == "warm"]
    check("1 token request per cold run", cold, lambda row: row["token_requests"] == [1],
          "cold runs: " + ", ".join(sorted({_counts(row["token_requests"]) for row in cold})) + " request(s)")
    check("0 token requests on every warm run", warm, lambda row: row["token_requests"] == [0],
          "warm runs: " + ", ".join(sorted({_counts(row["token_requests"]) for row in warm})) + " request(s)")
    check("0 config files changed on every warm run", warm, lambda row: row["files_changed"] == [0],
          "warm runs: " + ", ".join(sorted({_counts(row["files_changed"]) for row in warm})) + " file(s) changed")
    warm_reload = [row for row in warm if row["mode"] == RELOAD]
    check("0 reloads on every warm run (with the handler)", warm_reload, lambda row: row["reloads"] == [0],
          "warm runs: " + ", ".join(sorted({_counts(row["reloads"]) for row in warm_reload})) + " reload(s)")

    by_case = {(row["mode"], row["hosts"], row["forks"], row["phase"], row["variant"]): row for row in rows}
    paired = [(row, by_case.get((row["mode"], row["hosts"], row["forks"], row["phase"], baseline))) for row in real]
    paired = [(row, base) for row, base in paired if base]

    def memory(key):
        """(variant's peak / baseline's, row, baseline's row) of the cases where both have the figure; the worst."""
        ratios = [(row[key] / base[key], row, base) for row, base in paired if base[key] and row[key] is not None]
        return ratios, max(ratios, key=lambda item: item[0], default=None)

    def memory_text(key, worst):
        ratio, row, base = worst
        text = (f"{_where(row)} ({row['mode']}): {row[key]:.0f} MiB against {base[key]:.0f} MiB, "
                f"{ratio:.2f} ×")
        if key == "peak_pss_mib" and row.get("peak_pss_split_mib") and base.get("peak_pss_split_mib"):
            text += (f" (at the highest peak of each: {_split_text(row['peak_pss_split_mib'])}, against "
                     f"{_split_text(base['peak_pss_split_mib'])})")
        return text

    # Judged on PSS, which counts a page the forked workers share once; RSS counts it once per worker, so
    # it charges a variant that loads more in the main process before forking once per fork. Both shown.
    pss, worst_pss = memory("peak_pss_mib")
    worst_rss = memory("peak_rss_mib")[1]
    missing = len(paired) - len(pss)
    met = None
    if not paired:
        evidence = "no runs"
    elif not pss:
        evidence = "no PSS figures"
    else:
        evidence = f"worst PSS: {memory_text('peak_pss_mib', worst_pss)}"
        if missing:
            evidence += f"; PSS missing in {missing} of the {len(paired)} cases, so the target is not judged"
        else:
            met = all(item[0] <= PSS_TOLERANCE for item in pss)
    if worst_rss is not None:
        evidence += f". Peak RSS (shown, not judged): worst {memory_text('peak_rss_mib', worst_rss)}"
    result.append((f"peak PSS ≤ {PSS_TOLERANCE:.2f} × `uri_run_once`'s in the same cell (median of the runs' peaks)",
                   met, evidence))

    def role_extra(measure):
        extras = extra_per_host(rows, baseline, measure)
        role = [(key, value) for key, value in extras.items() if key[0] == plain and key[4] == "app_config_role"]
        return role, max(role, key=lambda item: item[1][0], default=None)

    def worst_text(worst):
        return (f"{worst[0][1]} hosts, forks {worst[0][2]}, {worst[0][3]}: {_extra_text(worst[1])} ms per host")

    # Judged on the controller's CPU (ansible-playbook and its workers), where the role's own work runs;
    # the module processes run the same programs in both plays, and their CPU time, most of the tree's,
    # varies from run to run by more than the target. Runs recorded without the split: the tree's.
    role, worst = role_extra("controller_cpu")
    tree_role, tree_worst = role_extra("cpu")
    what = "the controller's CPU (`ansible-playbook` and its workers)"
    if not role:
        role, worst, what = tree_role, tree_worst, "the CPU of the play's process tree"
    evidence = "no runs" if worst is None else f"worst: {worst_text(worst)}; the range is the spread over the rounds"
    if role is not tree_role and tree_worst is not None:
        evidence += f". The whole tree, with the module processes: worst {worst_text(tree_worst)}"
    result.append((
        f"`app_config_role` extra CPU per host ≤ {ROLE_EXTRA_MS:.0f} ms over `uri_run_once`, without the handler "
        f"({source}; {what}; median of the rounds, every cell)",
        (all(value[0] <= ROLE_EXTRA_MS for _key, value in role) if role else None), evidence))

    lookups = micro.get("lookup", {})
    warm_memory = lookups.get("warm_memory")
    if warm_memory:
        result.append((f"warm in-process lookup well under {LOOKUP_WARM_MS:g} ms (median and p90; micro-benchmark)",
                       warm_memory["p90_ms"] < LOOKUP_WARM_MS,
                       f"median {warm_memory['median_ms']:.3f} ms, p90 {warm_memory['p90_ms']:.3f} ms"))
    first = lookups.get("first_call_in_worker")
    preloaded = lookups.get("first_call_in_worker_preloaded")
    if first or preloaded:
        # Judged with the callback the README advises for a lookup on many hosts; both figures are shown.
        judged = preloaded or first
        without = (f"; without the callback {first['cpu_median_ms']:.1f} ms"
                   if preloaded and first else " (without the callback apiauth.saas.preload)")
        result.append((f"a new worker's first lookup call ≤ {FIRST_CALL_MS:g} ms (CPU, median; micro-benchmark; "
                       "callback `apiauth.saas.preload`)",
                       judged["cpu_median_ms"] <= FIRST_CALL_MS,
                       f"CPU median {judged['cpu_median_ms']:.1f} ms (wall median {judged['median_ms']:.1f} ms, "
                       f"p90 {judged['p90_ms']:.1f} ms, {judged['n']} workers){without}"))
    return result


LOOKS = dict(zip(("uri_run_once", "uri_per_host", "lookup", "app_config_role"),
                 (("tab:gray", "o", 10), ("tab:red", "s", 8), ("tab:blue", "^", 8), ("tab:green", "D", 5))))


def chart_modes(rows: list[dict]) -> list[str]:
    """The modes the chart shows: with the handler, and the plain figures the targets use."""
    return [mode for mode in (RELOAD, plain_mode(rows)) if mode in modes_of(rows)]


def chart(rows: list[dict], variants: tuple, path) -> None:
    """One row of panels per mode (with the handler; without it): wall time per forks setting
    against the number of hosts, then token requests (first row) and reloads (second row) per run."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    forks_values = sorted({row["forks"] for row in rows})
    modes = chart_modes(rows) or [RELOAD]
    columns = len(forks_values) + 1
    figure, axes = plt.subplots(len(modes), columns, figsize=(5.2 * columns, 4.2 * len(modes) + 0.8),
                                squeeze=False)
    styles = {"cold": "-", "warm": "--"}
    host_values = sorted({row["hosts"] for row in rows})

    def draw(axis, points, variant, phase):
        colour, marker, size = LOOKS[variant]
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

    def counts_axis(axis, key, mode_rows, title):
        for variant in variants:
            for phase in styles:
                points = sorted({(row["hosts"], max(row[key])) for row in mode_rows
                                 if row["variant"] == variant and row["phase"] == phase})
                if points:
                    draw(axis, points, variant, phase)
        axis.set_yscale("symlog", linthresh=1)
        most = max((max(row[key]) for row in mode_rows), default=1)
        ticks = [tick for tick in (0, 1, 10, 100, 1000, 10000) if tick <= max(most, 1)]
        axis.set_yticks(ticks)
        axis.set_yticklabels([str(tick) for tick in ticks])
        axis.set_title(title)
        axis.set_ylabel("per run (largest of the runs)")
        hosts_axis(axis)

    for line, mode in enumerate(modes):
        mode_rows = [row for row in rows if row["mode"] == mode]
        for axis, forks in zip(axes[line], forks_values):
            for variant in variants:
                for phase in styles:
                    points = sorted((row["hosts"], row["wall_s"]) for row in mode_rows
                                    if row["variant"] == variant and row["forks"] == forks and row["phase"] == phase)
                    if points:
                        draw(axis, points, variant, phase)
            axis.set_title(f"{MODE_TITLE[mode]}: wall time, forks {forks}", fontsize="medium")
            axis.set_ylabel("seconds (median of the runs)")
            axis.set_ylim(bottom=0)
            hosts_axis(axis)
        last = axes[line][-1]
        if line == 0:
            counts_axis(last, "reloads", mode_rows if mode == RELOAD else [], "reloads per run (reloads.log)")
        elif line == 1:
            counts_axis(last, "token_requests", [row for row in rows if row["mode"] == RELOAD],
                        "token requests per run (simulator audit log)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize="small")
    figure.tight_layout(rect=(0, 0.8 / (4.2 * len(modes) + 0.8) + 0.02, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _resumed(resumed) -> str:
    if not resumed:
        return "."
    cells_text = ", ".join(f"{cell['hosts']} hosts × forks {cell['forks']}" for cell in resumed)
    minutes = sum(cell["duration_s"] for cell in resumed) / 60
    started = sorted(cell["started"] for cell in resumed)[0]
    return (f", plus {minutes:.1f} minutes in an earlier session (from {started}) for the cells {cells_text}, "
            "reused with `BENCH_RESUME=1` after that session was stopped; a cell is reused only whole, with the "
            "same settings, the same code under test and the same measuring code.")


def _subtraction(tasks) -> str:
    if not tasks or not tasks.get("by_subtraction"):
        return ""
    by = tasks["by_subtraction"]
    return (" Cross-check, (play of N tasks − play without tasks) / N, median over the plays: "
            f"{by['token']['median_ms']:.0f} ms for a token task, {by['debug']['median_ms']:.0f} ms for a debug task.")


def claim(rows: list[dict], hosts: int = 50, forks: int = 10) -> list[str]:
    """The users' claim next to what this run measured in the same cell, if the grid has it."""
    found = {(row["mode"], row["phase"], row["variant"]): row for row in rows
             if row["hosts"] == hosts and row["forks"] == forks}
    best, naive = found.get((RELOAD, "warm", "uri_run_once")), found.get((RELOAD, "warm", "uri_per_host"))
    if best is None or naive is None:
        return []
    plain = plain_mode(rows)

    def walls(variant):
        cold, warm = found.get((RELOAD, "cold", variant)), found.get((RELOAD, "warm", variant))
        text = f"{_fmt(cold and cold['wall_s'])} s cold and {_fmt(warm and warm['wall_s'])} s warm"
        plain_cold, plain_warm = found.get((plain, "cold", variant)), found.get((plain, "warm", variant))
        if plain_cold or plain_warm:
            text += (f" ({_fmt(plain_cold and plain_cold['wall_s'])} s and "
                     f"{_fmt(plain_warm and plain_warm['wall_s'])} s without the handler)")
        return text

    def reloads(variant):
        cold, warm = found.get((RELOAD, "cold", variant)), found.get((RELOAD, "warm", variant))
        return f"{_counts(cold['reloads']) if cold else '–'} and {_counts(warm['reloads']) if warm else '–'}"

    text = (
        f"The users' claim, for {hosts} hosts and forks {forks}: the best hand-written play takes about 23 s, makes "
        f"1 token request per run and rewrites all {hosts} files on every run; the naive one about 39 s with "
        f"{hosts} requests. Measured here, with the reload handler: `uri_run_once` {walls('uri_run_once')}, "
        f"{_counts(best['token_requests'])} request(s) per run, {_counts(best['files_changed'])} of {hosts} files "
        f"changed by the second run; `uri_per_host` {walls('uri_per_host')}, {_counts(naive['token_requests'])} "
        "requests per run.")
    ours = [variant for variant in COLLECTION_VARIANTS if (RELOAD, "warm", variant) in found]
    if ours:
        text += " " + "; ".join(f"`{variant}` {walls(variant)}" for variant in ours) + "."
    variants = [variant for variant in ("uri_run_once", "uri_per_host", *COLLECTION_VARIANTS)
                if (RELOAD, "cold", variant) in found]
    text += (" Reloads per run, cold and warm: " + "; ".join(f"`{variant}` {reloads(variant)}" for variant in variants)
             + ". (Times depend on the settings below, the same for every variant, and on the machine's load.)")
    return [text, ""]


def _spread_text(config: dict, rows: list | None) -> str:
    """What a cell of one run does not show: the spread that cells of several runs had in this grid."""
    single = sorted(int(hosts) for hosts, runs in config["runs"].items() if runs == 1)
    repeated = [row for row in rows or [] if row["runs"] > 1 and row.get("wall_s")]
    if not single:
        return ""
    sizes = " and ".join(str(hosts) for hosts in single)
    if not repeated:
        return f" Cells at {sizes} hosts have one run: no spread was measured there."
    spreads = sorted((row["wall_max_s"] - row["wall_min_s"]) / row["wall_s"] for row in repeated)
    return (f" Cells at {sizes} hosts have one run, so they show no spread of their own: in the cells of this grid "
            f"that ran several times, the slowest run of a variant was up to {spreads[-1] * 100:.0f} % (median "
            f"{statistics.median(spreads) * 100:.0f} %) slower than its fastest, and a single-run ratio that close "
            "to a target decides nothing.")


def _runs_text(config: dict, rows: list | None = None) -> str:
    runs = ", ".join(f"{runs} at {hosts} hosts" for hosts, runs in config["runs"].items())
    skip = config.get("skip") or {}
    left = [f"`{variant}` at {hosts} hosts" for hosts, variants in skip.items() for variant in variants]
    text = f"Runs of each variant per cell and mode run: {runs}." + _spread_text(config, rows)
    two = [str(hosts) for hosts, runs in config["runs"].items() if runs == 2]
    if two:
        text += (f" Where a cell has two runs ({' and '.join(two)} hosts), the median of a figure is the mean of the "
                 "two, and its min–max shows both.")
    if left:
        text += (" Left out (`BENCH_SKIP`): " + ", ".join(left) + "; the naive play is no target and the dearest "
                 "to run, so by default it is measured at 50 hosts only.")
    return text


def _plain_text(config: dict) -> str:
    plain = config.get("plain", "measured")
    if plain == "derived":
        return ("Here the plain figures are derived from the reload runs (`BENCH_PLAIN=derived`, the default, which "
                "halves the grid's duration); `BENCH_PLAIN=measured` runs the plain plays instead, `both` runs them "
                "and derives too.")
    if plain == "both":
        return ("Here the plain plays were also run on their own (`BENCH_PLAIN=both`, the quick mode's default), and "
                "the table below sets the derived figures against the measured ones: they are separate runs, so "
                "the difference holds the run-to-run noise as well as any error of the derivation. The targets are "
                "judged from the measured runs.")
    return "Here the plain plays were run on their own (`BENCH_PLAIN=measured`); nothing is derived."


def _unreaped_text(runs: list[dict]) -> str:
    """How often a worker of the tasks had not ended at the first handler's start, after the wait."""
    started = [run for run in runs if run.get("mode") == RELOAD and run.get("handler_tasks")]
    if not started:
        return ""
    late = [run for run in started if run.get("unreaped_workers")]
    return (f"The callback waits up to 1 s for the workers of the tasks to end before it reads the CPU time; in "
            f"{len(late)} of the {len(started)} runs with handlers a worker was still running after that (its "
            "few ms then count as the handlers'). ")


def markdown(data: dict) -> str:
    """The whole of docs/benchmarks.md."""
    machine, config, rows, micro = data["machine"], data["config"], data["rows"], data["micro"]
    reload_rows = [row for row in rows if row["mode"] == RELOAD]
    plain_rows = _plain_rows(rows)
    comparison = derivation_table(rows)
    summary = derivation_summary(rows)
    shown = chart_modes(rows)
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tests/bench/bench_main.py`); do not edit by hand. "
        f"Generated {data['generated']} in {data['duration_s'] / 60:.1f} minutes" + _resumed(data.get("resumed")),
        "",
        "The question: does delivering a token with the collection cost more than the hand-written plays it "
        "replaces? Four plays render the same small INI file (base URL + token) on every host of an inventory "
        "of local hosts, against the bundled OAuth 2.0 simulator (`oauth2` vendor, client credentials, "
        "`client_secret_basic`, tokens valid 3600 s; the collection's default `min_ttl` of 900 s). A real "
        "deployment reloads its service when its config changes: the hand-written plays get a new token on every "
        "run, so every file changes and every host reloads on every run, while the collection changes nothing on "
        "a warm run and reloads nothing. So each play runs with a reload handler, and the figures without it "
        "are given too.",
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
        "The reload handler, the same in every variant: a stand-in whose cost is that of a real reload, "
        "`ansible.builtin.command` with `argv` running "
        "[`files/bench_reload.sh`](../tests/bench/playbooks/files/bench_reload.sh), which appends one line to "
        "`<bench dir>/dest/<host>/reloads.log`: one module process plus one program per host, the same shape "
        "as `ansible.builtin.service` running `systemctl`. The hand-written plays and `lookup` notify it from "
        "their template task (`notify: \"{{ ['bench reload'] if bench_reload | bool else [] }}\"`, a handler "
        "with `listen: bench reload`); `app_config_role` runs it through the role's own handler "
        "(`app_config_service: bench-app`, `app_config_service_manager: command`, `app_config_service_command: "
        "[<the script>, <the log>]`). `-e bench_reload=true` or `false` chooses the mode.",
        "",
        "Every variant runs with the same `ansible.cfg`, written by the bench:",
        "",
        "```ini",
        *config["ansible_cfg"],
        "```",
        "",
        "With `pipelining` on (`BENCH_PIPELINING=0` turns it off) a module is one process instead of several, "
        "in every variant: the plays get faster, so the collection's own per-host costs weigh more in the "
        "ratios, not less. `bench_phases` is the bench's callback "
        "([source](../tests/bench/callback_plugins/bench_phases.py)), loaded in every run of every variant.",
        "",
        "Inventory: hosts `h0001`… in group `bench` with `ansible_connection=local` and "
        "`ansible_python_interpreter` = the venv's Python; each host writes `<bench dir>/dest/<host>/app.ini` "
        "(mode 0600). `gather_facts: false`, the `default` stdout callback, `-f <forks>`. The environment has "
        "no other `ANSIBLE_*` variable than `ANSIBLE_CONFIG`, `ANSIBLE_COLLECTIONS_PATH` (this tree) and "
        "`ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false`, and `APIAUTH_SAAS_CACHE_DIR` (a fresh directory per case).",
        "",
        "## Method",
        "",
        f"- Grid: hosts {config['hosts']} × forks {config['forks']} × cold and warm × with the reload handler "
        "(mode `reload`) and without it (`plain`). " + _runs_text(config, rows) + " Tables give the median and the "
        "min–max of the runs (\"1 run\" where there is one).",
        "- One case = a cold run (new empty token cache directory, no config files; the per-host directories "
        "exist) and, right after, a warm run (same cache directory, same files). Within a cell the variants "
        "run round-robin, the order rotated every round, so that machine noise hits them alike; when the plain "
        "plays run too, a variant's two modes run back to back, which first alternating every round.",
        "- Plain figures without running the plain plays: handlers run only after all tasks of the play (the "
        "end-of-play flush), so the run up to the first handler is the plain play. The callback `bench_phases` "
        "records, in the `ansible-playbook` process, the wall clock and the CPU time of its process tree "
        "(`resource.getrusage` `RUSAGE_SELF` + `RUSAGE_CHILDREN`, after `multiprocessing.active_children()` "
        "has reaped the finished workers) at the start of the first handler task and at "
        "`v2_playbook_on_stats`. Plain wall = wall − (stats time − first handler start); plain CPU = CPU − "
        "(CPU at stats − CPU at the first handler start); when no handler ran, the plain figure is the run "
        "itself. These rows are marked `plain (derived)`; their peak RSS, peak PSS and others' CPU are not derived (–). "
        + _unreaped_text(data.get("runs", [])) + _plain_text(config),
        "- wall: `ansible-playbook` start to exit. × `uri_run_once`: median wall over the median wall of "
        "`uri_run_once` in the same cell, mode and run (cold or warm). CPU s: user + system time of the "
        "`ansible-playbook` process tree (its waited-for children: workers and module processes). The split "
        "of that time (\"Where the time goes\"): the callback `bench_phases` wraps Ansible's worker process "
        "(`WorkerProcess.run`), so that each worker records when it ends its own CPU time and that of the "
        "module processes it waited for; the controller's CPU is the `ansible-playbook` process's own "
        "(`RUSAGE_SELF` at `v2_playbook_on_stats`) plus the workers' own, the modules' CPU the rest. Derived "
        "plain figures leave out the handler workers and the main process's time from the first handler on.",
        "- token requests: requests of the bench client that reached the simulator's token endpoint, from its "
        "audit log (cleared before every run). Several values = not all runs agreed.",
        "- files changed: config files whose content (SHA-256) or mtime differ after the run; on a cold run "
        "that is every file created. reloads: lines the handler added to all hosts' `reloads.log` during the "
        "run (counted before the case's files are deleted); the bench checks it equals the files changed.",
        "- peak RSS and peak PSS: the memory of the `ansible-playbook` process and all its descendants (workers "
        "and module processes), summed over the processes of the tree as psutil lists it at each sample; a run's "
        "figure is the highest sum it reached, the tables give the median of the runs' peaks. RSS (resident set "
        "size, sampled every 0.1 s) counts a page that several processes map in full in each of them. Ansible "
        "forks its workers from the main process and they share its pages copy-on-write, so the RSS sum counts "
        "those pages once per live worker: a variant that loads more in the main process before it forks (`lookup` "
        "and `app_config_role` load the collection's lookups and filters there, with the callback "
        "`apiauth.saas.preload`) is charged for that memory once per worker. PSS (proportional set size, the "
        "`Pss:` line of `/proc/<pid>/smaps_rollup`) divides each shared page among the processes that map it, so "
        "the sum counts it once: the memory target is judged on PSS, and its evidence gives the worst RSS ratio "
        "too. Pages shared with processes outside the tree (the bench driver and the simulator run the same "
        "Python) are divided with those as well, so the PSS sum is a little below what the tree alone would hold. "
        "Reading `smaps_rollup` walks each process's page tables, much dearer than reading its RSS, so PSS is "
        "sampled every 1.0 s, and when the RSS sum reaches a new peak at most every 0.5 s (in the same thread, "
        "from the same listing of the tree): a peak shorter than that, such as a burst of short-lived workers, "
        "can fall between two samples, where the RSS sampled every 0.1 s is less likely to miss it. A process that ends during a sample is left out of it.",
        "- others' CPU: CPU time used by processes other than the play, the simulator and the bench driver, "
        "as a share of all CPUs during the run.",
        "",
        "## Results",
        "",
        *claim(rows),
        "### With the reload handler",
        "",
        *(grid_table(reload_rows) if reload_rows else ["No runs."]),
        "",
        "### Without the handler",
        "",
        *(grid_table(plain_rows) if plain_rows else ["No runs."]),
        "",
    ]
    if comparison:
        out += [
            "### Derived against measured plain figures",
            "",
            "Medians; difference = derived − measured, and per host the CPU difference in ms. The measured plain "
            "run of a variant comes right after its reload run. Where the reload run ran no handler (the "
            "collection's warm runs) the two are the same play run twice, so their difference is the run-to-run "
            "noise alone.",
            "",
            *comparison,
            "",
        ]
        if summary:
            out += [
                f"Over {summary['cases']} cases the derived wall time differs from the measured one by a median "
                f"{_signed(summary['wall_median'] * 100, 1)} % (largest {_signed(summary['wall_worst'] * 100, 1)} %), "
                f"the CPU time by {_signed(summary['cpu_median'] * 100, 1)} % (largest "
                f"{_signed(summary['cpu_worst'] * 100, 1)} %).",
                "",
            ]
    alt = ("Wall time against the number of hosts, one row of panels per mode: "
           + " and ".join(f"{MODE_TEXT[mode]} (`{mode}`)" for mode in shown)
           + "; one panel per forks setting, cold runs solid and warm runs dashed; the last panel of the first "
           "row shows the reloads per run, of the second the token requests per run")
    out += [
        f"![{alt}](benchmarks.png)",
        "",
        "## Micro-benchmarks",
        "",
        "The lookup called from Python in a process like `ansible-playbook`'s (Ansible loaded, the collection "
        "not yet), against the same simulator. \"First call in a new worker\" forks a child, as Ansible forks "
        "one worker per host and task, and times loading the plugin and one call served from the file cache; "
        "\"after that preload\" forks it after the process loaded the lookups and filters as the callback "
        "`apiauth.saas.preload` does in `ansible-playbook`'s main process. "
        f"The tasks run {micro.get('tasks', {}).get('tasks_per_play', 'N')} to a play on localhost, "
        f"{micro.get('tasks', {}).get('reps', '?')} plays of each kind interleaved with plays without tasks; a "
        "task's time is from its start to its result as `ansible-playbook` sees them (a callback of the bench), "
        "the first task of each play left out."
        + _subtraction(micro.get("tasks")),
        "",
        *(micro_table(micro) if micro else ["Not run (`BENCH_MICRO=0`)."]),
        "",
        "## Targets",
        "",
        "Each judged from the numbers above; a ratio target holds in every cell (host count × forks) of the "
        "grid, for `lookup` and `app_config_role` alike.",
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
        "Extra CPU per host over `uri_run_once` in the same cell, mode and run, in ms: the "
        "median over the rounds and, in brackets, the lowest and highest round (each round's run against the "
        "baseline's run of the same round). The spread is the noise of a difference of two runs of a few "
        "seconds each.",
        "",
        "Of the play's whole process tree:",
        "",
        *extra_table(rows, data["baseline"]),
        "",
        *_split_tables(rows, data["baseline"]),
        *data["findings"],
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                                   # the default grid; writes docs/benchmarks.{md,png,json}",
        "make bench BENCH_QUICK=1                     # quick check: 10 hosts, forks 5, 1 run, plain measured",
        "                                             # and derived; writes .tmp/bench/quick/",
        'make bench BENCH_HOSTS="50" BENCH_FORKS="10" BENCH_RUNS=5 BENCH_PLAIN=measured',
        ".venv/bin/python tests/bench/bench_main.py --render   # rewrite this page and the chart from the .json",
        "```",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
        "| `BENCH_HOSTS` | `50 500` | inventory sizes |",
        "| `BENCH_FORKS` | `10 50` | `-f` values |",
        "| `BENCH_RUNS` | `50:3 500:2` | runs per cell and mode: one number for all, or `hosts:runs` pairs (hosts "
        "not listed get the value of the nearest smaller size) |",
        "| `BENCH_SKIP` | `500:uri_per_host` | variants left out: `hosts:variant` (at that host count) or "
        "`variant` (everywhere), space-separated; `none` for none; `uri_run_once` cannot be left out |",
        "| `BENCH_PLAIN` | `derived` | the figures without the handler: `derived` from the reload runs, "
        "`measured` by running the plain plays too (about twice as long), `both` (measured, and derived beside "
        "them to check the derivation) |",
        "| `BENCH_VARIANTS` | all four | a subset, space-separated |",
        "| `BENCH_MICRO` | `1` | `0` skips the micro-benchmarks |",
        "| `BENCH_PIPELINING` | `1` | `0` runs every variant with Ansible's default `pipelining = False` |",
        "| `BENCH_RESUME` | unset | `1`: reuse the cells a stopped run finished (`.tmp/bench/cells/`), if "
        "settings, code under test and the bench's measuring code (`tests/bench/bench_grid.py`) are unchanged |",
        "| `BENCH_QUICK` | unset | `1`: `BENCH_HOSTS=10 BENCH_FORKS=5 BENCH_RUNS=1 BENCH_SKIP=none BENCH_PLAIN=both`, "
        "smaller micro-benchmarks, output in `.tmp/bench/quick/` |",
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
