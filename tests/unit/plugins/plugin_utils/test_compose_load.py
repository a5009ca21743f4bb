"""compose_load, through parse_stack: a compose file's top level (its keys, the version, what is no
compose file at all) and the default network, added only when a service uses it."""
import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose_load
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import messages, parse


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


def test_default_network_is_added_only_when_used():
    model, dummy = parse("services: {s: {image: x, networks: [front]}}\nnetworks: {front: {}}")
    assert list(model["networks"]) == ["front"]
    model, dummy = parse("services: {s: {image: x}, t: {image: x, networks: [front]}}\nnetworks: {front: {}}")
    assert list(model["networks"]) == ["front", "default"]
    model, dummy = parse("services: {s: {image: x}}\nnetworks: {default: {driver_opts: {encrypted: ''}}}")
    assert model["networks"]["default"]["driver_opts"] == {"encrypted": ""}


@pytest.mark.parametrize("profiles, env, active", [
    (["debug", "tools"], {"COMPOSE_PROFILES": "other"}, ["debug", "tools"]),   # given wins over the variable
    ([], {"COMPOSE_PROFILES": "debug"}, []),                                   # given empty: none at all
    (None, {"COMPOSE_PROFILES": "debug, tools"}, ["debug", "tools"]),
    (None, {"COMPOSE_PROFILES": " debug,,tools , "}, ["debug", "tools"]),
    (None, {"COMPOSE_PROFILES": ""}, []),
    (None, {}, []),
    (None, None, []),
    (["*"], None, ["*"]),
    ([" ", "x"], None, ["x"]),
])
def test_active_profiles_as_compose_reads_them(profiles, env, active):
    assert compose_load.active_profiles(profiles, env) == active


def test_the_empty_model_is_new_each_time():
    first, second = compose_load.empty_model(), compose_load.empty_model()
    first["services"]["s"] = {}
    assert second["services"] == {} and set(second) >= {"services", "networks", "volumes", "secrets", "configs"}


def test_the_default_network_is_the_stacks_own_overlay_as_docker_stack_deploy_makes_it():
    network = compose_load.default_network()
    assert (network["driver"], network["external"], network["internal"], network["name"]) == (
        "overlay", False, False, None)
    network["labels"]["x"] = "y"
    assert compose_load.default_network()["labels"] == {}
