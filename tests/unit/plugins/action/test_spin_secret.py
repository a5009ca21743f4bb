"""spin_secret's action plugin: data_file on the controller (a file, or the submission directory
searched for the reviewed content), and where it looked when it finds nothing."""
import base64
import types

import pytest

from ansible.errors import AnsibleError

from ansible_collections.spin.platform.plugins.action.spin_secret import ActionModule
from ansible_collections.spin.platform.tests.unit.redaction import PASSWORD, marker, name_for


def action(tmp_path, monkeypatch, **args):
    """The action plugin with the module call captured."""
    task = types.SimpleNamespace(args=args, async_val=0, check_mode=False, action="spin.platform.spin_secret")
    connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=str(tmp_path)),
                                       is_pipelining_enabled=lambda wrap_async=False: True)
    plugin = ActionModule(task, connection, None, None, None, None)  # shared_loader_obj is required before 2.19
    sent = []
    monkeypatch.setattr(plugin, "_execute_module",
                        lambda module_name, module_args, task_vars: sent.append((module_name, module_args)) or
                        {"changed": True})
    monkeypatch.chdir(tmp_path)
    return plugin, sent


@pytest.fixture
def submission(tmp_path):
    sub = tmp_path / "sub"
    (sub / "nested").mkdir(parents=True)
    (sub / "db_password.txt").write_bytes(b"s3cr3T\n")            # same size, other content
    (sub / "nested" / "real.txt").write_bytes(PASSWORD)
    (sub / "docker-compose.yml").write_text("services: {db: {image: mysql}}\n")
    return sub


def test_action_reads_a_file_relative_to_the_working_directory(tmp_path, monkeypatch, submission):
    plugin, sent = action(tmp_path, monkeypatch, name=name_for(PASSWORD), data=marker(PASSWORD),
                          data_file="sub/nested/real.txt")
    assert plugin.run(task_vars={}) == {"changed": True}
    module, args = sent[0]
    assert module == "spin.platform.spin_secret" and "data_file" not in args
    assert base64.b64decode(args["data"]) == PASSWORD


def test_action_finds_the_reviewed_file_in_a_directory(tmp_path, monkeypatch, submission):
    plugin, sent = action(tmp_path, monkeypatch, name=name_for(PASSWORD), data=marker(PASSWORD),
                          data_file=str(submission))
    plugin.run(task_vars={})
    assert base64.b64decode(sent[0][1]["data"]) == PASSWORD


def test_action_refuses_a_directory_without_the_content(tmp_path, monkeypatch, submission):
    (submission / "nested" / "real.txt").write_bytes(b"changed after review")
    plugin, sent = action(tmp_path, monkeypatch, name=name_for(PASSWORD), data=marker(PASSWORD),
                          data_file=str(submission))
    result = plugin.run(task_vars={})
    assert result["failed"] is True and sent == []
    assert "no file under %s has the reviewed content (%d bytes" % (submission, len(PASSWORD)) in result["msg"]


def test_action_refuses_a_file_that_is_not_the_reviewed_one(tmp_path, monkeypatch, submission):
    plugin, sent = action(tmp_path, monkeypatch, name=name_for(PASSWORD), data=marker(PASSWORD),
                          data_file=str(submission / "db_password.txt"))
    result = plugin.run(task_vars={})
    assert result["failed"] is True and sent == []
    assert "is not the content that was reviewed" in result["msg"]


def test_action_uses_given_data_over_a_default_directory(tmp_path, monkeypatch, submission):
    data = base64.b64encode(b"from a variable").decode()
    plugin, sent = action(tmp_path, monkeypatch, name="seed_token", data=data, data_file=str(submission))
    plugin.run(task_vars={})
    assert sent[0][1]["data"] == data and "data_file" not in sent[0][1]


def test_action_ignores_data_file_for_removal(tmp_path, monkeypatch, submission):
    plugin, sent = action(tmp_path, monkeypatch, name="seed_token", state="absent", data_file=str(submission))
    plugin.run(task_vars={})
    assert sent[0][1] == {"name": "seed_token", "state": "absent"}


def test_action_says_where_it_looked(tmp_path, monkeypatch):
    plugin, sent = action(tmp_path, monkeypatch, name="s", data=marker(PASSWORD), data_file="missing.txt")

    def not_found(*_args):
        raise AnsibleError("not found")
    monkeypatch.setattr(plugin, "_find_needle", not_found)
    result = plugin.run(task_vars={})
    assert result["failed"] is True and sent == []
    assert "data_file missing.txt was found neither in %s nor beside the playbook or role" % tmp_path in result["msg"]
