"""converge_run: the spin_converge module's work. Every stack's spin_stack run (in lanes, one client per
thread, the edge left alone by each), then the edge brought up to date once; a failure of that sync is
the task's, with every stack's result kept."""
import threading
import types

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.deploy import converge_run
from ansible_collections.spin.platform.plugins.modules import spin_converge


class Client(object):
    def snapshot(self):
        return {"services": []}


@pytest.fixture
def runs(monkeypatch):
    """Each stack's run as deploy_one was asked for it, and the edge syncs."""
    seen = {"stacks": [], "syncs": [], "clients": []}
    lock = threading.Lock()

    def deploy_one(args, check_mode, diff, client):
        with lock:
            seen["stacks"].append(dict(args, _check_mode=check_mode, _diff=diff))
        return {"changed": args["stack"] == "changed", "stack": args["stack"]}

    class ThreadClient(object):
        def __init__(self, host, timeout):
            seen["clients"].append((host, timeout))
            self.read_seed = None

    def sync(client, lb_platform, check_mode):
        seen["syncs"].append((lb_platform, check_mode))
        return seen.get("synced")
    monkeypatch.setattr(converge_run, "deploy_one", deploy_one)
    monkeypatch.setattr(converge_run, "SwarmClient", ThreadClient)
    monkeypatch.setattr(converge_run, "sync_edge_once", sync)
    return seen


def module(stacks, check_mode=False, **params):
    values = {name: option.get("default") for name, option in spin_converge.argument_spec().items()}
    values.update({"docker_host": "unix:///x.sock", "timeout": 30, "_stacks": stacks,
                   "_common": {"tenants": {"cory": {}}, "lb_platform": {"servers": 2}},
                   "_sensitive": {"1": {"secrets": {"s": "c2VjcmV0"}}}, "lb_platform": {"servers": 2}}, **params)
    return types.SimpleNamespace(params=values, check_mode=check_mode, _diff=True)


STACKS = [{"tenant": "cory", "stack": "same"}, {"tenant": "cory", "stack": "changed"},
          {"tenant": "magic", "stack": "other"}]


def test_every_stack_runs_with_the_common_arguments_its_own_secrets_and_no_edge_sync(runs):
    result = converge_run.run(module(STACKS, check_mode=True), Client())
    assert [r["stack"] for r in result["stacks"]] == ["same", "changed", "other"]     # in the given order
    by_stack = {args["stack"]: args for args in runs["stacks"]}
    assert set(by_stack) == {"same", "changed", "other"}
    for args in by_stack.values():
        assert args["tenants"] == {"cory": {}} and args["_edge_sync"] is False
        assert (args["_check_mode"], args["_diff"]) == (True, True)
    assert by_stack["changed"]["_sensitive"] == {"secrets": {"s": "c2VjcmV0"}}
    assert by_stack["same"]["_sensitive"] == {} and by_stack["other"]["_sensitive"] == {}
    assert result["changed"] is True
    assert runs["syncs"] == [({"servers": 2}, True)]          # the edge once, after the stacks
    assert result["seconds"]["threads"] == 2                  # a lane per tenant


def test_the_edges_sync_is_reported_and_counts_as_a_change(runs):
    runs["synced"] = {"reloaded": True, "reload_seconds": 0.2, "networks": ["spin-lb-magic"], "changed": True}
    result = converge_run.run(module([{"tenant": "cory", "stack": "same"}]), Client())
    assert result["edge"] == {"reloaded": True, "reload_seconds": 0.2, "networks": ["spin-lb-magic"]}
    assert result["changed"] is True and "failed" not in result


def test_a_failed_sync_fails_the_task_and_keeps_the_stacks_results(runs, monkeypatch):
    def broken(client, lb_platform, check_mode):
        raise SpinError("haproxy -c: line 12: unknown keyword")
    monkeypatch.setattr(converge_run, "sync_edge_once", broken)
    result = converge_run.run(module(STACKS), Client())
    assert result["failed"] is True and len(result["stacks"]) == 3
    assert result["msg"] == ("the edge was not brought up to date after the stacks (it serves its previous "
                             "configuration): haproxy -c: line 12: unknown keyword")


def test_without_the_edge_or_without_a_stack_that_ran_nothing_is_synced(runs):
    converge_run.run(module(STACKS, lb=False), Client())
    converge_run.run(module([]), Client())
    assert runs["syncs"] == []


def test_deploy_one_runs_spin_stack_as_its_task_would(monkeypatch):
    seen = []
    monkeypatch.setattr(converge_run.worker_task, "run_task",
                        lambda module, request, client=None: seen.append((module, request, client)) or {"ok": 1})
    assert converge_run.deploy_one({"stack": "magic"}, True, False, "client") == {"ok": 1}
    request = {"module": "spin.platform.spin_stack", "args": {"stack": "magic"}, "check_mode": True, "diff": False,
               "no_log": False, "no_target_syslog": False}
    assert seen == [(converge_run.spin_stack, request, "client")]
