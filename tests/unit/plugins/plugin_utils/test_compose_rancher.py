"""rancher-compose.yml: the per-service overlay and the load balancers (compose_rancher, and the
tables and _parse_lb in compose)."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import S, dig, messages, parse


# ---------------------------------------------------------------------------------------------
# rancher-compose overlay

RANCHER = [
    ("web: {scale: 3}", "deploy.replicas", 3),
    ("web: {start_on_create: false}", "deploy.replicas", 0),
    ("web: {start_on_create: false}", "start_on_create", False),
    ("web: {scale: 3, start_on_create: true}", "deploy.replicas", 3),
    ("web:\n    health_check: {port: 80, interval: 2000, healthy_threshold: 2, unhealthy_threshold: 3, "
     "response_timeout: 2000, request_line: GET /healthz HTTP/1.0, strategy: recreate, initializing_timeout: 60000}",
     "rancher_health_check",
     {"port": 80, "interval": 2 * S, "healthy_threshold": 2, "unhealthy_threshold": 3, "response_timeout": 2 * S,
      "request_line": "GET /healthz HTTP/1.0", "strategy": "recreate", "initializing_timeout": 60 * S}),
    ("web: {upgrade_strategy: {start_first: true, batch_size: 2, interval_millis: 1500}}", "deploy.update_config",
     {"parallelism": 2, "delay": 1500 * 10 ** 6, "failure_action": None, "monitor": None, "max_failure_ratio": None,
      "order": "start-first"}),
    ("web: {upgrade_strategy: {start_first: false}}", "deploy.update_config.order", "stop-first"),
]


@pytest.mark.parametrize("rancher, path, expected", RANCHER)
def test_rancher_overlay(rancher, path, expected):
    model, diagnostics = parse("services:\n  web: {image: x}\n", "services:\n  " + rancher + "\n")
    assert messages(diagnostics) == []
    assert dig(model["services"]["web"], path) == expected


RANCHER_ERRORS = [
    ("web: {scale: 3}", "rancher-compose.yml: service 'web': key 'scale': 3 conflicts with 'deploy.replicas' = 2 "
                        "in docker-compose.yml: give the value once"),
    ("web: {scale: -1}", "rancher-compose.yml: service 'web': key 'scale': must be 0 or more, not -1"),
    ("web: {upgrade_strategy: {batch_size: 5}}",
     "rancher-compose.yml: service 'web': key 'upgrade_strategy.batch_size': 5 conflicts with "
     "'deploy.update_config.parallelism' = 1 in docker-compose.yml: give the value once"),
    ("web: {upgrade_strategy: {start_frist: true}}",
     "rancher-compose.yml: service 'web': key 'upgrade_strategy.start_frist': unknown key (did you mean "
     "'start_first'?)"),
    ("web: {health_check: {interval: 2000}}",
     "rancher-compose.yml: service 'web': key 'health_check': needs a port (the container port to check)"),
    ("web: {health_check: {port: 80, interval: 2s}}",
     "rancher-compose.yml: service 'web': key 'health_check.interval': must be a number of milliseconds, not '2s'"),
    ("web: {external_ips: [1.2.3.4]}", "rancher-compose.yml: service 'web': key 'external_ips': not supported on "
                                       "spin.platform: external services are not supported"),
    ("web: {scael: 2}", "rancher-compose.yml: service 'web': key 'scael': unknown key (did you mean 'scale'?)"),
    ("wbe: {scale: 2}", "rancher-compose.yml: service 'wbe': is not a service of docker-compose.yml (did you mean "
                        "'web'?)"),
    ("web: [1]", "rancher-compose.yml: service 'web': must be a mapping, not a list"),
]


@pytest.mark.parametrize("rancher, expected", RANCHER_ERRORS)
def test_rancher_errors(rancher, expected):
    compose_yaml = "services:\n  web:\n    image: x\n    deploy: {replicas: 2, update_config: {parallelism: 1}}\n"
    _model, diagnostics = parse(compose_yaml, "services:\n  " + rancher + "\n")
    assert messages(diagnostics) == [expected]


def test_rancher_ignored_keys_warn():
    _model, diagnostics = parse("services:\n  web: {image: x}\n", "version: '2'\n.catalog: {name: x}\nservices:\n"
                                "  web: {retain_ip: true, metadata: {a: 1}}\n")
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "rancher-compose.yml: key '.catalog': warning: ignored on spin.platform: catalog entries are not used",
        "rancher-compose.yml: service 'web': key 'retain_ip': warning: ignored on spin.platform: Swarm gives each "
        "task its own address",
        "rancher-compose.yml: service 'web': key 'metadata': warning: ignored on spin.platform: there is no Rancher "
        "metadata service"]


# ---------------------------------------------------------------------------------------------
# load balancers

LB_COMPOSE = """
services:
  web: {image: httpd}
  api: {image: api}
  lb:
    image: rancher/lb-service-haproxy:v0.7.9
    ports: ['80:80', '443:443/tcp']
    labels: {io.rancher.container.agent.role: environmentAdmin}
