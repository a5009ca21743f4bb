"""stack_run: spin_stack's work on the manager (shared with spin_converge). A refused stack changes
nothing and leaves an audit record that says why; where a generated root password is kept is reported,
never the password. (A deploy as a whole: tests/integration.)"""
import contextlib
import json
import types

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.deploy import stack_run
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.policy.preflight_fakes import (
    FakeClient, labelled, service)


class Client(FakeClient):
    """preflight's fake, with the plan's cached reads, and a record of any change asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.changes = []

    @contextlib.contextmanager
    def cached_reads(self):
        yield

    def __getattr__(self, name):
        if name.startswith(("create_", "remove_", "update_")):
            return lambda *args, **kwargs: self.changes.append(name)
        raise AttributeError(name)


def module(tmp_path, check_mode=False, **params):
    spec = stack_run.argument_spec()
    values = {name: option.get("default") for name, option in spec.items()}
    values.update({"tenant": "cory", "stack": "magic", "tenants": {"cory": {"uid": 1000, "gid": 1000}},
                   "docker_host": "tcp://127.0.0.1:1", "daemon_json": str(tmp_path / "none.json"),
                   "audit_log": str(tmp_path / "audit.jsonl"), "lb": False})
    values.update(params)
    warnings = []
    return types.SimpleNamespace(params=values, check_mode=check_mode, warn=warnings.append, warnings=warnings)


def audit_records(tmp_path):
    return [json.loads(line) for line in open(str(tmp_path / "audit.jsonl"))]


PRIVILEGED = {"rule": "privileged", "file": "docker-compose.yml", "service": "web", "key": "privileged",
              "message": "privileged containers can take over the node", "fix": "remove privileged"}


def test_the_argument_spec_has_the_connection_and_keeps_secrets_out_of_logs():
    spec = stack_run.argument_spec()
    assert {"docker_host", "timeout"} <= set(spec)
    assert spec["_sensitive"]["no_log"] is True
    assert spec["state"]["choices"] == ["present", "absent"] and spec["state"]["default"] == "present"


def test_a_stack_the_controller_refused_changes_nothing_and_is_audited(tmp_path):
    client = Client()
    controller = {"violations": [PRIVILEGED], "error_count": 1, "input_digest": "sha256:00"}
    result = stack_run.run(module(tmp_path, _tasks={"services": []}, _controller=controller), client)
    assert (result["failed"], result["refused"], result["changed"]) == (True, True, False)
    assert [v["rule"] for v in result["violations"]] == ["privileged"]
    assert client.changes == []
    intent, outcome = audit_records(tmp_path)
    assert (intent["phase"], outcome["phase"], outcome["outcome"]) == ("intent", "result", "refused")
    assert outcome["cause"] == ("docker-compose.yml: service 'web': key 'privileged': [privileged] privileged "
                                "containers can take over the node; remove privileged; 1 error(s) in the compose files")
    assert result["audit"] == outcome


def test_without_the_translation_a_deploy_is_refused(tmp_path):
    result = stack_run.run(module(tmp_path, _tasks=None), Client())
    assert result["refused"] is True and result["violations"] == []


def test_another_tenants_stack_is_not_removed(tmp_path):
    client = Client(services=[service("magic_web", labelled("magic-owner", "magic"))])
    result = stack_run.run(module(tmp_path, state="absent"), client)
    assert result["refused"] is True and client.changes == []
    assert [(v["rule"], v["message"]) for v in result["violations"]] == [
        ("ownership", "stack 'magic' belongs to tenant 'magic-owner'")]
    assert audit_records(tmp_path)[-1]["outcome"] == "refused"


def test_a_failure_while_planning_is_audited_as_refused_and_raised(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise SpinError("cannot read the swarm")
    monkeypatch.setattr(stack_run.preflight, "manager_checks", broken)
    with pytest.raises(SpinError) as raised:
        stack_run.run(module(tmp_path, _tasks={"services": []}), Client())
    assert raised.value.details["audit"]["outcome"] == "refused"
    assert raised.value.details["audit"]["cause"] == "cannot read the swarm"


def test_generated_secrets_say_where_the_password_is_never_what_it_is():
    tasks = {
        "secrets": [{"name": "magic_db_root_0123456789", "generate": True, "data": None,
                     "labels": {"spin.service": "db", "spin.generated": "MYSQL_ROOT_PASSWORD"}},
                    {"name": "magic_pw_abcdef0123", "data": "c2VjcmV0", "labels": {"spin.service": "web"}}],
        "services": [{"name": "magic_db", "secrets": [{"secret_name": "magic_db_root_0123456789",
                                                       "target": "db_root_password"}]}]}
    assert stack_run.generated_secrets(tasks) == [{
        "service": "db", "variable": "MYSQL_ROOT_PASSWORD", "secret": "magic_db_root_0123456789",
        "path": "/run/secrets/db_root_password",
        "text": "db: the root password is generated; read it in db's containers at /run/secrets/db_root_password "
                "(Swarm secret magic_db_root_0123456789)"}]
    assert stack_run.generated_secrets({"secrets": [], "services": []}) == []
