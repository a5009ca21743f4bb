"""The spin_converge module: its argument spec and entry point (its work is stack/converge_run.py's,
tested in module_utils/deploy/test_converge_run.py)."""
from ansible_collections.spin.platform.plugins.module_utils.deploy import converge_run
from ansible_collections.spin.platform.plugins.modules import spin_converge


def test_main_runs_converge_run(monkeypatch):
    seen = {}
    monkeypatch.setattr(spin_converge, "run_module", lambda spec, work, **options: seen.update(
        spec=spec, work=work, options=options))
    spin_converge.main()
    assert seen == {"spec": spin_converge.argument_spec(), "work": converge_run.run, "options": {}}
    assert spin_converge.run is converge_run.run       # the warm worker runs the module's run


def test_the_stacks_secrets_stay_out_of_logs():
    spec = spin_converge.argument_spec()
    assert spec["_sensitive"]["no_log"] is True
    assert spec["_stacks"] == {"type": "list", "elements": "dict", "default": []}
    assert spec["parallel"]["default"] >= 1
