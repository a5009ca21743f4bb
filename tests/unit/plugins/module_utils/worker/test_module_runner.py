"""module_runner: the one place a module meets Ansible. outcome() turns the work's result (or its
SpinError) into what the task returns; run_module() does it as Ansible runs a module: AnsibleModule
reads the arguments, exit_json/fail_json print the result."""
import json
import types

import pytest
from ansible.module_utils import basic

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.worker import module_runner


def fake_module(diff=False, **params):
    warned = []
    module = types.SimpleNamespace(params=dict({"docker_host": "unix:///x.sock", "timeout": 7}, **params),
                                   _diff=diff, warn=warned.append)
    return module, warned


@pytest.fixture
def clients(monkeypatch):
    """The SwarmClients outcome() made, by (host, timeout)."""
    made = []

    def client(host, timeout):
        made.append((host, timeout))
        return "client-%d" % len(made)
    monkeypatch.setattr(module_runner, "SwarmClient", client)
    return made


def test_outcome_connects_to_the_modules_docker_host_and_passes_the_result(clients):
    module, warned = fake_module()
    seen = []

    def work(mod, client):
        seen.append((mod, client))
        return {"changed": True, "name": "web"}
    assert module_runner.outcome(module, work) == ({"changed": True, "name": "web"}, False)
    assert clients == [("unix:///x.sock", 7)] and seen == [(module, "client-1")] and warned == []


def test_outcome_uses_a_shared_client_as_given(clients):
    module = fake_module()[0]
    assert module_runner.outcome(module, lambda mod, client: {"client": client}, client="shared")[0] == {
        "client": "shared"}
    assert clients == []


def test_a_spin_error_is_the_failed_result_with_its_details(clients):
    module, warned = fake_module()

    def work(mod, client):
        raise SpinError("stack 'magic' belongs to tenant 'cory'", diagnostics=[{"key": "x"}], refused=True)
    assert module_runner.outcome(module, work) == ({"failed": True, "msg": "stack 'magic' belongs to tenant 'cory'",
                                                    "diagnostics": [{"key": "x"}], "refused": True}, True)
    assert warned == []


def test_warnings_go_to_the_module_with_the_prefix_and_leave_the_result(clients):
    module, warned = fake_module()
    result, failed = module_runner.outcome(module, lambda mod, client: {"changed": False, "warnings": ["a", "b"]},
                                           warning_prefix="magic: ")
    assert (result, failed, warned) == ({"changed": False}, False, ["magic: a", "magic: b"])


@pytest.mark.parametrize("diff, expected", [(False, {"changed": True}),
                                            (True, {"changed": True, "diff": {"before": "a", "after": "b"}})])
def test_the_diff_is_kept_only_in_diff_mode(clients, diff, expected):
    module = fake_module(diff=diff)[0]

    def work(mod, client):
        return {"changed": True, "diff": {"before": "a", "after": "b"}}
    assert module_runner.outcome(module, work)[0] == expected


def test_a_result_that_says_failed_fails(clients):
    module = fake_module()[0]
    assert module_runner.outcome(module, lambda mod, client: {"failed": True, "msg": "refused"}) == (
        {"failed": True, "msg": "refused"}, True)


SPEC = {"docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
        "timeout": {"type": "int", "default": 60}, "name": {"type": "str", "required": True}}


def run_module(monkeypatch, capsys, args, work, **options):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)   # ansible-core 2.19 reads it; 2.17 has none
    with pytest.raises(SystemExit) as ended:
        module_runner.run_module(SPEC, work, **options)
    return ended.value.code, json.loads(capsys.readouterr().out)


def test_run_module_exits_with_the_result(monkeypatch, capsys, clients):
    code, out = run_module(monkeypatch, capsys, {"name": "web"},
                           lambda module, client: {"changed": True, "name": module.params["name"]})
    assert code == 0 and out["changed"] is True and out["name"] == "web" and "failed" not in out
    assert clients == [("unix:///var/run/docker.sock", 60)]


def test_run_module_fails_with_a_spin_errors_message(monkeypatch, capsys, clients):
    def work(module, client):
        raise SpinError("no such stack")
    code, out = run_module(monkeypatch, capsys, {"name": "web"}, work)
    assert code == 1 and out["failed"] is True and out["msg"] == "no such stack"


def test_run_module_applies_the_modules_options(monkeypatch, capsys, clients):
    # (an option's default is not given by the task: only what the task writes is exclusive)
    code, out = run_module(monkeypatch, capsys, {"name": "web", "timeout": 5}, lambda module, client: {},
                           mutually_exclusive=[("name", "timeout")])
    assert code == 1 and "mutually exclusive" in out["msg"] and clients == []
