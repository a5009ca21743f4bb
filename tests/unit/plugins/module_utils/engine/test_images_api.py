"""SwarmClient's calls on images and containers' commands (engine/images_api.py) without an engine: the calls
it makes, one-off containers always removed, a registry's refusal read as 'not there'."""
import io
import tarfile

import pytest
from docker import errors as docker_errors

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.engine.api_fakes import api_error, client


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


def test_distribution_digest_asks_the_engine_and_reads_none_for_any_registry_refusal():
    c = client(inspect_distribution={"Descriptor": {"digest": "sha256:" + "a" * 64, "size": 527}})
    assert c.distribution_digest("reg:5000/httpd:latest") == "sha256:" + "a" * 64
    assert c.api.calls == [("inspect_distribution", ("reg:5000/httpd:latest",), {})]
    for status, text in ((401, "unauthorized"), (404, "manifest unknown"), (500, "dial tcp: lookup reg: no such host")):
        assert client(inspect_distribution=api_error(status, text)).distribution_digest("reg:5000/x") is None
    with pytest.raises(SpinError) as err:
        client(inspect_distribution=ConnectionError("Connection refused")).distribution_digest("reg:5000/x")
    assert "is not reachable" in err.value.message
