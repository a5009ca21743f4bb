"""The spin_lb module: its documentation, argument spec and entry point (its work is edge/lb_run.py's,
tested in module_utils/deploy/test_lb_run.py): the platform settings documented with the edge's defaults,
and main running that work."""
import yaml

from ansible_collections.spin.platform.plugins.module_utils.deploy import lb_run
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy
from ansible_collections.spin.platform.plugins.modules import spin_lb


def test_module_documents_the_platform_defaults():
    documented = yaml.safe_load(spin_lb.DOCUMENTATION)["options"]["platform"]["suboptions"]
    spec = spin_lb.argument_spec()["platform"]["options"]
    assert set(documented) == set(spec) == set(haproxy.PLATFORM_DEFAULTS)
    for key, default in haproxy.PLATFORM_DEFAULTS.items():
        assert spec[key]["default"] == default, key
        assert documented[key].get("default") == default, key


def test_main_runs_lb_run_with_the_modules_spec(monkeypatch):
    seen = {}
    monkeypatch.setattr(spin_lb, "run_module", lambda spec, work, **options: seen.update(
        spec=spec, work=work, options=options))
    spin_lb.main()
    assert seen == {"spec": spin_lb.argument_spec(), "work": lb_run.run, "options": {}}
    # the warm worker runs the module's run (worker/task.py)
    assert spin_lb.run is lb_run.run
