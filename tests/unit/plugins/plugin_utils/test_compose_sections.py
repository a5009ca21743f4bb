"""The compose file's top level (compose_load: top-level keys, versions) and its sections
(compose_sections: networks, volumes, secrets, configs)."""
import base64

import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import dig, messages, parse


# ---------------------------------------------------------------------------------------------
# top level and versions

TOP_LEVEL = [
    ("version: '2'\nservices: {s: {image: x}}", []),
    ("version: '2.4'\nservices: {s: {image: x}}", []),
    ("version: '3.8'\nservices: {s: {image: x}}", []),
    ("version: 3\nservices: {s: {image: x}}", []),
    ("services: {s: {image: x}}", []),
    ("x-anything: {a: 1}\nservices: {s: {image: x}}", []),
    ("version: '1'\nservices: {s: {image: x}}", ["docker-compose.yml: key 'version': version 1 files are not "
                                                 "supported: put the services under 'services:' and write "
                                                 "version: '2'"]),
    ("web:\n  image: x\n", ["docker-compose.yml: version 1 files are not supported: put the services under "
                            "'services:' and write version: '2'"]),
    ("version: '4'\nservices: {s: {image: x}}", ["docker-compose.yml: key 'version': '4' is not a compose version: "
                                                 "write '2', '2.x', '3.x' or leave it out"]),
    ("servics: {s: {image: x}}", ["docker-compose.yml: key 'servics': unknown key (did you mean 'services'?)",
                                  "docker-compose.yml: key 'services': must be a mapping of services, not empty "
                                  "(null)"]),
    ("services: [s]", ["docker-compose.yml: key 'services': must be a mapping of services, not a list"]),
    # include: is read from the submission (test_compose_merge.py); without one it cannot be
    ("include: [other.yml]\nservices: {s: {image: x}}",
     ["docker-compose.yml: key 'include[0]': 'other.yml' cannot be read: no submission directory was given"]),
    ("- a\n", ["docker-compose.yml: must be a mapping with services:, not a list"]),
    ("", ["docker-compose.yml: the file is empty: it needs services:"]),
    ("services: {s: [image]}", ["docker-compose.yml: service 's': must be a mapping of keys, not a list"]),
    ("services:\n  s: {image: x}\n  s: {image: y}\n",
     ["docker-compose.yml: line 3, column 3: duplicate key 's' (first at line 2)"]),
]


@pytest.mark.parametrize("text, expected", TOP_LEVEL)
def test_top_level(text, expected):
    _model, diagnostics = parse(text)
    assert messages(diagnostics) == expected


def test_top_level_name_warns():
    _model, diagnostics = parse("name: mystack\nservices: {s: {image: x}}")
    assert messages(diagnostics, "warning") == ["docker-compose.yml: key 'name': warning: ignored on spin.platform: "
                                                "the stack's name comes from the submission"]


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


def test_default_network_is_added_only_when_used():
    model, dummy = parse("services: {s: {image: x, networks: [front]}}\nnetworks: {front: {}}")
    assert list(model["networks"]) == ["front"]
    model, dummy = parse("services: {s: {image: x}, t: {image: x, networks: [front]}}\nnetworks: {front: {}}")
    assert list(model["networks"]) == ["front", "default"]
    model, dummy = parse("services: {s: {image: x}}\nnetworks: {default: {driver_opts: {encrypted: ''}}}")
    assert model["networks"]["default"]["driver_opts"] == {"encrypted": ""}
