"""Images pinned at deploy: where each reference is resolved, and what a service keeps."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.images import (
    full_name, pin_image, pin_services, split_reference)

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
LOCAL_ID = "sha256:" + "f" * 64


class Engine(object):
    """What the manager's engine knows: registry digests by reference, local images by reference."""

    def __init__(self, registry=None, local=None):
        self.registry = registry or {}
        self.local = local or {}
        self.asked = []

    def distribution_digest(self, ref):
        self.asked.append(ref)
        return self.registry.get(ref)

    def inspect_image(self, ref):
        return self.local.get(ref)


@pytest.mark.parametrize("ref, parts", [
    ("httpd", (None, "httpd", None, None)),
    ("httpd:2.4", (None, "httpd", "2.4", None)),
    ("spin/haproxy:2.6", (None, "spin/haproxy", "2.6", None)),
    ("reg:5000/demo/seed-web:abc", ("reg:5000", "demo/seed-web", "abc", None)),
    ("reg.example.org/app@" + D1, ("reg.example.org", "app", None, D1)),
    ("localhost/app:1@" + D1, ("localhost", "app", "1", D1)),
])
def test_split_reference(ref, parts):
    assert split_reference(ref) == parts


def test_a_plain_name_the_platform_registry_holds_is_pinned_there():
    engine = Engine(registry={"reg:5000/httpd:latest": D1}, local={"httpd:latest": {"Id": LOCAL_ID}})
    assert pin_image("httpd", engine, "reg:5000") == {"image": "reg:5000/httpd:latest@" + D1, "source": "registry",
                                                      "warning": None}


def test_a_registry_reference_is_pinned_to_the_registry_digest_or_the_one_the_engine_recorded():
    engine = Engine(registry={"other.org/app:1": D2})
    assert pin_image("other.org/app:1", engine, "reg:5000")["image"] == "other.org/app:1@" + D2
    # the registry is down: what the engine pulled or pushed last
    offline = Engine(local={"other.org/app:1": {"Id": LOCAL_ID, "RepoDigests": ["other.org/app@" + D1]}})
    assert pin_image("other.org/app:1", offline)["image"] == "other.org/app:1@" + D1


def test_without_a_registry_a_local_image_is_pinned_to_its_id():
    engine = Engine(local={"httpd:latest": {"Id": LOCAL_ID}})
    assert pin_image("httpd", engine) == {"image": LOCAL_ID, "source": "local", "warning": None}
    assert engine.asked == [], "no registry to ask"


def test_a_local_only_image_on_a_platform_with_a_registry_is_pinned_with_a_warning():
    found = pin_image("mine:1", Engine(local={"mine:1": {"Id": LOCAL_ID}}), "reg:5000")
    assert found["image"] == LOCAL_ID
    assert "push it as reg:5000/mine:1" in found["warning"]


def test_digests_and_image_ids_are_already_pinned_once_the_engine_has_them():
    engine = Engine(local={"app@" + D1: {"Id": LOCAL_ID}, LOCAL_ID: {"Id": LOCAL_ID}})
    assert pin_image("app@" + D1, engine) == {"image": "app@" + D1, "source": "given", "warning": None}
    assert pin_image(LOCAL_ID, engine, "reg:5000") == {"image": LOCAL_ID, "source": "given", "warning": None}
    assert engine.asked == [], "the engine has them: no registry to ask"


def test_a_digest_the_registry_has_is_pinned_without_the_engine_having_it():
    engine = Engine(registry={"reg.example.org/app@" + D1: D1})
    assert pin_image("reg.example.org/app@" + D1, engine, "reg:5000")["image"] == "reg.example.org/app@" + D1


@pytest.mark.parametrize("ref, message", [
    ("app@" + D1, "image 'app@%s' was found neither in this node's engine nor in registry docker.io" % D1),
    ("reg.example.org/app:1@" + D2, "image 'reg.example.org/app:1@%s' was found neither in this node's engine nor "
                                    "in registry reg.example.org" % D2),
    (LOCAL_ID, "image '%s' was not found in this node's engine (an image ID names a local image)" % LOCAL_ID),
])
def test_a_digest_or_image_id_that_is_nowhere_is_refused(ref, message):
    with pytest.raises(SpinError) as err:
        pin_image(ref, Engine(registry={"app@" + D2: D2}, local={"other@" + D1: {"Id": LOCAL_ID}}), "reg:5000")
    assert err.value.message == message


