"""lb_node: the edge on one node (EdgeNode) writes the rendered haproxy.cfg, has haproxy check it, reloads
through the master socket and puts the old file back when that fails; and it joins the stacks' networks."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import lb_node
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import (
    FakeClient, FakeNode, platform, rule, seed_stack)


@pytest.mark.parametrize("text, expected", [
    ("#<PID> <type> <reloads> <uptime> <version>\n1 master 3 [failed: 1] 0d 2.6\n# workers\n19 worker 0 0d 2.6\n"
     "# old workers\n7 worker 1 0d 2.6\n# programs\n",
     {"master": {"pid": 1, "reloads": 3, "failed": 1}, "workers": [19], "old_workers": [7]}),
    ("1               master          0               0d00h00m08s     2.6.12-1\n# workers\n8 worker 0 0d 2.6\n",
     {"master": {"pid": 1, "reloads": 0, "failed": 0}, "workers": [8], "old_workers": []}),
    ("", {"master": None, "workers": [], "old_workers": []}),
])
def test_parse_show_proc(text, expected):
    assert lb_node.parse_show_proc(text) == expected


def test_sync_writes_checks_reloads_then_does_nothing(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    node = FakeNode(p)
    result = lb_node.sync_edge(client, p, node=node)
    assert result["changed"] and result["reloaded"] and result["stacks"] == ["magic"]
    assert ("admin.sock", "show servers state") in node.commands and ("master.sock", "reload") in node.commands
    text = (tmp_path / "edge" / "haproxy.cfg").read_text()
    assert "use_backend magic:web:80" in text and "'admin:pw'" in text
    assert oct((tmp_path / "edge" / "haproxy.cfg").stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "edge" / "run" / "servers.state").read_text().startswith("1\n")
    assert "pw" not in result["diff"]["after"]
    node.commands = []
    again = lb_node.sync_edge(client, p, node=node)
    assert not again["changed"] and not again["reloaded"] and node.commands == []


def test_sync_in_check_mode_checks_but_writes_nothing(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"))
    client = FakeClient()
    result = lb_node.sync_edge(client, p, check_mode=True, node=FakeNode(p))
    assert result["changed"] and not result["reloaded"]
    assert not (tmp_path / "edge").exists()  # not even the generated stats password
    assert len(client.checks) == 1


def test_sync_with_an_invalid_config_keeps_the_old_file(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    node = FakeNode(p)
    lb_node.sync_edge(client, p, node=node)
    old = (tmp_path / "edge" / "haproxy.cfg").read_text()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    client.check_result = (1, "[ALERT]    (1) : config : something\n")
    with pytest.raises(SpinError, match="HAProxy refused the new configuration"):
        lb_node.sync_edge(client, p, node=node)
    assert (tmp_path / "edge" / "haproxy.cfg").read_text() == old


def test_failed_reload_puts_the_old_file_back(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    lb_node.sync_edge(client, p, node=FakeNode(p, running=False))
    old = (tmp_path / "edge" / "haproxy.cfg").read_text()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    with pytest.raises(SpinError, match="could not load the new configuration"):
        lb_node.sync_edge(client, p, node=FakeNode(p, fail_reload=True))
    assert (tmp_path / "edge" / "haproxy.cfg").read_text() == old


def test_without_the_image_check_mode_skips_the_check_and_a_real_run_says_what_to_do(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    client.has_image = False
    assert lb_node.sync_edge(client, p, check_mode=True, node=FakeNode(p))["changed"]
    with pytest.raises(SpinError, match="image 'spin/haproxy:2.6' is not on this node.*images role"):
        lb_node.sync_edge(client, p, node=FakeNode(p))
    assert not (tmp_path / "edge" / "haproxy.cfg").exists()


def test_sync_without_a_running_edge_only_writes(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    result = lb_node.sync_edge(FakeClient(), p, node=FakeNode(p, running=False))
    assert result["changed"] and not result["reloaded"]


def test_generated_stats_password_is_kept(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"))
    first = lb_node.EdgeNode(p).stats_password()
    assert len(first) == 32 and lb_node.EdgeNode(p).stats_password() == first
    assert oct((tmp_path / "edge" / "stats.password").stat().st_mode & 0o777) == "0o600"


def test_joining_a_network_is_tried_again_when_the_swarm_is_slow():
    calls = []

    class Client(object):
        def connect_network(self, network, container_id):
            calls.append(network)
            if len(calls) < 3:
                raise SpinError("Docker refused to connect container: attaching to network failed, make sure your "
                                "network options are correct and check manager logs: context deadline exceeded")
    lb_node._connect(Client(), "lb-magic", "c1", sleep=lambda s: None)
    assert calls == ["lb-magic"] * 3

    class Refusing(object):
        def connect_network(self, network, container_id):
            calls.append(network)
            raise SpinError("Docker refused: network lb-x not found")
    calls[:] = []
    with pytest.raises(SpinError, match="not found"):
        lb_node._connect(Refusing(), "lb-x", "c1", sleep=lambda s: None)
    assert calls == ["lb-x"]  # no point in asking again


# the edge's report to monitoring of whether its configuration passed the check

def test_the_edge_reports_its_config_check_to_monitoring(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    lb_node.sync_edge(client, p, node=FakeNode(p))
    facts = (tmp_path / "metrics" / "spin_edge.prom").read_text()
    assert "spin_edge_config_check_ok 1.0" in facts and "spin_edge_reload_ok 1.0" in facts
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    client.check_result = (1, "[ALERT]    (1) : config : something\n")
    with pytest.raises(SpinError):
        lb_node.sync_edge(client, p, node=FakeNode(p))
    facts = (tmp_path / "metrics" / "spin_edge.prom").read_text()
    assert "spin_edge_config_check_ok 0.0" in facts and "spin_edge_stacks 1.0" in facts


def test_check_mode_reports_nothing(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    lb_node.sync_edge(FakeClient(), p, check_mode=True, node=FakeNode(p))
    assert not (tmp_path / "metrics").exists()
