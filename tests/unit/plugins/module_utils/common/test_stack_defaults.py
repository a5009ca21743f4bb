"""What the platform adds to a stack by itself: automatic routes and generated root passwords."""
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError


def model_of(text):
    model, diagnostics = compose.parse_stack(textwrap.dedent(text), "docker-compose.yml")
    assert not diag.has_errors(diagnostics), diagnostics
    return model


def routes(text, **platform):
    found, diagnostics = stack_defaults.automatic_routes(model_of(text), "demo", "st",
                                                         stack_defaults.settings(platform))
    return found, [diag.format_diagnostic(d) for d in diagnostics]


# ---- the rule, case by case --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # the seed: web serves HTTP (httpd), db is a database
    ("services: {web: {image: httpd}, db: {image: mysql}}", {"web": 80}),
    # an image the platform knows, with a registry and a tag; an exposed HTTP port; a named port
    ("services: {a: {image: 'registry.example.org/library/nginx:1.25'}, b: {image: app, expose: [8080]},"
     " c: {image: app, x-spin: {route: 3000}}, d: {image: app}}", {"a": 80, "b": 8080, "c": 3000}),
    # opted out
    ("services: {web: {image: httpd, x-spin: {route: false}}}", {}),
    # the stack says what is public itself: nothing more is routed (an explicit x-spin.route still is)
    ("services: {proxy: {image: nginx, ports: ['8000:80']}, static: {image: httpd},"
     " app: {image: app, x-spin: {route: 8080}}}", {"app": 8080}),
    # a port bound to the host's loopback: the tenant kept it local
    ("services: {admin: {image: httpd, ports: ['127.0.0.1:8080:80']}}", {}),
    # a one-off job serves nothing
    ("services: {web: {image: httpd, depends_on: {init: {condition: service_completed_successfully}}},"
     " init: {image: httpd}}", {"web": 80}),
    # databases never, not even when they serve HTTP (Elasticsearch)
    ("services: {es: {image: 'elasticsearch:8.1', expose: [80]}, pg: {image: 'postgis/postgis'}}", {}),
])
def test_which_services_get_a_route(text, expected):
    found, problems = routes(text)
    assert problems == []
    assert {name: r["port"] for name, r in found.items()} == expected
    for name, route in found.items():
        assert route["hostname"] == "%s.st.demo.localhost" % name


def test_the_rule_can_be_switched_off_and_the_domain_set():
    assert routes("services: {web: {image: httpd}}", auto_routes=False)[0] == {}
    assert routes("services: {web: {image: httpd, x-spin: {route: true}}}", auto_routes=False)[0] == {
        "web": {"port": 80, "hostname": "web.st.demo.localhost"}}
    assert routes("services: {web_ui: {image: httpd}}", route_domain="Spin.Example.ORG")[0] == {
        "web_ui": {"port": 80, "hostname": "web-ui.st.demo.spin.example.org"}}


@pytest.mark.parametrize("text, message", [
    ("services: {db: {image: mariadb, x-spin: {route: 3306}}}",
     "a database is never given a route on the edge ('mariadb' is a database image): remove x-spin.route; reach it "
     "from the stack's services by name"),
    ("services: {app: {image: app, x-spin: {route: true}}}",
     "the platform does not know which port 'app' serves HTTP on: name it, like x-spin: {route: 8080}"),
    ("services: {web: {image: httpd, ports: ['8000:80'], x-spin: {route: 80}}}",
     "'web' is published already (ports or a load balancer rule): remove x-spin.route, or remove its ports"),
])
def test_what_a_tenant_cannot_ask_for(text, message):
    service = text.split("{")[1].split(":")[0].strip()
    assert routes(text)[1] == ["docker-compose.yml: service '%s': key 'x-spin.route': %s" % (service, message)]


@pytest.mark.parametrize("platform, words", [
    ({"route_domain": "not a domain"}, "spin_platform.route_domain must be a DNS domain"),
    ({"route_port": "80"}, "spin_platform.route_port must be a port number"),
    ({"http_images": {"app": "eighty"}}, "spin_platform.http_images must map image patterns to ports"),
    ({"auto_routes": "yes"}, "spin_platform.auto_routes must be true or false"),
])
def test_platform_variables_are_checked(platform, words):
    with pytest.raises(SpinError) as err:
        stack_defaults.settings(platform)
    assert words in err.value.message


# ---- the routes reach the edge's routes document -------------------------------------------------

def test_the_automatic_route_and_a_shared_port_become_host_name_routes():
    tasks = translate.stack_to_tasks(model_of("""
    services:
      web: {image: httpd, ports: ['80:80', '8003:80']}
      api: {image: app, x-spin: {route: 8080}}
    """), "demo", "st")
    doc = haproxy.stack_routes("demo", "st", tasks["endpoints"])
    assert [(r["port"], r["hostname"], r["service"], r["target_port"], r["origin"]) for r in doc["routes"]] == [
        (80, "web.st.demo.localhost", "web", 80, "service 'web' ports[0]"),
        (8003, None, "web", 80, "service 'web' ports[1]"),
        (80, "api.st.demo.localhost", "api", 8080, "service 'api' automatic route")]


