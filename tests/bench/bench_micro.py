"""Micro-benchmarks of ``make bench``: what one lookup call and one token task cost.

* The lookup in this process (``run()`` of the plugin, as a template calls it): warm from the
  memory layer, warm from the file cache (memory cleared before each call), cold (one HTTPS
  request to the simulator and a cache write, ``force_refresh``), and with the cache off.
* The lookup's first call in a new Ansible worker process: a child forked from a process that
  has Ansible loaded but not the collection, as Ansible forks one worker per host and task.
  That call pays for loading the plugin (its documentation, its Python modules) and reads the
  file cache. The cost of ``import requests`` in such a child is measured beside it. Then the
  same after this process loaded the lookups and filters as the callback ``apiauth.saas.preload`` does.
* One ``apiauth.saas.oauth2_token`` task (and one ``ansible.builtin.debug`` task, for
  comparison): a playbook of N such tasks minus a playbook without tasks, divided by N.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COLLECTIONS = ROOT / ".tmp" / "collections"
LOOKUP = "apiauth.saas.oauth2_token"


def summary(samples_s: list[float], cpu_s: list[float] | None = None) -> dict:
    """Median and 90th percentile in milliseconds, the number of samples, and the median CPU time if given."""
    ordered = sorted(samples_s)
    p90 = ordered[min(len(ordered) - 1, max(0, int(round(0.9 * len(ordered))) - 1))]
    result = {"median_ms": round(statistics.median(ordered) * 1000, 3), "p90_ms": round(p90 * 1000, 3),
              "n": len(ordered)}
    if cpu_s:
        result["cpu_median_ms"] = round(statistics.median(cpu_s) * 1000, 3)
    return result


def pairs_summary(pairs: list[tuple[float, float]]) -> dict:
    """:func:`summary` of (wall, cpu) pairs."""
    return summary([wall for wall, _cpu in pairs], [cpu for _wall, cpu in pairs])


class Stopwatch:
    """Wall and CPU time of this process between start and stop, in seconds."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self._wall, time.process_time() - self._cpu


def _forked(measure) -> tuple[float, float]:
    """Run ``measure()`` in a forked child; it returns (wall, cpu) seconds, handed back through a pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without running any cleanup of the parent's
        os.close(read_fd)
        code = 0
        try:
            os.write(write_fd, json.dumps(measure()).encode("ascii"))
        except BaseException:  # pylint: disable=broad-except
            code = 1
        os._exit(code)  # pylint: disable=protected-access
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    if not answer:
        raise RuntimeError("a forked measurement failed")
    wall, cpu = json.loads(answer)
    return wall, cpu


class LookupMicro:
    """The lookup called from Python; ``options`` are its keyword options (token_url, client_id...)."""

    def __init__(self, options: dict) -> None:
        # Like ansible-playbook's main process: plugin loader ready, collection code not loaded.
        from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
        from ansible.plugins.loader import init_plugin_loader  # pylint: disable=import-outside-toplevel
        from ansible.template import Templar  # pylint: disable=import-outside-toplevel

        from ansible.plugins.loader import lookup_loader  # pylint: disable=import-outside-toplevel

        init_plugin_loader([str(COLLECTIONS)])
        # ansible-playbook has read the collections' metadata (meta/runtime.yml) by the time it forks
        # workers; finding a plugin reads it without importing the plugin's code.
        for name in (LOOKUP, "ansible.builtin.env"):
            lookup_loader.find_plugin(name)
        # A worker renders the template from the template action, so it has that imported.
        import ansible.plugins.action.template  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        self._loader = DataLoader()
        self._templar = Templar(loader=self._loader)
        self.options = dict(options)
        self._plugin = None

    def _get(self):
        from ansible.plugins.loader import lookup_loader  # pylint: disable=import-outside-toplevel

        return lookup_loader.get(LOOKUP, loader=self._loader, templar=self._templar)

    def call(self, **extra) -> str:
        if self._plugin is None:
            self._plugin = self._get()
        return self._plugin.run([], variables={}, **dict(self.options, **extra))[0]

    def first_call_in_worker(self) -> tuple[float, float]:
        """(wall, cpu) seconds of loading the plugin and one call (file cache) in a freshly forked process.

        Negative if that call imported requests or was not served from the file cache.
        """
        def measure() -> tuple[float, float]:
            watch = Stopwatch()
            record = self._get().run([], variables={}, **dict(self.options, output="record"))[0]
            elapsed = watch.stop()
            return elapsed if record["source"] == "file" and "requests" not in sys.modules else (-1.0, -1.0)
        return _forked(measure)

    def source(self) -> str:
        """Which cache layer the next call is served from ("memory", "file" or "network")."""
        return self.call(output="record")["source"]

    @staticmethod
    def import_requests_in_worker() -> tuple[float, float]:
        def measure() -> tuple[float, float]:
            watch = Stopwatch()
            import requests  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
            return watch.stop()
        return _forked(measure)

    def timed_set_options(self, calls: int) -> list[tuple[float, float]]:
        """The part of a call where Ansible resolves the lookup's options from its keywords."""
        self.call()
        samples = []
        for _index in range(calls):
            watch = Stopwatch()
            self._plugin.set_options(var_options={}, direct=self.options)
            samples.append(watch.stop())
        return samples

    def timed(self, calls: int, before=None, **extra) -> list[tuple[float, float]]:
        samples = []
        for _index in range(calls):
            if before is not None:
                before()
            watch = Stopwatch()
            self.call(**extra)
            samples.append(watch.stop())
        return samples


