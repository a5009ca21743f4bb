"""The controller's half of the warm worker (plugin_utils/warm_client.py): what it ships, when it
hands a task to the worker, and the worker process itself, started and spoken to with the same
STARTER and CLIENT commands the controller runs on a target (here: this machine, a scratch
directory, a task that fails validation, so that no Docker engine is needed)."""
import base64
import io
import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
import types
import zipfile

import pytest

from ansible_collections.spin.platform.plugins.module_utils.worker import warm
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import warm_client


# ---- what is shipped --------------------------------------------------------------------------

def test_the_archive_is_the_same_bytes_every_time_and_holds_what_the_worker_imports():
    first, second = warm_client.archive(), warm_client.archive()
    assert first == second
    names = set(zipfile.ZipFile(io.BytesIO(first)).namelist())
    for name in ("__main__.py", "ansible/__init__.py", "ansible/module_utils/basic.py",
                 "ansible/module_utils/common/arg_spec.py",
                 "ansible_collections/spin/platform/plugins/module_utils/worker/warm.py",
                 "ansible_collections/spin/platform/plugins/modules/spin_stack.py",
                 "ansible_collections/spin/platform/plugins/modules/spin_lb.py"):
        assert name in names
    assert not [n for n in names if n.startswith("ansible/module_utils/facts/") or "__pycache__" in n]


