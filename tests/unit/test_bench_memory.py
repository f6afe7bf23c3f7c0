"""The peak memory figures of ``make bench``: PSS beside RSS (tests/bench/bench_grid.py, bench_report.py).

The memory target is judged on the summed PSS of the play's process tree; the summed RSS, which counts
the pages forked workers share once per worker, stays in the tables and in the target's evidence. A
benchmarks.json written before PSS was recorded still renders, with the target not judged.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "bench"
MEMORY_TARGET = "peak PSS ≤ 1.10 × `uri_run_once`'s in the same cell (median of the runs' peaks)"


def _load(name: str):
    """A module of tests/bench by its path (that folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench_report = _load("bench_report")
VARIANTS = ["uri_run_once", "uri_per_host", "lookup", "app_config_role"]
CONFIG = {"hosts": [10], "forks": [5], "runs": {10: 2}, "variants": VARIANTS, "skip": {10: []},
          "plain": "derived", "modes": ["reload"]}


def _run(variant: str, phase: str, rep: int, rss: float, pss: float | None) -> dict:
    """A reload run as bench_grid records it, 10 hosts, forks 5."""
    cold = phase == "cold"
    return {"variant": variant, "hosts": 10, "forks": 5, "phase": phase, "rep": rep, "mode": "reload",
            "wall_s": 10.0, "cpu_s": 8.0, "main_cpu_s": 2.0, "others_cpu_share": 0.0, "rc": 0,
            "token_requests": 1 if cold else 0, "files_changed": 10 if cold else 0, "files_present": 10,
            "peak_rss_mib": rss, "peak_pss_mib": pss, "distinct_tokens": 1, "reloads": 10 if cold else 0,
            "handler_tasks": 1 if cold else 0, "handlers_wall_s": 1.0 if cold else 0.0,
            "handlers_cpu_s": 1.0 if cold else 0.0, "unreaped_workers": 0, "controller_cpu_s": 4.0,
            "modules_cpu_s": 4.0, "handlers_controller_cpu_s": 0.5 if cold else 0.0,
            "handlers_modules_cpu_s": 0.5 if cold else 0.0, "problems": []}


def _runs(memory: dict) -> list[dict]:
    """variant -> (RSS, PSS) of its runs: two rounds, cold and warm; PSS 1 MiB higher in the second round."""
    return [_run(variant, phase, rep, rss, None if pss is None else pss + rep)
            for variant, (rss, pss) in memory.items() for rep in (0, 1) for phase in ("cold", "warm")]


def _memory_target(rows: list[dict]) -> tuple:
    found = [(met, evidence) for label, met, evidence in bench_report.targets(rows, {}) if label == MEMORY_TARGET]
    assert len(found) == 1, [label for label, _met, _evidence in bench_report.targets(rows, {})]
    return found[0]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_rows_carry_median_min_max_of_the_peak_pss():
    rows = bench_report.summarize(_runs({"uri_run_once": (400.0, 200.0), "lookup": (520.0, 210.0)}), CONFIG,
                                  "uri_run_once")
    row = next(row for row in rows if row["mode"] == "reload" and row["variant"] == "lookup"
               and row["phase"] == "cold")
    assert (row["peak_pss_mib"], row["peak_pss_min_mib"], row["peak_pss_max_mib"]) == (210.5, 210.0, 211.0)
    assert row["peak_rss_mib"] == 520.0
    derived = [row for row in rows if row["mode"] == bench_report.DERIVED]
    assert derived and all(row["peak_pss_mib"] is None and row["peak_rss_mib"] is None for row in derived)


def test_the_tables_show_pss_next_to_rss_and_a_dash_where_not_derived():
    rows = bench_report.summarize(_runs({"uri_run_once": (400.0, 200.0), "lookup": (520.0, 210.0)}), CONFIG,
                                  "uri_run_once")
    lines = bench_report.grid_table(rows)
    header = _cells(lines[0])
    rss = header.index("peak RSS MiB (median)")
    assert header[rss + 1] == "peak PSS MiB (median)"
    assert all(len(_cells(line)) == len(header) for line in lines[1:])
    by_row = {(cells[3], cells[4], cells[2]): cells for cells in map(_cells, lines[2:])}
    assert by_row[("reload", "`lookup`", "cold")][rss:rss + 2] == ["520", "210"]
    assert by_row[(bench_report.DERIVED, "`lookup`", "cold")][rss:rss + 2] == ["–", "–"]


def test_the_memory_target_is_judged_on_pss_and_shows_the_worst_rss_ratio():
    # The preloaded plugins make the workers' shared pages look 1.5 times as large in RSS; PSS is 1.05 ×.
    rows = bench_report.summarize(_runs({"uri_run_once": (400.0, 200.0), "lookup": (600.0, 210.0)}), CONFIG,
                                  "uri_run_once")
    met, evidence = _memory_target(rows)
    assert met is True
    assert evidence.startswith("worst PSS: `lookup` at 10 hosts, forks 5, ")
    assert "1.05 ×" in evidence
    assert "Peak RSS (shown, not judged): worst `lookup` at 10 hosts, forks 5, " in evidence
    assert evidence.endswith("600 MiB against 400 MiB, 1.50 ×")


def test_the_worst_pss_names_where_the_peak_was_when_the_runs_recorded_it():
    runs = _runs({"uri_run_once": (400.0, 200.0), "lookup": (600.0, 230.0)})
    for run in runs:
        workers = 150.0 if run["variant"] == "lookup" else 120.0
        run["peak_pss_split_mib"] = {"main": 30.0, "workers": workers + run["rep"], "modules": 50.0,
                                     "main_count": 1, "workers_count": 5, "modules_count": 7 + run["rep"]}
    evidence = _memory_target(bench_report.summarize(runs, CONFIG, "uri_run_once"))[1]
    # The split of each variant's run with the highest peak (the second round's), the variant's first.
    assert ("(at the highest peak of each: main 30 MiB, 5 workers 151 MiB, 8 module processes 50 MiB, against "
            "main 30 MiB, 5 workers 121 MiB, 8 module processes 50 MiB)") in evidence, evidence
    # Control: runs without a split (an older benchmarks.json) give the ratio alone.
    for run in runs:
        del run["peak_pss_split_mib"]
    assert "highest peak" not in _memory_target(bench_report.summarize(runs, CONFIG, "uri_run_once"))[1]


def test_the_memory_target_fails_on_pss_above_the_tolerance():
    rows = bench_report.summarize(_runs({"uri_run_once": (400.0, 200.0), "app_config_role": (410.0, 240.0)}),
                                  CONFIG, "uri_run_once")
    met, evidence = _memory_target(rows)
    assert met is False
    assert "`app_config_role`" in evidence and "1.20 ×" in evidence


def test_runs_without_pss_leave_the_target_not_judged():
    old = [{key: value for key, value in run.items() if key != "peak_pss_mib"}
           for run in _runs({"uri_run_once": (400.0, 200.0), "lookup": (600.0, 210.0)})]
    rows = bench_report.summarize(old, CONFIG, "uri_run_once")
    assert all(row["peak_pss_mib"] is None for row in rows)
    met, evidence = _memory_target(rows)
    assert met is None
    assert evidence.startswith("no PSS figures. Peak RSS (shown, not judged): ")
    # Some cases with PSS and some without: what there is shows, and nothing is judged.
    mixed = _runs({"uri_run_once": (400.0, 200.0), "lookup": (600.0, 210.0), "app_config_role": (410.0, None)})
    met, evidence = _memory_target(bench_report.summarize(mixed, CONFIG, "uri_run_once"))
    assert met is None
    assert "PSS missing in 2 of the 4 cases" in evidence


def test_an_old_benchmarks_json_renders_with_dashes_for_pss():
    """What ``bench_main.py --render`` does with a benchmarks.json written before PSS was recorded."""
    saved = json.loads((ROOT / "docs" / "benchmarks.json").read_text(encoding="utf-8"))
    data = copy.deepcopy(saved)
    for run in data["runs"]:
        run.pop("peak_pss_mib", None)
    data["rows"] = bench_report.summarize(data["runs"], data["config"], data["baseline"])
    data["targets"] = bench_report.targets(data["rows"], data["micro"])
    data["findings"] = []
    text = bench_report.markdown(data)
    assert f"| {MEMORY_TARGET} | n/a | no PSS figures. Peak RSS (shown, not judged): worst " in text
    lines = bench_report.grid_table(data["rows"])
    pss = _cells(lines[0]).index("peak PSS MiB (median)")
    assert len(lines) > 2 and all(_cells(line)[pss] == "–" for line in lines[2:])
    assert all(line in text for line in lines[2:])


def test_two_runs_at_500_hosts_read_right():
    config = dict(CONFIG, hosts=[50, 500], runs={"50": 3, "500": 2}, skip={})
    text = bench_report._runs_text(config, [])  # pylint: disable=protected-access
    assert text.startswith("Runs of each variant per cell and mode run: 3 at 50 hosts, 2 at 500 hosts.")
    assert "one run" not in text
    assert "two runs (500 hosts), the median of a figure is the mean of the two" in text
    row = {"runs": 2, "wall_min_s": 200.0, "wall_max_s": 210.0}
    assert bench_report._span(row, "wall_min_s", "wall_max_s") == "200.0–210.0"  # pylint: disable=protected-access


# ---- the sampler (bench_grid.py needs psutil, which make bench installs)

CHILD = textwrap.dedent("""
    import os, time
    data = bytearray(b"x") * (32 * 2**20)  # 32 MiB written: private pages, shared with the child after the fork
    if os.fork() == 0:
        time.sleep(1.6)
        os._exit(0)
    time.sleep(1.6)
    os.wait()
""")


@pytest.fixture(name="bench_grid")
def _bench_grid():
    pytest.importorskip("psutil")
    if not os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"):
        pytest.skip("no /proc/<pid>/smaps_rollup here")
    return _load("bench_grid")


def test_read_pss_of_a_process_and_of_one_that_ended(bench_grid):
    import psutil  # pylint: disable=import-outside-toplevel

    own = bench_grid.read_pss(os.getpid())
    assert own and 0 < own <= psutil.Process().memory_info().rss
    with subprocess.Popen([sys.executable, "-c", "pass"]) as ended:
        process = psutil.Process(ended.pid)
    assert bench_grid.read_pss(ended.pid) is None
    # A process that ends between the listing and the read is left out of the sample.
    assert bench_grid.TreeMemorySampler._pss_split([process], None)[0] is None  # pylint: disable=protected-access
    assert bench_grid.TreeMemorySampler._rss([process]) == 0  # pylint: disable=protected-access
    assert bench_grid.TreeMemorySampler._pss_split([psutil.Process(), process], None)[0] > 0  # pylint: disable=protected-access


def test_the_sampler_counts_pages_a_fork_shares_once_in_pss(bench_grid):
    with subprocess.Popen([sys.executable, "-c", CHILD]) as proc:
        sampler = bench_grid.TreeMemorySampler(proc.pid, interval=0.05, pss_interval=0.5)
        sampler.start()
        proc.wait()
        rss = sampler.stop()
    assert sampler.pss_peak is not None
    # The 32 MiB are in both processes' RSS, split between them in PSS.
    assert rss - sampler.pss_peak > 24 * 2**20, (rss, sampler.pss_peak)
    # Where the peak was: the process the sampler follows, and its forked child, as a worker.
    split = sampler.pss_peak_split
    assert (split["main_count"], split["workers_count"], split["modules_count"]) == (1, 1, 0), split
    assert split["main"] + split["workers"] == sampler.pss_peak and split["main"] > 16 * 2**20, split


def test_the_pss_split_puts_grandchildren_with_the_module_processes(bench_grid):
    import psutil  # pylint: disable=import-outside-toplevel

    # The test process as the main process, a shell as its worker, and the shell's child as a module process.
    with subprocess.Popen(["/bin/sh", "-c", f"{sys.executable} -c 'import time; time.sleep(5)'; :"]) as shell:
        try:
            deadline = time.monotonic() + 5
            while not psutil.Process(shell.pid).children() and time.monotonic() < deadline:
                time.sleep(0.05)
            root, worker = psutil.Process(), psutil.Process(shell.pid)
            # Only these three: the test process may have other children (a server of another test).
            total, split = bench_grid.TreeMemorySampler._pss_split(  # pylint: disable=protected-access
                [root, worker] + worker.children(), root.pid)
        finally:
            shell.kill()
    assert (split["main_count"], split["workers_count"], split["modules_count"]) == (1, 1, 1), split
    assert total == split["main"] + split["workers"] + split["modules"] and split["modules"] > 0
