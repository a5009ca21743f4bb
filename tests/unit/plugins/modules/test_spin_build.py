"""The spin_build module: its argument spec and entry point (its work is build/build_run.py's, tested in
module_utils/build/test_build_run.py)."""
from ansible_collections.spin.platform.plugins.module_utils.build import build_run
from ansible_collections.spin.platform.plugins.modules import spin_build


def test_main_runs_build_run_naming_the_tenant_and_the_stack(monkeypatch):
    seen = {}
    monkeypatch.setattr(spin_build, "run_module", lambda spec, work, **options: seen.update(
        spec=spec, work=work, options=options))
    spin_build.main()
    assert seen["spec"] == spin_build.argument_spec() and seen["work"] is build_run.run
    assert seen["options"] == {"required_one_of": [("tenant", "submission"), ("stack", "submission")]}


def test_the_builds_come_from_the_action_plugin_only():
    spec = spin_build.argument_spec()
    # the action plugin fills _builds with the archives it sent: never a task's own option (not documented)
    assert spec["_builds"] == {"type": "list", "elements": "dict"}
    assert {"docker_host", "timeout"} <= set(spec)
