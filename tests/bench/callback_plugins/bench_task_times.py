# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback of ``make bench`` (tests/bench/bench_micro.py): how long each task took, in seconds.

From the start of a task to its last host result, as ansible-playbook sees them; one JSON line per
task (name, action, seconds) appended to the file named by ``BENCH_TASK_TIMES``. Nothing else of
the result is written.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_task_times
type: aggregate
short_description: Time of each task, for make bench
description:
  - Appends one JSON line per task (name, action, seconds) to the file named by E(BENCH_TASK_TIMES).
requirements:
  - enabled in callbacks_enabled, BENCH_TASK_TIMES set
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get("BENCH_TASK_TIMES")
        self._task = None
        self._started = 0.0
        self._ended = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write()
        self._task = task
        self._started = time.perf_counter()
        self._ended = None

    def _on_result(self, result, *args, **kwargs):
        self._ended = time.perf_counter()

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _on_result

    def v2_playbook_on_stats(self, stats):
        self._write()

    def _write(self) -> None:
        task, self._task = self._task, None
        if task is None or self._ended is None or not self._path:
            return
        line = {"name": task.get_name(), "action": task.action, "seconds": self._ended - self._started}
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