def test_a_route_the_edge_refuses_names_the_service_and_the_opt_out():
    tasks = translate.stack_to_tasks(model_of("services: {web: {image: httpd}}"), "demo", "st",
                                     {"route_port": 8080})
    with pytest.raises(SpinError) as err:
        haproxy.stack_routes("demo", "st", tasks["endpoints"], files={"compose": "docker-compose.yml"})
    assert [diag.format_diagnostic(d) for d in err.value.diagnostics] == [
        "docker-compose.yml: service 'web': key 'x-spin.route': port 8080 is not one the platform lets stacks "
        "publish: use one of 80, 443, 8000-8009 (the platform variable lb_ports)"]


# ---- generated root passwords ----------------------------------------------------------------------

@pytest.mark.parametrize("service, variable", [
    ({"image": "mysql", "environment": {"MYSQL_DATABASE": "magic"}}, "MYSQL_ROOT_PASSWORD_FILE"),
    ({"image": "mariadb:10.11", "environment": {}}, "MYSQL_ROOT_PASSWORD_FILE"),
    ({"image": "docker.io/bitnami/mariadb", "environment": {}}, "MYSQL_ROOT_PASSWORD_FILE"),
    ({"image": "postgres:16", "environment": {"POSTGRES_DB": "app"}}, "POSTGRES_PASSWORD_FILE"),
    ({"image": "mysql", "environment": {"MYSQL_ROOT_PASSWORD": "x"}}, None),
    ({"image": "mysql", "environment": {"MYSQL_RANDOM_ROOT_PASSWORD": "yes"}}, None),
    ({"image": "mariadb", "environment": {"MARIADB_ROOT_PASSWORD_FILE": "/run/secrets/pw"}}, None),
    ({"image": "postgres", "environment": {"POSTGRES_HOST_AUTH_METHOD": "trust"}}, None),
    ({"image": "httpd", "environment": {}}, None),
    ({"image": "redis", "environment": {}}, None),
    # the server with options of its own, and the image used as a client or for a backup
    ({"image": "mariadb", "environment": {}, "command": ["--max-connections=500"]}, "MYSQL_ROOT_PASSWORD_FILE"),
    ({"image": "postgres", "environment": {}, "command": ["postgres", "-c", "shared_buffers=256MB"]},
     "POSTGRES_PASSWORD_FILE"),
    ({"image": "mariadb", "environment": {}, "command": ["sh", "-c", "mariadb -h db -e 'select 1'"]}, None),
    ({"image": "postgres", "environment": {}, "entrypoint": ["pg_dump"]}, None),
])
def test_which_databases_get_a_generated_root_password(service, variable):
    assert stack_defaults.root_password(service) == variable


# ---- issue 18: an HTTP port outside the edge's list is served on the service's route ------------

EDGE = {80, 443} | set(range(8000, 8010))


def _ports(image, *ports, **extra):
    return {"services": {"web": dict({"image": image, "ports": [dict(p) for p in ports], "expose": []}, **extra)}}


def _port(published, target, protocol="tcp"):
    return {"target": target, "published": published, "protocol": protocol, "mode": "ingress"}


@pytest.mark.parametrize("model, routes", [
    # the image's HTTP port, or one of http_ports: served on the route, with the URL
    (_ports("nginx", _port(8080, 80)), [("web.st.demo.localhost", 80)]),
    (_ports("grafana/grafana", _port(3000, 3000)), [("web.st.demo.localhost", 3000)]),
    (_ports("registry.example.org/app", _port(8888, 8080)), [("web.st.demo.localhost", 8080)]),
    # a second HTTP port of the service gets a name of its own
    (_ports("nginx", _port(8080, 80), _port(8081, 8080)),
     [("web.st.demo.localhost", 80), ("8080.web.st.demo.localhost", 8080)]),
    # a port the edge publishes stays as it is; so do raw TCP, UDP, databases and unknown ports
    (_ports("nginx", _port(8001, 80)), []),
    (_ports("gitea/gitea", _port(2222, 22)), []),
    (_ports("coredns/coredns", _port(5353, 53, "udp")), []),
    (_ports("postgres", _port(5432, 5432)), []),
    # an unknown port is what a laptop opens in a browser; a known raw TCP one is not
    (_ports("node:20", _port(3001, 3001)), [("web.st.demo.localhost", 3001)]),
    (_ports("eclipse-mosquitto", _port(1883, 1883)), []),
])
def test_http_ports_outside_the_edges_list_get_the_services_route(model, routes):
    warnings = stack_defaults.http_port_routes(model, "demo", "st", stack_defaults.settings({}), EDGE)
    assert [(p["route"], p["target"]) for p in model["services"]["web"]["ports"] if p.get("route")] == routes
    assert len(warnings) == len(routes)


def test_the_warning_gives_the_url():
    model = _ports("nginx", _port(8080, 80))
    warnings = stack_defaults.http_port_routes(model, "demo", "st", stack_defaults.settings({"route_port": 8000}), EDGE)
    assert [diag.format_diagnostic(w) for w in warnings] == [
        "docker-compose.yml: service 'web': key 'ports[0]': warning: port 8080 is not one the edge publishes, so the "
        "service's port 80 is served as HTTP at http://web.st.demo.localhost:8000/ instead (its own host name on the "
        "edge): open that; write '8000:80' to say so (a port that does not speak HTTP needs one the edge publishes: "
        "spin_lb_ports)"]
