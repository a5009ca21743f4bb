"""spin_volume against a fake SwarmClient: create, idempotence, check mode, diff, a volume that is
kept as spin_stack keeps it, ownership, removal; and the translator's tasks as its input."""
import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import StackReconciler
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_volume
from ansible_collections.spin.platform.plugins.modules import spin_volume

OWNER = {"spin.tenant": "demo", "spin.stack": "seed", "com.docker.stack.namespace": "seed"}
COMPOSE = """
version: '3.8'
services:
  db:
    image: mysql
    volumes: [data:/var/lib/mysql, scratch:/scratch]
volumes:
  data: {}
  scratch:
    driver_opts: {type: tmpfs, device: tmpfs, o: size=64m}
    labels: {purpose: scratch}
"""


def translated_tasks():
    model, diagnostics = compose.parse_stack(COMPOSE, "docker-compose.yml")
    assert not diag.has_errors(diagnostics), diagnostics
    tasks = translate.stack_to_tasks(model, "demo", "seed")
    written = yaml.safe_load(translate.render_task_file(tasks, "demo", "seed"))
    return tasks, [t["spin.platform.spin_volume"] for t in written if "spin.platform.spin_volume" in t]


def params(**extra):
    raw = dict({"name": "seed_data", "labels": dict(OWNER)}, **extra)
    result = ArgumentSpecValidator(spin_volume.argument_spec()).validate(raw)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_documentation(check_docs):
    check_docs(spin_volume)


def test_options_are_the_keys_the_translator_writes():
    _tasks, written = translated_tasks()
    assert len(written) == 2
    for task in written:
        assert set(task) == set(spin_volume.argument_spec()) - {"state", "docker_host", "timeout"}


def test_create_then_nothing_to_do(fake_swarm):
    swarm = fake_swarm()
    first = ensure_volume(swarm, params())
    assert first["changed"] is True and first["id"] == "seed_data" and first["warnings"] == []
    assert first["diff"] == {"before": {}, "after": {"name": "seed_data", "driver": "local", "driver_opts": {},
                                                     "labels": OWNER}}
    second = ensure_volume(swarm, params())
    assert second["changed"] is False and second["warnings"] == []
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    assert [c[0] for c in swarm.calls] == ["create_volume"]


def test_check_mode_changes_nothing(fake_swarm):
    swarm = fake_swarm()
    result = ensure_volume(swarm, params(), check_mode=True)
    assert result["changed"] is True and result["id"] is None
    assert swarm.calls == [] and swarm.vols == {}


@pytest.mark.parametrize("change, what", [
    ({"driver_opts": {"type": "tmpfs"}}, "driver_opts: {} -> {'type': 'tmpfs'}"),
    ({"labels": dict(OWNER, purpose="db")}, "labels: "),
    ({"driver": "other"}, "driver: local -> other"),
])
def test_a_volume_with_other_settings_is_kept_with_a_warning(fake_swarm, change, what):
    swarm = fake_swarm()
    ensure_volume(swarm, params())
    result = ensure_volume(swarm, params(**change))
    assert result["changed"] is False
    assert len(result["warnings"]) == 1 and what in result["warnings"][0]
    assert "is kept as it is, as spin_stack keeps it" in result["warnings"][0]
    assert [c[0] for c in swarm.calls] == ["create_volume"]
    # spin_stack plans nothing for it either
    plan = StackReconciler(swarm).plan_present("demo", "seed", {"volumes": [params(**change)]})
    assert plan.changed is False


def test_another_stacks_volume_is_refused(fake_swarm):
    swarm = fake_swarm()
    swarm.create_volume("seed_data", labels={"spin.tenant": "cory", "spin.stack": "seed"})
    with pytest.raises(SpinError) as raised:
        ensure_volume(swarm, params())
    assert "volume 'seed_data' exists but is not this stack's: it has spin.stack=seed, spin.tenant=cory" \
        in raised.value.message


def test_a_volume_made_outside_the_platform_is_refused(fake_swarm):
    swarm = fake_swarm()
    swarm.create_volume("seed_data")
    with pytest.raises(SpinError) as raised:
        ensure_volume(swarm, params())
    assert "it has spin.stack=None, spin.tenant=None" in raised.value.message


def test_removal(fake_swarm):
    swarm = fake_swarm()
    swarm.create_volume("seed_data", labels=dict(OWNER))
    assert ensure_volume(swarm, params(state="absent"), check_mode=True)["changed"] is True
    assert "seed_data" in swarm.vols
    removed = ensure_volume(swarm, params(state="absent"))
    assert removed["changed"] is True and removed["diff"]["before"]["labels"] == OWNER
    assert swarm.calls[-1] == ("remove_volume", "seed_data") and swarm.vols == {}
    assert ensure_volume(swarm, params(state="absent"))["changed"] is False


def test_same_docker_calls_as_spin_stack(fake_swarm):
    tasks, written = translated_tasks()
    by_stack, by_module = fake_swarm(), fake_swarm()
    reconciler = StackReconciler(by_stack)
    reconciler.apply(reconciler.plan_present("demo", "seed", {"volumes": tasks["volumes"]}), wait=False)
    for task in written:
        ensure_volume(by_module, params(**task))
    assert by_module.calls == by_stack.calls
    assert by_module.vols["seed_scratch"]["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=64m"}
    for task in written:
        again = ensure_volume(by_stack, params(**task))
        assert again["changed"] is False and again["warnings"] == []
