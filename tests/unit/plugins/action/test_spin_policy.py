"""The spin_policy action plugin: the controller judges the tenant's files, the module on the manager
adds what only the swarm knows; the task reports every violation at once, and fails on them only when
fail_on_violation (the default) says so."""
import os

from ansible_collections.spin.platform.plugins.action import spin_policy
from ansible_collections.spin.platform.tests.unit import tenant_tree
from ansible_collections.spin.platform.tests.unit.plugins.action.action_runner import run

OWNED = {"rule": "ownership", "file": None, "service": None, "key": None,
         "message": "stack 'st' belongs to tenant 'cory'", "fix": "choose another stack name"}


def stack(tmp_path, compose):
    root, directory = tenant_tree.submission(tmp_path)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write(compose)
    tenant_tree.hand_in(directory)
    return root, directory


def manager_adds(*violations):
    """The module when the swarm adds ``violations`` to the controller's."""
    calls = []

    def module(module_name, module_args, task_vars=None):
        calls.append((module_name, module_args))
        controller = module_args["_controller"]
        return {"changed": False, "violations": list(controller["violations"]) + list(violations)}
    module.calls = calls
    return module


def test_a_clean_stack_is_allowed_and_the_module_gets_the_controllers_facts(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n")
    module = manager_adds()
    result = run(spin_policy, root, directory, None, module=module)
    assert (result.get("failed"), result["allowed"], result["changed"], result["messages"]) == (None, True, False, [])
    [(name, args)] = module.calls
    assert name == "spin.platform.spin_policy"
    assert args["compose_file"] == os.path.join(directory, "docker-compose.yml")
    assert "compose_path" not in args["_controller"] and args["_controller"]["violations"] == []


def test_what_the_manager_finds_is_reported_with_the_controllers_findings(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n    privileged: true\n")
    result = run(spin_policy, root, directory, None, module=manager_adds(OWNED))
    assert result["failed"] is True and result["allowed"] is False
    assert [v["rule"] for v in result["violations"]] == ["privileged", "ownership"]
    assert len(result["messages"]) == 2 and "stack 'st' belongs to tenant 'cory'" in result["messages"][1]
    assert "stack 'st' belongs to tenant 'cory'" in result["msg"]


def test_without_fail_on_violation_the_verdict_is_reported_not_failed(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n    privileged: true\n")
    result = run(spin_policy, root, directory, None, module=manager_adds(), fail_on_violation=False)
    assert not result.get("failed") and result["allowed"] is False
    assert [v["rule"] for v in result["violations"]] == ["privileged"]


def test_a_failed_module_is_the_tasks_failure_as_it_said_it(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n")

    def unreachable(module_name, module_args, task_vars=None):
        return {"failed": True, "msg": "cannot reach Docker at unix:///var/run/docker.sock"}
    result = run(spin_policy, root, directory, None, module=unreachable)
    assert result["failed"] is True and result["msg"] == "cannot reach Docker at unix:///var/run/docker.sock"
    assert "allowed" not in result
