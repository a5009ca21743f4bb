"""swarm_metrics (the monitoring role's swarm exporter): every tenant's services as replica series
labelled by tenant and stack, the nodes' state, the node agents' scrape targets; and the exporter's
image carries every file of the collection it imports."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.monitor import swarm_metrics

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))


def record(tenant, stack, service, replicas, running, states=(), mode="replicated"):
    return {"tenant": tenant, "stack": stack, "service": service, "mode": mode, "replicas": replicas,
            "running": running, "tasks": [{"state": s} for s in states]}


def node(hostname, state="ready", role="manager"):
    return {"hostname": hostname, "state": state, "role": role, "availability": "active",
            "engine_version": "20.10.24", "addr": "10.0.0.1"}


def test_render_labels_every_service_by_tenant_and_stack():
    text = swarm_metrics.render({"services": [record("demo", "seed", "web", 2, 1, ["running", "starting"]),
                                              record("cory", "magic", "db", 1, 1, ["running"])],
                                 "nodes": [node("vm"), node("w1", state="down", role="worker")]})
    lines = text.splitlines()
    assert 'spin_service_replicas_desired{mode="replicated",service="web",stack="seed",tenant="demo"} 2' in lines
    assert 'spin_service_replicas_running{mode="replicated",service="web",stack="seed",tenant="demo"} 1' in lines
    assert 'spin_service_replicas_starting{mode="replicated",service="web",stack="seed",tenant="demo"} 1' in lines
    assert 'spin_service_replicas_running{mode="replicated",service="db",stack="magic",tenant="cory"} 1' in lines
    assert 'spin_node_ready{node="vm"} 1' in lines and 'spin_node_ready{node="w1"} 0' in lines
    assert "spin_swarm_up 1" in lines
    assert lines.count("# TYPE spin_service_replicas_desired gauge") == 1


def test_render_when_the_manager_did_not_answer():
    assert swarm_metrics.render(None, up=False).splitlines() == [
        "# HELP spin_swarm_up 1 when a swarm manager answered the exporter", "# TYPE spin_swarm_up gauge",
        "spin_swarm_up 0"]


def test_label_values_are_escaped():
    text = swarm_metrics.render({"services": [record('a"b', "s\\t", "x\ny", 1, 1)], "nodes": []})
    assert 'service="x\\ny",stack="s\\\\t",tenant="a\\"b"' in text


def agent_task(node_id, address, state="running", desired="running", network="mon"):
    return {"NodeID": node_id, "DesiredState": desired, "Status": {"State": state},
            "NetworksAttachments": [{"Network": {"Spec": {"Name": "ingress"}}, "Addresses": ["10.255.0.9/16"]},
                                    {"Network": {"Spec": {"Name": network}}, "Addresses": [address]}]}


NODES = [{"ID": "n1", "Description": {"Hostname": "edge1"}, "Spec": {"Labels": {"spin.edge": "true"}}},
         {"ID": "n2", "Description": {"Hostname": "work1"}, "Spec": {"Labels": {}}}]


def test_node_targets_per_job_and_edges_only_where_an_edge_runs():
    tasks = [agent_task("n2", "10.0.5.4/24"), agent_task("n1", "10.0.5.3/24"),
             agent_task("n1", "10.0.5.2/24", state="shutdown", desired="shutdown")]
    groups = swarm_metrics.node_targets(tasks, NODES, "mon", {"node": 9100, "engine": 9323, "edge": 9101})
    assert groups == {
        "node": [{"targets": ["10.0.5.3:9100"], "labels": {"node": "edge1"}},
                 {"targets": ["10.0.5.4:9100"], "labels": {"node": "work1"}}],
        "engine": [{"targets": ["10.0.5.3:9323"], "labels": {"node": "edge1"}},
                   {"targets": ["10.0.5.4:9323"], "labels": {"node": "work1"}}],
        "edge": [{"targets": ["10.0.5.3:9101"], "labels": {"node": "edge1"}}]}


def test_a_task_not_on_the_network_is_no_target():
    assert swarm_metrics.node_targets([agent_task("n1", "10.0.5.3/24", network="other")], NODES, "mon",
                                      {"node": 9100}) == {"node": []}


@pytest.mark.parametrize("path", ["spin-swarm-exporter", "spin-node-agent"])
def test_the_image_scripts_are_executable(path):
    assert os.stat(os.path.join(ROOT, "roles", "images", "files", "monitoring", path)).st_mode & 0o111
