"""SwarmClient without an engine: exact look-ups, the calls it makes, and how Docker's errors read."""
import io
import tarfile

import pytest
from docker import errors as docker_errors

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge.lb import LbClient
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import (
    NotManagerError, SwarmClient, UpdateOutOfSequence)


class Response(object):
    def __init__(self, status_code):
        self.status_code = status_code
        self.reason = "reason"


def api_error(status, explanation):
    return docker_errors.APIError("%d error" % status, response=Response(status), explanation=explanation)


class FakeAPI(object):
    api_version = "1.41"

    def __init__(self, **answers):
        self.answers = answers
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            answer = self.answers[name]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return call


def client(**answers):
    return SwarmClient("unix:///var/run/docker.sock", 5, api=FakeAPI(**answers))


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

def archive(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: (tar.extractfile(m).read(), m.mode) for m in tar.getmembers()}


def test_exec_in_copies_the_files_then_runs_the_command():
    c = client(put_archive=True, exec_create={"Id": "e1"}, exec_start=b"Configuration file is valid\n",
               exec_inspect={"ExitCode": 0})
    cid = "c" * 64
    assert c.exec_in(cid, ["spin-edge-check", "/tmp/x.cfg"], {"x.cfg": "global\n"}) == (
        0, "Configuration file is valid\n")
    assert [name for name, _args, _kwargs in c.api.calls] == ["put_archive", "exec_create", "exec_start",
                                                              "exec_inspect"]
    name, (container, directory, data), _kwargs = c.api.calls[0]
    assert (container, directory) == (cid, "/tmp")
    assert archive(data) == {"x.cfg": (b"global\n", 0o600)}
    assert c.api.calls[1][1] == (cid, ["spin-edge-check", "/tmp/x.cfg"])


def test_exec_in_without_files_copies_nothing():
    c = client(exec_create={"Id": "e1"}, exec_start=None, exec_inspect={"ExitCode": 1})
    assert c.exec_in("c" * 64, ["rm", "-f", "/tmp/x"]) == (1, "")
    assert [name for name, _args, _kwargs in c.api.calls] == ["exec_create", "exec_start", "exec_inspect"]


def test_run_once_runs_without_network_and_removes_the_container():
    c = client(create_host_config={"NetworkMode": "none"}, create_container={"Id": "d" * 64}, put_archive=True,
               start=None, wait={"StatusCode": 1}, logs=b"[ALERT] parsing error\n", remove_container=None)
    assert c.run_once("spin/edge:1", ["/tmp/a.cfg"], {"a.cfg": b"x"}, entrypoint=["spin-edge-check"],
                      labels={"spin.lb.kind": "check"}) == (1, "[ALERT] parsing error\n")
    calls = {name: (args, kwargs) for name, args, kwargs in c.api.calls}
    assert calls["create_container"] == (("spin/edge:1",), {
        "command": ["/tmp/a.cfg"], "entrypoint": ["spin-edge-check"], "labels": {"spin.lb.kind": "check"},
        "name": None, "network_disabled": True, "host_config": {"NetworkMode": "none"}})
    assert calls["create_host_config"] == ((), {"network_mode": "none"})
    assert archive(calls["put_archive"][0][2]) == {"a.cfg": (b"x", 0o600)}
    assert calls["wait"] == (("d" * 64,), {"timeout": 60})
    assert [name for name, _args, _kwargs in c.api.calls][-1] == "remove_container"
    assert calls["remove_container"] == (("d" * 64,), {"force": True})


def test_run_once_removes_the_container_when_it_fails_too():
    c = client(create_host_config={}, create_container={"Id": "d" * 64}, start=api_error(500, "exec format error"),
               remove_container=docker_errors.NotFound("already gone"))
    with pytest.raises(SpinError) as err:
        c.run_once("spin/edge:1", ["true"])
    assert "refused to start a container of image 'spin/edge:1': exec format error" in err.value.message
    assert [name for name, _args, _kwargs in c.api.calls] == ["create_host_config", "create_container", "start",
                                                              "remove_container"]


def test_image_and_predefined_network_look_ups():
    c = client(inspect_image={"Id": "sha256:1", "Config": {"Labels": {"spin.lb.image-recipe": "abc"}}},
               inspect_network={"Id": "hostid", "Name": "host"})
    assert c.inspect_image("spin/edge:1")["Id"] == "sha256:1"
    assert c.swarm_network_id("host") == "hostid"
    assert c.api.calls[-1] == ("inspect_network", ("host",), {"scope": "swarm"})
    gone = client(inspect_image=docker_errors.NotFound("no such image"),
                  inspect_network=docker_errors.NotFound("no such network"))
    assert gone.inspect_image("spin/edge:1") is None and gone.swarm_network_id("host") is None


def test_lb_client_is_the_swarm_client():
    assert LbClient is SwarmClient


def test_distribution_digest_asks_the_engine_and_reads_none_for_any_registry_refusal():
    c = client(inspect_distribution={"Descriptor": {"digest": "sha256:" + "a" * 64, "size": 527}})
    assert c.distribution_digest("reg:5000/httpd:latest") == "sha256:" + "a" * 64
    assert c.api.calls == [("inspect_distribution", ("reg:5000/httpd:latest",), {})]
    for status, text in ((401, "unauthorized"), (404, "manifest unknown"), (500, "dial tcp: lookup reg: no such host")):
        assert client(inspect_distribution=api_error(status, text)).distribution_digest("reg:5000/x") is None
    with pytest.raises(SpinError) as err:
        client(inspect_distribution=ConnectionError("Connection refused")).distribution_digest("reg:5000/x")
    assert "is not reachable" in err.value.message
