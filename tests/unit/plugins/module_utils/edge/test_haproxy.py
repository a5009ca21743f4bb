"""haproxy.py: a stack's ports and lb_config -> routes, every stack's routes -> haproxy.cfg."""
import re

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import claims, haproxy
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import platform
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import rule as lb_rule
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.routes_docs import (
    MS, PROMETHEUS, ROUTE_DOMAIN_CASES, ep, lbs, page, rule)


@pytest.mark.parametrize("given, fragment", [
    ({"nonsense": 1}, "unknown load balancer platform variable 'nonsense'"),
    ({"ports": ["80-x"]}, "lb_ports"),
    ({"stats_port": 8001}, "lb_stats_port 8001 is also a port tenants may claim"),
    ({"servers": 0}, "lb_servers"),
    ({"edge_service": "bad name"}, "lb_edge_service"),
    ({"config_dir": "relative/dir"}, "lb_config_dir"),
    ({"hard_stop_after": "soon"}, "lb_hard_stop_after"),
    ({"stats_password": "a b"}, "lb_stats_password"),
    ({"stats_bind": "localhost"}, "lb_stats_bind"),
    ({"certificates": [{"name": "x"}]}, "lb_certificates[0]"),
])
def test_platform_refuses(given, fragment):
    with pytest.raises(SpinError) as err:
        haproxy.normalise_platform(given)
    assert fragment in err.value.message


def test_platform_normalising_twice_is_harmless():
    once = haproxy.normalise_platform({"ports": [80, "8000-8001"]})
    assert haproxy.normalise_platform(once) == once
    assert once["port_set"] == [80, 8000, 8001]


def test_stack_network():
    assert haproxy.stack_network(haproxy.normalise_platform({"network_prefix": "x-"}), "magic") == "x-magic"


def test_platform_from_vars_takes_only_set_spin_lb_variables():
    variables = {"spin_lb_ports": [80], "spin_lb_servers": "{{ 5 }}", "spin_lb_nonsense": 1, "lb_ports": [1],
                 "spin_lb_hostnames": None}
    out = haproxy.platform_from_vars(variables, template=lambda v: 5 if v == "{{ 5 }}" else v)
    assert out == {"ports": [80], "servers": 5}


def test_endpoint_becomes_a_whole_port_http_route():
    d = haproxy.stack_routes("cory", "magic", endpoints=[ep("web", 8000), {"service": "magic_api", "target": 8080,
                                                                           "published": 8001, "protocol": "tcp"}])
    assert [(r["rule"], r["origin"], r["port"], r["protocol"], r["hostname"], r["service"], r["target_port"])
            for r in d["routes"]] == [
        (1, "service 'web' ports[0]", 8000, "http", None, "web", 80),
        (2, "service 'api' ports[0]", 8001, "http", None, "api", 8080)]
    assert d["tenant"] == "cory" and d["stack"] == "magic" and d["network"] is None
    assert haproxy.public_services(d) == ["api", "web"]


def test_port_rules_keep_hostname_path_priority():
    d = haproxy.stack_routes("t", "s", load_balancers=lbs(
        rule(hostname="WWW.Example.org", path="/api", priority=3, target=8080, service="api"),
        rule(hostname="*.example.org", path="/")))
    first, second = d["routes"]
    assert (first["hostname"], first["path"], first["priority"], first["service"]) == (
        "www.example.org", "/api", 3, "api")
    assert (second["hostname"], second["path"]) == ("*.example.org", None)
    assert first["origin"] == "load balancer 'lb' lb_config.port_rules[0]"


