"""execute_module_without_files: pipelining on for the one module call that carries secrets."""
import types

from ansible_collections.spin.platform.plugins.plugin_utils.no_files import execute_module_without_files


class Connection(object):
    transport = "ssh"

    def __init__(self, pipelining=False, has_pipelining=True, become=None):
        self.options = {"pipelining": pipelining}
        self.has_pipelining = has_pipelining
        self.become = become

    def is_pipelining_enabled(self, wrap_async=False):
        return self.has_pipelining and bool(self.options["pipelining"])

    def get_option(self, name):
        return self.options[name]

    def set_option(self, name, value):
        self.options[name] = value


def run(connection):
    seen = []

    def execute(module_name, module_args, task_vars):
        seen.append(connection.is_pipelining_enabled())
        return {"changed": False}
    action = types.SimpleNamespace(_connection=connection, _execute_module=execute)
    return execute_module_without_files(action, "spin.platform.spin_stack", {"a": 1}, {}), seen


def test_pipelining_is_turned_on_for_the_call_and_back_off_after():
    connection = Connection(pipelining=False)
    result, seen = run(connection)
    assert seen == [True] and connection.options["pipelining"] is False
    assert "warnings" not in result


def test_already_pipelining_changes_nothing():
    connection = Connection(pipelining=True)
    result, seen = run(connection)
    assert seen == [True] and connection.options["pipelining"] is True and "warnings" not in result


def test_a_connection_that_cannot_pipeline_runs_the_module_and_warns_how_to_fix_it():
    result, seen = run(Connection(has_pipelining=False))
    assert seen == [False]
    assert result["warnings"] == [
        "spin.platform.spin_stack: the connection cannot pipeline (connection plugin ssh has no pipelining), so the "
        "module's arguments, secrets included, were written to a file in the remote temp directory for the length "
        "of the run. Allow pipelining (ansible.cfg [connection] pipelining = True; with become, no 'requiretty' in "
        "sudoers) so that they never touch the disk."]


def test_a_become_method_that_cannot_pipeline_is_named():
    become = types.SimpleNamespace(pipelining=False, name="su")
    result, seen = run(Connection(become=become))
    assert seen == [False]
    assert "(become method su cannot pipeline)" in result["warnings"][0]


class OldConnection(Connection):
    """ansible-core 2.17: the connection has no is_pipelining_enabled; the action plugin decides."""
    is_pipelining_enabled = None


def test_on_ansible_core_2_17_the_action_plugin_is_asked_and_pipelining_still_turned_on():
    connection = OldConnection(pipelining=False)
    seen = []

    def execute(module_name, module_args, task_vars):
        seen.append(connection.options["pipelining"])
        return {"changed": False}

    def action_says(module_style, wrap_async=False):
        return module_style == "new" and bool(connection.options["pipelining"])
    action = types.SimpleNamespace(_connection=connection, _execute_module=execute, _is_pipelining_enabled=action_says)
    result = execute_module_without_files(action, "spin.platform.spin_stack", {"a": 1}, {})
    assert seen == [True] and connection.options["pipelining"] is False and "warnings" not in result
