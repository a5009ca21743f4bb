"""The platform's own page on the edge (the monitoring role's Prometheus): a routes document of the
platform at the route domain itself, which no tenant may hold, behind the stats page's password;
and the edge's report to monitoring of whether its configuration passed the check."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb, lb_node
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import (
    FakeClient, FakeNode, platform, rule, seed_stack)


PROMETHEUS = [{"service": "prometheus", "target_port": 9090, "path": "/prometheus"}]


def page(routes=None, domain="spin.example.org"):
    return haproxy.platform_routes("spin_monitoring", PROMETHEUS if routes is None else routes, domain)


def test_a_platform_page_sits_on_the_route_domain_itself_behind_the_password():
    doc = page()
    assert doc["tenant"] == haproxy.PLATFORM_TENANT and doc["stack"] == "spin_monitoring"
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
        haproxy.stack_routes("cory", "magic", load_balancers={"lb": {"port_rules": [rule("spin.example.org")]}},
                             platform=platform(), route_domain="spin.example.org")
    # ... and the platform's page, stored under its own owner, is served (not a trespass)
    served, left_out = haproxy.served_routes([page()])
    assert left_out == [] and served[0]["routes"][0]["hostname"] == "spin.example.org"


def test_render_asks_for_the_stats_user_and_password_on_the_page_only():
    tenant = haproxy.stack_routes("cory", "magic", load_balancers={"lb": {"port_rules": [rule("www.example.org")]}},
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


def test_store_the_platform_page_with_its_network_then_no_change():
    client = FakeClient()
    p = platform()
    network = p["network_prefix"] + "spin_monitoring"
    first = lb.store_platform_routes(client, page(), p)
    assert first["changed"] and first["network"] == network
    assert first["attachments"] == {"prometheus": {"name": network,
                                                   "aliases": [haproxy.backend_alias("_platform", "spin_monitoring",
                                                                                     "prometheus")]}}
    net = client.find_network(network)
    assert net["Attachable"] and net["Labels"]["spin.lb.tenant"] == "_platform"
    assert not lb.store_platform_routes(client, page(), p)["changed"]
    assert lb.stored_routes(client, p)["spin_monitoring"]["doc"]["tenant"] == "_platform"


def test_a_platform_page_never_takes_a_host_name_a_stack_holds():
    client = FakeClient()
    # a route stored before the rule existed (by hand): the platform page does not take it over
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    with pytest.raises(SpinError, match="held by stack 'magic'"):
        lb.store_platform_routes(client, haproxy.platform_routes("spin_monitoring", [
            {"service": "prometheus", "target_port": 9090, "hostname": "www.example.org"}], "localhost"), platform())


def test_the_edge_reports_its_config_check_to_monitoring(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    lb_node.sync_edge(client, p, node=FakeNode(p))
    facts = (tmp_path / "metrics" / "spin_edge.prom").read_text()
    assert "spin_edge_config_check_ok 1.0" in facts and "spin_edge_reload_ok 1.0" in facts
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    client.check_result = (1, "[ALERT]    (1) : config : something\n")
    with pytest.raises(SpinError):
        lb_node.sync_edge(client, p, node=FakeNode(p))
    facts = (tmp_path / "metrics" / "spin_edge.prom").read_text()
    assert "spin_edge_config_check_ok 0.0" in facts and "spin_edge_stacks 1.0" in facts


def test_check_mode_reports_nothing(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    lb_node.sync_edge(FakeClient(), p, check_mode=True, node=FakeNode(p))
    assert not (tmp_path / "metrics").exists()


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