def test_the_version_changes_with_any_byte_of_the_code_and_with_the_interpreter():
    files = [("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]
    base = warm_client.version("/usr/bin/python3", files)
    assert warm_client.version("/usr/bin/python3", list(files)) == base
    assert warm_client.version("/usr/bin/python3", [("a.py", b"x = 2\n"), files[1]]) != base
    assert warm_client.version("/usr/bin/python3", [("a.py", b"x = 1\n"), ("c.py", b"y = 2\n")]) != base
    assert warm_client.version("/opt/python3.12/bin/python3", files) != base
    # the boundary between name and content is part of the hash
    assert warm_client.version("/p", [("ab", b"c")]) != warm_client.version("/p", [("a", b"bc")])


# ---- when a task goes to the worker -------------------------------------------------------------

class Templar(object):
    def template(self, value):
        return {"{{ ansible_playbook_python }}": sys.executable}.get(value, value)


def action(task_vars_python="{{ ansible_playbook_python }}", answers=(), async_val=0, delegate_to=None):
    calls = []
    replies = list(answers)

    def low_level(command, in_data=None, sudoable=True):
        calls.append((command, in_data))
        return replies.pop(0)
    task = types.SimpleNamespace(async_val=async_val, delegate_to=delegate_to, check_mode=False, diff=True)
    act = types.SimpleNamespace(_templar=Templar(), _task=task, _low_level_execute_command=low_level,
                                _compute_environment_string=lambda: "LANG=C.UTF-8",
                                _play_context=types.SimpleNamespace(no_log=False))
    return act, calls, {"ansible_python_interpreter": task_vars_python, "inventory_hostname": "m1"}


@pytest.mark.parametrize("change, reason", [
    ({"spin_worker": False}, "spin_worker is false"),
    ({"spin_worker": "no"}, "spin_worker is false"),
    ({"ansible_python_interpreter": "python3"}, "the target's Python (python3) is not a path"),
])
def test_a_task_runs_the_module_the_usual_way_and_says_why(monkeypatch, change, reason):
    act, calls, task_vars = action()
    task_vars.update(change)
    monkeypatch.setattr(warm_client, "execute_module_without_files", lambda *a: {"changed": False})
    result = warm_client.execute_module(act, "spin.platform.spin_stack", {}, task_vars)
    assert result["worker"].startswith("off (" + reason) and calls == []


def test_a_module_the_worker_does_not_run_runs_the_usual_way_without_a_round_trip(monkeypatch):
    act, calls, task_vars = action()
    monkeypatch.setattr(warm_client, "execute_module_without_files", lambda *a: {"changed": False})
    result = warm_client.execute_module(act, "spin.platform.spin_mount", {}, task_vars)
    assert result["worker"] == "off (the worker does not run spin.platform.spin_mount (warm_client.ROUTED))"
    assert calls == []


# ---- the one list of routed modules ---------------------------------------------------------------

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")


def _routed_by_action_plugins():
    """{module short name} whose action plugin calls warm_client's execute_module, read from the source."""
    import ast
    found = set()
    for name in sorted(os.listdir(os.path.join(PLUGINS, "action"))):
        with open(os.path.join(PLUGINS, "action", name)) as handle:
            tree = ast.parse(handle.read())
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                   and n.module.endswith("plugin_utils.warm_client") and any(a.name == "execute_module"
                                                                             for a in n.names)]
        constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
        for call in ast.walk(tree):
            if imports and isinstance(call, ast.Call) and getattr(call.func, "id", None) == "execute_module":
                module = call.args[1]
                value = constants[module.id] if isinstance(module, ast.Name) else module.value
                found.add(value.rsplit(".", 1)[-1])
    return found


def test_the_routed_modules_are_exactly_those_whose_action_plugins_hand_tasks_to_the_worker():
    assert _routed_by_action_plugins() == set(warm_client.ROUTED)


@pytest.mark.parametrize("name", warm_client.ROUTED)
def test_each_routed_module_declares_what_the_worker_runs(name):
    import importlib
    module = importlib.import_module("ansible_collections.spin.platform.plugins.modules." + name)
    assert isinstance(module.argument_spec(), dict) and callable(module.run)
    assert isinstance(getattr(module, "MODULE_OPTIONS", {}), dict)


def test_the_discovered_interpreter_is_used_when_none_is_set():
    act, calls, task_vars = action(task_vars_python=None)
    task_vars["ansible_facts"] = {"discovered_interpreter_python": "/usr/bin/python3"}
    assert warm_client.settings(act, task_vars)[:1] + warm_client.settings(act, task_vars)[3:] == (
        "/usr/bin/python3", {})


def test_before_the_first_module_of_a_run_the_interpreter_is_discovered_once_and_kept_as_a_fact(monkeypatch):
    act, calls, task_vars = action(task_vars_python="auto_silent",
                                   answers=[{"rc": 0, "stdout": '{"changed": false}', "stderr": ""}])
    asked = []
    monkeypatch.setattr(warm_client, "discover_interpreter", lambda **kw: asked.append(kw["discovery_mode"]) or
                        "/usr/bin/python3")
    result = warm_client.execute_module(act, "spin.platform.spin_stack", {}, task_vars)
    assert asked == ["auto_silent"]
    assert result["ansible_facts"] == {"discovered_interpreter_python": "/usr/bin/python3"}
    assert calls[0][0].startswith("LANG=C.UTF-8 /usr/bin/python3 -c ")
    assert task_vars["ansible_facts"]["discovered_interpreter_python"] == "/usr/bin/python3"
    monkeypatch.setattr(warm_client, "discover_interpreter", lambda **kw: 1 / 0)
    assert warm_client.settings(act, action(task_vars_python="auto")[2]).startswith("interpreter discovery failed")
    assert warm_client.settings(action(async_val=10)[0], action()[2]) == "the task is async"
    assert warm_client.settings(action(delegate_to="m2")[0], action()[2]) == "the task is delegated"


def test_a_warm_worker_answers_in_one_round_trip_with_the_arguments_on_stdin(monkeypatch):
    act, calls, task_vars = action(answers=[{"rc": 0, "stdout": '{"changed": true}', "stderr": ""}])
    monkeypatch.setattr(warm_client, "execute_module_without_files", pytest.fail)
    result = warm_client.execute_module(act, "spin.platform.spin_stack", {"secret": "x"}, task_vars)
    assert result == {"changed": True, "worker": "warm"}
    (command, sent), = calls
    assert command.startswith("LANG=C.UTF-8 %s -c " % sys.executable) and "secret" not in command
    assert json.loads(sent)["args"] == {"secret": "x"} and json.loads(sent)["diff"] is True


def test_without_a_worker_the_module_runs_and_a_worker_is_started_for_the_next_task(monkeypatch):
    act, calls, task_vars = action(answers=[{"rc": warm_client.NO_WORKER, "stdout": "", "stderr": ""},
                                            {"rc": 0, "stdout": "", "stderr": ""}])
    monkeypatch.setattr(warm_client, "execute_module_without_files", lambda *a: {"changed": True})
    result = warm_client.execute_module(act, "spin.platform.spin_stack", {}, task_vars)
    assert result == {"changed": True, "worker": "started"}
    started, payload = calls[1]
    name = warm_client.version(sys.executable)
    assert started.endswith(" %s %s %d" % (shlex.quote(warm_client.DIRECTORY), name, warm_client.IDLE_SECONDS))
    assert base64.b64decode(payload) == warm_client.archive()


def test_a_client_that_could_not_run_took_nothing_and_the_module_runs(monkeypatch):
    act, calls, task_vars = action(answers=[{"rc": 127, "stdout": "", "stderr": "python3: not found"},
                                            {"rc": 127, "stdout": "", "stderr": "python3: not found"}])
    monkeypatch.setattr(warm_client, "execute_module_without_files", lambda *a: {"changed": False})
    result = warm_client.execute_module(act, "spin.platform.spin_stack", {}, task_vars)
    assert result == {"changed": False, "worker": "off (it did not start: python3: not found)"}


def test_a_worker_that_took_the_task_and_ended_is_a_failure_never_a_second_run(monkeypatch):
    act, calls, task_vars = action(answers=[{"rc": warm_client.WORKER_LOST, "stdout": "", "stderr": ""}])
    monkeypatch.setattr(warm_client, "execute_module_without_files", pytest.fail)
    with pytest.raises(SpinError) as raised:
        warm_client.execute_module(act, "spin.platform.spin_stack", {}, task_vars)
    assert "the spin worker on m1 ended without an answer while it ran spin.platform.spin_stack" in str(
        raised.value.message)


# ---- the worker process, for real ----------------------------------------------------------------

def run(script, *args, data=b""):
    return subprocess.run([sys.executable, "-c", script] + list(args), input=data, capture_output=True, timeout=60,
                          check=False)


def wait_until(what, predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("not within %ss: %s" % (timeout, what))


def worker_pids(directory):
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                if directory.encode() in handle.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


@pytest.fixture
def worker(tmp_path):
    directory = str(tmp_path / "w")
    name = warm_client.version(sys.executable)

    def start(idle=60):
        done = run(warm_client.STARTER, directory, name, str(idle), data=base64.b64encode(warm_client.archive()))
        assert done.returncode == 0, done.stderr
    yield types.SimpleNamespace(dir=directory, version=name, start=start, paths=warm.paths(directory, name))
    for pid in worker_pids(directory):
        os.kill(pid, signal.SIGKILL)


def ask(worker, args):
    task = json.dumps({"module": "spin.platform.spin_stack", "args": args, "check_mode": True, "diff": False,
                       "no_target_syslog": True}).encode()
    return run(warm_client.CLIENT, worker.dir, worker.version, data=task)


def test_the_worker_starts_once_answers_tasks_and_keeps_its_files_to_its_user(worker):
    assert ask(worker, {}).returncode == warm_client.NO_WORKER      # nothing runs yet: the controller runs it
    worker.start()
    wait_until("the worker listens", lambda: os.path.exists(worker.paths["socket"]))
    worker.start()                                                 # a second start finds it running
    # and exits (under load that takes a moment): one worker stays; a second that served would stay too
    wait_until("the second start has exited", lambda: len(worker_pids(worker.dir)) == 1)
    time.sleep(0.5)
    assert len(worker_pids(worker.dir)) == 1
    assert stat.S_IMODE(os.stat(worker.dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(worker.paths["zip"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(worker.paths["socket"]).st_mode) == 0o600

    answer = ask(worker, {"stack": "web"})
    assert answer.returncode == 0, answer.stderr
    result = json.loads(answer.stdout)
    assert result["failed"] is True and "one of the following is required: tenant, submission" in result["msg"]
    # another version's socket is not there: that task is not taken
    assert run(warm_client.CLIENT, worker.dir, "0" * 24, data=b"{}").returncode == warm_client.NO_WORKER


def test_a_stopped_or_idle_worker_removes_its_files(worker):
    worker.start()
    wait_until("the worker listens", lambda: os.path.exists(worker.paths["socket"]))
    os.kill(worker_pids(worker.dir)[0], signal.SIGTERM)
    wait_until("its files are gone", lambda: not [p for p in worker.paths.values() if os.path.exists(p)])
    worker.start(idle=1)
    wait_until("the worker listens", lambda: os.path.exists(worker.paths["socket"]))
    wait_until("the idle worker is gone", lambda: not worker_pids(worker.dir) and not os.listdir(worker.dir))


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_the_starter_refuses_a_directory_of_another_user(tmp_path):
    target = tmp_path / "other"
    target.mkdir()
    os.chown(str(target), 12345, 12345)
    done = run(warm_client.STARTER, str(target), "v", "60", data=base64.b64encode(b"zip"))
    assert done.returncode != 0 and b"is not a directory of this user" in done.stderr
    assert os.listdir(str(target)) == []