@pytest.mark.parametrize("kwargs, key, fragment", [
    ({"endpoints": [ep("dns", None, target=53, protocol="udp")]}, "ports[0]",
     "give the port the service publishes on its node, like '53:53/udp'"),
    ({"endpoints": [ep("dns", 53, target=53, protocol="udp")]}, "ports[0]",
     "port 53 is not one the platform lets stacks publish"),
    ({"endpoints": [ep("web", 8000, protocol="sctp")]}, "ports[0]", "only TCP ports are forwarded"),
    ({"endpoints": [ep("web", None)]}, "ports[0]", "give the port the load balancer publishes"),
    ({"endpoints": [ep("web", 25)]}, "ports[0]", "port 25 is not one the platform lets stacks publish"),
    ({"load_balancers": lbs(rule(hostname="bad host"))}, "lb_config.port_rules[0].hostname", "is not a hostname"),
    ({"load_balancers": lbs(rule(hostname="a.example.org"))}, "lb_config.port_rules[0].hostname",
     "is not one the platform serves"),
    ({"load_balancers": lbs(rule(path="/a b"))}, "lb_config.port_rules[0].path", "is not a path"),
    ({"load_balancers": lbs(rule(path="/x#y"))}, "lb_config.port_rules[0].path", "is not a path"),
    ({"load_balancers": lbs(rule(path="/x}"))}, "lb_config.port_rules[0].path", "is not a path"),
    ({"load_balancers": lbs(rule(protocol="tcp", source=8000, hostname="a.spin.test"))}, "lb_config.port_rules[0]",
     "forwards a whole port"),
    ({"load_balancers": lbs(rule(protocol="sni"))}, "lb_config.port_rules[0].protocol", "pass-through by SNI"),
    ({"load_balancers": lbs(rule(protocol="udp"))}, "lb_config.port_rules[0].protocol", "UDP"),
    ({"load_balancers": lbs(rule(protocol="https", source=443))}, "lb_config.port_rules[0].protocol",
     "the platform has no TLS certificate"),
    ({"load_balancers": lbs(rule(source=8000), rule(source=8000, protocol="tcp", service="db"))},
     "lb_config.port_rules[1].protocol", "port 8000 is http in rule 1"),
    ({"load_balancers": lbs(rule(source=8000, protocol="tcp"), rule(source=8000, protocol="tcp", service="db"))},
     "lb_config.port_rules[1]", "a tcp port forwards to one service"),
    ({"load_balancers": lbs(rule(hostname="a.spin.test"), rule(hostname="a.spin.test", service="api"))},
     "lb_config.port_rules[1]", "already routes port 80 host a.spin.test"),
    ({"load_balancers": lbs(rule(), stickiness={"mode": "prefix", "cookie": "X"})},
     "lb_config.stickiness_policy.mode", "mode 'prefix' is not supported"),
    ({"load_balancers": lbs(rule(), stickiness={"cookie": "a;b"})}, "lb_config.stickiness_policy.cookie",
     "is not a cookie name"),
    ({"load_balancers": lbs(rule(), default_cert="tenant-cert")}, "lb_config.default_cert",
     "certificate 'tenant-cert' is not one of the platform's"),
    ({"load_balancers": lbs(rule()), "health_checks": {"web": {"port": 80, "request_line": "GET"}}},
     "health_check.request_line", "is not an HTTP request line"),
])
def test_stack_routes_refuses(kwargs, key, fragment):
    platform = {"hostnames": ["*.spin.test"], "ports": [80, 443, "8000-8001"]}
    with pytest.raises(SpinError) as err:
        haproxy.stack_routes("t", "s", platform=platform, files={"compose": "dc.yml", "rancher": "rc.yml"},
                             **kwargs)
    diags = err.value.diagnostics
    assert len(diags) == 1, diags
    assert diags[0]["key"] == key
    assert fragment in diags[0]["message"]
    assert diags[0]["file"] in ("dc.yml", "rc.yml")
    assert fragment in err.value.message and "stack 's'" in err.value.message


def test_a_udp_port_is_claimed_like_the_edges_ports_and_never_served_by_the_edge():
    """Issue 18: UDP is published by the service itself (host mode); the stack claims the port as it
    claims a TCP one, and a UDP and a TCP port of one number do not meet."""
    platform = {"hostnames": ["*.spin.test"], "ports": [80, 443, "8000-8001"]}
    doc = haproxy.stack_routes("t", "s", [ep("web", 8000), ep("dns", 8000, target=53, protocol="udp")],
                               platform=platform)
    assert [(r["protocol"], r["port"], r["service"]) for r in doc["routes"]] == [("http", 8000, "web"),
                                                                                 ("udp", 8000, "dns")]
    assert haproxy.public_services(doc) == ["web"] and list(doc["aliases"]) == ["web"]
    assert [r["protocol"] for r in haproxy.edge_routes(doc)["routes"]] == ["http"]
    other = haproxy.stack_routes("u", "o", [ep("ntp", 8000, target=123, protocol="udp")], platform=platform)
    assert [why for _route, why in claims.claim_conflicts(other, [doc])] == [
        "port 8000 is held by stack 's' (tenant 't')"]
    tcp = haproxy.stack_routes("u", "o", [ep("api", 8001)], platform=platform)
    assert claims.claim_conflicts(tcp, [doc]) == []