def lookup_micro(options: dict, *, calls: int, cold_calls: int, workers: int) -> dict:
    """Every lookup measurement; ``options`` must point at a cache directory of the bench.

    Run in a process of its own (see :func:`run_lookup_micro`), where nothing has imported
    requests or the collection yet, as in ansible-playbook's main process.
    """
    if "requests" in sys.modules:
        raise RuntimeError("requests is already imported: the worker measurements would miss its cost")
    micro = LookupMicro(options)
    results: dict = {}
    # The forked children come first, while this process has loaded nothing of the collection
    # (nor requests). The first child fills the file cache, so the measured ones read it.
    micro.first_call_in_worker()
    results["import_requests_in_worker"] = pairs_summary([micro.import_requests_in_worker()
                                                         for _index in range(workers)])
    firsts = [micro.first_call_in_worker() for _index in range(workers)]
    if min(wall for wall, _cpu in firsts) < 0:
        raise RuntimeError("a first lookup call in a worker imported requests or missed the file cache")
    results["first_call_in_worker"] = pairs_summary(firsts)

    # The same with the callback apiauth.saas.preload: this process loads the lookups as the callback does in
    # ansible-playbook's main process when the playbook starts, and the workers forked after it inherit them.
    from ansible_collections.apiauth.saas.plugins.callback.preload import (  # pylint: disable=import-outside-toplevel
        preload_plugins,
    )

    watch = Stopwatch()
    if not preload_plugins():
        raise RuntimeError("the callback apiauth.saas.preload loaded no lookup")
    results["preload_in_main_process"] = pairs_summary([watch.stop()])
    preloaded = [micro.first_call_in_worker() for _index in range(workers)]
    if min(wall for wall, _cpu in preloaded) < 0:
        raise RuntimeError("a first lookup call in a worker after the preload missed the file cache")
    results["first_call_in_worker_preloaded"] = pairs_summary(preloaded)

    from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import (  # pylint: disable=import-outside-toplevel
        clear_memory,
    )

    micro.call()  # loads the plugin here and fills the memory layer
    clear_memory()
    layers = [micro.source(), micro.source()]
    if layers != ["file", "memory"]:
        raise RuntimeError(f"the cache layers are not what the micro-benchmark expects: {layers}")
    results["warm_memory"] = pairs_summary(micro.timed(calls))
    results["set_options"] = pairs_summary(micro.timed_set_options(calls))
    results["warm_file"] = pairs_summary(micro.timed(max(1, calls // 4), before=clear_memory))
    results["cold_force_refresh"] = pairs_summary(micro.timed(cold_calls, force_refresh=True))
    results["cache_off"] = pairs_summary(micro.timed(cold_calls, cache=False))
    return results


def run_lookup_micro(settings: dict) -> dict:
    """:func:`lookup_micro` in a new Python process; ``settings`` (with the secret) go through a pipe."""
    proc = subprocess.run([sys.executable, __file__], input=json.dumps(settings), capture_output=True, text=True,
                          check=False, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if proc.returncode != 0:
        tail = proc.stderr[-2000:].replace(settings["options"]["client_secret"], "<secret>")
        raise RuntimeError(f"the lookup micro-benchmark failed: {tail}")
    return json.loads(proc.stdout)


def _play(tasks: list) -> list:
    return [{"name": "Micro-benchmark of tasks", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def task_micro(bench, *, tasks: int, reps: int, cache_dir: Path) -> dict:
    """Cost of one token task and of one debug task; ``bench`` is a ``bench_grid.PlayBench``.

    Two measures: each task's own time from the callback ``bench_task_times`` (start of the task to
    its result, the first task of each play left out as warm-up), and the wall time of a play of
    ``tasks`` such tasks minus that of a play without tasks, divided by ``tasks``.
    """
    work = bench.work / "micro-tasks"
    work.mkdir(parents=True, exist_ok=True)
    token_task = {
        "apiauth.saas.oauth2_token": {
            "token_url": "{{ oauth2_token_url }}",
            "client_id": "{{ bench_client_id }}",
            "client_secret": "{{ bench_client_secret }}",
            "ca_path": "{{ sim_ca_path }}",
        },
    }
    debug_task = {"ansible.builtin.debug": {"msg": "nothing"}}
    plays = {
        "none": _play([]),
        "token": _play([dict(token_task, name=f"Token task {index}") for index in range(tasks)]),
        "debug": _play([dict(debug_task, name=f"Debug task {index}") for index in range(tasks)]),
    }
    paths = {}
    for name, play in plays.items():
        paths[name] = work / f"{name}.yml"
        paths[name].write_text(json.dumps(play, indent=1), encoding="utf-8")
    inventory = work / "inventory.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
                         encoding="utf-8")
    times_file = work / "task-times.jsonl"
    env = dict(bench.environment(cache_dir), ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="bench_task_times", BENCH_TASK_TIMES=str(times_file))
    walls: dict = {name: [] for name in plays}
    own: dict = {"token": [], "debug": []}

    def run(name: str) -> float:
        times_file.unlink(missing_ok=True)
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               "-e", f"@{bench.vars_file}", str(paths[name])]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=str(work), env=env, capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{name} tasks: ansible-playbook exited {proc.returncode}")
        if bench.client_secret in proc.stdout + proc.stderr:
            raise RuntimeError("the client secret appears in the output of the task micro-benchmark")
        if name in own:
            lines = times_file.read_text(encoding="utf-8").splitlines()
            seconds = [json.loads(line)["seconds"] for line in lines]
            if len(seconds) != tasks:
                raise RuntimeError(f"{name} tasks: {len(seconds)} task times for {tasks} tasks")
            own[name] += seconds[1:]
        return wall

    run("token")  # fills the file cache: every measured token task is warm (file layer, new worker)
    own["token"].clear()
    for rep in range(reps):
        order = list(plays)
        order = order[rep % len(order):] + order[:rep % len(order)]
        for name in order:
            walls[name].append(run(name))
    result = {"tasks_per_play": tasks, "reps": reps, "per_task": {}, "by_subtraction": {},
              "play_wall_s": {name: [round(value, 3) for value in values] for name, values in walls.items()}}
    for name, samples in own.items():
        result["per_task"][name] = summary(samples)
        estimates = [(with_tasks - without) / tasks for with_tasks, without in zip(walls[name], walls["none"])]
        result["by_subtraction"][name] = summary(estimates)
    return result


def main() -> int:
    settings = json.load(sys.stdin)
    results = lookup_micro(settings["options"], calls=settings["calls"], cold_calls=settings["cold_calls"],
                           workers=settings["workers"])
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
