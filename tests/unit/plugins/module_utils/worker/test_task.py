"""A module task run without AnsibleModule (module_utils/worker/task.py): the module object the warm
worker and spin_converge build, and run_task; the worker process itself, started and spoken to as
the controller does, is in plugin_utils/test_warm_client.py."""
import types

import pytest

from ansible_collections.spin.platform.plugins.module_utils.worker import module_runner, task

SPEC = {"name": {"type": "str", "required": True},
        "replicas": {"type": "int", "default": 1},
        "token": {"type": "str", "no_log": True},
        "mode": {"type": "str", "choices": ["a", "b"], "default": "a"}}


def request(args, **extra):
    out = {"module": "spin.platform.spin_stack", "args": args, "check_mode": False, "diff": False,
           "no_target_syslog": True}
    out.update(extra)
    return out


def test_the_arguments_are_validated_and_completed_as_ansiblemodule_does():
    module = task.WarmModule(SPEC, request({"name": "web", "replicas": "3"}, check_mode=True, diff=True))
    assert module.params == {"name": "web", "replicas": 3, "token": None, "mode": "a"}
    assert (module.check_mode, module._diff) == (True, True)


@pytest.mark.parametrize("args, message", [
    ({}, "missing required arguments: name"),
    ({"name": "web", "mode": "c"}, "value of mode must be one of: a, b, got: c"),
    ({"name": "web", "replica": 2}, "replica"),
])
def test_invalid_arguments_end_the_task_with_the_validators_message(args, message):
    with pytest.raises(task.InvalidArguments) as raised:
        task.WarmModule(SPEC, request(args))
    assert raised.value.result["failed"] is True
    assert message in raised.value.result["msg"]
    result = task.run_task(types.SimpleNamespace(argument_spec=lambda: SPEC, run=None), request(args))
    assert result["failed"] is True and message in result["msg"]


def test_a_no_log_value_is_masked_wherever_it_appears_in_the_result():
    module = task.WarmModule(SPEC, request({"name": "web", "token": "s3cr3t-value"}))
    module.warn("a warning")
    result = module.finish({"changed": True, "echo": "the token is s3cr3t-value", "nested": ["s3cr3t-value"]}, False)
    assert "s3cr3t-value" not in repr(result)
    assert result["warnings"] == ["a warning"] and result["changed"] is True and "failed" not in result


def test_a_failure_without_a_message_still_says_it_failed():
    module = task.WarmModule(SPEC, request({"name": "web"}))
    assert module.finish({}, True) == {"failed": True, "msg": "the module failed"}


def test_run_task_runs_the_modules_work_with_its_spec_and_options_and_keeps_the_diff_only_in_diff_mode(
        monkeypatch):
    monkeypatch.setattr(module_runner, "SwarmClient", lambda host, timeout: "client")
    spec = dict(SPEC, docker_host={"type": "str"}, timeout={"type": "int", "default": 60})
    spec["name"] = {"type": "str"}

    def run(module, client):
        assert client == "client" and module.params["name"] == "web"
        return {"changed": True, "diff": {"before": 1}, "warnings": ["careful"], "echo": module.params["token"]}
    module = types.SimpleNamespace(argument_spec=lambda: spec, run=run,
                                   MODULE_OPTIONS={"required_one_of": [("name", "token")]})
    result = task.run_task(module, request({"name": "web", "token": "s3cr3t-value"}, diff=False))
    assert result == {"changed": True, "warnings": ["careful"], "echo": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert task.run_task(module, request({"name": "web", "token": "t"}, diff=True))["diff"] == {"before": 1}
    refused = task.run_task(module, request({"replicas": 2}))       # MODULE_OPTIONS applied
    assert refused["failed"] is True and "one of the following is required: name, token" in refused["msg"]


def test_a_shared_client_is_used_as_given():
    seen = []
    module = types.SimpleNamespace(argument_spec=lambda: SPEC, run=lambda m, client: seen.append(client) or {})
    assert task.run_task(module, request({"name": "web"}), client="shared") == {}
    assert seen == ["shared"]


def test_each_task_is_logged_to_syslog_as_ansiblemodule_logs_it_without_its_secrets(monkeypatch):
    import syslog
    logged = []
    monkeypatch.setattr(syslog, "openlog", lambda ident, option, facility: logged.append(ident))
    monkeypatch.setattr(syslog, "syslog", lambda priority, message: logged.append(message))
    task.WarmModule(SPEC, request({"name": "s3cr3t-value", "token": "s3cr3t-value"}, no_target_syslog=False))
    assert logged[0] == "ansible-spin_stack"
    assert "token=NOT_LOGGING_PARAMETER" in logged[1] and "s3cr3t-value" not in logged[1]
    assert logged[1].startswith("Invoked with name=")
    del logged[:]
    task.WarmModule(SPEC, request({"name": "web"}, no_target_syslog=False, no_log=True))
    task.WarmModule(SPEC, request({"name": "web"}, no_target_syslog=True))
    assert logged == []
