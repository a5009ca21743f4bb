"""The spin_status module: one call, two answers. Without follow, the stack's state is collected and
rendered as a table; with follow, new log lines are read for that many seconds; nothing ever changes."""
import types

import pytest

from ansible_collections.spin.platform.plugins.modules import spin_status


@pytest.fixture
def status(monkeypatch):
    """monitor/status.py's entry points, answering canned data and recording their calls."""
    calls = []

    def collect(client, params):
        calls.append(("collect", client, params["tenant"]))
        return {"tenant": params["tenant"], "stacks": [{"name": "magic"}]}

    def render(found):
        calls.append(("render", found["tenant"]))
        return "STACK  SERVICE\nmagic  web"

    def follow(client, params):
        calls.append(("follow", client, params["follow"]))
        return {"lines": ["web.1  hello"]}
    for name, fn in (("collect", collect), ("render", render), ("follow", follow)):
        monkeypatch.setattr(spin_status.status, name, fn)
    return calls


def module(**params):
    return types.SimpleNamespace(params=dict({"tenant": "cory", "follow": 0}, **params), check_mode=False)


def test_the_state_is_collected_and_rendered_as_a_table(status):
    assert spin_status.run(module(), "client") == {"tenant": "cory", "stacks": [{"name": "magic"}],
                                                   "table": "STACK  SERVICE\nmagic  web", "changed": False}
    assert status == [("collect", "client", "cory"), ("render", "cory")]


def test_follow_reads_the_logs_only(status):
    assert spin_status.run(module(follow=30), "client") == {"lines": ["web.1  hello"], "changed": False}
    assert status == [("follow", "client", 30)]


def test_main_needs_the_tenant_or_the_submission(monkeypatch):
    seen = {}
    monkeypatch.setattr(spin_status, "run_module", lambda spec, work, **options: seen.update(
        spec=spec, work=work, options=options))
    spin_status.main()
    assert seen["work"] is spin_status.run and seen["options"] == {"required_one_of": [("tenant", "submission")]}
    assert {"docker_host", "timeout", "tenant", "submission", "follow"} <= set(seen["spec"])
    assert seen["spec"]["follow"]["default"] == 0      # a status call never waits unless asked
