"""Fault: a replica dies under load (issue 12, item 7). Requests that were bound for it go to another
replica (connect timeout 500 ms, retries with redispatch, checks every second, Swarm's DNS): no
request fails. How fast is measured and printed here, and is a figure of ``./spin bench lb``
(goal: within a second); a test asserts no wall-clock limit."""
import pytest

from lblib import Edge, failover_under_load, wait_for


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory):
    e = Edge(docker_client, tmp_path_factory.mktemp("failover"), port_count=1)
    try:
        e.provision(stats=False)
        yield e
    finally:
        e.close()


def test_a_killed_replica_costs_no_request(edge):
    stack, port = edge.prefix + "f", edge.ports[0]
    plan, dummy = edge.route("tf", stack, endpoints=[{"service": stack + "_web", "compose_service": "web", "target": 80,
                                                      "published": port, "protocol": "tcp"}])
    name = edge.backend(stack, "web", plan["network"], replicas=3)
    wait_for("three replicas through the edge", lambda: len(edge.seen_through(port, 3)) == 3, timeout=60)
    result = failover_under_load(edge, port, name)
    print("\n[fault failover] %d requests from 4 clients, replica %s killed: %d failed, slowest request after the "
          "kill %.2f s" % (result["sent"], result["killed"], result["failed"], result["slowest_after_kill"]))
    assert result["sent"] > 100
    assert result["failed"] == 0, result["failures"]
    # Swarm replaces the replica, and the edge serves three again
    wait_for("three replicas again", lambda: len(edge.running_tasks(name)) == 3, timeout=90)
