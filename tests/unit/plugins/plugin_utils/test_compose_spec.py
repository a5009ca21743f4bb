"""The parser as a whole: the seed example, robustness (no input crashes it), the official
compose-spec schema, and docs/compose-keys.md's list of keys."""
import json
import os

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.plugin_utils import compose_text
from ansible_collections.spin.platform.plugins.plugin_utils import compose_checks
from ansible_collections.spin.platform.plugins.plugin_utils import compose_keys_deploy
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import ROOT, SEED


# ---------------------------------------------------------------------------------------------
# the seed example of the NERSC Spin overview

def _read(name):
    with open(os.path.join(SEED, name)) as handle:
        return handle.read()


def test_seed_example():
    model, diagnostics = compose.parse_stack(_read("docker-compose.yml"), "docker-compose.yml",
                                             _read("rancher-compose.yml"), "rancher-compose.yml",
                                             read_file=compose_text.make_dir_reader(SEED), env={})
    assert diagnostics == []
    web, db = model["services"]["web"], model["services"]["db"]
    assert list(model["services"]) == ["web", "db"]
    assert (web["image"], web["deploy"]["replicas"], web["links"]) == ("httpd", 2, {"db": ["db"]})
    assert web["ports"] == [] and web["tty"] is True and db["tty"] is True
    assert (db["image"], db["deploy"]["replicas"]) == ("mysql", 1)
    assert db["environment"] == {"MYSQL_DATABASE": "magic", "MYSQL_USER": "cory", "MYSQL_PASSWORD": "MyOwnPass"}
    assert web["networks"] == db["networks"] == {"default": {"aliases": []}}
    assert list(model["networks"]) == ["default"]
    assert model["load_balancers"] == {} and model["volumes"] == {}
    assert compose_checks.start_order(model["services"]) == (["db", "web"], None)


# ---------------------------------------------------------------------------------------------
# robustness: no input crashes the parser

ODD_VALUES = [None, 1, -1, 1.5, True, "x", "", "a:b:c:d", [], {}, [None], [1], [[1]], [{}], ["a"], {"a": None},
              {"a": [1]}, {"a": {"b": 1}}]


@pytest.mark.parametrize("key", compose.ALL_SERVICE_KEYS + ["unknown_key"])
def test_any_value_of_any_key_gives_diagnostics_not_exceptions(key):
    for value in ODD_VALUES:
        model, _diagnostics = compose.parse_stack(json.dumps({"services": {"s": {"image": "x", key: value}}}),
                                                  "dc.yml")
        json.dumps(model)


# ---------------------------------------------------------------------------------------------
# the official compose-spec schema: not part of the project, read from ../shared/compose-spec/ beside the
# checkout (tests/utils/collection-tree.sh's copy names its checkout in tests/output/spin-checkout)

SCHEMA = os.path.join("..", "shared", "compose-spec", "compose-spec.json")


def schema_path(root=ROOT):
    """The schema beside the checkout, or None."""
    roots = [root]
    marker = os.path.join(root, "tests", "output", "spin-checkout")
    if os.path.isfile(marker):
        with open(marker) as handle:
            roots.append(handle.read().strip())
    found = [os.path.join(r, SCHEMA) for r in roots if os.path.isfile(os.path.join(r, SCHEMA))]
    return os.path.normpath(found[0]) if found else None


@pytest.fixture(scope="module")
def schema():
    path = schema_path()
    if path is None:
        pytest.skip("the compose-spec schema tests did not run: %s is not beside the checkout" % SCHEMA)
    with open(path) as handle:
        return json.load(handle)


def _validator(schema):
    import jsonschema
    return jsonschema.Draft7Validator(schema)   # the schema names draft-07 (without the trailing '#')


def _unknown(diagnostics):
    return [d for d in diagnostics if d["message"].startswith("unknown key")]


def _nested(schema, name):
    return schema["definitions"][name]["properties"]


def test_every_service_key_of_the_schema_is_handled_or_refused(schema):
    properties = schema["definitions"]["service"]["properties"]
    assert len(properties) > 80
    for key in properties:
        _model, diagnostics = compose.parse_stack(json.dumps({"services": {"s": {"image": "x", key: None}}}),
                                                  "dc.yml")
        assert _unknown(diagnostics) == [], key
    assert set(properties) <= set(compose.ALL_SERVICE_KEYS)


NESTED = [
    # (definition or service property, where to put the key, yaml builder)
    ("deployment", lambda k: {"services": {"s": {"image": "x", "deploy": {k: None}}}}),
    ("healthcheck", lambda k: {"services": {"s": {"image": "x", "healthcheck": {k: None}}}}),
    ("network", lambda k: {"services": {"s": {"image": "x"}}, "networks": {"n": {k: None}}}),
    ("volume", lambda k: {"services": {"s": {"image": "x"}}, "volumes": {"v": {k: None}}}),
    ("secret", lambda k: {"services": {"s": {"image": "x"}}, "secrets": {"v": {k: None}}}),
    ("config", lambda k: {"services": {"s": {"image": "x"}}, "configs": {"v": {k: None}}}),
]


@pytest.mark.parametrize("definition, build", NESTED, ids=[n[0] for n in NESTED])
def test_nested_keys_of_the_schema_are_known(schema, definition, build):
    for key in _nested(schema, definition):
        _model, diagnostics = compose.parse_stack(json.dumps(build(key)), "dc.yml")
        assert _unknown(diagnostics) == [], (definition, key)


def _service_property(schema, key):
    return schema["definitions"]["service"]["properties"][key]


