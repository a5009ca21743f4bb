"""preflight (the manager side of spin_policy / spin_stack) and the spin_policy module's run():
what they read from the swarm, with a fake client that answers like SwarmClient."""
import json
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import preflight
from ansible_collections.spin.platform.plugins.modules import spin_policy


def labelled(tenant, stack):
    return {"spin.tenant": tenant, "spin.stack": stack}


class FakeClient:
    def __init__(self, services=(), networks=(), volumes=(), secrets=(), configs=(), nodes=1):
        self._services, self._networks, self._volumes = list(services), list(networks), list(volumes)
        self._secrets, self._configs, self._nodes = list(secrets), list(configs), nodes

    def containers(self, labels=None, status=None):
        return []

    def inspect_container(self, container_id):
        return None

    def services(self, labels=None):
        return [s for s in self._services
                if all((s["Spec"].get("Labels") or {}).get(k) == v for k, v in (labels or {}).items())]

    def networks(self, labels=None):
        return self._networks

    def volumes(self, labels=None):
        return self._volumes

    def secrets(self, labels=None):
        return self._secrets

    def configs(self, labels=None):
        return self._configs

    def info(self):
        return {"Swarm": {"Nodes": self._nodes}}

    def nodes(self):
        return []


def service(name, labels, replicas=1, mode="replicated"):
    spec_mode = {"Global": {}} if mode == "global" else {"Replicated": {"Replicas": replicas}}
    return {"Spec": {"Name": name, "Labels": labels, "Mode": spec_mode}}


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


def params(tmp_path, **controller):
    base = {"tenant": "other", "stack": "magic", "tenants": {"other": {"uid": 1001, "gid": 1001,
                                                                       "quota": {"replicas": 4}}},
            "global_fs_roots": None, "policy": {"require_no_new_privileges": False},
            "docker_host": "tcp://127.0.0.1:1", "daemon_json": "/nonexistent",
            "audit_log": str(tmp_path / "audit.jsonl"), "_controller": controller}
    return base


def test_run_adds_ownership_quota_and_writes_the_audit_record(tmp_path):
    client = FakeClient(
        services=[service("magic_web", labelled("cory", "magic")),
                  service("old_web", labelled("other", "old"), replicas=3)],
        nodes=2)
    controller = {"violations": [{"rule": "privileged", "file": "docker-compose.yml", "service": "web",
                                  "key": "privileged", "message": "m", "fix": "f"}],
                  "replicas": {"web": 1, "agent": "global"}, "binds": [], "input_digest": "sha256:00",
                  "files": {"compose": "docker-compose.yml"}, "error_count": 0}
    result = spin_policy.run(params(tmp_path, **controller), client)
    assert [v["rule"] for v in result["violations"]] == ["privileged", "ownership", "replica-quota"]
    assert result["violations"][1]["message"] == "stack 'magic' belongs to tenant 'cory'"
    assert result["replicas"] == {"stack": 3, "other_stacks": 3, "quota": 4}
    assert result["allowed"] is False and result["changed"] is False
    [record] = [json.loads(line) for line in open(tmp_path / "audit.jsonl")]
    assert record["violations"] == ["ownership", "privileged", "replica-quota"]
    assert (record["tenant"], record["stack"], record["input_digest"]) == ("other", "magic", "sha256:00")


def test_run_allows_a_clean_stack(tmp_path):
    controller = {"violations": [], "replicas": {"web": 2}, "binds": [], "input_digest": "sha256:00",
                  "files": {}, "error_count": 0}
    result = spin_policy.run(params(tmp_path, **controller), FakeClient())
    assert result["violations"] == [] and result["allowed"] is True
    # a remote engine: nothing on this host to look at, no evidence either way
    assert result["engine"] == {"daemon_json": None, "dockerd_flag": None, "newest_container": None}


def test_run_refuses_when_the_compose_files_had_errors(tmp_path):
    controller = {"violations": [], "replicas": {}, "binds": [], "input_digest": "sha256:00", "files": {},
                  "error_count": 1}
    result = spin_policy.run(params(tmp_path, **controller), FakeClient())
    assert result["violations"] == [] and result["allowed"] is False
    assert json.loads(open(tmp_path / "audit.jsonl").read())["verdict"] == "refused"


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