def test_a_missing_digest_is_named_with_the_other_missing_images_before_anything_is_created():
    services = [{"name": "s_a", "image": "nope:1", "labels": {"spin.service": "a"}},
                {"name": "s_b", "image": "app@" + D1, "labels": {"spin.service": "b"}},
                {"name": "s_c", "image": "httpd", "labels": {"spin.service": "c"}}]
    engine = Engine(local={"httpd:latest": {"Id": LOCAL_ID}})
    with pytest.raises(SpinError) as err:
        pin_services(engine, services)
    assert err.value.message == (
        "cannot pin the stack's images, nothing was changed: service 'a': image 'nope:1' was not found in this "
        "node's engine; service 'b': image 'app@%s' was found neither in this node's engine nor in registry "
        "docker.io. Build or push the image first (the images role builds the platform's images)" % D1)
    assert [s["image"] for s in services] == ["nope:1", "app@" + D1, "httpd"], "nothing pinned, nothing changed"


def test_pin_services_keeps_the_written_name_and_is_stable_when_run_again():
    services = [{"name": "seed_web", "image": "httpd", "labels": {"spin.service": "web"}},
                {"name": "seed_db", "image": "mysql", "labels": {"spin.service": "db"}}]
    engine = Engine(registry={"reg:5000/httpd:latest": D1}, local={"mysql:latest": {"Id": LOCAL_ID}})
    pins, warnings = pin_services(engine, services, "reg:5000")
    assert [s["image"] for s in services] == ["reg:5000/httpd:latest@" + D1, LOCAL_ID]
    assert [s["labels"]["spin.image"] for s in services] == ["httpd", "mysql"]
    assert pins["seed_web"] == {"image": "httpd", "pinned": "reg:5000/httpd:latest@" + D1, "source": "registry"}
    assert len(warnings) == 1 and "seed_db" in warnings[0]
    # a newer image under the same tag: the written name (the label) is resolved again
    engine.registry["reg:5000/httpd:latest"] = D2
    pin_services(engine, services, "reg:5000")
    assert services[0]["image"] == "reg:5000/httpd:latest@" + D2


def test_every_missing_image_is_named_in_one_error():
    services = [{"name": "s_a", "image": "nope:1", "labels": {"spin.service": "a"}},
                {"name": "s_b", "image": "reg:5000/gone:2", "labels": {"spin.service": "b"}}]
    with pytest.raises(SpinError) as err:
        pin_services(Engine(), services, "reg:5000")
    message = err.value.message
    assert "service 'a': image 'nope:1' was found neither in registry reg:5000 nor in this node's engine" in message
    assert "service 'b': image 'reg:5000/gone:2'" in message


def test_the_running_services_spelling_stays_where_the_written_one_names_the_same_image():
    engine = Engine(local={"httpd:latest": {"Id": LOCAL_ID}, "docker.io/library/httpd:latest": {"Id": LOCAL_ID},
                           "httpd:2": {"Id": D2}})
    same = [{"name": "s_web", "image": "docker.io/library/httpd:latest", "labels": {}}]
    pin_services(engine, same, pinned_from={"s_web": "httpd"})
    assert same[0]["labels"]["spin.image"] == "httpd" and same[0]["image"] == LOCAL_ID
    other = [{"name": "s_web", "image": "httpd:2", "labels": {}}]
    pin_services(engine, other, pinned_from={"s_web": "httpd"})
    assert other[0]["labels"]["spin.image"] == "httpd:2" and other[0]["image"] == D2


@pytest.mark.parametrize("ref, parts", [
    ("httpd", ("docker.io/library/httpd", None, None)),
    ("httpd:2.4", ("docker.io/library/httpd", "2.4", None)),
    ("spin/base:bookworm", ("docker.io/spin/base", "bookworm", None)),
    ("localhost:5000/a/b", ("localhost:5000/a/b", None, None)),
    ("reg.example.org/a:1@" + D1, ("reg.example.org/a", "1", D1)),
    ("index.docker.io/httpd", ("docker.io/library/httpd", None, None)),
    ("localhost/app", ("localhost/app", None, None)),
])
def test_split_image(ref, parts):
    assert full_name(ref) == parts
