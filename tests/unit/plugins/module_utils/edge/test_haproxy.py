"""haproxy.py: a stack's ports and lb_config -> routes, every stack's routes -> haproxy.cfg."""
import copy
import random
import re

import pytest
import yaml

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg
from ansible_collections.spin.platform.plugins.module_utils.edge import claims
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

MS = 10**6
CERTS = {"certificates": [{"name": "wild", "file": "/etc/spin/spin_cert_wild.pem"}, {"name": "other", "file": "/etc/spin/spin_cert_o.pem"}]}


def ep(service, published, target=80, protocol="tcp"):
    return {"service": "s_" + service, "compose_service": service, "target": target, "published": published,
            "protocol": protocol}


def rule(service="web", source=80, target=80, hostname=None, path=None, priority=None, protocol="http"):
    return {"source_port": source, "target_port": target, "service": service, "hostname": hostname, "path": path,
            "priority": priority, "protocol": protocol}


def lbs(*rules, **extra):
    lb = {"ports": [], "port_rules": list(rules), "stickiness": None, "certs": [], "default_cert": None,
          "health_check": None}
    lb.update(extra)
    return {"lb": lb}


def doc(stack, tenant="t", network="spin-lb-00", **kwargs):
    d = haproxy.stack_routes(tenant, stack, platform=kwargs.pop("platform", CERTS), **kwargs)
    d["network"] = network
    return d


# ---- platform variables -----------------------------------------------------------------------

@pytest.mark.parametrize("ports, expected", [
    ([80], {80}),
    ([80, "443", "8000-8002"], {80, 443, 8000, 8001, 8002}),
    ([], set()),
    (["8000-8000"], {8000}),
])
def test_port_set(ports, expected):
    assert haproxy.port_set(ports) == expected


@pytest.mark.parametrize("ports", [["x"], ["0"], ["70000"], ["9-8"], ["80-"], [" - "]])
def test_port_set_refuses(ports):
    with pytest.raises(ValueError, match="is not a port"):
        haproxy.port_set(ports)


def test_ports_text_groups_ranges():
    assert haproxy.ports_text({80, 443, 8000, 8001, 8002, 9000}) == "80, 443, 8000-8002, 9000"


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


def test_module_documents_the_platform_defaults():
    from ansible_collections.spin.platform.plugins.modules import spin_lb
    documented = yaml.safe_load(spin_lb.DOCUMENTATION)["options"]["platform"]["suboptions"]
    spec = spin_lb.argument_spec()["platform"]["options"]
    assert set(documented) == set(spec) == set(haproxy.PLATFORM_DEFAULTS)
    for key, default in haproxy.PLATFORM_DEFAULTS.items():
        assert spec[key]["default"] == default, key
        assert documented[key].get("default") == default, key


# ---- one stack's routes -----------------------------------------------------------------------

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


# ---- rendering --------------------------------------------------------------------------------

def two_stacks():
    magic = doc("magic", tenant="cory", network="spin-lb-01", endpoints=[ep("web", 8000)],
                load_balancers=lbs(rule(hostname="www.example.org"),
                                   rule(hostname="www.example.org", path="/api", service="api", target=8080),
                                   rule(hostname="*.example.org", protocol="https", source=443),
                                   rule(source=8001, protocol="tcp", service="db", target=5432),
                                   stickiness={"cookie": "MAGIC"}),
                health_checks={"web": {"port": 80, "request_line": "GET /healthz HTTP/1.0", "interval": 1000 * MS}})
    seed = doc("seed", tenant="bob", network="spin-lb-00", load_balancers=lbs(rule(hostname="seed.example.com")))
    return magic, seed


def test_render_is_deterministic_whatever_the_order():
    magic, seed = two_stacks()
    text = haproxy_cfg.render([magic, seed], CERTS, stats_password="pw")
    assert haproxy_cfg.render([copy.deepcopy(seed), copy.deepcopy(magic)], CERTS, stats_password="pw") == text
    shuffled = copy.deepcopy(magic)
    random.Random(1).shuffle(shuffled["routes"])
    assert haproxy_cfg.render([seed, shuffled], CERTS, stats_password="pw") == text


def _section(text, header):
    lines = text.split("\n")
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return lines[start:end]


