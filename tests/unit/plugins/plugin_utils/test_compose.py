"""The compose parser's own file (compose.py) through parse_stack: extension keys, unknown, refused and
ignored keys, a missing image, a service's name, every error at once across services and files. Each
service key's handler is tested in the file named after its module (test_compose_keys_*.py, docs/design.md)."""
import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    check_error, check_supported_key, messages, parse, service_doc)


SUPPORTED = [
    ("x-note: anything", "image", "img"),
]


@pytest.mark.parametrize("body, path, expected", SUPPORTED)
def test_supported_key(body, path, expected):
    check_supported_key(body, path, expected)


ERRORS = [
    ("imagee: x", ["key 'imagee': unknown key (did you mean 'image'?)"]),
    ("enviroment: {}", ["key 'enviroment': unknown key (did you mean 'environment'?)"]),
    ("frobnicate: 1", ["key 'frobnicate': unknown key"]),
]


@pytest.mark.parametrize("body, expected", ERRORS)
def test_error(body, expected):
    check_error(body, expected)


def test_missing_image():
    _model, diagnostics = parse("services:\n  s:\n    command: x\n")
    assert messages(diagnostics) == ["docker-compose.yml: service 's': key 'image': missing: every service needs "
                                     "an image"]


@pytest.mark.parametrize("key", sorted(compose.REFUSED_KEYS))
def test_refused_keys_are_named(key):
    _model, diagnostics = parse(service_doc("%s: x" % key))
    assert messages(diagnostics) == ["docker-compose.yml: service 's': key '%s': not supported on spin.platform: %s"
                                     % (key, compose.REFUSED_KEYS[key])]


@pytest.mark.parametrize("key", sorted(compose.IGNORED_KEYS))
def test_ignored_keys_warn(key):
    model, diagnostics = parse(service_doc("%s: x" % key))
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 's': key '%s': warning: ignored on spin.platform: %s"
        % (key, compose.IGNORED_KEYS[key])]


def test_all_errors_at_once_across_services_and_files():
    text = "services:\n  a:\n    imagee: x\n  b:\n    image: x\n    ports: [x]\n    deploy: {replicas: -1}\n" \
           "nets: {}\n"
    rancher = "services:\n  b:\n    scael: 2\n  c: {}\n"
    _model, diagnostics = parse(text, rancher)
    assert messages(diagnostics) == [
        "docker-compose.yml: key 'nets': unknown key (did you mean 'networks'?)",
        "docker-compose.yml: service 'a': key 'imagee': unknown key (did you mean 'image'?)",
        "docker-compose.yml: service 'a': key 'image': missing: every service needs an image",
        "docker-compose.yml: service 'b': key 'ports[0]': 'x' is not a port mapping: write it like 8080:80, 80 or "
        "127.0.0.1:8080:80/udp",
        "docker-compose.yml: service 'b': key 'deploy.replicas': must be 0 or more, not -1",
        "rancher-compose.yml: service 'b': key 'scael': unknown key (did you mean 'scale'?)",
        "rancher-compose.yml: service 'c': is not a service of docker-compose.yml",
    ]


def test_invalid_service_name():
    _model, diagnostics = parse("services:\n  'web server': {image: x}\n")
    assert messages(diagnostics) == ["docker-compose.yml: service 'web server': 'web server' is not a valid service "
                                     "name: use letters, digits, '_', '.' and '-', starting with a letter or digit"]
