"""The warm worker's module object and task dispatch (module_utils/warm.py); the worker process
itself, started and spoken to as the controller does, is in plugin_utils/test_warm_client.py."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils import module_runner, warm

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
    module = warm.WarmModule(SPEC, request({"name": "web", "replicas": "3"}, check_mode=True, diff=True))
    assert module.params == {"name": "web", "replicas": 3, "token": None, "mode": "a"}
    assert (module.check_mode, module._diff) == (True, True)


@pytest.mark.parametrize("args, message", [
    ({}, "missing required arguments: name"),
    ({"name": "web", "mode": "c"}, "value of mode must be one of: a, b, got: c"),
    ({"name": "web", "replica": 2}, "replica"),
])
def test_invalid_arguments_end_the_task_with_the_validators_message(args, message):
    with pytest.raises(module_runner.Finished) as raised:
        warm.WarmModule(SPEC, request(args))
    assert raised.value.result["failed"] is True
    assert message in raised.value.result["msg"]


def test_a_no_log_value_is_masked_wherever_it_appears_in_the_result():
    module = warm.WarmModule(SPEC, request({"name": "web", "token": "s3cr3t-value"}))
    module.warn("a warning")
    result = module.finish({"changed": True, "echo": "the token is s3cr3t-value", "nested": ["s3cr3t-value"]}, False)
    assert "s3cr3t-value" not in repr(result)
    assert result["warnings"] == ["a warning"] and result["changed"] is True and "failed" not in result


def test_a_failure_without_a_message_still_says_it_failed():
    module = warm.WarmModule(SPEC, request({"name": "web"}))
    assert module.finish({}, True) == {"failed": True, "msg": "the module failed"}


def test_run_module_hands_the_result_back_to_the_worker_instead_of_exiting(monkeypatch):
    monkeypatch.setattr(module_runner, "SwarmClient", lambda host, timeout: "client")
    spec = dict(SPEC, docker_host={"type": "str"}, timeout={"type": "int", "default": 60})
    monkeypatch.setitem(module_runner.WARM_TASK, "request", request({"name": "web"}, diff=False))

    def work(module, client):
        assert client == "client" and module.params["name"] == "web"
        return {"changed": True, "diff": {"before": 1}, "warnings": ["careful"]}
    with pytest.raises(module_runner.Finished) as raised:
        module_runner.run_module(spec, work, warning_prefix="Docker: ")
    assert raised.value.result == {"changed": True, "warnings": ["Docker: careful"]}   # no diff without --diff


def test_a_module_the_worker_does_not_run_is_refused_by_name():
    result = warm.run_task({"module": "spin.platform.spin_mount", "args": {}}, {"spin_stack": None})
    assert result == {"failed": True, "msg": "the spin worker does not run module spin.platform.spin_mount"}
    assert module_runner.WARM_TASK["request"] is None


def test_each_task_is_logged_to_syslog_as_ansiblemodule_logs_it_without_its_secrets(monkeypatch):
    import syslog
    logged = []
    monkeypatch.setattr(syslog, "openlog", lambda ident, option, facility: logged.append(ident))
    monkeypatch.setattr(syslog, "syslog", lambda priority, message: logged.append(message))
    warm.WarmModule(SPEC, request({"name": "s3cr3t-value", "token": "s3cr3t-value"}, no_target_syslog=False))
    assert logged[0] == "ansible-spin_stack"
    assert "token=NOT_LOGGING_PARAMETER" in logged[1] and "s3cr3t-value" not in logged[1]
    assert logged[1].startswith("Invoked with name=")
    del logged[:]
    warm.WarmModule(SPEC, request({"name": "web"}, no_target_syslog=False, no_log=True))
    warm.WarmModule(SPEC, request({"name": "web"}, no_target_syslog=True))
    assert logged == []


def test_a_worker_whose_modules_do_not_import_leaves_no_file_behind(tmp_path):
    with pytest.raises(ImportError):
        warm.serve(str(tmp_path), "v1", 1, modules=("no_such_module",))
    assert list(tmp_path.iterdir()) == []
