"""swarm_objects: the single-object layer under spin_network, spin_volume, spin_secret, spin_config and
StackReconciler: a network's settings compared, the review file's redaction marker, a data_file checked
against the content that was reviewed, labels and options as Docker keeps them. (ensure_network,
ensure_volume and ensure_data are tested through each module, in tests/unit/plugins/modules/.)"""
import base64
import hashlib

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine import swarm_objects
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import data_from_file, parse_redacted
from ansible_collections.spin.platform.plugins.plugin_utils import translate
from ansible_collections.spin.platform.tests.unit.redaction import PASSWORD, legacy_marker, marker, name_for


def test_the_marker_is_the_one_translate_writes():
    item = {"name": "x", "data": base64.b64encode(PASSWORD).decode()}
    assert parse_redacted(translate.redacted(item)["data"]) == (len(PASSWORD), None)
    assert parse_redacted(legacy_marker(PASSWORD)) == (len(PASSWORD), hashlib.sha256(PASSWORD).hexdigest())
    assert parse_redacted(item["data"]) is None
    assert parse_redacted(None) is None


def test_data_file_must_hold_the_reviewed_content():
    assert base64.b64decode(data_from_file(PASSWORD, marker(PASSWORD), name_for(PASSWORD), "f")) == PASSWORD
    assert base64.b64decode(data_from_file(PASSWORD, legacy_marker(PASSWORD), "s", "f")) == PASSWORD
    # same size, but not the content whose digest the name carries
    with pytest.raises(SpinError):
        data_from_file(b"s3cr3T\n", marker(PASSWORD), name_for(PASSWORD), "f")
    assert base64.b64decode(data_from_file(PASSWORD, None, "s", "f")) == PASSWORD
    for other in (PASSWORD.rstrip(b"\n"), b"s3cr3T\n"):
        with pytest.raises(SpinError) as raised:
            data_from_file(other, marker(PASSWORD), name_for(PASSWORD), "/sub/db_password.txt")
        expected = "secret '" + name_for(PASSWORD) + "': data_file /sub/db_password.txt (%d bytes) is not the content that " \
            "was reviewed (%d bytes" % (len(other), len(PASSWORD))
        assert expected in raised.value.message
        assert hashlib.sha256(other).hexdigest()[:10] not in raised.value.message
    with pytest.raises(SpinError) as raised:
        data_from_file(PASSWORD, base64.b64encode(PASSWORD).decode(), "s", "f")
    assert "give either data or data_file, not both" in raised.value.message


@pytest.mark.parametrize("content, name, expected", [
    (PASSWORD, name_for(PASSWORD), True),
    (b"s3cr3T\n", name_for(PASSWORD), False),          # same size, another digest than the name carries
    (PASSWORD.rstrip(b"\n"), name_for(PASSWORD), False),  # the newline is content
    (PASSWORD, "seed_db_password", True),              # a name without a digest takes any content of the size
    (b"1234567", "seed_db_password", True),
])
def test_is_reviewed_content_by_size_and_the_names_digest(content, name, expected):
    assert swarm_objects.is_reviewed_content(content, (len(PASSWORD), None), name) is expected


def test_is_reviewed_content_by_an_old_markers_full_digest_whatever_the_name():
    full = hashlib.sha256(PASSWORD).hexdigest()
    assert swarm_objects.is_reviewed_content(PASSWORD, (len(PASSWORD), full), "any") is True
    assert swarm_objects.is_reviewed_content(b"s3cr3T\n", (len(PASSWORD), full), name_for(b"s3cr3T\n")) is False


@pytest.mark.parametrize("value", ["<redacted: x bytes>", "<redacted: 7 bytes, sha256 abc>", " <redacted: 7 bytes>",
                                   7, b"<redacted: 7 bytes>"])
def test_parse_redacted_takes_only_the_exact_marker(value):
    assert parse_redacted(value) is None


def test_network_settings_with_docker_defaults():
    assert swarm_objects.network_settings({"name": "magic_default"}) == {
        "driver": "overlay", "internal": False, "attachable": False, "options": {}, "labels": {}}
    assert swarm_objects.network_settings({"driver": "bridge", "internal": 1, "attachable": True,
                                           "driver_opts": {"mtu": "1400"}, "labels": {"a": "b"}}) == {
        "driver": "bridge", "internal": True, "attachable": True, "options": {"mtu": "1400"}, "labels": {"a": "b"}}


NET = {"name": "magic_back", "driver_opts": {"encrypted": "true"}, "labels": {"spin.stack": "magic"}}


def test_check_network_ignores_the_options_docker_adds():
    actual = {"Driver": "overlay", "Internal": False, "Attachable": False, "Labels": {"spin.stack": "magic"},
              "Options": {"encrypted": "true", "com.docker.network.driver.overlay.vxlanid_list": "4097"}}
    assert swarm_objects.check_network(NET, actual) == {
        "driver": "overlay", "internal": False, "attachable": False, "options": {"encrypted": "true"},
        "labels": {"spin.stack": "magic"}}


def test_check_network_refuses_other_settings_naming_each_change():
    actual = {"Driver": "overlay", "Internal": True, "Attachable": False, "Labels": {"spin.stack": "magic"},
              "Options": {}}
    with pytest.raises(SpinError) as raised:
        swarm_objects.check_network(NET, actual)
    assert raised.value.message.startswith(
        "network 'magic_back' exists with other settings (internal: True -> False, options: {} -> "
        "{'encrypted': 'true'}); Swarm cannot change a network in place")


def test_normalised_labels_and_driver_options_are_text_as_docker_keeps_them():
    params = {"name": "n", "labels": {"spin.replicas": 3, "on": True}, "driver_opts": {"mtu": 1400, "o": "x"},
              "internal": True}
    assert swarm_objects.normalised(params) == {"name": "n", "labels": {"spin.replicas": "3", "on": "true"},
                                                "driver_opts": {"mtu": "1400", "o": "x"}, "internal": True}
    assert params["labels"]["spin.replicas"] == 3      # the caller's dict untouched
    assert swarm_objects.normalised({"name": "n", "labels": None}) == {"name": "n", "labels": None}


def test_resource_data_decodes_the_data_or_generates_a_password_nobody_saw():
    assert swarm_objects.resource_data({"data": base64.b64encode(PASSWORD).decode()}) == PASSWORD
    first = swarm_objects.resource_data({"data": None, "generate": True})
    second = swarm_objects.resource_data({"generate": True})
    assert len(first) == len(second) == 32 and first != second     # 24 random bytes, URL-safe base64
    assert base64.urlsafe_b64decode(first) and first.decode("ascii").isprintable()
    # data given wins over generate
    assert swarm_objects.resource_data({"data": base64.b64encode(b"x").decode(), "generate": True}) == b"x"


class Recorder(object):
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return "id-1"
        return call


def test_create_resource_passes_the_translated_item_with_docker_defaults():
    client = Recorder()
    assert swarm_objects.create_resource(client, "network", {"name": "magic_default"}) == "id-1"
    assert swarm_objects.create_resource(client, "volume", {"name": "magic_data", "labels": {"a": "b"}}) == \
        "magic_data"
    assert swarm_objects.create_resource(client, "config", {"name": "magic_c", "data": "aGk="}) == "id-1"
    assert client.calls == [
        ("create_network", ("magic_default",), {"driver": "overlay", "options": None, "labels": None,
                                                "attachable": False, "internal": False}),
        ("create_volume", ("magic_data",), {"driver": "local", "driver_opts": None, "labels": {"a": "b"}}),
        ("create_config", ("magic_c", b"hi"), {"labels": None})]