def test_a_refused_port_says_what_would_let_it_through():
    platform = {"hostnames": ["*.spin.test"], "ports": [80, 443, "8000-8001"]}
    with pytest.raises(SpinError) as err:
        haproxy.stack_routes("t", "s", [ep("ssh", 2222, target=22)], platform=platform,
                             allowance={"tenant": "t", "ports": {8000}, "hostnames": None})
    assert err.value.diagnostics[0]["message"] == (
        "port 2222 is not one the platform lets stacks publish: use one of 80, 443, 8000-8001 (the platform variable "
        "lb_ports); infra staff let it through by adding 2222 to spin_lb_ports and to tenant 't''s ports "
        "(spin_tenants.t.ports)")


def test_stack_routes_reports_every_problem_at_once():
    with pytest.raises(SpinError) as err:
        haproxy.stack_routes("t", "s", endpoints=[ep("web", 25), ep("api", 26)],
                             load_balancers=lbs(rule(hostname="bad host")))
    assert [d["key"] for d in err.value.diagnostics] == ["ports[0]", "ports[0]", "lb_config.port_rules[0].hostname"]
    assert [d["service"] for d in err.value.diagnostics] == ["web", "api", "lb"]


def test_same_hostname_and_path_with_different_priorities_is_allowed():
    d = haproxy.stack_routes("t", "s", load_balancers=lbs(rule(hostname="a.b", priority=1),
                                                          rule(hostname="a.b", priority=2, service="api")))
    assert len(d["routes"]) == 2


@pytest.mark.parametrize("hc, expected", [
    (None, None),
    ({"port": 80, "interval": 2000 * MS, "healthy_threshold": 2, "unhealthy_threshold": 3,
      "response_timeout": 500 * MS, "request_line": 'GET "/healthz" "HTTP/1.0"'},
     {"port": 80, "inter_ms": 2000, "timeout_ms": 500, "rise": 2, "fall": 3,
      "request": {"method": "GET", "uri": "/healthz", "version": "HTTP/1.0"}}),
    ({"port": 81, "interval": None, "healthy_threshold": None, "unhealthy_threshold": None,
      "response_timeout": None, "request_line": None},
     {"port": 81, "inter_ms": 2000, "timeout_ms": 2000, "rise": 2, "fall": 3, "request": None}),
    ({"port": 80, "request_line": "head /ok HTTP/1.1"},
     {"port": 80, "inter_ms": 2000, "timeout_ms": 2000, "rise": 2, "fall": 3,
      "request": {"method": "HEAD", "uri": "/ok", "version": "HTTP/1.1"}}),
])
def test_rancher_health_check_becomes_haproxy_check(hc, expected):
    d = haproxy.stack_routes("t", "s", endpoints=[ep("web", 80)], health_checks={"web": hc} if hc else None)
    assert d["routes"][0]["check"] == expected


@pytest.mark.parametrize("given, expected", [
    ({"cookie": None}, {"cookie": "SPIN_LB", "indirect": True, "nocache": True, "postonly": False, "domain": None}),
    ({"cookie": "MAGIC", "indirect": "false", "nocache": "false", "postonly": "true", "domain": ".Example.org"},
     {"cookie": "MAGIC", "indirect": False, "nocache": False, "postonly": True, "domain": ".example.org"}),
])
def test_stickiness(given, expected):
    d = haproxy.stack_routes("t", "s", load_balancers=lbs(rule(), rule(source=8000, protocol="tcp", service="db"),
                                                          stickiness=given))
    assert d["routes"][0]["sticky"] == expected
    assert d["routes"][1]["sticky"] is None  # cookies need HTTP


@pytest.mark.parametrize("a, b", [
    (("cory", "magic", "web"), ("eve", "magic", "web")),      # the tenant is part of the name
    (("cory", "magic", "web"), ("cory", "magic", "api")),
    (("cory", "a-b", "c"), ("cory", "a", "b-c")),            # no two names run together
    (("cory", "magic", "web"), ("cory", "magicw", "eb")),
])
def test_platform_aliases_are_distinct(a, b):
    assert haproxy.backend_alias(*a) != haproxy.backend_alias(*b)


@pytest.mark.parametrize("parts", [("cory", "magic", "web"), ("a" * 32, "b" * 24, "c_" * 16)])
def test_a_platform_alias_is_no_name_a_tenant_can_write(parts):
    """Swarm service names all have a '_' (<stack>_<service>); a tenant's host name registers as it is,
    never with Swarm's 'tasks.' (and one starting with 'tasks.' is refused by the compose parser); a
    tenant's network aliases never reach the load balancer network. A DNS label of at most 63."""
    alias = haproxy.backend_alias(*parts)
    assert re.match(r"^spin-be-[0-9a-f]+$", alias) and len(alias) <= 63 and "_" not in alias


