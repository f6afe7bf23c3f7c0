# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback of ``make bench`` (tests/bench/bench_grid.py): when the handlers of a play started.

In the ``ansible-playbook`` process, at the start of the first handler task and at the end of the
playbook (``v2_playbook_on_stats``), it records the wall clock (``time.perf_counter``) and the CPU
time of the process tree (this process and its waited-for children: workers and their module
processes), and of this process alone. It writes them as one JSON object to the file named by
``BENCH_PHASES``. Handlers run after all tasks of the play (the end-of-play flush), so what comes
before the first handler is the play without its handlers; the bench subtracts the rest.

It also splits the CPU time of the workers from that of the module processes they run. Ansible
forks a worker per host and task from this process; loaded here, before the first fork, the
callback wraps the worker's ``run`` so that each worker appends one line to ``BENCH_PHASES`` +
``.workers`` when it ends: whether it ran a task or a handler, its own CPU time, and that of the
processes it waited for (the modules it ran, as ``stat`` and ``copy``). The collection's work and
Ansible's own per-host work (templating, plugins, results) is in the workers and this process; the
module processes run the same programs in every variant that writes the same files, and their CPU
time varies most from run to run. Nothing of a task or a result is written.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import time

from ansible.plugins.callback import CallbackBase
from ansible.playbook.handler import Handler

try:
    from ansible.executor.process.worker import WorkerProcess
except ImportError:  # not where this ansible-core keeps it: the split is left out, the rest is recorded
    WorkerProcess = None

DOCUMENTATION = r"""
name: bench_phases
type: aggregate
short_description: Wall and CPU time at the first handler and at the end, for make bench
description:
  - Writes the wall clock and the process tree's CPU time at the start of the first handler task
    and at the end of the playbook, as JSON, to the file named by E(BENCH_PHASES).
  - Each worker appends its own CPU time and that of the module processes it ran to that file's name
    with C(.workers) added.
requirements:
  - enabled in callbacks_enabled, BENCH_PHASES set
"""

# How long to wait for the workers of the tasks before to exit (their results are in; the
# processes end a moment later), so that their CPU time counts before the handlers, not in them.
REAP_TIMEOUT_S = 1.0


def _tree_cpu() -> dict:
    """User + system seconds of this process and of its children that have been waited for, and how
    many children were still running after the wait (their time is not in it yet)."""
    deadline = time.perf_counter() + REAP_TIMEOUT_S
    # active_children() joins the finished worker processes, so that RUSAGE_CHILDREN counts them.
    while (running := len(multiprocessing.active_children())) and time.perf_counter() < deadline:
        time.sleep(0.002)
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    main = own.ru_utime + own.ru_stime
    return {"cpu_s": main + children.ru_utime + children.ru_stime, "main_cpu_s": main, "running_children": running}


def _cpu(times: os.times_result) -> tuple[float, float]:
    return times.user + times.system, times.children_user + times.children_system


def _record_workers(path: str) -> None:
    """Wrap WorkerProcess.run: each worker appends "<task|handler> <own CPU s> <its children's CPU s>"."""
    if WorkerProcess is None or getattr(WorkerProcess.run, "bench_phases", False):
        return
    run = WorkerProcess.run

    def timed_run(self):
        try:
            return run(self)
        finally:
            # A forked process's times start at zero: this is the whole worker, and all it waited for.
            own, children = _cpu(os.times())
            kind = "handler" if isinstance(getattr(self, "_task", None), Handler) else "task"
            line = f"{kind} {own:.4f} {children:.4f}\n"
            # One short write with O_APPEND: the lines of workers that end together do not mix.
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode())
            finally:
                os.close(descriptor)

    timed_run.bench_phases = True
    WorkerProcess.run = timed_run


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_phases"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get("BENCH_PHASES")
        if self._path:
            _record_workers(self._path + ".workers")
        self._handlers_started: dict | None = None
        self._handler_tasks = 0

    def v2_playbook_on_handler_task_start(self, task):
        self._handler_tasks += 1
        if self._path and self._handlers_started is None:
            # CPU first: the wait for the last workers to end belongs to the play before the handlers.
            self._handlers_started = _tree_cpu()
            self._handlers_started["wall_s"] = time.perf_counter()

    def v2_playbook_on_stats(self, stats):
        if not self._path:
            return
        end = _tree_cpu()
        end["wall_s"] = time.perf_counter()
        record = {"handlers_started": self._handlers_started, "handler_tasks": self._handler_tasks, "stats": end}
        with open(self._path, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
