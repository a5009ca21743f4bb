# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many stacks in one process: the scheduling half of ``spin_converge``.

``lanes(items, key)`` groups the stacks into lanes, one per tenant, in the given order: the stacks of
one tenant run one after another (its replica and resource quotas count its other stacks, which a
deploy of the same tenant running at the same moment would change under the check); different
tenants' stacks are independent (claims on ports and hostnames are ordered by Swarm, see
``lb.claim_holds``) and run side by side. ``run_lanes`` runs the lanes on up to ``parallel`` threads;
each stack's ``work`` returns its result, and an exception is that stack's failure only. ``stop``
(a ``threading.Event``): once set, stacks not yet begun are not begun; the ones running finish.
"""
from __future__ import annotations

import threading
import traceback

NOT_RUN = "not run: the converge was stopped before this stack's turn"


def lanes(items, key):
    """-> [[index, ...], ...]: the indexes of ``items`` grouped by ``key(item)``, in first-seen order."""
    out, by_key = [], {}
    for index, item in enumerate(items):
        name = key(item)
        if name not in by_key:
            by_key[name] = []
            out.append(by_key[name])
        by_key[name].append(index)
    return out


def run_lanes(groups, work, parallel=4, stop=None, thread_state=None):
    """``work(index, state)`` for every index of ``groups`` (lists of indexes), the lanes side by side on
    up to ``parallel`` threads -> {index: result}. ``state`` is a dict of the running thread's own
    (``thread_state()`` makes it: e.g. an engine client per thread). An exception in ``work`` becomes
    ``{"failed": True, "msg": ..., "exception": ...}`` for that index; the others go on."""
    stop = stop or threading.Event()
    results, lock = {}, threading.Lock()
    queue = list(groups)

    def next_lane():
        with lock:
            return queue.pop(0) if queue else None

    def worker():
        state = thread_state() if thread_state else {}
        while True:
            lane = next_lane()
            if lane is None:
                return
            for index in lane:
                if stop.is_set():
                    results[index] = {"failed": True, "msg": NOT_RUN, "not_run": True}
                    continue
                try:
                    results[index] = work(index, state)
                except Exception as exc:  # pylint: disable=broad-except  # one stack's failure, not the run's
                    results[index] = {"failed": True, "msg": "%s: %s" % (type(exc).__name__, exc),
                                      "exception": traceback.format_exc()}

    count = max(1, min(int(parallel or 1), len(groups)))
    if count == 1:
        worker()
        return results
    threads = [threading.Thread(target=worker, name="spin-converge-%d" % n, daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # joined with a timeout, so that the main thread still takes signals (SIGTERM sets ``stop``)
        while thread.is_alive():
            thread.join(0.2)
    return results
