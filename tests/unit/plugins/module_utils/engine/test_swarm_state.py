"""swarm_state: the swarm as spin_status and the inventory read it: the manager's address, a node's
record, a task's health."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.engine import swarm_state

GIB = 1024 ** 3


def rec(replicas, running, states, mode="replicated"):
    return {"mode": mode, "replicas": replicas, "running": running,
            "tasks": [{"state": s, "error": None} for s in states]}


@pytest.mark.parametrize("record, word", [
    (rec(2, 2, ["running", "running"]), "running"),
    (rec(2, 1, ["running", "starting"]), "starting"),       # waiting for its health check
    (rec(2, 1, ["running", "failed"]), "degraded"),
    (rec(2, 0, ["failed", "rejected"]), "down"),
    (rec(1, 0, ["pending"]), "starting"),
    (rec(0, 0, []), "idle"),
    (rec(1, 0, ["complete"], mode="replicated-job"), "complete"),
    # a scheduled job: between runs, whatever its last run did; running while a run goes
    (dict(rec(1, 0, ["failed"], mode="replicated-job"), schedule="@hourly"), "scheduled"),
    (dict(rec(0, 0, [], mode="replicated-job"), schedule="@hourly"), "scheduled"),
    (dict(rec(1, 1, ["running"], mode="replicated-job"), schedule="@hourly"), "running"),
])
def test_health(record, word):
    assert swarm_state.health(record) == word


@pytest.mark.parametrize("addr, host", [
    ("10.0.0.1:2377", "10.0.0.1"), ("[fd00::1]:2377", "fd00::1"), ("node1", "node1"), ("fd00::1", "fd00::1"),
])
def test_manager_host(addr, host):
    assert swarm_state.manager_host(addr) == host


def test_node_record_carries_the_nodes_size_and_the_leaders_address():
    found = swarm_state.node_record({
        "ID": "n1", "Spec": {"Role": "manager"}, "Status": {"State": "ready", "Addr": "0.0.0.0"},
        "ManagerStatus": {"Leader": True, "Addr": "10.0.0.5:2377"},
        "Description": {"Hostname": "m1", "Resources": {"NanoCPUs": 2500000000, "MemoryBytes": 4 * GIB}}})
    assert (found["addr"], found["cpus"], found["memory"], found["leader"]) == ("10.0.0.5", 2.5, 4 * GIB, True)


def test_node_record_of_a_worker_keeps_its_own_address_and_defaults_what_docker_left_out():
    found = swarm_state.node_record({"ID": "w1", "Status": {"State": "down", "Addr": "10.0.0.9"}})
    assert found == {"id": "w1", "hostname": "w1", "role": None, "availability": None, "state": "down",
                     "addr": "10.0.0.9", "leader": False, "labels": {}, "engine_version": None,
                     "platform": {"os": None, "architecture": None}, "cpus": 0.0, "memory": 0}


def svc(name, labels, service_id="s1", **spec):
    return {"ID": service_id, "Spec": dict({"Name": name, "Labels": labels}, **spec)}


@pytest.mark.parametrize("service, owner", [
    (svc("magic_web", {"spin.tenant": "cory", "spin.stack": "magic"}), ("cory", "magic", "web")),
    # the compose name in its own label wins over the one the swarm name suggests
    (svc("magic_web", {"spin.tenant": "cory", "spin.stack": "magic", "spin.service": "front"}),
     ("cory", "magic", "front")),
    # a name outside the stack's prefix is kept whole (a service renamed by hand)
    (svc("renamed", {"spin.tenant": "cory", "spin.stack": "magic"}), ("cory", "magic", "renamed")),
    (svc("magical_web", {"spin.tenant": "cory", "spin.stack": "magic"}), ("cory", "magic", "magical_web")),
    # the labels decide, never the name
    (svc("magic_web", {"com.docker.stack.namespace": "magic"}), None),
    (svc("magic_web", {"spin.tenant": "cory"}), None),
    (svc("magic_web", {"spin.tenant": "", "spin.stack": "magic"}), None),
    (svc("magic_web", None), None),
    ({"ID": "x"}, None),
])
def test_spin_labels(service, owner):
    assert swarm_state.spin_labels(service) == owner


@pytest.mark.parametrize("check, expected", [
    (None, False),
    ({"Test": ["CMD", "true"]}, True),
    ({"Test": ["CMD-SHELL", "curl -f localhost"]}, True),
    ({"Test": ["NONE"]}, False),    # compose's `healthcheck: {disable: true}`: the image's check is off
    ({"Test": []}, False),
    ({"Interval": 10}, False),
])
def test_has_healthcheck(check, expected):
    spec = {"TaskTemplate": {"ContainerSpec": {"Image": "httpd", "Healthcheck": check}}}
    assert swarm_state.has_healthcheck(spec) is expected


def test_has_healthcheck_of_a_spec_without_a_template():
    assert swarm_state.has_healthcheck({}) is False


def test_task_record_names_the_node_and_lists_every_address():
    task = {"ID": "t1", "Slot": 2, "NodeID": "n1", "DesiredState": "running",
            "Status": {"State": "failed", "Timestamp": "2026-01-01T00:00:00Z", "Err": "exit 1"},
            "NetworksAttachments": [{"Addresses": ["10.0.1.5/24"]}, {"Addresses": ["10.0.2.7/24", "fd00::7/64"]}]}
    assert swarm_state.task_record(task, {"n1": "node1"}) == {
        "id": "t1", "slot": 2, "node_id": "n1", "node": "node1", "state": "failed", "desired_state": "running",
        "since": "2026-01-01T00:00:00Z", "error": "exit 1", "addresses": ["10.0.1.5/24", "10.0.2.7/24", "fd00::7/64"]}


def test_task_record_of_an_unknown_node_shows_its_id():
    assert swarm_state.task_record({"ID": "t1", "NodeID": "gone"}, {})["node"] == "gone"


def task(task_id, state, slot=1, node="n1"):
    return {"ID": task_id, "Slot": slot, "NodeID": node, "DesiredState": "running", "Status": {"State": state}}


def test_service_record_counts_running_tasks_against_the_replicas_and_sorts_them_by_slot():
    service = svc("magic_web", {"spin.tenant": "cory", "spin.stack": "magic", "spin.image": "httpd:2.4"},
                  Mode={"Replicated": {"Replicas": 3}},
                  TaskTemplate={"ContainerSpec": {"Image": "httpd:2.4@sha256:" + "a" * 64},
                                "Networks": [{"Target": "net1", "Aliases": ["web"]}]},
                  EndpointSpec={"Mode": "dnsrr"})
    found = swarm_state.service_record(service, [task("t3", "running", slot=3), task("t1", "running", slot=1),
                                                 task("t2", "preparing", slot=2)],
                                       {"n1": "node1"}, {"net1": "magic_default"})
    assert (found["tenant"], found["stack"], found["service"], found["name"]) == ("cory", "magic", "web", "magic_web")
    assert (found["mode"], found["replicas"], found["running"]) == ("replicated", 3, 2)
    assert [t["id"] for t in found["tasks"]] == ["t1", "t2", "t3"]
    assert found["image_written"] == "httpd:2.4" and found["image"].startswith("httpd:2.4@sha256:")
    assert found["networks"] == [{"name": "magic_default", "aliases": ["web"]}]
    assert (found["endpoint_mode"], found["ports"], found["healthcheck"]) == ("dnsrr", [], False)


@pytest.mark.parametrize("mode, tasks, expected", [
    ({"Global": {}}, 2, ("global", 2)),                     # as many replicas as it has tasks
    ({"ReplicatedJob": {"TotalCompletions": 4}}, 1, ("replicated-job", 4)),
    ({"ReplicatedJob": {}}, 1, ("replicated-job", 1)),
    ({"GlobalJob": {}}, 3, ("global-job", 3)),
    ({"Replicated": {}}, 0, ("replicated", 1)),            # Docker's default of one replica
    ({}, 0, ("replicated", 1)),
])
def test_service_record_mode_and_replicas(mode, tasks, expected):
    service = svc("magic_web", {"spin.tenant": "cory", "spin.stack": "magic"}, Mode=mode)
    found = swarm_state.service_record(service, [task("t%d" % i, "running", node="n%d" % i) for i in range(tasks)],
                                       {}, {})
    assert (found["mode"], found["replicas"]) == expected


def test_service_record_ports_from_the_endpoint_with_docker_defaults():
    service = dict(svc("magic_web", {"spin.tenant": "cory", "spin.stack": "magic"}),
                   Endpoint={"Ports": [{"TargetPort": 80, "PublishedPort": 8000},
                                       {"TargetPort": 53, "PublishedPort": 53, "Protocol": "udp",
                                        "PublishMode": "host"}],
                             "VirtualIPs": [{"NetworkID": "x", "Addr": "10.0.0.3/24"}, {"NetworkID": "y"}]})
    found = swarm_state.service_record(service, [], {}, {})
    assert found["ports"] == [{"target": 80, "published": 8000, "protocol": "tcp", "mode": "ingress"},
                              {"target": 53, "published": 53, "protocol": "udp", "mode": "host"}]
    assert found["virtual_ips"] == ["10.0.0.3/24"]


def test_service_record_of_a_service_that_is_no_stacks_is_none():
    assert swarm_state.service_record(svc("portainer", {}), [], {}, {}) is None


class Client(object):
    """What read_swarm asks a SwarmClient, and what it was asked."""

    def __init__(self, services):
        self._services = services
        self.asked = []

    def nodes(self):
        return [{"ID": "n2", "Description": {"Hostname": "b"}}, {"ID": "n1", "Description": {"Hostname": "a"}}]

    def services(self, labels=None):
        self.asked.append(labels)
        return [s for s in self._services if all(s["Spec"]["Labels"].get(k) == v for k, v in (labels or {}).items())]

    def tasks(self, service_ids, desired_state=None):
        return [dict(task("t-" + sid, "running", node="n1"), ServiceID=sid) for sid in service_ids]

    def inspect_network(self, net_id):
        return {"Name": "magic_default"} if net_id == "net1" else None


SERVICES = [
    svc("magic_web", {"spin.tenant": "cory", "spin.stack": "magic"}, service_id="s1",
        TaskTemplate={"Networks": [{"Target": "net1"}, {"Target": "gone"}]}),
    svc("magic_db", {"spin.tenant": "cory", "spin.stack": "magic"}, service_id="s2"),
    svc("other_web", {"spin.tenant": "cory", "spin.stack": "other"}, service_id="s3"),
    svc("theirs_web", {"spin.tenant": "bob", "spin.stack": "theirs"}, service_id="s4"),
    svc("portainer", {}, service_id="s5"),
]


def test_read_swarm_reads_every_spin_service_sorted_by_name_and_the_nodes_by_hostname():
    found = swarm_state.read_swarm(Client(SERVICES))
    assert [n["hostname"] for n in found["nodes"]] == ["a", "b"]
    assert [s["name"] for s in found["services"]] == ["magic_db", "magic_web", "other_web", "theirs_web"]
    web = found["services"][1]
    assert [n["name"] for n in web["networks"]] == ["magic_default", "gone"]   # a network gone keeps its id
    assert (web["running"], web["tasks"][0]["node"]) == (1, "a")


def test_read_swarm_asks_docker_for_one_tenants_stack_only():
    client = Client(SERVICES)
    found = swarm_state.read_swarm(client, tenant="cory", stack="magic", names=False)
    assert client.asked == [{"spin.tenant": "cory", "spin.stack": "magic"}]
    assert [s["name"] for s in found["services"]] == ["magic_db", "magic_web"]
    assert found["services"][1]["networks"] == [{"name": "net1", "aliases": []}, {"name": "gone", "aliases": []}]


def test_read_swarm_checks_the_owner_again_whatever_docker_answers():
    class Careless(Client):
        def services(self, labels=None):   # a filter Docker ignored
            return self._services
    found = swarm_state.read_swarm(Careless(SERVICES), tenant="bob")
    assert [s["name"] for s in found["services"]] == ["theirs_web"]