@pytest.mark.parametrize("allowance", [None, {"tenant": "eve", "ports": None, "hostnames": ["*.localhost"]}])
@pytest.mark.parametrize("tenant, hostname, domain, taken", [c for c in ROUTE_DOMAIN_CASES if c[3]])
def test_a_rule_under_another_tenants_route_domain_is_refused(tenant, hostname, domain, taken, allowance):
    with pytest.raises(SpinError) as err:
        haproxy.stack_routes(tenant, "s", load_balancers=lbs(rule(hostname=hostname)), route_domain=domain,
                             files={"compose": "docker-compose.yml", "rancher": "rancher-compose.yml"},
                             allowance=allowance)
    message = err.value.message
    assert ("rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].hostname': hostname '%s' is inside %s "
            "under the route domain '%s'" % (hostname, taken, domain)) in message, message
    assert "use a name under '%s.%s' (like www.%s.%s) or a domain of your own" % (
        tenant, domain, tenant, domain) in message, message


@pytest.mark.parametrize("tenant, hostname, domain, taken", [c for c in ROUTE_DOMAIN_CASES if not c[3]])
def test_a_rule_inside_the_tenants_own_names_or_outside_the_route_domain_is_allowed(tenant, hostname, domain, taken):
    d = haproxy.stack_routes(tenant, "s", load_balancers=lbs(rule(hostname=hostname)), route_domain=domain)
    assert [r["hostname"] for r in d["routes"]] == [hostname]
    assert d["route_domain"] == domain


def test_the_route_domain_rule_holds_by_default_for_the_platforms_domain():
    with pytest.raises(SpinError, match="inside tenant 'cory''s names under the route domain 'localhost'"):
        haproxy.stack_routes("eve", "s", load_balancers=lbs(rule(hostname="*.cory.localhost")))


# the platform's own page on the edge (the monitoring role's Prometheus), at the route domain itself

def test_a_platform_page_sits_on_the_route_domain_itself_behind_the_password():
    doc = page()
    assert doc["tenant"] == claims.PLATFORM_TENANT and doc["stack"] == "spin_monitoring"
    (route,) = doc["routes"]
    expected = ("spin.example.org", "/prometheus", 80, True)
    assert (route["hostname"], route["path"], route["port"], route["auth"]) == expected
    assert doc["aliases"] == {"prometheus": haproxy.backend_alias("_platform", "spin_monitoring", "prometheus")}


@pytest.mark.parametrize("name, routes, message", [
    ("monitoring", PROMETHEUS, "must hold a '_'"),
    ("spin_monitoring", [{"service": "prometheus", "target_port": 9090, "path": "/"}], "is not a path like /prometheus"),
    ("spin_monitoring", [{"service": "prometheus", "target_port": 9090, "hostname": "*.x.org"}], "is not a host name"),
    ("spin_monitoring", [{"service": "", "target_port": 9090}], "give the service"),
])
def test_a_platform_page_is_checked(name, routes, message):
    with pytest.raises(SpinError, match=message.replace("*", r"\*")):
        haproxy.platform_routes(name, routes, "localhost")


def test_no_tenant_may_hold_the_route_domain_and_the_platform_page_is_served():
    # a tenant's rule for the domain itself is refused before it is stored ...
    with pytest.raises(SpinError, match="inside every tenant's names"):
        haproxy.stack_routes("cory", "magic", load_balancers={"lb": {"port_rules": [lb_rule("spin.example.org")]}},
                             platform=platform(), route_domain="spin.example.org")
    # ... and the platform's page, stored under its own owner, is served (not a trespass)
    served, left_out = claims.served_routes([page()])
    assert left_out == [] and served[0]["routes"][0]["hostname"] == "spin.example.org"


@pytest.mark.parametrize("route, public_host, url", [
    ({"service": "web", "protocol": "http", "port": 80, "hostname": "web.seed.demo.localhost", "path": None}, None,
     "web: http://web.seed.demo.localhost/"),
    ({"service": "api", "protocol": "https", "port": 8443, "hostname": "x.org", "path": "/api"}, None,
     "api: https://x.org:8443/api"),
    ({"service": "db", "protocol": "tcp", "port": 8003, "hostname": None, "path": None}, "10.0.0.1",
     "db: tcp://10.0.0.1:8003"),
    ({"service": "web", "protocol": "http", "port": 8000, "hostname": None, "path": None}, None,
     "web: http://<edge node>:8000/"),
])
def test_route_url(route, public_host, url):
    assert haproxy.route_url(route, public_host) == url
