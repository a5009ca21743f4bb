"""spin_network against a fake SwarmClient: create, idempotence, check mode, diff, the in-place
rule shared with StackReconciler, ownership, removal; and the translator's tasks as its input."""
import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import StackReconciler
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_network
from ansible_collections.spin.platform.plugins.modules import spin_network

OWNER = {"spin.tenant": "demo", "spin.stack": "seed", "com.docker.stack.namespace": "seed"}
COMPOSE = """
version: '3.8'
services:
  web:
    image: httpd
    networks: [front, back]
networks:
  front: {}
  back:
    internal: true
    attachable: true
    driver_opts: {com.docker.network.driver.mtu: '1400'}
    labels: {team: blue}
"""


def translated_tasks():
    model, diagnostics = compose.parse_stack(COMPOSE, "docker-compose.yml")
    assert not diag.has_errors(diagnostics), diagnostics
    tasks = translate.stack_to_tasks(model, "demo", "seed")
    # as the review file writes them
    written = yaml.safe_load(translate.render_task_file(tasks, "demo", "seed"))
    return tasks, [t["spin.platform.spin_network"] for t in written if "spin.platform.spin_network" in t]


def params(**extra):
    """The module's params after Ansible's validation (defaults filled in)."""
    raw = dict({"name": "seed_front", "labels": dict(OWNER)}, **extra)
    result = ArgumentSpecValidator(spin_network.argument_spec()).validate(raw)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_documentation(check_docs):
    check_docs(spin_network)


def test_options_are_the_keys_the_translator_writes():
    _tasks, written = translated_tasks()
    assert written
    for task in written:
        assert set(task) == set(spin_network.argument_spec()) - {"state", "docker_host", "timeout"}


def test_create_then_nothing_to_do(fake_swarm):
    swarm = fake_swarm()
    first = ensure_network(swarm, params())
    assert first["changed"] is True and first["id"] == swarm.nets["seed_front"]["Id"]
    assert first["diff"] == {"before": {}, "after": {"name": "seed_front", "driver": "overlay", "internal": False,
                                                     "attachable": False, "options": {}, "labels": OWNER}}
    # Docker adds the VXLAN option by itself: that is no difference
    assert "com.docker.network.driver.overlay.vxlanid_list" in swarm.nets["seed_front"]["Options"]
    second = ensure_network(swarm, params())
    assert second["changed"] is False and second["id"] == first["id"]
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    assert [c[0] for c in swarm.calls] == ["create_network"]


def test_check_mode_changes_nothing(fake_swarm):
    swarm = fake_swarm()
    result = ensure_network(swarm, params(internal=True), check_mode=True)
    assert result["changed"] is True and result["id"] is None
    assert result["diff"]["after"]["internal"] is True
    assert swarm.calls == [] and swarm.nets == {}


@pytest.mark.parametrize("change, what", [
    ({"internal": True}, "internal: False -> True"),
    ({"attachable": True}, "attachable: False -> True"),
    ({"driver_opts": {"com.docker.network.driver.mtu": "1400"}}, "options: {} -> {'com.docker.network.driver.mtu'"),
    ({"labels": dict(OWNER, team="blue")}, "labels: "),
])
def test_other_settings_are_an_error_like_spin_stack(fake_swarm, change, what):
    swarm = fake_swarm()
    ensure_network(swarm, params())
    with pytest.raises(SpinError) as raised:
        ensure_network(swarm, params(**change))
    assert "network 'seed_front' exists with other settings (%s" % what in raised.value.message
    assert "Swarm cannot change a network in place" in raised.value.message
    assert [c[0] for c in swarm.calls] == ["create_network"]
    # the same rule and the same words as spin_stack's plan
    wanted = dict(params(**change))
    with pytest.raises(SpinError) as planned:
        StackReconciler(swarm).plan_present("demo", "seed", {"networks": [wanted]})
    assert planned.value.message == raised.value.message


def test_int_driver_options_are_text_as_docker_keeps_them(fake_swarm):
    swarm = fake_swarm()
    ensure_network(swarm, params(driver_opts={"com.docker.network.driver.mtu": 1400}))
    assert swarm.calls[0][2]["options"] == {"com.docker.network.driver.mtu": "1400"}
    assert ensure_network(swarm, params(driver_opts={"com.docker.network.driver.mtu": "1400"}))["changed"] is False


def test_another_stacks_network_is_refused(fake_swarm):
    swarm = fake_swarm()
    swarm.create_network("seed_front", labels={"spin.tenant": "cory", "spin.stack": "seed"})
    with pytest.raises(SpinError) as raised:
        ensure_network(swarm, params())
    assert "network 'seed_front' exists but is not this stack's: it has spin.stack=seed, spin.tenant=cory" \
        in raised.value.message
    assert "choose another stack name" in raised.value.message


def test_removal(fake_swarm):
    swarm = fake_swarm()
    net_id = swarm.create_network("seed_front", labels=OWNER)
    checked = ensure_network(swarm, params(state="absent"), check_mode=True)
    assert checked["changed"] is True and "seed_front" in swarm.nets
    removed = ensure_network(swarm, params(state="absent"))
    assert removed["changed"] is True and removed["diff"]["after"] == {}
    assert removed["diff"]["before"]["labels"] == OWNER
    assert swarm.calls[-1] == ("remove_network", net_id) and swarm.nets == {}
    assert ensure_network(swarm, params(state="absent"))["changed"] is False


def test_removal_leaves_another_stacks_network(fake_swarm):
    swarm = fake_swarm()
    swarm.create_network("seed_front", labels={"spin.tenant": "cory", "spin.stack": "seed"})
    with pytest.raises(SpinError):
        ensure_network(swarm, params(state="absent"))
    assert "seed_front" in swarm.nets


def test_same_docker_calls_as_spin_stack(fake_swarm):
    tasks, written = translated_tasks()
    by_stack, by_module = fake_swarm(), fake_swarm()
    reconciler = StackReconciler(by_stack)
    reconciler.apply(reconciler.plan_present("demo", "seed", {"networks": tasks["networks"]}), wait=False)
    for task in written:
        ensure_network(by_module, params(**task))
    assert by_module.calls == by_stack.calls
    assert {c[1] for c in by_module.calls} == {"seed_front", "seed_back"}
    back = by_module.nets["seed_back"]
    assert (back["Internal"], back["Attachable"], back["Labels"]) == (True, True, dict(OWNER, team="blue"))
    # and each sees the other's work as done
    assert reconciler.plan_present("demo", "seed", {"networks": tasks["networks"]}).changed is False
    for task in written:
        assert ensure_network(by_stack, params(**task))["changed"] is False