def test_render_orders_rules_exact_host_longest_path_first():
    magic, seed = two_stacks()
    text = haproxy_cfg.render([magic, seed], CERTS)
    port80 = [line.strip() for line in _section(text, "frontend port:80") if "use_backend" in line]
    assert port80 == [
        "use_backend magic:api:8080 if { req.hdr(host),field(1,:),lower -m str www.example.org } "
        "{ path_beg /api }",
        "use_backend magic:web:80:2 if { req.hdr(host),field(1,:),lower -m str www.example.org }",
        "use_backend seed:web:80 if { req.hdr(host),field(1,:),lower -m str seed.example.com }",
    ]
    assert "    default_backend spin:no-route" in _section(text, "frontend port:80")


def test_render_never_serves_two_stacks_on_one_unconditional_port():
    first = doc("first", tenant="a", network="n1", endpoints=[ep("web", 8000)])
    second = doc("second", tenant="b", network="n2", endpoints=[ep("web", 8000)],
                 load_balancers=lbs(rule(hostname="x.example.org")))
    text = haproxy_cfg.render([first, second], {})
    port = _section(text, "frontend port:8000")
    assert [line.strip() for line in port if "use_backend" in line] == ["use_backend first:web:80"]
    assert "# not served: rule 1 of stack 'second' (service 'web' ports[0]): port 8000 http any host -> web:80: " \
           "port 8000 is held by stack 'first' (tenant 'a')" in text
    assert "use_backend second:web:80 if { req.hdr(host),field(1,:),lower -m str x.example.org }" in text
    # the other claim order: the other stack holds the port
    text2 = haproxy_cfg.render([second, first], {})
    assert [line.strip() for line in _section(text2, "frontend port:8000") if "use_backend" in line] == [
        "use_backend second:web:80"]


def test_render_priority_breaks_ties_and_wildcards_come_after_exact_names():
    d = doc("s", load_balancers=lbs(rule(hostname="*.a.org", service="wild"), rule(hostname="x.a.org", priority=9),
                                    rule(hostname="x.a.org", priority=2, service="api"), rule(service="any")),
            platform={})
    text = haproxy_cfg.render([d], {})
    order = [re.search(r"use_backend (\S+)", line).group(1) for line in _section(text, "frontend port:80")
             if "use_backend" in line]
    assert order == ["s:api:80", "s:web:80", "s:wild:80", "s:any:80"]
    assert "    use_backend s:any:80" in text  # no condition: the rest of the port


def test_render_frontends_tls_tcp_headers():
    magic, seed = two_stacks()
    text = haproxy_cfg.render([magic, seed], CERTS)
    tls = _section(text, "frontend port:443")
    # the platform's certificates first (the default), then the image's placeholder and the stacks' crt-list
    assert ("    bind :443 ssl crt spin-cert-wild.pem crt spin-cert-other.pem crt /usr/local/share/spin-edge/placeholder.pem"
            " crt-list /var/lib/spin/edge/certs/crt-list alpn h2,http/1.1") in tls
    assert "    http-request set-header X-Forwarded-Proto https" in tls
    assert "    option forwardfor" in tls
    plain = _section(text, "frontend port:8000")
    assert "    http-request set-header X-Forwarded-Proto http" in plain
    assert "    use_backend magic:web:80" in plain
    tcp = _section(text, "frontend port:8001")
    assert "    mode tcp" in tcp and "    default_backend magic:db:5432:tcp" in tcp
    assert not any("forwardfor" in line for line in tcp)
    assert "    crt-base /run/secrets" in text


def test_render_backends_server_template_checks_cookies():
    magic, dummy = two_stacks()
    text = haproxy_cfg.render([magic], dict(CERTS, servers=7))
    web = _section(text, "backend magic:web:80:2")
    assert "    option httpchk" in web
    assert "    http-check send meth GET uri /healthz ver HTTP/1.0" in web
    assert any(line.startswith("    cookie MAGIC insert indirect nocache dynamic") for line in web)
    assert any(line.startswith("    dynamic-cookie-key ") for line in web)
    server = [line for line in web if "server-template" in line][0]
    assert server.startswith("    server-template web 7 tasks.%s:80 check resolvers swarm"
                             % haproxy.backend_alias(magic["tenant"], "magic", "web"))
    assert "init-addr last,none" in server and "inter 1000ms rise 2 fall 3" in server
    api = _section(text, "backend magic:api:8080")
    assert not any("httpchk" in line for line in api)  # no health_check: a connect check
    assert "server-template api 7 tasks.%s:8080 check" % haproxy.backend_alias(magic["tenant"], "magic", "api") \
        in api[-1]
    db = _section(text, "backend magic:db:5432:tcp")
    assert "    mode tcp" in db and not any("cookie" in line for line in db)


