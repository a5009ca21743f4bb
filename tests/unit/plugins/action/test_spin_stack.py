"""The spin_stack action plugin: the controller's part of a deploy (the tenant's files judged and
translated, secrets kept out of the module's files), the module's answer turned into the task's result,
and the report a person reads after a deploy."""
import base64
import os

from ansible_collections.spin.platform.plugins.action import spin_stack
from ansible_collections.spin.platform.tests.unit import tenant_tree
from ansible_collections.spin.platform.tests.unit.plugins.action.action_runner import manager, run


def stack(tmp_path, compose, files=None):
    root, directory = tenant_tree.submission(tmp_path)
    for name, text in dict(files or {}, **{"docker-compose.yml": compose}).items():
        with open(os.path.join(directory, name), "w") as handle:
            handle.write(text)
    tenant_tree.hand_in(directory)
    return root, directory


def recording(answer=manager):
    calls = []

    def module(module_name, module_args, task_vars=None):
        calls.append((module_name, module_args))
        return answer(module_name, module_args, task_vars)
    module.calls = calls
    return module


def test_report_counts_what_changed_then_the_build_the_urls_and_the_generated_passwords():
    args = {"stack": "magic", "tenant": "cory"}
    result = {"summary": {"services_created": ["a", "b"], "services_updated": ["c"], "services_unchanged": ["d"]},
              "build": {"summary": ["built cory/magic-web:0123456789ab"]},
              "urls": ["web: http://web.magic.cory.localhost/"],
              "generated": [{"text": "db: root password in secret magic_db_root (docker secret)"}]}
    assert spin_stack.report(args, result) == [
        "Stack magic of tenant cory: 2 created, 1 updated, 0 removed, 1 unchanged.",
        "built cory/magic-web:0123456789ab",
        "web: http://web.magic.cory.localhost/",
        "db: root password in secret magic_db_root (docker secret)"]


def test_report_of_a_result_without_a_summary():
    assert spin_stack.report({"stack": "s", "tenant": "t"}, {}) == [
        "Stack s of tenant t: 0 created, 0 updated, 0 removed, 0 unchanged."]


def test_a_deploy_sends_the_translation_and_keeps_secret_contents_out_of_the_tasks(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n    secrets: [pw]\n"
                                      "secrets:\n  pw:\n    file: ./pw.txt\n", {"pw.txt": "hunter2-very-secret"})
    module = recording()
    result = run(spin_stack, root, directory, None, check_mode=True, module=module)
    assert not result.get("failed"), result
    assert (result["changed"], result["tenant"], result["stack"]) == (True, "demo", "st")
    assert result["report"][0] == "Stack st of tenant demo: 0 created, 0 updated, 0 removed, 0 unchanged."
    [(name, args)] = module.calls
    assert name == "spin.platform.spin_stack" and args["compose_file"] is None and args["variables"] == {}
    assert [s["name"] for s in args["_tasks"]["services"]] == ["st_web"]
    [encoded] = args["_sensitive"]["secrets"].values()
    assert base64.b64decode(encoded) == b"hunter2-very-secret" and encoded not in repr(args["_tasks"])


def test_a_refusal_from_the_manager_is_worded_for_the_tenant(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n")
    owned = {"rule": "ownership", "file": None, "service": None, "key": None,
             "message": "stack 'st' belongs to tenant 'cory'", "fix": "choose another stack name"}

    def refuses(module_name, module_args, task_vars=None):
        return {"failed": True, "refused": True, "changed": False, "violations": [owned], "msg": "refused"}
    result = run(spin_stack, root, directory, None, module=refuses)
    assert result["failed"] is True and "report" not in result
    assert len(result["messages"]) == 1 and "stack 'st' belongs to tenant 'cory'" in result["messages"][0]
    assert result["msg"] != "refused" and "nothing was changed" in result["msg"]


def test_a_verdict_only_run_of_a_stack_that_builds_nothing_asks_no_module(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n")
    module = recording()
    result = run(spin_stack, root, directory, None, module=module, verdict_only=True)
    assert (result["changed"], result["verdict"], result["builds"]) == (False, "allowed", 0)
    assert module.calls == []


def test_removing_a_stack_reads_no_files_and_reports_nothing(tmp_path):
    root, directory = stack(tmp_path, "services:\n  web:\n    image: httpd\n")
    module = recording(lambda name, args, task_vars=None: {"changed": True})
    result = run(spin_stack, root, directory, None, module=module, state="absent")
    assert result["changed"] is True and "report" not in result
    [(_name, args)] = module.calls
    assert args["_tasks"] is None and args["state"] == "absent"
