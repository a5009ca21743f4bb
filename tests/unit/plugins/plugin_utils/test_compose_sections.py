"""The compose file's sections (compose_sections: networks, volumes, secrets, configs); its top level is
test_compose_load.py's."""
import base64

import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import dig, messages, parse


SECTIONS = [
    ("networks: {front: {driver: overlay, internal: true, attachable: true, driver_opts: {encrypted: ''}, "
     "labels: {a: b}}}", "networks.front",
     {"driver": "overlay", "internal": True, "attachable": True, "driver_opts": {"encrypted": ""},
      "labels": {"a": "b"}, "external": False, "name": None}),
    ("networks: {front: null}", "networks.front",
     {"driver": "overlay", "internal": False, "attachable": False, "driver_opts": {}, "labels": {},
      "external": False, "name": None}),
    ("networks: {front: {driver: bridge}}", "networks.front.driver", "overlay"),
    ("networks: {front: {driver: macvlan}}", "networks.front.driver", "macvlan"),
    ("networks: {shared: {external: true}}", "networks.shared.external", True),
    ("networks: {shared: {external: {name: proxy}}}", "networks.shared.name", "proxy"),
    ("networks: {shared: {external: true, name: proxy}}", "networks.shared.name", "proxy"),
    ("volumes: {data: }", "volumes.data", {"driver": "local", "driver_opts": {}, "labels": {}, "external": False,
                                           "name": None}),
    ("volumes: {data: {driver_opts: {type: nfs, o: 'addr=10.0.0.1,ro', device: ':/export'}}}",
     "volumes.data.driver_opts", {"type": "nfs", "o": "addr=10.0.0.1,ro", "device": ":/export"}),
    ("volumes: {data: {external: true, name: shared_data}}", "volumes.data",
     {"driver": "local", "driver_opts": {}, "labels": {}, "external": True, "name": "shared_data"}),
    ("secrets: {pw: {environment: PW}}", "secrets.pw",
     {"content": base64.b64encode(b"hunter2").decode(), "external": False, "name": None, "labels": {}}),
    ("secrets: {pw: {external: true}}", "secrets.pw", {"content": None, "external": True, "name": None,
                                                       "labels": {}}),
    ("configs: {conf: {content: 'port=${PORT:-80}'}}", "configs.conf.content",
     base64.b64encode(b"port=80").decode()),
]


@pytest.mark.parametrize("text, path, expected", SECTIONS)
def test_top_level_sections(text, path, expected):
    model, diagnostics = parse("services: {s: {image: x}}\n" + text, env={"PW": "hunter2"})
    assert messages(diagnostics) == []
    assert dig(model, path) == expected


SECTION_ERRORS = [
    ("networks: {front: {ipam: {config: [{subnet: 10.0.0.0/24}]}}}",
     "key 'networks.front.ipam': not supported on spin.platform: the platform allocates subnets"),
    ("networks: {front: {drivr: overlay}}", "key 'networks.front.drivr': unknown key (did you mean 'driver'?)"),
    ("networks: {front: {internal: maybe}}", "key 'networks.front.internal': must be true or false, not 'maybe'"),
    ("volumes: {data: {driver_opts: [a]}}", "key 'volumes.data.driver_opts': must be a mapping, not a list"),
    ("volumes: {'bad name': {}}", "key 'volumes.bad name': 'bad name' is not a valid name: use letters, digits, "
                                  "'_', '.' and '-'"),
    ("secrets: {pw: {}}", "key 'secrets.pw': needs exactly one of file:, environment: or external: true"),
    ("secrets: {pw: null}", "key 'secrets.pw': needs file:, environment: or external: true"),
    ("secrets: {pw: {environment: NOPE}}", "key 'secrets.pw.environment': variable 'NOPE' is not set: give it a "
                                           "value in the stack's variables"),
    ("secrets: {pw: {external: true, file: x}}", "key 'secrets.pw': an external secret has no file: remove it, or "
                                                 "remove external"),
    ("secrets: {pw: {file: pw.txt}}", "key 'secrets.pw.file': 'pw.txt' cannot be read: no submission directory was "
                                      "given"),
    ("secrets: {pw: {driver: vault, external: true}}", "key 'secrets.pw.driver': not supported on spin.platform: "
                                                       "secrets are stored by Swarm"),
    ("configs: {c: {content: a, file: b}}", "key 'configs.c': needs exactly one of file:, environment:, content: "
                                            "or external: true"),
    ("configs: {c: {content: '%s'}}" % ("x" * (500 * 1024 + 1)), "key 'configs.c': is 512001 bytes, more than "
     "Swarm's limit of 512000"),
]


@pytest.mark.parametrize("text, expected", SECTION_ERRORS)
def test_top_level_section_errors(text, expected):
    _model, diagnostics = parse("services: {s: {image: x}}\n" + text)
    assert messages(diagnostics) == ["docker-compose.yml: " + expected]


def test_network_bridge_becomes_overlay_with_a_warning():
    _model, diagnostics = parse("services: {s: {image: x}}\nnetworks: {front: {driver: bridge}}")
    assert messages(diagnostics, "warning") == ["docker-compose.yml: key 'networks.front.driver': warning: 'bridge' "
                                                "becomes 'overlay': Swarm services need overlay networks"]
