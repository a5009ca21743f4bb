"""The spin_registry_image module: every image pushed to (or pulled from) the platform's registry by
engine/registry.py, changed when any of them changed; check mode reaches every step."""
import types

import pytest

from ansible_collections.spin.platform.plugins.modules import spin_registry_image


@pytest.fixture
def registry(monkeypatch):
    calls = []

    def step(kind):
        def call(client, name, registry_host, check_mode):
            calls.append((kind, client, name, registry_host, check_mode))
            return {"image": name, "changed": name.endswith(":new")}
        return call
    monkeypatch.setattr(spin_registry_image.registry, "push", step("push"))
    monkeypatch.setattr(spin_registry_image.registry, "pull", step("pull"))
    return calls


def module(state="pushed", check_mode=False, images=("a:1", "b:new")):
    return types.SimpleNamespace(check_mode=check_mode, params={"images": list(images), "state": state,
                                                                "registry": "registry.local:5000"})


def test_pushed_pushes_every_image_in_order(registry):
    result = spin_registry_image.run(module(), "client")
    assert registry == [("push", "client", "a:1", "registry.local:5000", False),
                        ("push", "client", "b:new", "registry.local:5000", False)]
    assert result == {"changed": True, "images": [{"image": "a:1", "changed": False},
                                                  {"image": "b:new", "changed": True}]}


def test_pulled_pulls_and_check_mode_reaches_every_step(registry):
    result = spin_registry_image.run(module(state="pulled", check_mode=True, images=["a:1"]), "client")
    assert registry == [("pull", "client", "a:1", "registry.local:5000", True)]
    assert result["changed"] is False


def test_the_images_and_the_registry_are_required():
    spec = spin_registry_image.argument_spec()
    assert (spec["images"]["required"], spec["registry"]["required"]) == (True, True)
    assert spec["state"]["choices"] == ["pushed", "pulled"] and spec["state"]["default"] == "pushed"
