"""haproxy_cfg: the routes documents of every stack rendered as one haproxy.cfg (the order of rules,
frontends, backends, the global settings), its redaction, and the origin of a line haproxy -c complains of."""
import copy
import random
import re

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.tls_fakes import routes_doc
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.routes_docs import (
    CERTS, doc, ep, lbs, rule, two_stacks)
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import platform
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import rule as lb_rule
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.routes_docs import page


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


def _section(text, header):
    lines = text.split("\n")
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return lines[start:end]


def test_every_http_route_with_a_host_name_is_served_over_https_and_redirects_when_asked():
    magic = routes_doc(redirect=["web"])
    seed = routes_doc("demo", "seed", ("web.seed.demo.localhost",))
    text = haproxy_cfg.render([magic, seed], {})
    https = _section(text, "frontend port:443")
    assert https[1] == ("    bind :443 ssl crt /usr/local/share/spin-edge/placeholder.pem crt-list "
                        "/var/lib/spin/edge/certs/crt-list alpn h2,http/1.1")
    assert "    http-request set-header X-Forwarded-Proto https" in https
    assert "    use_backend magic:web:80 if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }" in https
    assert "    use_backend seed:web:80 if { req.hdr(host),field(1,:),lower -m str web.seed.demo.localhost }" in https
    plain = _section(text, "frontend port:80")
    assert ("    http-request redirect scheme https code 301 if { req.hdr(host),field(1,:),lower -m str "
            "web.magic.cory.localhost }") in plain
    assert not any("redirect" in line and "seed" in line for line in plain)  # seed did not ask
    # another HTTPS port: the redirect names it
    other = haproxy_cfg.render([magic], {"ports": [80, 8443], "https_port": 8443})
    assert ("    http-request redirect location https://%[req.hdr(host),field(1,:)]:8443%[capture.req.uri] code 301 "
            "if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }") in other
    # off: no HTTPS frontend, no redirect
    off = haproxy_cfg.render([magic], {"https_port": 0})
    assert "frontend port:443" not in off and "redirect" not in off
    assert haproxy_cfg.render([magic, seed], {}) == text  # deterministic: a renewal changes no config


def test_a_stack_holding_the_https_port_as_tcp_leaves_no_room_for_https():
    magic = routes_doc()
    tcp = haproxy.stack_routes("bob", "db", load_balancers={"lb": {"port_rules": [
        {"source_port": 443, "target_port": 5432, "service": "db", "protocol": "tcp"}]}})
    tcp["network"] = "spin-lb-db"
    text = haproxy_cfg.render([magic, tcp], {})
    assert "# HTTPS not served: port 443 is tcp for rule 1 of stack 'db'" in text
    assert "ssl" not in "\n".join(_section(text, "frontend port:443"))


# the platform's own page on the edge (the monitoring role's Prometheus), at the route domain itself

def test_render_asks_for_the_stats_user_and_password_on_the_page_only():
    tenant = haproxy.stack_routes("cory", "magic", load_balancers={"lb": {"port_rules": [lb_rule("www.example.org")]}},
                                  platform=platform())
    tenant["network"] = "spin-lb-magic"
    text = haproxy_cfg.render([tenant, dict(page(), network="spin-lb-spin_monitoring")], platform(),
                              stats_password="s3cret")
    assert "userlist spin_staff\n    user admin insecure-password 's3cret'  # spin:secret" in text
    backend = text.split("\nbackend spin_monitoring:prometheus:9090")[1].split("\n\n")[0]
    assert "http-request auth realm spin.platform unless { http_auth(spin_staff) }" in backend
    assert "server-template prometheus 10 tasks.%s:9090" % haproxy.backend_alias("_platform", "spin_monitoring",
                                                                                 "prometheus") in backend
    assert "http_auth" not in text.split("\nbackend magic:web:80")[1].split("\n\n")[0]
    assert "use_backend spin_monitoring:prometheus:9090 if { req.hdr(host),field(1,:),lower -m str " \
           "spin.example.org } { path_beg /prometheus }" in text
    assert "s3cret" not in haproxy_cfg.redact(text)
    # without a password the page stays shut
    shut = haproxy_cfg.render([dict(page(), network="n")], platform())
    assert "userlist" not in shut and "http-request deny deny_status 403" in shut.split("\nbackend spin_monitoring")[1]
