"""The spin_policy module's run() on the manager: the controller's verdict plus what only the swarm knows
(ownership, the replica quota), and the audit record it writes; the swarm is preflight_fakes.FakeClient."""
import json

from ansible_collections.spin.platform.plugins.modules import spin_policy
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.policy.preflight_fakes import (
    FakeClient, labelled, service)


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
