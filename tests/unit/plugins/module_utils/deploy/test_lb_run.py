"""lb_run: the spin_lb module's work, on a fake Docker API (edge/lb_fakes.py): what it refuses before it
reads anything, a stack's routes stored, kept and dropped, check mode."""
import types

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.deploy import lb_run
from ansible_collections.spin.platform.plugins.module_utils.edge import lb
from ansible_collections.spin.platform.plugins.modules import spin_lb
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import (
    PLATFORM, FakeClient, platform, rule)


def module(check_mode=False, **params):
    values = {name: option.get("default") for name, option in spin_lb.argument_spec().items()}
    values.update({"sync": False, "platform": PLATFORM})
    values.update(params)
    warnings = []
    return types.SimpleNamespace(params=values, check_mode=check_mode, warn=warnings.append, warnings=warnings)


@pytest.mark.parametrize("params, message", [
    ({"stack": "magic"}, "give the tenant that owns stack 'magic' (tenant)"),
    ({"state": "absent"}, "state=absent needs the stack whose routes to drop (stack, tenant), or platform_routes"),
    ({"endpoints": []}, "endpoints and load_balancers need the stack they belong to (stack, tenant)"),
    ({"load_balancers": {}}, "endpoints and load_balancers need the stack they belong to (stack, tenant)"),
])
def test_what_is_refused_before_anything_is_read(params, message):
    client = FakeClient()
    with pytest.raises(SpinError) as raised:
        lb_run.run(module(**params), client)
    assert raised.value.message == message
    assert client.checks == [] and client.configs_by_id == {}


LBS = {"lb": {"port_rules": [rule("www.example.org")]}}


def test_a_stacks_routes_are_stored_then_kept_then_dropped():
    client = FakeClient()
    first = lb_run.run(module(tenant="cory", stack="magic", load_balancers=LBS), client)
    assert (first["network"], first["public_services"]) == ("lb-magic", ["web"])
    assert list(lb.stored_routes(client, platform())) == ["magic"]
    assert [n["Name"] for n in client.networks_list] == ["lb-magic"]
    again = lb_run.run(module(tenant="cory", stack="magic", load_balancers=LBS), client)
    assert (again["changed"], again["stored"]) == (False, False)
    dropped = lb_run.run(module(tenant="cory", stack="magic", state="absent"), client)
    assert (dropped["changed"], dropped["stored"]) == (True, True)
    assert lb.stored_routes(client, platform()) == {}


def test_the_first_store_of_a_stacks_routes_is_a_change_and_the_same_routes_again_are_not():
    client = FakeClient()
    first = lb_run.run(module(tenant="cory", stack="magic", load_balancers=LBS), client)
    assert first["changed"] is True
    again = lb_run.run(module(tenant="cory", stack="magic", load_balancers=LBS), client)
    assert again["changed"] is False


def test_check_mode_stores_nothing():
    client = FakeClient()
    result = lb_run.run(module(check_mode=True, tenant="cory", stack="magic", load_balancers=LBS), client)
    assert result["changed"] is True and lb.stored_routes(client, platform()) == {}
