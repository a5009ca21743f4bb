"""preflight (the manager side of spin_policy / spin_stack): what it reads from the swarm, with a fake
client that answers like SwarmClient (preflight_fakes.py)."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import preflight
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.policy.preflight_fakes import (
    FakeClient, labelled, service)


def test_stack_objects_by_label_and_by_name():
    client = FakeClient(
        services=[service("magic_web", labelled("cory", "magic")), service("other_web", labelled("x", "other")),
                  service("renamed", labelled("cory", "magic"))],
        networks=[{"Name": "magic_default", "Labels": {}}, {"Name": "magical_default", "Labels": {}}],
        volumes=[{"Name": "vol", "Labels": {"com.docker.stack.namespace": "magic"}}],
        secrets=[{"Spec": {"Name": "magic_pw_0123456789", "Labels": None}}],
        configs=[{"Spec": {"Name": "x", "Labels": {}}}])
    found = preflight.stack_objects(client, "magic")
    assert [(o["kind"], o["name"]) for o in found] == [
        ("service", "magic_web"), ("service", "renamed"), ("network", "magic_default"), ("volume", "vol"),
        ("secret", "magic_pw_0123456789")]


def test_other_replicas_counts_the_tenants_other_stacks():
    client = FakeClient(services=[
        service("a_web", labelled("cory", "a"), replicas=3),
        service("a_agent", labelled("cory", "a"), mode="global"),
        service("b_web", labelled("cory", "b"), replicas=5),      # the stack being checked
        service("c_web", labelled("magic", "c"), replicas=7),     # another tenant
    ], nodes=4)
    assert preflight.other_replicas(client, "cory", "b", node_count=4) == 3 + 4


def test_resolve_binds(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    binds = [{"service": "s", "key": "volumes", "source": str(tmp_path / "link"), "read_only": True},
             {"service": "s", "key": "volumes", "source": str(tmp_path / "missing"), "read_only": True}]
    resolved = preflight.resolve_binds(binds)
    assert resolved[0]["resolved"] == os.path.realpath(tmp_path / "real")
    assert resolved[1]["resolved"] is None


@pytest.mark.parametrize("content, expected", [
    ('{"no-new-privileges": true}', True),
    ('{"log-driver": "json-file"}', False),
    ("not json", False),
])
def test_engine_facts_reads_daemon_json(tmp_path, monkeypatch, content, expected):
    path = tmp_path / "daemon.json"
    path.write_text(content)
    monkeypatch.setattr(preflight, "DOCKER_PIDFILE", str(tmp_path / "no.pid"))
    facts = preflight.engine_facts(FakeClient(), "unix:///var/run/docker.sock", str(path))
    assert facts == {"daemon_json": expected, "dockerd_flag": None, "newest_container": None}
