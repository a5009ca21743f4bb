# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the platform adds to a tenant's stack by itself (issue 8). Pure.

* **Automatic routes.** Spin configured the load balancer for a stack: a stack that publishes
  nothing itself gets a route on the edge for each service that serves HTTP, at a host name of
  its own, ``<service>.<stack>.<tenant>.<route_domain>``. A database never gets one. A service
  published on a port the edge shares by host name (the policy's ``proxy_ports``, 80 and 443)
  gets the same host name. A tenant turns a service's route off, or names its port, with the
  compose extension ``x-spin: {route: false | <port>}``.
* **Generated root passwords.** A database image whose entrypoint refuses to start without a root
  (superuser) password, and whose service names none, gets one that nobody guesses: a Swarm
  secret the deploy fills with random bytes once (``<stack>_<service>_root_password``), mounted
  at ``/run/secrets/<service>_root_password`` and named by the image's ``*_FILE`` variable.

Both are steered by platform variables (``spin_platform``), see ``DEFAULTS``. No files, no
Docker, no Ansible here (see docs/design.md).
"""
from __future__ import annotations

import copy
import fnmatch
import re

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.images import split_reference

DEFAULTS = {
    "auto_routes": True,
    "route_domain": "localhost",
    "route_port": 80,
    # images that serve HTTP, by repository pattern (Docker Hub names without library/) -> port
    "http_images": {"httpd": 80, "spin/httpd": 80, "nginx": 80, "nginxinc/*": 8080, "caddy": 80,
                    "wordpress": 80, "drupal": 80, "joomla": 80, "mediawiki": 80, "nextcloud": 80,
                    "phpmyadmin": 80, "phpmyadmin/phpmyadmin": 80, "adminer": 8080, "ghost": 2368,
                    "grafana/grafana": 3000, "gitea/gitea": 3000, "jupyter/*": 8888, "dpage/pgadmin4": 80},
    # an exposed port among these serves HTTP too
    "http_ports": [80, 8080],
    # ports that speak something else than HTTP (SSH, mail, DNS, LDAP, brokers, databases, VNC, game servers):
    # a published port outside the edge's list is served on the service's route unless it is one of these
    "tcp_ports": [20, 21, 22, 23, 25, 53, 110, 111, 119, 143, 389, 445, 465, 514, 587, 636, 873, 989, 990, 993, 995,
                  1433, 1521, 1883, 2049, 2181, 2375, 2376, 3306, 3389, 4222, 4369, 5222, 5432, 5671, 5672, 5900, 5901,
                  6379, 6380, 7000, 7001, 7687, 8883, 9042, 9092, 9093, 9300, 11211, 25565, 26257, 27017, 27018,
                  28015],
    # never routed, and given a root password when they name none (see ROOT_PASSWORDS)
    "database_images": ["mysql", "mariadb", "spin/mariadb", "*/mysql", "*/mariadb", "percona*", "postgres",
                        "*/postgres", "postgis/postgis", "timescale/timescaledb*", "mongo", "*/mongodb",
                        "redis", "*/redis", "valkey/valkey", "memcached", "couchdb", "cassandra", "neo4j",
                        "influxdb", "clickhouse/clickhouse-server", "elasticsearch", "*/elasticsearch",
                        "opensearchproject/opensearch"],
}

# (image patterns, the variable the entrypoint reads from a file, the variables that already settle it)
ROOT_PASSWORDS = [
    (("mysql", "mariadb", "spin/mariadb", "*/mysql", "*/mariadb", "percona*"), "MYSQL_ROOT_PASSWORD_FILE",
     ("MYSQL_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD_FILE", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD",
      "MARIADB_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_FILE", "MARIADB_ROOT_PASSWORD_HASH",
      "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MARIADB_RANDOM_ROOT_PASSWORD")),
    (("postgres", "*/postgres", "postgis/postgis", "timescale/timescaledb*"), "POSTGRES_PASSWORD_FILE",
     ("POSTGRES_PASSWORD", "POSTGRES_PASSWORD_FILE", "POSTGRES_HOST_AUTH_METHOD")),
]
GENERATED_LABEL = "spin.generated"
ROUTE_KEY = "x-spin.route"

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def settings(platform=None):
    """The platform's ``spin_platform`` with the defaults of this module; raises SpinError naming
    the variable (infra staff's mistake) when a value has the wrong shape."""
    out = copy.deepcopy(DEFAULTS)
    for key in DEFAULTS:
        if (platform or {}).get(key) is not None:
            out[key] = copy.deepcopy(platform[key])
    problems = []
    if not isinstance(out["auto_routes"], bool):
        problems.append("spin_platform.auto_routes must be true or false")
    if not isinstance(out["route_domain"], str) or not _DOMAIN.match(out["route_domain"].lower()):
        problems.append("spin_platform.route_domain must be a DNS domain like spin.example.org (localhost on a "
                        "single machine: curl and browsers resolve *.localhost to 127.0.0.1 themselves)")
    else:
        out["route_domain"] = out["route_domain"].lower()
    if not _port(out["route_port"]):
        problems.append("spin_platform.route_port must be a port number (the edge's HTTP port, 80)")
    if not isinstance(out["http_images"], dict) or not all(_port(v) for v in out["http_images"].values()):
        problems.append("spin_platform.http_images must map image patterns to ports, like {httpd: 80}")
    for key in ("http_ports", "tcp_ports"):
        if not isinstance(out[key], list) or not all(_port(v) for v in out[key]):
            problems.append("spin_platform.%s must be a list of ports" % key)
    if not isinstance(out["database_images"], list) or not all(isinstance(v, str) for v in out["database_images"]):
        problems.append("spin_platform.database_images must be a list of image patterns")
    if problems:
        raise SpinError("the platform variables have %d error(s):\n%s" % (len(problems), "\n".join(problems)))
    return out


def _port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def repository(image):
    """``registry.example.org:5000/lib/app:1@sha256:..`` -> ``lib/app``; ``docker.io/library/httpd`` -> ``httpd``."""
    repo = split_reference(str(image or ""))[1]
    return repo[len("library/"):] if repo.startswith("library/") else repo


def _matches(image, patterns):
    repo = repository(image)
    return any(fnmatch.fnmatchcase(repo, str(pattern)) for pattern in patterns)


def is_database(image, config):
    return bool(image) and _matches(image, config["database_images"])


# ---------------------------------------------------------------------------------------------
# generated root passwords

SERVERS = ("mysqld", "mariadbd", "postgres")


def runs_the_server(svc):
    """Does the service run the image's database server (not a client, a backup job, a migration
    that uses the image's tools)? The image's own command, or the server's name or options."""
    if svc.get("entrypoint") is not None:
        return False
    command = svc.get("command")
    return not command or command[0] in SERVERS or command[0].startswith("-")


def root_password(svc):
    """-> the ``*_FILE`` variable to point at a generated password, or None (not a database server
    that needs one, or the service settles the root password itself)."""
    if not runs_the_server(svc):
        return None
    for patterns, file_variable, settled_by in ROOT_PASSWORDS:
        if svc.get("image") and _matches(svc["image"], patterns):
            if any(name in (svc.get("environment") or {}) for name in settled_by):
                return None
            return file_variable
    return None


def generated_secret_name(stack, service):
    return "%s_%s_root_password" % (stack, service)


def secret_target(service):
    return "%s_root_password" % service


# ---------------------------------------------------------------------------------------------
# automatic routes

def host_label(name):
    """A service, stack or tenant name as a host name label: '_' (allowed in service names, not in
    host names) becomes '-'."""
    return name.lower().replace("_", "-")


def host_name(service, stack, tenant, domain):
    """``web.seed.demo.localhost``, under the tenant's own ``<tenant>.<route_domain>``."""
    return ".".join(host_label(label) for label in (service, stack, tenant)) + "." + domain


def _http_port(svc, config):
    for pattern, port in config["http_images"].items():
        if svc.get("image") and _matches(svc["image"], [pattern]):
            return port
    exposed = [port for port in svc.get("expose") or [] if port in config["http_ports"]]
    return exposed[0] if exposed else None


def published_http(svc, target, config):
    """Is the service's published port ``target`` one a browser opens? Not a database's, and not one of
    ``tcp_ports`` (SSH, mail, DNS, brokers, ...): a laptop's published port mostly is."""
    return not is_database(svc.get("image"), config) and target not in config["tcp_ports"]


def url(hostname, config):
    port = config["route_port"]
    return "http://%s%s/" % (hostname, "" if port == 80 else ":%d" % port)


def http_port_routes(model, tenant, stack, config, edge_ports, shared_ports=(80, 443), file="docker-compose.yml"):
    """A laptop's ``8080:80`` mostly means "let me open it in a browser": a published TCP port that the
    edge does not publish (``edge_ports``) on a port where the service serves HTTP is served on the
    service's own route instead, ``http://<service>.<stack>.<tenant>.<route_domain>/``, with a warning
    that gives the URL (the port gets ``route``: the host name; the translator makes it a route on
    ``route_port``; a second such port of the service gets ``<port>.<service>.<stack>...``). Raw TCP
    ports stay as they are, for the edge's rules to refuse. -> warnings."""
    warnings = []
    for name, svc in (model.get("services") or {}).items():
        own = host_name(name, stack, tenant, config["route_domain"])
        taken = {own} if any(p.get("published") in shared_ports for p in svc.get("ports") or []) else set()
        for index, port in enumerate(svc.get("ports") or []):
            published = port.get("published")
            if port.get("protocol") != "tcp" or published is None or published in edge_ports:
                continue
            if not published_http(svc, port["target"], config):
                continue
            hostname = own if own not in taken else "%d.%s" % (port["target"], own)
            if hostname in taken or not all(_LABEL.match(label) for label in hostname.split(".")):
                continue
            taken.add(hostname)
            port["route"] = hostname
            warnings.append(diag.warning(file, name, "ports[%d]" % index, "port %d is not one the edge publishes, so "
                                         "the service's port %d is served as HTTP at %s instead (its own host name on "
                                         "the edge): open that; write '%d:%d' to say so (a port that does not speak "
                                         "HTTP needs one the edge publishes: spin_lb_ports)"
                                         % (published, port["target"], url(hostname, config), config["route_port"],
                                            port["target"])))
    return warnings


def automatic_routes(model, tenant, stack, config, file="docker-compose.yml"):
    """{service: {"port": container port, "hostname": name}} of the services that get a route by
    themselves, and diagnostics (errors for what a tenant asked for and cannot have).

    The rule: automatic routes are on (``auto_routes``), the stack publishes nothing itself (no
    service has a published port, no rancher-compose load balancer), and the service publishes
    nothing (not even on the host's loopback), is not a database, runs as a service (not a job),
    and serves HTTP: its image is one of ``http_images``, or it exposes one of ``http_ports``.
    ``x-spin: {route: false}`` turns it off for a service; ``route: <port>`` names the port (and
    asks for the route whatever the rest of the stack publishes)."""
    found, diagnostics = {}, []

    def error(name, message):
        diagnostics.append(diag.error(file, name, ROUTE_KEY, message))

    services = model.get("services") or {}
    targeted = {rule.get("service") for lb in (model.get("load_balancers") or {}).values()
                for rule in lb.get("port_rules") or []}
    stack_publishes = bool(model.get("load_balancers")) or any(
        port.get("published") for svc in services.values() for port in svc.get("ports") or [])
    for name, svc in services.items():
        asked = svc.get("route")
        if asked is False:
            continue
        explicit = asked is not None and asked is not True
        if is_database(svc.get("image"), config):
            if asked is not None:
                error(name, "a database is never given a route on the edge ('%s' is a database image): remove "
                      "x-spin.route; reach it from the stack's services by name" % svc.get("image"))
            continue
        if asked is None and (not config["auto_routes"] or stack_publishes):
            continue
        if svc.get("ports") or svc.get("loopback_ports") or name in targeted:
            if asked is not None:
                error(name, "'%s' is published already (ports or a load balancer rule): remove x-spin.route, "
                      "or remove its ports" % name)
            continue
        if str(svc.get("deploy", {}).get("mode", "replicated")).endswith("-job"):
            if asked is not None:
                error(name, "'%s' runs once (a job): it cannot serve a route; remove x-spin.route" % name)
            continue
        port = asked if explicit else _http_port(svc, config)
        if port is None:
            if asked is True:
                error(name, "the platform does not know which port '%s' serves HTTP on: name it, like "
                      "x-spin: {route: 8080}" % svc.get("image"))
            continue
        hostname = host_name(name, stack, tenant, config["route_domain"])
        if not all(_LABEL.match(label) for label in hostname.split(".")):
            error(name, "'%s' is not a valid host name: rename the service (letters, digits and '-'), or turn "
                  "the route off with x-spin: {route: false}" % hostname)
            continue
        found[name] = {"port": port, "hostname": hostname}
    return found, diagnostics