def test_render_global_reload_settings():
    text = haproxy_cfg.render([], {"config_dir": "/srv/edge", "hard_stop_after": "30s", "maxconn": 5000})
    for line in ("    stats socket /srv/edge/run/admin.sock mode 600 level admin expose-fd listeners",
                 "    server-state-file /srv/edge/run/servers.state", "    load-server-state-from-file global",
                 "    hard-stop-after 30s", "    maxconn 5000", "    nameserver docker 127.0.0.11:53",
                 "    retry-on conn-failure empty-response response-timeout", "    option redispatch 1",
                 "    bind unix@/srv/edge/run/stats.sock mode 600"):
        assert line in text.split("\n"), line
    assert "maxconn" not in haproxy_cfg.render([], {})


def test_stats_password_is_in_the_file_and_redacted_in_diffs():
    text = haproxy_cfg.render([], {"stats_user": "ops"}, stats_password="s3cret")
    assert "    stats auth 'ops:s3cret'  # spin:secret" in text
    shown = haproxy_cfg.redact(text)
    assert "s3cret" not in shown and "    stats auth '<redacted>'  # spin:secret" in shown
    assert haproxy_cfg.render([], {"stats_password": "given"}, stats_password="ignored").count("'admin:given'") == 1
    closed = haproxy_cfg.render([], {})
    assert "stats auth" not in closed and "http-request deny deny_status 403" in closed


def test_backends_with_the_same_target_but_other_settings_get_numbered_names():
    a = doc("s", load_balancers=lbs(rule(hostname="a.x")), platform={})
    b = doc("s", load_balancers=lbs(rule(hostname="b.x"), stickiness={"cookie": "C"}), platform={})
    a["routes"].append(dict(b["routes"][0], rule=2))
    text = haproxy_cfg.render([a], {})
    assert "backend s:web:80\n" in text and "backend s:web:80:2\n" in text


def test_every_section_is_preceded_by_a_spin_comment():
    magic, seed = two_stacks()
    lines = haproxy_cfg.render([magic, seed], CERTS).split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^(global|defaults|frontend|backend|resolvers) ", line + " "):
            assert lines[i - 1].startswith("# spin: "), line


# ---- mapping haproxy -c errors back to rules --------------------------------------------------

def test_origin_of_line_and_explain_check_output():
    magic, seed = two_stacks()
    text = haproxy_cfg.render([magic, seed], CERTS)
    lines = text.split("\n")
    api_line = next(i for i, line in enumerate(lines) if "use_backend magic:api:8080" in line) + 1
    backend_line = next(i for i, line in enumerate(lines) if "server-template db" in line) + 1
    output = "\n".join([
        "[NOTICE]   (1) : haproxy version is 2.6.12",
        "[ALERT]    (1) : config : parsing [/tmp/x.cfg:%d] : error detected while parsing switching rule" % api_line,
        "[ALERT]    (1) : config : parsing [/tmp/x.cfg:%d] : 'server-template' : bad thing" % backend_line,
        "[ALERT]    (1) : config : backend 'seed:web:80' has no server available!",
        "[ALERT]    (1) : config : Fatal errors found in configuration.",
    ])
    messages = haproxy_cfg.explain_check_output(text, output)
    assert len(messages) == 3
    assert messages[0].startswith("rule 3 of stack 'magic' (load balancer 'lb' lb_config.port_rules[1]): port 80 "
                                  "http www.example.org/api -> api:8080: config : parsing")
    assert messages[1].startswith("stack 'magic' (tenant 'cory'): service 'db' port 5432, for rule 5")
    assert messages[2].startswith("stack 'seed' (tenant 'bob'): service 'web' port 80")


