"""The spin_lb action plugin: the edge's platform settings come from the inventory (spin_lb_<key>, and
spin_platform.route_domain), the task's own platform keys win, and the same settings from the command
line (extra vars) are refused before the module runs."""
import types

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.utils.vars import load_extra_vars

from ansible_collections.spin.platform.plugins.action import spin_lb


class Templar(object):
    """Templates as Ansible's would: here every value is already plain, so the calls are counted."""

    def __init__(self):
        self.templated = []

    def template(self, value):
        self.templated.append(value)
        return value


@pytest.fixture
def extra_vars(monkeypatch):
    def given(*values):
        monkeypatch.setattr(context, "CLIARGS", ImmutableDict(extra_vars=values, args=("playbooks/edge.yml",)))
        monkeypatch.setattr(load_extra_vars, "extra_vars", None, raising=False)   # Ansible keeps the first parse
    given()
    return given


def run(args, task_vars):
    """spin_lb's action as a task of a play runs it; -> (result, the module's arguments)."""
    calls = []
    task = types.SimpleNamespace(args=args, async_val=0, delegate_to=None, check_mode=False, diff=False,
                                 action="spin.platform.spin_lb")
    connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir="/tmp"),
                                       is_pipelining_enabled=lambda wrap_async=False: True)
    action = spin_lb.ActionModule(task, connection, None, DataLoader(), Templar(), None)

    def module(module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, module_args))
        return {"changed": True, "warnings": ["from the module"]}
    action._execute_module = module
    result = action.run(task_vars=dict(task_vars, spin_worker=False))
    return result, calls


def test_the_inventorys_settings_reach_the_module(extra_vars):
    result, calls = run({"state": "present"}, {"spin_lb_ports": [80, 443], "spin_lb_servers": 4,
                                               "spin_lb_unknown_key": "x", "spin_lb_stats_port": None,
                                               "spin_platform": {"route_domain": "apps.example.org"}})
    [(name, args)] = calls
    assert name == "spin.platform.spin_lb"
    # only the keys the platform has, and only the ones that are set
    assert args == {"state": "present", "platform": {"ports": [80, 443], "servers": 4},
                    "route_domain": "apps.example.org"}
    assert result["changed"] is True and result["warnings"] == ["from the module"]


def test_the_tasks_own_settings_win(extra_vars):
    _result, [(_name, args)] = run({"platform": {"servers": 2}, "route_domain": "other.org"},
                                   {"spin_lb_servers": 4, "spin_lb_ports": [80],
                                    "spin_platform": {"route_domain": "apps.example.org"}})
    assert args == {"platform": {"ports": [80], "servers": 2}, "route_domain": "other.org"}


def test_without_a_platform_mapping_there_is_no_route_domain(extra_vars):
    _result, [(_name, args)] = run({}, {"spin_platform": "not a mapping"})
    assert args == {"platform": {}}


def test_edge_settings_from_the_command_line_are_refused_and_nothing_runs(extra_vars):
    extra_vars("spin_lb_ports=[8080]")
    result, calls = run({}, {})
    assert result["failed"] is True and calls == []
    assert result["msg"].startswith("the extra vars set spin_lb_ports: only infra staff set these, in the inventory")
