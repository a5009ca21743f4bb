"""The spin_translate action plugin: the translation spin_stack would apply, written to dest as a
reviewable task file, on the controller only (no module runs); nothing is written for a refused stack,
in check mode, or when the file already says the same."""
import os

import yaml

from ansible_collections.spin.platform.plugins.action import spin_translate
from ansible_collections.spin.platform.plugins.modules import spin_translate as module_docs
from ansible_collections.spin.platform.tests.unit import tenant_tree
from ansible_collections.spin.platform.tests.unit.plugins.action.action_runner import run


def no_module(module_name, module_args, task_vars=None):
    raise AssertionError("spin_translate ran module %s: it runs on the controller only" % module_name)


def translate(directory, root, dest, **kwargs):
    return run(spin_translate, root, directory, str(dest), module=no_module, **kwargs)


def web_stack(tmp_path, compose="services:\n  web:\n    image: httpd:2.4\n"):
    root, directory = tenant_tree.submission(tmp_path)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write(compose)
    tenant_tree.hand_in(directory)
    return root, directory


def test_the_task_file_is_written_then_left_alone(tmp_path):
    root, directory = web_stack(tmp_path)
    dest = tmp_path / "out" / "st.tasks.yml"
    first = translate(directory, root, dest)
    assert not first.get("failed"), first
    assert (first["changed"], first["dest"], first["tenant"], first["stack"]) == (True, str(dest), "demo", "st")
    text = dest.read_text()
    assert yaml.safe_load(text)            # a file a reviewer (and ansible-playbook) reads
    assert "httpd:2.4" in text
    assert [s["name"] for s in first["tasks"]["services"]] == ["st_web"]
    again = translate(directory, root, dest)
    assert again["changed"] is False and dest.read_text() == text


def test_check_mode_says_what_would_change_and_writes_nothing(tmp_path):
    root, directory = web_stack(tmp_path)
    dest = tmp_path / "st.tasks.yml"
    result = translate(directory, root, dest, check_mode=True, diff=True)
    assert result["changed"] is True and not dest.exists()
    assert result["diff"]["before"] == "" and "httpd:2.4" in result["diff"]["after"]
    assert result["diff"]["before_header"] == result["diff"]["after_header"] == str(dest)


def test_a_changed_file_is_replaced_with_its_diff(tmp_path):
    root, directory = web_stack(tmp_path)
    dest = tmp_path / "st.tasks.yml"
    dest.write_text("# edited by hand\n")
    result = translate(directory, root, dest, diff=True)
    assert result["changed"] is True and result["diff"]["before"] == "# edited by hand\n"
    assert dest.read_text() == result["diff"]["after"]


def test_a_refused_stack_writes_nothing_and_names_every_problem(tmp_path):
    root, directory = web_stack(tmp_path, "services:\n  web:\n    image: httpd\n    privileged: true\n"
                                          "    imagee: x\n")
    dest = tmp_path / "st.tasks.yml"
    result = translate(directory, root, dest)
    assert result["failed"] is True and not dest.exists()
    unknown, privileged = result["messages"]     # the parser's and the policy's, at once
    assert unknown == "docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)"
    assert privileged.startswith("docker-compose.yml: service 'web': key 'privileged': [privileged] ")
    assert "tasks" not in result


def test_the_secrets_content_never_reaches_the_result(tmp_path):
    root, directory = web_stack(tmp_path, "services:\n  web:\n    image: httpd\n    secrets: [pw]\n"
                                          "secrets:\n  pw:\n    file: ./pw.txt\n")
    with open(os.path.join(directory, "pw.txt"), "w") as handle:
        handle.write("hunter2-very-secret")
    tenant_tree.hand_in(directory)
    result = translate(directory, root, tmp_path / "st.tasks.yml")
    assert not result.get("failed"), result
    assert [s["data"] for s in result["tasks"]["secrets"]] == ["<redacted: 19 bytes>"]
    assert "hunter2" not in repr(result)


def test_the_documented_return_values_are_what_the_action_returns(tmp_path):
    root, directory = tenant_tree.submission(tmp_path)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write("services:\n  web:\n    image: httpd\n")
    tenant_tree.hand_in(directory)
    result = run(spin_translate, root, directory, str(tmp_path / "st.tasks.yml"))
    documented = yaml.safe_load(module_docs.RETURN)
    assert set(documented) <= set(result), set(documented) - set(result)
    assert {k for k in result if k not in ("changed", "invocation", "warnings", "diff")} == set(documented)