def test_canonical_json_and_digest_are_stable():
    magic, dummy = two_stacks()
    again = copy.deepcopy(magic)
    assert claims.routes_digest(magic) == claims.routes_digest(again)
    again["routes"][0]["port"] = 1
    assert claims.routes_digest(magic) != claims.routes_digest(again)


# ---- names a tenant chooses never reach another tenant's traffic (issue 17) --------------------

def test_the_edge_resolves_the_platform_alias_of_a_public_service():
    d = doc("magic", tenant="cory", endpoints=[ep("web", 8000)])
    alias = haproxy.backend_alias("cory", "magic", "web")
    assert d["aliases"] == {"web": alias}
    text = haproxy_cfg.render([d])
    assert "server-template web 10 tasks.%s:80 " % alias in text
    assert "tasks.magic_web" not in text  # the Swarm service name: what a tenant's alias could be


def test_a_routes_document_of_an_older_version_keeps_its_swarm_name_until_redeployed():
    legacy = doc("magic", tenant="cory", endpoints=[ep("web", 8000)])
    del legacy["aliases"], legacy["route_domain"]
    assert "server-template web 10 tasks.magic_web:80 " in haproxy_cfg.render([legacy])


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


ROUTE_DOMAIN_CASES = [
    # (tenant, hostname, route domain, whose names it takes or None)
    ("eve", "web.magic.cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "*.cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "a.b.c.cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "x.nobody.localhost", "localhost", "tenant 'nobody''s names"),   # whether or not it exists
    ("eve", "x.evel.localhost", "localhost", "tenant 'evel''s names"),
    ("eve", "*.localhost", "localhost", "every tenant's names"),
    ("eve", "localhost", "localhost", "every tenant's names"),
    ("eve", "*.example.org", "spin.example.org", "every tenant's names"),
    ("eve", "*.spin.example.org", "spin.example.org", "every tenant's names"),
    ("eve", "www.cory.spin.example.org", "spin.example.org", "tenant 'cory''s names"),
    ("eve", "www.eve.localhost", "localhost", None),
    ("eve", "*.eve.localhost", "localhost", None),
    ("eve", "eve.localhost", "localhost", None),
    ("eve", "www.example.org", "localhost", None),
    ("eve", "example.org", "spin.example.org", None),
    ("eve", "www.eve.spin.example.org", "spin.example.org", None),
    ("eve", "xlocalhost", "localhost", None),
]


@pytest.mark.parametrize("tenant, hostname, domain, taken", ROUTE_DOMAIN_CASES)
def test_whose_names_a_hostname_takes_under_the_route_domain(tenant, hostname, domain, taken):
    assert claims.names_taken(hostname, tenant, domain) == taken


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


def test_a_claim_stored_before_the_rule_never_holds_against_the_tenant_whose_names_it_takes():
    """A rule eve stored with an older spin.platform, inside cory's names: cory's claim is not refused as
    held by it, and the edge does not serve it (whatever the order of the stacks)."""
    legacy = doc("evil", tenant="eve", network="lb-evil", load_balancers=lbs(
        rule(hostname="a.eve.localhost"), rule(hostname="www.example.org"), rule(hostname="b.eve.localhost")))
    legacy["routes"][0]["hostname"] = "web.magic.cory.localhost"
    legacy["routes"][2]["hostname"] = "*.cory.localhost"
    del legacy["route_domain"], legacy["aliases"]
    cory = doc("magic", tenant="cory", network="lb-magic",
               endpoints=[dict(ep("web", 80), hostname="web.magic.cory.localhost")])
    assert claims.claim_conflicts(cory, [legacy]) == []
    served, left_out = claims.served_routes([legacy, cory])
    assert [r["hostname"] for r in served[0]["routes"]] == ["www.example.org"]
    assert [(stack, route["hostname"]) for stack, route, dummy in left_out] == [
        ("evil", "web.magic.cory.localhost"), ("evil", "*.cory.localhost")]
    assert "inside tenant 'cory''s names under the route domain 'localhost'" in left_out[0][2]
    text = haproxy_cfg.render([legacy, cory])
    assert "use_backend magic:web:80 if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }" in text
    assert "use_backend evil:web:80 if" in text and "cory.localhost }" not in text.split("evil:web:80 if")[1][:80]
