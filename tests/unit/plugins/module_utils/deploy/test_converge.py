"""converge.py: one lane per tenant in first-seen order; lanes side by side, a tenant's stacks one after
another; one stack's exception is that stack's failure only; once stopped, nothing new begins."""
import threading
import time

from ansible_collections.spin.platform.plugins.module_utils.deploy import converge


def test_lanes_group_by_tenant_in_first_seen_order():
    items = [{"tenant": "b"}, {"tenant": "a"}, {"tenant": "b"}, {"tenant": "c"}, {"tenant": "a"}]
    assert converge.lanes(items, lambda item: item["tenant"]) == [[0, 2], [1, 4], [3]]
    assert converge.lanes([], lambda item: item) == []


def test_a_tenants_stacks_never_overlap_while_tenants_run_side_by_side():
    items = ["a", "a", "a", "b", "b", "c"]
    running, overlap, lock = {}, {"same": False, "most": 0}, threading.Lock()

    def work(index, state):
        tenant = items[index]
        with lock:
            if running.get(tenant):
                overlap["same"] = True
            running[tenant] = True
            overlap["most"] = max(overlap["most"], sum(1 for v in running.values() if v))
        time.sleep(0.05)
        with lock:
            running[tenant] = False
        return {"index": index, "thread": state["name"]}

    results = converge.run_lanes(converge.lanes(items, lambda t: t), work, parallel=3,
                                 thread_state=lambda: {"name": threading.current_thread().name})
    assert sorted(results) == list(range(6))
    assert all(results[i]["index"] == i for i in results)
    assert not overlap["same"]
    assert overlap["most"] >= 2
    # the stacks of one tenant ran on one thread (its lane), in order
    assert len({results[i]["thread"] for i in (0, 1, 2)}) == 1


def test_an_exception_fails_that_stack_only():
    def work(index, state):
        if index == 1:
            raise KeyError("boom")
        return {"ok": index}

    results = converge.run_lanes([[0, 1, 2]], work, parallel=2)
    assert results[0] == {"ok": 0} and results[2] == {"ok": 2}
    assert results[1]["failed"] and results[1]["msg"] == "KeyError: 'boom'" and "Traceback" in results[1]["exception"]


def test_stopped_nothing_new_begins_and_the_rest_is_reported_not_run():
    stop = threading.Event()

    def work(index, state):
        if index == 0:
            stop.set()
        return {"ran": index}

    results = converge.run_lanes([[0, 1], [2]], work, parallel=1, stop=stop)
    assert results[0] == {"ran": 0}
    assert results[1]["not_run"] and results[2]["not_run"] and results[1]["msg"] == converge.NOT_RUN
