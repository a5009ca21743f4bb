"""The action plugins' shared controller half: one place turns SpinError into the failure result,
one wording of a refusal, the module's warnings after the action's own."""
import types

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.action import SpinAction, SubmissionAction


def make(cls):
    task = types.SimpleNamespace(args={}, async_val=0, check_mode=False, diff=False, action="spin_x")
    connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir="/tmp"))
    return cls(task, connection, None, None, None, None)


def test_a_spin_error_from_any_step_is_the_failure_result():
    class Failing(SpinAction):
        def spin_run(self, result, task_vars):
            result["changed"] = False
            raise SpinError("service 'web': image is required", service="web")

    result = make(Failing).run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == "service 'web': image is required"
    assert result["service"] == "web"
    assert result["changed"] is False


def test_other_exceptions_are_not_swallowed():
    class Broken(SpinAction):
        def spin_run(self, result, task_vars):
            raise KeyError("bug")

    try:
        make(Broken).run(task_vars={})
    except KeyError:
        pass
    else:
        raise AssertionError("a bug must not turn into a tenant's failure message")


def test_the_module_result_is_merged_without_its_invocation_and_after_the_actions_warnings():
    result = {"warnings": ["controller: w1"]}
    SpinAction.merge_module_result(result, {"changed": True, "warnings": ["module: w2"], "invocation": {"x": 1},
                                            "_ansible_parsed": True})
    assert result == {"changed": True, "warnings": ["controller: w1", "module: w2"]}


def test_one_wording_of_a_refusal():
    args = {"stack": "web", "tenant": "demo"}
    assert SubmissionAction.refusal(args, ["a.yml: x", "a.yml: y"], ", nothing was changed") == (
        "stack 'web' of tenant 'demo' is refused, nothing was changed (2 problem(s)):\na.yml: x\na.yml: y")
    assert SubmissionAction.refusal(args, ["a.yml: x"]).startswith("stack 'web' of tenant 'demo' is refused (1 ")


def test_warnings_come_from_the_warning_diagnostics_only():
    result = {}
    diagnostics = [{"severity": "warning", "file": "docker-compose.yml", "service": "web", "key": "links",
                    "message": "ignored"},
                   {"severity": "error", "file": "docker-compose.yml", "service": None, "key": None, "message": "bad"}]
    SubmissionAction.add_warnings(result, diagnostics)
    assert result == {"warnings": ["docker-compose.yml: service 'web': key 'links': warning: ignored"]}
    SubmissionAction.add_warnings(result, diagnostics[1:])
    assert len(result["warnings"]) == 1
