"""SwarmClient without an engine: exact look-ups, the calls it makes, and how Docker's errors read."""
import pytest
from docker import errors as docker_errors

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge.lb import LbClient
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import (
    NotManagerError, SwarmClient, UpdateOutOfSequence)
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.engine.api_fakes import api_error, client


def test_find_service_matches_the_name_exactly():
    # Docker's name filter matches prefixes: web_1 and web both come back for "web"
    c = client(services=[{"ID": "a", "Spec": {"Name": "web_1"}}, {"ID": "b", "Spec": {"Name": "web"}}])
    assert c.find_service("web")["ID"] == "b"
    assert c.api.calls == [("services", (), {"filters": {"name": "web"}})]
    assert client(services=[{"ID": "a", "Spec": {"Name": "web_1"}}]).find_service("web") is None


def test_find_network_matches_the_name_exactly():
    c = client(networks=[{"Id": "n1", "Name": "seed_default_x"}, {"Id": "n2", "Name": "seed_default"}])
    assert c.find_network("seed_default")["Id"] == "n2"


def test_resolve_references_uses_known_ids_first_and_leaves_out_missing():
    c = client(networks=[{"Id": "n2", "Name": "b"}], secrets=[], configs=[{"ID": "c1", "Spec": {"Name": "conf"}}])
    refs = c.resolve_references({"networks": ["a", "b"], "secrets": ["s"], "configs": ["conf"]},
                                known={"networks": {"a": "<to be created>"}})
    assert refs == {"networks": {"a": "<to be created>", "b": "n2"}, "secrets": {}, "configs": {"conf": "c1"}}


def test_update_sends_the_whole_spec_so_that_left_out_fields_go():
    c = client(update_service={"Warnings": ["w"]})
    spec = {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "httpd"}}, "Mode": {"Replicated": {"Replicas": 1}}}
    assert c.update_service("sid", 7, spec) == ["w"]
    name, args, kwargs = c.api.calls[0]
    assert args == ("sid", 7)
    assert kwargs["labels"] == {} and kwargs["endpoint_spec"] == {} and kwargs["update_config"] is None
    assert kwargs["task_template"] == spec["TaskTemplate"] and kwargs["mode"] == spec["Mode"]


def test_not_a_manager_says_what_to_do():
    c = client(services=api_error(503, "This node is not a swarm manager. Use \"docker swarm init\" or "
                                       "\"docker swarm join\" to connect this node to swarm and try again."))
    with pytest.raises(NotManagerError) as err:
        c.find_service("web")
    assert err.value.message.startswith("This node is not a swarm manager, so it cannot look up service 'web'")
    assert "docker swarm init" in err.value.message


def test_update_out_of_sequence_is_its_own_error():
    c = client(update_service=api_error(500, "rpc error: code = Unknown desc = update out of sequence"))
    with pytest.raises(UpdateOutOfSequence):
        c.update_service("sid", 1, {"Name": "web", "TaskTemplate": {}})


def test_other_api_errors_quote_docker():
    c = client(create_service=api_error(400, "rpc error: code = InvalidArgument desc = EndpointSpec: port published "
                                             "with ingress mode can't be used with dnsrr mode"))
    with pytest.raises(SpinError) as err:
        c.create_service({"Name": "web", "TaskTemplate": {}})
    assert "refused to create service 'web'" in err.value.message
    assert "ingress mode can't be used with dnsrr mode" in err.value.message


def test_not_found_means_none_for_inspect_and_remove():
    c = client(inspect_service=docker_errors.NotFound("gone"), remove_service=docker_errors.NotFound("gone"),
               inspect_volume=docker_errors.NotFound("gone"))
    assert c.inspect_service("sid") is None
    assert c.find_volume("v") is None
    c.remove_service("sid")


def test_unreachable_engine_reads_well(tmp_path):
    host = "unix://%s/none.sock" % tmp_path
    with pytest.raises(SpinError) as err:
        SwarmClient(host, 2)
    assert err.value.message.startswith("the Docker engine at %s is not reachable: " % host)
    assert "Is dockerd running" in err.value.message


# ---- images, commands in containers, one-off containers (the edge load balancer) ----------


def test_lb_client_is_the_swarm_client():
    assert LbClient is SwarmClient