"""
LB_RANCHER = """
services:
  lb:
    scale: 2
    lb_config:
      certs: [www]
      default_cert: www
      port_rules:
      - {source_port: 80, target_port: 80, service: web, hostname: www.example.org, path: /, priority: 1}
      - {source_port: 443, target_port: 8080, service: api, protocol: https}
      stickiness_policy: {cookie: SRV, mode: insert, indirect: true}
    health_check: {port: 42, interval: 2000, unhealthy_threshold: 3, healthy_threshold: 2, response_timeout: 2000}
"""


def test_load_balancer_is_not_a_service():
    model, diagnostics = parse(LB_COMPOSE, LB_RANCHER)
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "rancher-compose.yml: service 'lb': key 'scale': warning: ignored on a load balancer: spin.platform runs the "
        "load balancer itself"]
    assert list(model["services"]) == ["web", "api"]
    assert model["load_balancers"] == {"lb": {
        "ports": ["80:80", "443:443"],
        "port_rules": [
            {"source_port": 80, "target_port": 80, "service": "web", "hostname": "www.example.org", "path": "/",
             "priority": 1, "protocol": "http"},
            {"source_port": 443, "target_port": 8080, "service": "api", "hostname": None, "path": None,
             "priority": None, "protocol": "https"}],
        "stickiness": {"name": None, "cookie": "SRV", "domain": None, "indirect": "true", "nocache": None,
                       "postonly": None, "mode": "insert"},
        "certs": ["www"], "default_cert": "www",
        "health_check": {"port": 42, "interval": 2 * S, "healthy_threshold": 2, "unhealthy_threshold": 3,
                         "response_timeout": 2 * S, "request_line": None, "strategy": None,
                         "initializing_timeout": None}}}


def test_lb_config_alone_makes_a_load_balancer_and_ports_come_from_rules():
    model, diagnostics = parse("services:\n  web: {image: x}\n  front: {image: my/haproxy}\n",
                               "services:\n  front:\n    lb_config:\n      port_rules:\n"
                               "      - {source_port: 8080, target_port: 80, service: web}\n")
    assert diagnostics == []
    assert model["load_balancers"]["front"]["ports"] == ["8080:8080"]
    assert list(model["services"]) == ["web"]


def test_lb_image_without_lb_config_warns():
    model, diagnostics = parse("services:\n  lb: {image: 'rancher/lb-service-haproxy'}\n")
    assert model["load_balancers"]["lb"]["port_rules"] == []
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 'lb': warning: a load balancer without lb_config in rancher-compose.yml "
        "forwards nothing: add port_rules"]


LB_ERRORS = [
    ("- {source_port: 80, target_port: 80, service: wbe}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].service': service 'wbe' does not exist "
     "(did you mean 'web'?)"),
    ("- {source_port: 81, target_port: 80, service: web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].source_port': 81 is not among the load "
     "balancer's ports (80:80): add it to its ports in docker-compose.yml"),
    ("- {source_port: 80, target_port: 80, service: other/web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].service': 'other/web' names a service of "
     "another stack: a load balancer forwards only to services of its own stack"),
    ("- {source_port: 80, target_port: 80, selector: app=web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].selector': not supported on spin.platform: "
     "selectors are not supported; name the service"),
    ("- {source_port: 80, target_port: 80, service: web, protocol: ftp}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].protocol': must be one of http, https, tcp, "
     "tls, sni, udp, not 'ftp' (did you mean 'tcp'?)"),
    ("- {source_port: 80, service: web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0]': needs target_port"),
]


@pytest.mark.parametrize("rule, expected", LB_ERRORS)
def test_lb_errors(rule, expected):
    compose_yaml = "services:\n  web: {image: x}\n  lb: {image: rancher/lb-service-haproxy, ports: ['80:80']}\n"
    rancher = "services:\n  lb:\n    lb_config:\n      port_rules:\n      " + rule + "\n"
    _model, diagnostics = parse(compose_yaml, rancher)
    assert expected in messages(diagnostics)
    assert len(messages(diagnostics)) == 1 + ("selector" in rule)   # a rule without service also lacks one


def test_lb_custom_haproxy_config_is_refused():
    _model, diagnostics = parse("services:\n  lb: {image: rancher/lb-service-haproxy}\n",
                                "services:\n  lb:\n    lb_config: {config: 'global\\n  maxconn 1'}\n")
    assert messages(diagnostics) == [
        "rancher-compose.yml: service 'lb': key 'lb_config.config': not supported on spin.platform: custom HAProxy "
        "configuration would affect every tenant; ask the platform team"]


def test_depending_on_a_load_balancer_is_dropped_with_a_warning():
    model, diagnostics = parse("services:\n  web: {image: x, depends_on: [lb]}\n"
                               "  lb: {image: rancher/lb-service-haproxy}\n")
    assert model["services"]["web"]["depends_on"] == []
    assert "docker-compose.yml: service 'web': key 'depends_on': warning: 'lb' is a load balancer, not a service: " \
           "ignored" in messages(diagnostics, "warning")
