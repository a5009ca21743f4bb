"""compose_checks, through parse_stack: what is judged across services once every key is read: a port
published twice, services that depend on each other in a loop."""
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import messages, parse


def test_published_port_twice():
    text = "services:\n  a: {image: x, ports: ['80:80']}\n  b: {image: x, ports: ['80:8080', '80:80/udp']}\n"
    _model, diagnostics = parse(text)
    assert messages(diagnostics) == ["docker-compose.yml: service 'b': key 'ports': port 80/tcp is already "
                                     "published by service 'a'"]


def test_dependency_cycle_is_an_error():
    text = "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, links: [c]}\n  c: {image: x, " \
           "depends_on: {a: {condition: service_started}}}\n"
    _model, diagnostics = parse(text)
    assert messages(diagnostics) == ["docker-compose.yml: service 'a': key 'depends_on': services depend on each "
                                     "other in a loop: a -> b -> c -> a; remove one depends_on or link"]
