"""The spin_stack module: its documentation and entry point; the work is stack_run's (tested in
module_utils/deploy/test_stack_run.py), shared with spin_converge. What the module file itself
promises: main runs that work with its options, and the names the warm worker and spin_converge use
stay importable from here."""
from ansible_collections.spin.platform.plugins.module_utils.deploy import stack_run
from ansible_collections.spin.platform.plugins.modules import spin_stack


def test_main_runs_stack_run_with_its_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(spin_stack, "run_module", lambda spec, work, **options: seen.update(
        spec=spec, work=work, options=options))
    spin_stack.main()
    assert seen == {"spec": stack_run.argument_spec(), "work": stack_run.run, "options": stack_run.MODULE_OPTIONS}
    assert seen["options"] == {"required_one_of": [("tenant", "submission"), ("stack", "submission")]}


def test_the_worker_finds_the_modules_work_here():
    # worker/task.py runs argument_spec, run and MODULE_OPTIONS of the module it is named
    for name in ("argument_spec", "run", "MODULE_OPTIONS", "plan_routes", "serve_edge", "generated_secrets"):
        assert getattr(spin_stack, name) is getattr(stack_run, name), name
