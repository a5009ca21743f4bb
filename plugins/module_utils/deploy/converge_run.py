# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_converge's work on the manager: every judged stack deployed as spin_stack deploys it, tenants side
by side (``converge.py`` schedules them), the edge brought up to date once after them (the module file
keeps its documentation and argument spec)."""
from __future__ import annotations

import signal
import threading
import time

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient
from ansible_collections.spin.platform.plugins.module_utils.deploy import converge
from ansible_collections.spin.platform.plugins.module_utils.deploy import stack_run as spin_stack
from ansible_collections.spin.platform.plugins.module_utils.worker import task as worker_task


STACK_MODULE = "spin.platform.spin_stack"


def deploy_one(args, check_mode, diff, client):
    """One stack's spin_stack run, as its task would run it -> its result (no_log values masked)."""
    request = {"module": STACK_MODULE, "args": args, "check_mode": check_mode, "diff": diff,
               "no_log": False, "no_target_syslog": False}
    return worker_task.run_task(spin_stack, request, client=client)


def sync_edge_once(client, lb_platform, check_mode):
    """Every stored stack's routes served by this node's edge (when one runs here), else the whole
    configuration checked with HAProxy once. -> the sync result or None."""
    platform = haproxy.normalise_platform(lb_platform)
    if lb.edge_container(client, platform) is not None:
        return spin_stack.serve_edge(client, platform, None, check_mode)
    from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy_cfg
    text = haproxy_cfg.render(lb.claim_order(lb.stored_routes(client, platform)), platform, stats_password="check")
    lb.validate_config(client, text, platform, check_mode=check_mode)
    return None


def run(module, client):
    """spin_converge's task: ``module`` (params, check_mode, _diff), ``client`` a SwarmClient -> the result."""
    params = module.params
    items = params["_stacks"] or []
    common = dict(params["_common"] or {}, _edge_sync=False)
    secrets = params["_sensitive"] or {}
    stop = threading.Event()

    def stopped(signum, frame):
        stop.set()

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stopped) if main else None

    def work(index, state):
        args = dict(common, **items[index])
        args["_sensitive"] = secrets.get(str(index)) or {}
        began = time.monotonic()
        result = deploy_one(args, module.check_mode, module._diff, state["client"])
        result["seconds"] = round(time.monotonic() - began, 3)
        return result

    # one read of the engine for every stack's ownership check and the nodes: the unfiltered listings; each
    # stack's own objects are changed only by its own run, and its plan reads what it filters afresh
    seed = client.snapshot()

    def thread_state():
        # a client per thread: the SDK's HTTP session is not meant to be shared between threads
        own = SwarmClient(params["docker_host"], params["timeout"])
        own.read_seed = seed
        return {"client": own}

    started = time.monotonic()
    groups = converge.lanes(items, lambda item: item.get("tenant"))
    try:
        results = converge.run_lanes(groups, work, params["parallel"], stop, thread_state)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    stacks_seconds = time.monotonic() - started
    out = {"stacks": [results[i] for i in range(len(items))], "changed": False}
    out["changed"] = any(r.get("changed") for r in out["stacks"])
    if params["lb"] and any(not r.get("not_run") for r in out["stacks"]):
        try:
            synced = sync_edge_once(client, params["lb_platform"], module.check_mode)
        except SpinError as exc:
            out.update(failed=True, msg="the edge was not brought up to date after the stacks (it serves its "
                                        "previous configuration): %s" % exc.message)
            synced = None
        if synced is not None:
            out["edge"] = {"reloaded": synced["reloaded"], "reload_seconds": synced["reload_seconds"],
                           "networks": synced["networks"]}
            out["changed"] = out["changed"] or synced["changed"]
    out["seconds"] = {"stacks": round(stacks_seconds, 3), "total": round(time.monotonic() - started, 3),
                      "threads": max(1, min(params["parallel"], len(groups)))}
    return out
