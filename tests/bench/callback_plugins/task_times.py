# -*- coding: utf-8 -*-
"""Benchmark helper: append each task's wall time to the JSON-lines file $SPIN_TASK_TIMES."""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: task_times
type: aggregate
short_description: per-task wall times for the benchmarks
description: Appends {task, host, seconds, changed} to the file named by SPIN_TASK_TIMES.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super().__init__()
        self._started = {}
        self._path = os.environ.get("SPIN_TASK_TIMES")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.monotonic()

    def _record(self, result):
        if not self._path:
            return
        start = self._started.get(result._task._uuid)
        if start is None:
            return
        with open(self._path, "a") as handle:
            handle.write(json.dumps({"task": result._task.get_name(), "host": result._host.get_name(),
                                     "seconds": time.monotonic() - start,
                                     "changed": bool(result._result.get("changed")),
                                     "edge": result._result.get("edge")}) + "\n")

    v2_runner_on_ok = _record

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result)