def test_long_syntax_keys_of_the_schema_are_known(schema):
    ports = _service_property(schema, "ports")["items"]["oneOf"][2]["properties"]
    volumes = _service_property(schema, "volumes")["items"]["oneOf"][1]["properties"]
    refs = schema["definitions"]["service_config_or_secret"]["items"]["oneOf"][1]["properties"]
    networks = _service_property(schema, "networks")["oneOf"][1]["patternProperties"]
    networks = list(networks.values())[0]["oneOf"][0]["properties"]
    logging = _service_property(schema, "logging")["properties"]
    deploy = _nested(schema, "deployment")
    cases = [("ports", k, {"target": 80, k: None}) for k in ports]
    cases += [("volumes", k, {"type": "volume", "target": "/x", k: None}) for k in volumes]
    cases += [("secrets", k, {"source": "a", k: None}) for k in refs]
    cases += [("logging", k, {"driver": "x", k: None}) for k in logging]
    cases += [("networks", k, {"n": {k: None}}) for k in networks]
    cases += [("deploy", k, {"resources": {k: None}}) for k in deploy["resources"]["properties"]]
    cases += [("deploy", k, {"resources": {"limits": {k: None}}})
              for k in deploy["resources"]["properties"]["limits"]["properties"]]
    cases += [("deploy", k, {"resources": {"reservations": {k: None}}})
              for k in deploy["resources"]["properties"]["reservations"]["properties"]]
    cases += [("deploy", k, {"placement": {k: None}}) for k in deploy["placement"]["properties"]]
    cases += [("deploy", k, {"update_config": {k: None}}) for k in deploy["update_config"]["properties"]]
    cases += [("deploy", k, {"restart_policy": {k: None}}) for k in deploy["restart_policy"]["properties"]]
    for key, sub, value in cases:
        value = [value] if key in ("ports", "volumes", "secrets") else value
        _model, diagnostics = compose.parse_stack(json.dumps({"services": {"s": {"image": "x", key: value}}}),
                                                  "dc.yml")
        assert _unknown(diagnostics) == [], (key, sub)


SCHEMA_INVALID = [
    {"services": {"web": {"image": ["httpd"]}}},
    {"services": {"web": {"image": "x", "ports": "80:80"}}},
    {"services": {"web": {"image": "x", "imagee": "x"}}},
    {"services": {"web": {"image": "x"}}, "servics": {}},
    {"services": {"web": {"image": "x", "deploy": {"replicas": [1]}}}},
    {"services": {"web": {"image": "x", "deploy": {"replica": 1}}}},
    {"services": {"web": {"image": "x", "deploy": {"update_config": {"order": "sideways"}}}}},
    {"services": {"web": {"image": "x", "healthcheck": {"test": 5}}}},
    {"services": {"web": {"image": "x", "environment": 5}}},
    {"services": {"web": {"image": "x", "volumes": [{"type": "weird", "target": "/x"}]}}},
    {"services": {"web": {"image": "x", "depends_on": {"db": {"condition": "sometimes"}}}, "db": {"image": "y"}}},
    {"services": {"web": {"image": "x", "cap_add": "NET_ADMIN"}}},
    {"services": {"web": {"image": "x", "restart": ["always"]}}},
    {"services": {"web": {"image": "x", "networks": {"front": {"aliases": "www"}}}}, "networks": {"front": {}}},
    {"services": {"web": {"image": "x"}}, "networks": {"front": {"driver": ["overlay"]}}},
    {"services": {"web": {"image": "x"}}, "volumes": {"data": {"external": 5}}},
    {"services": {"web": {"image": "x"}}, "secrets": {"pw": {"file": ["a"]}}},
    {"services": {"bad name!": {"image": "x"}}},
    {"services": {"web": {"image": "x", "logging": {"drivr": "syslog"}}}},
    {"services": {"web": {"image": "x", "ports": [{"target": 80, "publish": 80}]}}},
    {"services": {"web": {"image": "x", "extends": {"file": "x.yml"}}}},
    {"services": {"web": {"image": "x", "stop_grace_period": 10}}},
]


@pytest.mark.parametrize("document", SCHEMA_INVALID, ids=[str(i) for i in range(len(SCHEMA_INVALID))])
def test_schema_invalid_files_are_not_accepted_silently(schema, document):
    assert list(_validator(schema).iter_errors(document)), "the case itself must be schema-invalid"
    _model, diagnostics = compose.parse_stack(json.dumps(document), "dc.yml")
    assert diag.has_errors(diagnostics), document


def test_schema_valid_examples_parse_cleanly(schema):
    import yaml
    validator = _validator(schema)
    for name in ("docker-compose.yml",):
        text = _read(name)
        validator.validate(yaml.safe_load(text))
        _model, diagnostics = compose.parse_stack(text, name)
        assert diagnostics == []


# ---------------------------------------------------------------------------------------------
# docs/compose-keys.md lists every key the parser knows

def test_compose_keys_doc_lists_every_key():
    with open(os.path.join(ROOT, "docs", "compose-keys.md")) as handle:
        doc = handle.read()
    keys = set(compose.ALL_SERVICE_KEYS) | set(compose.ALL_RANCHER_KEYS) | set(compose.TOP_KEYS) \
        | set(compose.TOP_REFUSED) | set(compose.TOP_IGNORED) | set(compose_keys_deploy.DEPLOY_KEYS)
    missing = sorted(k for k in keys if "`%s`" % k not in doc)
    assert missing == []
