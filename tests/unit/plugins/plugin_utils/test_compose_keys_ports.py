"""compose_keys_ports, through parse_stack: ports (short and long syntax, ranges, host_ip) and expose
(input -> model, and the exact diagnostics)."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    check_error, check_supported_key, check_warning)


SUPPORTED = [
    ("ports: ['8080:80']", "ports", [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: [80]", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: ['80']", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: ['10.0.0.5:53:53/udp']", "ports", [{"target": 53, "published": 53, "protocol": "udp",
                                                 "mode": "ingress"}]),
    ("ports: ['0.0.0.0::80']", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    # bound to the host's loopback: Compose publishes it to the host only, spin.platform not at all
    ("ports: ['[::1]:8080:80', '127.0.0.1:53:53/udp']", "ports", []),
    ("ports: ['[::1]:8080:80', '127.0.0.1:53:53/udp']", "loopback_ports", [80, 53]),
    ("ports: ['9000-9001:8000-8001']", "ports",
     [{"target": 8000, "published": 9000, "protocol": "tcp", "mode": "ingress"},
      {"target": 8001, "published": 9001, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: ['8000-8001']", "ports", [{"target": 8000, "published": None, "protocol": "tcp", "mode": "ingress"},
                                       {"target": 8001, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: [{target: 80, published: '8080', protocol: udp, mode: host}]", "ports",
     [{"target": 80, "published": 8080, "protocol": "udp", "mode": "host"}]),
    ("ports: [{target: 80}]", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("expose: [3000, '4000/tcp', '5000-5001']", "expose", [3000, 4000, 5000, 5001]),
]


@pytest.mark.parametrize("body, path, expected", SUPPORTED)
def test_supported_key(body, path, expected):
    check_supported_key(body, path, expected)


ERRORS = [
    ("ports: '80:80'", ["key 'ports': must be a list, not a string"]),
    ("ports: [x]", ["key 'ports[0]': 'x' is not a port mapping: write it like 8080:80, 80 or 127.0.0.1:8080:80/udp"]),
    ("ports: ['70000:80']", ["key 'ports[0]': must be 65535 or less, not 70000"]),
    ("ports: ['80:80/tcpx']", ["key 'ports[0]': must be one of tcp, udp, sctp, not 'tcpx' (did you mean 'tcp'?)"]),
    ("ports: ['80-82:90']", ["key 'ports[0]': '80-82:90': the published and container port ranges must have the "
                             "same length"]),
    ("ports: ['1-200']", ["key 'ports[0]': port range '1-200' has more than 100 ports"]),
    ("ports: [{published: 80}]", ["key 'ports[0]': needs a target (the container port)"]),
    ("ports: [{target: 80, mode: bridge}]", ["key 'ports[0].mode': must be one of ingress, host, not 'bridge'"]),
    ("ports: [{target: 80, publish: 80}]", ["key 'ports[0].publish': unknown key (did you mean 'published'?)"]),
    ("expose: [http]", ["key 'expose[0]': must be a port number, not 'http'"]),
]


@pytest.mark.parametrize("body, expected", ERRORS)
def test_error(body, expected):
    check_error(body, expected)


WARNINGS = [
    ("ports: ['10.1.2.3:8080:80']", "key 'ports[0]': warning: host IP '10.1.2.3' is ignored: the platform load "
                                    "balancer publishes the port"),
    ("ports: [{target: 80, published: 8080, host_ip: 127.0.0.1}]",
     "key 'ports[0].host_ip': warning: bound to 127.0.0.1: in Compose only the host itself reaches it, so "
     "spin.platform publishes nothing for it (the stack's services reach 's' on port 80 by name)"),
]


@pytest.mark.parametrize("body, expected", WARNINGS)
def test_warning(body, expected):
    check_warning(body, expected)
