"""Pushing to and pulling from the platform registry: only when the digests say so."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.engine import registry
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
ID1, ID2 = "sha256:" + "a" * 64, "sha256:" + "b" * 64
REG = "reg:5000"


class Engine(object):
    """Local images by name, the registry's digests by reference; pushes and pulls change both."""

    def __init__(self, local=None, remote=None):
        self.local = local or {}
        self.remote = remote or {}
        self.calls = []

    def inspect_image(self, name):
        return self.local.get(name)

    def distribution_digest(self, ref):
        return self.remote.get(ref)

    def tag_image(self, image, ref):
        self.calls.append(("tag", image, ref))
        source = next(v for k, v in self.local.items() if image in (k, v["Id"]))
        self.local[ref] = source

    def push_image(self, ref):
        self.calls.append(("push", ref))
        image = self.local[ref]
        image.setdefault("RepoDigests", []).append(ref.rsplit(":", 1)[0] + "@" + D2)
        self.remote[ref] = D2
        return D2

    def pull_image(self, ref):
        self.calls.append(("pull", ref))
        self.local[ref] = {"Id": ID2, "RepoDigests": [ref]}


def test_registry_reference_adds_latest():
    assert registry.registry_reference(REG, "httpd") == "reg:5000/httpd:latest"
    assert registry.registry_reference(REG + "/", "spin/haproxy:2.6") == "reg:5000/spin/haproxy:2.6"


def test_push_tags_and_pushes_once_then_finds_the_registry_current():
    engine = Engine(local={"httpd:latest": {"Id": ID1}})
    first = registry.push(engine, "httpd:latest", REG)
    assert first["changed"] and first["before"] is None and first["digest"] == D2
    assert engine.calls == [("tag", ID1, "reg:5000/httpd:latest"), ("push", "reg:5000/httpd:latest")]
    engine.calls.clear()
    assert registry.push(engine, "httpd:latest", REG)["changed"] is False
    assert engine.calls == []


def test_push_again_when_the_local_image_was_rebuilt_or_the_registry_moved_on():
    engine = Engine(local={"httpd:latest": {"Id": ID1}})
    registry.push(engine, "httpd:latest", REG)
    engine.local["httpd:latest"] = {"Id": ID2}
    assert registry.push(engine, "httpd:latest", REG, check_mode=True)["changed"]
    engine.local["httpd:latest"] = engine.local["reg:5000/httpd:latest"]
    engine.remote["reg:5000/httpd:latest"] = D1   # someone pushed other bits under the tag
    assert registry.push(engine, "httpd:latest", REG)["changed"]


def test_push_of_a_missing_image_says_to_build_it():
    with pytest.raises(SpinError) as err:
        registry.push(Engine(), "nope:1", REG)
    assert "image 'nope:1' is not on this node" in err.value.message


def test_pull_by_digest_tags_both_names_and_is_unchanged_the_second_time():
    engine = Engine(remote={"reg:5000/spin/haproxy:2.6": D2})
    check = registry.pull(engine, "spin/haproxy:2.6", REG, check_mode=True)
    assert check["changed"] and engine.calls == []
    result = registry.pull(engine, "spin/haproxy:2.6", REG)
    assert result["changed"] and result["digest"] == D2
    assert engine.calls[0] == ("pull", "reg:5000/spin/haproxy@" + D2)
    assert engine.local["spin/haproxy:2.6"]["Id"] == engine.local["reg:5000/spin/haproxy:2.6"]["Id"] == ID2
    engine.calls.clear()
    assert registry.pull(engine, "spin/haproxy:2.6", REG)["changed"] is False and engine.calls == []


def test_pull_of_an_image_the_registry_lacks_says_to_push_it():
    with pytest.raises(SpinError) as err:
        registry.pull(Engine(), "httpd:latest", REG)
    assert "has no image reg:5000/httpd:latest" in err.value.message
