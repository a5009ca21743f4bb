"""The spin_build action plugin: the submission judged as spin_stack judges it, each service's build
context packed into an archive exactly as the verdict read it and sent to the build node; a refused
stack builds nothing, and check mode sends nothing."""
import hashlib
import os
import tarfile

import pytest

from ansible_collections.spin.platform.plugins.action import spin_build
from ansible_collections.spin.platform.tests.unit import tenant_tree
from ansible_collections.spin.platform.tests.unit.plugins.action.action_runner import run

COMPOSE = "services:\n  web:\n    build: ./app\n  db:\n    image: postgres:16\n"


def stack(tmp_path, compose=COMPOSE):
    root, directory = tenant_tree.submission(tmp_path)
    os.makedirs(os.path.join(directory, "app"))
    for name, text in {"docker-compose.yml": compose, "app/Dockerfile": "FROM httpd:2.4\nCOPY index.html /srv/\n",
                       "app/index.html": "hello\n"}.items():
        with open(os.path.join(directory, name), "w") as handle:
            handle.write(text)
    tenant_tree.hand_in(directory)
    return root, directory


def recording():
    calls = []

    def module(module_name, module_args, task_vars=None):
        calls.append((module_name, module_args))
        return {"changed": True, "summary": ["built"]}
    module.calls = calls
    return module


@pytest.fixture
def build_node(tmp_path, monkeypatch):
    """The build node's temporary directory, as the action plugin's transfers reach it."""
    remote = tmp_path / "remote"
    seen = {"removed": [], "fixed": []}

    def make_tmp_path(self, remote_user=None):
        remote.mkdir()
        return str(remote)

    def transfer_file(self, local, dest):
        with open(local, "rb") as src, open(dest, "wb") as out:
            out.write(src.read())
        return dest
    monkeypatch.setattr(spin_build.ActionModule, "_make_tmp_path", make_tmp_path)
    monkeypatch.setattr(spin_build.ActionModule, "_transfer_file", transfer_file)
    monkeypatch.setattr(spin_build.ActionModule, "_fixup_perms2",
                        lambda self, paths, *args, **kwargs: seen["fixed"].extend(paths))
    monkeypatch.setattr(spin_build.ActionModule, "_remove_tmp_path",
                        lambda self, path, *args, **kwargs: seen["removed"].append(path))
    seen["dir"] = remote
    return seen


def test_each_build_context_is_packed_and_sent_then_the_module_builds(tmp_path, build_node):
    root, directory = stack(tmp_path)
    module = recording()
    result = run(spin_build, root, directory, None, module=module)
    assert not result.get("failed"), result
    [(name, args)] = module.calls
    assert name == "spin.platform.spin_build"
    assert args["compose_file"] == os.path.join(directory, "docker-compose.yml")
    [item] = args["_builds"]                      # db pulls an image: nothing to build
    archive = str(build_node["dir"] / "web.tar")
    assert (item["service"], item["archive"]) == ("web", archive)
    with open(archive, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == item["archive_sha256"].split(":")[-1]
    with tarfile.open(archive) as tar:
        assert sorted(m.name.lstrip("./") for m in tar.getmembers() if m.isfile()) == ["Dockerfile", "index.html"]
    assert sorted(build_node["fixed"]) == [str(build_node["dir"]), archive]
    assert result["changed"] is True and result["summary"] == ["built"]
    assert build_node["removed"] == ["/tmp"]      # the connection's temporary directory, once the module ran


def test_check_mode_sends_nothing(tmp_path, build_node):
    root, directory = stack(tmp_path)
    module = recording()
    run(spin_build, root, directory, None, check_mode=True, module=module)
    [(_name, args)] = module.calls
    assert [(i["service"], i["archive"]) for i in args["_builds"]] == [("web", None)]
    assert not build_node["dir"].exists() and build_node["fixed"] == []


def test_a_stack_that_builds_nothing_asks_no_module(tmp_path, build_node):
    root, directory = stack(tmp_path, "services:\n  db:\n    image: postgres:16\n")
    module = recording()
    result = run(spin_build, root, directory, None, module=module)
    assert (result["changed"], result["builds"], result["msg"]) == (False, [], "the stack builds no image")
    assert module.calls == []


def test_a_refused_stack_builds_nothing(tmp_path, build_node):
    root, directory = stack(tmp_path, COMPOSE + "    privileged: true\n")
    module = recording()
    result = run(spin_build, root, directory, None, module=module)
    assert (result["failed"], result["refused"], result["changed"]) == (True, True, False)
    assert module.calls == [] and not build_node["dir"].exists()
    assert "nothing was built" in result["msg"]
