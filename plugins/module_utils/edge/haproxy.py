# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge load balancer's configuration, as pure functions (issue 4).

``stack_routes()`` turns one stack's public ``ports`` (the translator's ``endpoints``) and its
rancher-compose ``lb_config`` (the stack model's ``load_balancers``) into that stack's normalised
**routes document**; ``haproxy_cfg.render()`` turns the routes documents of every fronted stack into
the full ``haproxy.cfg`` text. Same input, byte-identical output: that is what makes "no change, no
reload". This module also holds the platform variables; ``claims.py`` the claims (whose names a rule
takes, which routes of two stacks cannot both be served).

Every generated section is preceded by a ``# spin:`` comment naming the stack and rule it came
from, so that ``origin_of_line()`` can map an ``haproxy -c`` complaint back to the tenant's rule.

No files, no Docker, no Ansible here (see docs/design.md).
"""
from __future__ import annotations

import copy
import fnmatch
import hashlib
import re

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.edge.claims import HOST_PROTOCOLS, PLATFORM_TENANT, names_taken
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.ports import (
    port_set, ports_text)  # noqa: F401 (port_set: the platform's API)

ROUTES_VERSION = 1

# The platform variables the load balancer reads. roles/lb_edge/defaults/main.yml mirrors these
# (lb_<key>), and a unit test keeps the two equal.
PLATFORM_DEFAULTS = {
    "edge_service": "spin_edge",
    "image": "spin/haproxy:2.6",
    "network_prefix": "spin-lb-",
    "ports": [80, 443, "8000-8009"],
    "hostnames": ["*"],
    "certificates": [],
    "servers": 10,
    "config_dir": "/var/lib/spin/edge",
    "stats_port": 8404,
    "stats_user": "admin",
    "stats_password": "",
    "stats_bind": "127.0.0.1",
    "hard_stop_after": "60s",
    "maxconn": 0,
    "nbthread": 0,
    # HTTPS on every route (issue 20): every HTTP route with a host name is served over TLS on this port
    # too (0: not), with certificates from the platform CA in ca_dir or the tenant's own
    "https_port": 443,
    "ca_dir": "/etc/spin/registry",
    "cert_days": 90,
    "cert_renew_days": 30,
}

CERT_DIR = "/run/secrets"
NO_ROUTE_BACKEND = "spin:no-route"
PROTOCOLS = ("http", "https", "tcp", "tls")
TLS_PROTOCOLS = ("https", "tls")
HTTP_PROTOCOLS = ("http", "https")
_NOT_SUPPORTED = {
    "udp": "HAProxy does not forward UDP: publish it in the service's ports instead ('5353:53/udp': the service "
           "publishes it itself, on the node that runs its task)",
    "sni": "TLS pass-through by SNI is not supported: use https (TLS ends at the edge) or tcp",
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(r"^(?:\*\.)?%s(?:\.%s)*$" % (_LABEL, _LABEL))
# Paths go into the config unquoted: no space, quote, backslash, '#', '$', '{' or '}'.
_PATH = re.compile(r"^/[A-Za-z0-9._~%/+:@=,;!*()&-]*$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]+$")
_COOKIE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DURATION = re.compile(r"^[0-9]+(?:us|ms|s|m|h|d)?$")
_PASSWORD_BAD = re.compile(r"[\s'\"\\#$]")
SECRET_MARK = "  # spin:secret"


# ---------------------------------------------------------------------------------------------
# platform variables

def normalise_platform(platform=None):
    """Fill in the defaults and check the platform variables; raises SpinError naming the variable."""
    p = copy.deepcopy(PLATFORM_DEFAULTS)
    for key, value in (platform or {}).items():
        if key == "port_set":
            continue  # derived: normalising twice is harmless
        if key not in PLATFORM_DEFAULTS:
            raise SpinError("unknown load balancer platform variable '%s' (lb_%s): known are %s"
                            % (key, key, ", ".join(sorted(PLATFORM_DEFAULTS))))
        if value is not None:
            p[key] = value
    problems = []
    try:
        p["port_set"] = sorted(port_set(p["ports"]))
    except ValueError as exc:
        problems.append("lb_ports: %s" % exc)
        p["port_set"] = []
    for key in ("servers", "stats_port", "maxconn", "nbthread", "https_port", "cert_days", "cert_renew_days"):
        try:
            p[key] = int(p[key])
        except (TypeError, ValueError):
            problems.append("lb_%s: '%s' is not a number" % (key, p[key]))
    if not 1 <= p["servers"] <= 1000:
        problems.append("lb_servers: %s is out of range: give the most replicas a service may have (1 to 1000)"
                        % p["servers"])
    if p["stats_port"] in p["port_set"]:
        problems.append("lb_stats_port %d is also a port tenants may claim (lb_ports): pick another"
                        % p["stats_port"])
    for key in ("edge_service", "network_prefix"):
        if not _NAME.match(str(p[key])):
            problems.append("lb_%s: '%s' is not a valid Docker name" % (key, p[key]))
    if not str(p["config_dir"]).startswith("/") or re.search(r"[\s'\"#$]", str(p["config_dir"])):
        problems.append("lb_config_dir: give an absolute path without spaces or quotes")
    if not 0 < p["cert_renew_days"] < p["cert_days"]:
        problems.append("lb_cert_renew_days must be more than 0 and less than lb_cert_days (%s)" % p["cert_days"])
    if not str(p["ca_dir"]).startswith("/"):
        problems.append("lb_ca_dir: give an absolute path")
    if not _DURATION.match(str(p["hard_stop_after"])):
        problems.append("lb_hard_stop_after: '%s' is not a duration like 60s" % p["hard_stop_after"])
    if not _TOKEN.match(str(p["stats_user"])):
        problems.append("lb_stats_user: use letters, digits, '_', '.', '-'")
    if p["stats_password"] and _PASSWORD_BAD.search(str(p["stats_password"])):
        problems.append("lb_stats_password: no spaces, quotes, backslashes, '#' or '$'")
    if not re.match(r"^[0-9a-fA-F.:]+$", str(p["stats_bind"])):
        problems.append("lb_stats_bind: '%s' is not an IP address (127.0.0.1 keeps the page on this host)"
                        % p["stats_bind"])
    certs = []
    for i, cert in enumerate(p["certificates"] or []):
        if not isinstance(cert, dict) or not cert.get("name") or not cert.get("file"):
            problems.append("lb_certificates[%d]: give {name: wildcard, file: <path on each edge node of the PEM "
                            "with certificate, chain and key>}%s" % (
                                i, " (a Swarm secret cannot be read back into the edge container: put the PEM in "
                                   "a root-only file instead)" if isinstance(cert, dict) and cert.get("secret") else ""))
            continue
        if not _TOKEN.match(str(cert["name"])) or not str(cert["file"]).startswith("/") or \
                re.search(r"[\s'\"#$:]", str(cert["file"])):
            problems.append("lb_certificates[%d]: name uses letters, digits, '_', '.', '-'; file is an absolute "
                            "path without spaces, quotes or ':'" % i)
            continue
        certs.append({"name": str(cert["name"]), "file": str(cert["file"])})
    p["certificates"] = certs
    for i, pattern in enumerate(p["hostnames"] or []):
        if not isinstance(pattern, str) or not pattern:
            problems.append("lb_hostnames[%d]: give a hostname pattern like '*.example.org'" % i)
    if problems:
        raise SpinError("load balancer platform variables: " + "; ".join(problems))
    return p


def platform_from_vars(variables, template=None):
    """The inventory variables ``spin_lb_<key>`` that are set -> a platform dict (action plugins)."""
    template = template or (lambda value: value)
    return {key: template(variables["spin_lb_" + key]) for key in PLATFORM_DEFAULTS
            if variables.get("spin_lb_" + key) is not None}


def stack_network(platform, stack):
    """The load balancer network of one fronted stack: the stack's public services and the edge
    containers, nobody else (an attachable overlay, so that the running edge joins it)."""
    return "%s%s" % (platform["network_prefix"], stack)


def cert_file(name):
    return "spin-cert-%s.pem" % name


# ---------------------------------------------------------------------------------------------
# names: what the edge resolves, and whose host names are whose

BACKEND_ALIAS_PREFIX = "spin-be-"


def backend_alias(tenant, stack, service):
    """The network alias a public service carries on its stack's load balancer network, and the
    name the edge resolves its tasks by (``tasks.<alias>``). Only the platform gives it: a tenant's
    own aliases stay on the stack's own networks; every Swarm service name has a '_' and this has
    none; a tenant's host name registers as it is, never as ``tasks.<name>`` (and one starting with
    'tasks.' is refused by the compose parser). The hash keeps tenant, stack and service apart
    ('a-b'/'c' is not 'a'/'b-c') and the name within one DNS label."""
    digest = hashlib.sha256(("%s/%s/%s" % (tenant, stack, service)).encode("utf-8")).hexdigest()
    return BACKEND_ALIAS_PREFIX + digest[:32]


def backend_host(doc, service):
    """What the edge resolves a service's servers by: ``tasks.<platform alias>``; for a routes
    document stored by an older spin.platform (no aliases), the Swarm name, until the stack is
    deployed again."""
    alias = (doc.get("aliases") or {}).get(service)
    return "tasks.%s" % (alias or "%s_%s" % (doc["stack"], service))


def lb_attachment(doc, service):
    """The public service's attachment to its stack's load balancer network: the platform's alias,
    nothing the tenant named."""
    return {"name": doc["network"], "aliases": [doc["aliases"][service]]}


# ---------------------------------------------------------------------------------------------
# the platform's own pages (Prometheus): a routes document of the platform, behind the staff password

STAFF_USERLIST = "spin_staff"


def platform_routes(name, routes, route_domain=None):
    """A routes document of the platform itself (``name``: its stack-like name, with a '_' so that no
    tenant's stack has it) for ``routes``: ``[{"service", "target_port", "hostname", "path", "port",
    "auth"}]``; ``hostname`` defaults to the route domain itself, which no tenant may hold, and
    ``auth: true`` puts the page behind the edge's stats user and password. Raises SpinError."""
    domain = (route_domain or stack_defaults.DEFAULTS["route_domain"]).lower()
    problems, out = [], []
    if "_" not in name or not _NAME.match(name):
        problems.append("platform route name '%s' must hold a '_' (no tenant's stack does) and be a Docker name"
                        % name)
    for i, given in enumerate(routes):
        hostname = str(given.get("hostname") or domain).lower()
        path = given.get("path")
        if not _HOSTNAME.match(hostname) or hostname.startswith("*."):
            problems.append("route %d: '%s' is not a host name" % (i, hostname))
        if path is not None and (not _PATH.match(str(path)) or path == "/"):
            problems.append("route %d: '%s' is not a path like /prometheus" % (i, path))
        if not _NAME.match(str(given.get("service") or "")):
            problems.append("route %d: give the service" % i)
        out.append({"rule": i + 1, "origin": "platform page %s%s" % (hostname, path or "/"),
                    "port": int(given.get("port") or stack_defaults.DEFAULTS["route_port"]), "protocol": "http",
                    "hostname": hostname, "path": path, "priority": None, "service": str(given.get("service")),
                    "target_port": int(given["target_port"]), "sticky": None, "check": None,
                    "auth": bool(given.get("auth", True))})
    if problems:
        raise SpinError("the platform's routes %s: %s" % (name, "; ".join(problems)))
    doc = {"version": ROUTES_VERSION, "tenant": PLATFORM_TENANT, "stack": name, "network": None, "routes": out,
           "route_domain": domain}
    doc["aliases"] = {service: backend_alias(PLATFORM_TENANT, name, service) for service in public_services(doc)}
    return doc


# ---------------------------------------------------------------------------------------------
# one stack: endpoints + load_balancers -> routes document

class _Problems(object):
    def __init__(self, files):
        self.files = files or {}
        self.diagnostics = []

    def error(self, kind, service, key, message):
        self.diagnostics.append(diag.error(self.files.get(kind), service, key, message))


def _ms(ns, default_ms):
    return default_ms if ns is None else max(1, int(ns) // 10**6)


def _truth(value, default):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "on", "1")


def _request_line(text):
    """Rancher's request_line ('GET "/healthz" "HTTP/1.0"' or 'GET /healthz HTTP/1.1') -> dict."""
    parts = [part.strip('"\'') for part in str(text).split()]
    if not 2 <= len(parts) <= 3:
        raise ValueError("write it as 'GET /healthz HTTP/1.0'")
    method, uri = parts[0].upper(), parts[1]
    version = parts[2].upper() if len(parts) == 3 else "HTTP/1.0"
    if not re.match(r"^[A-Z]+$", method) or not _PATH.match(uri) or version not in ("HTTP/1.0", "HTTP/1.1"):
        raise ValueError("write it as 'GET /healthz HTTP/1.0' (a method, a path starting with '/', "
                         "HTTP/1.0 or HTTP/1.1)")
    return {"method": method, "uri": uri, "version": version}


def _check(problems, kind, service, hc, key):
    """The target service's rancher health_check -> HAProxy check settings (None: connect check)."""
    if not hc:
        return None
    check = {"port": hc.get("port"), "inter_ms": _ms(hc.get("interval"), 2000),
             "timeout_ms": _ms(hc.get("response_timeout"), 2000),
             "rise": int(hc.get("healthy_threshold") or 2), "fall": int(hc.get("unhealthy_threshold") or 3),
             "request": None}
    if hc.get("request_line"):
        try:
            check["request"] = _request_line(hc["request_line"])
        except ValueError as exc:
            problems.error(kind, service, key + ".request_line", "'%s' is not an HTTP request line: %s"
                           % (hc["request_line"], exc))
    return check


def _sticky(problems, lb_name, stickiness):
    if not stickiness:
        return None
    key = "lb_config.stickiness_policy"
    mode = (stickiness.get("mode") or "insert").lower()
    if mode != "insert":
        problems.error("rancher", lb_name, key + ".mode", "mode '%s' is not supported: use insert (the edge "
                       "adds the cookie itself)" % mode)
    cookie = stickiness.get("cookie") or "SPIN_LB"
    if not _COOKIE.match(str(cookie)):
        problems.error("rancher", lb_name, key + ".cookie", "'%s' is not a cookie name: use letters, digits, '_' "
                       "and '-'" % cookie)
    domain = stickiness.get("domain")
    if domain and not _HOSTNAME.match(str(domain).lstrip(".").lower()):
        problems.error("rancher", lb_name, key + ".domain", "'%s' is not a domain" % domain)
    return {"cookie": str(cookie), "indirect": _truth(stickiness.get("indirect"), True),
            "nocache": _truth(stickiness.get("nocache"), True), "postonly": _truth(stickiness.get("postonly"), False),
            "domain": str(domain).lower() if domain else None}


def _hostname_allowed(hostname, patterns):
    return any(fnmatch.fnmatchcase(hostname, str(p).lower()) for p in patterns or [])


def _allowed_port(port, allowance):
    return not allowance or allowance.get("ports") is None or port in allowance["ports"]


def _allowed_hostname(hostname, allowance):
    return not allowance or allowance.get("hostnames") is None or _hostname_allowed(hostname, allowance["hostnames"])


def _endpoint_service(stack, endpoint):
    name = endpoint.get("compose_service") or endpoint.get("service") or ""
    prefix = stack + "_"
    if not endpoint.get("compose_service") and name.startswith(prefix):
        name = name[len(prefix):]
    return name


def stack_routes(tenant, stack, endpoints=None, load_balancers=None, health_checks=None, platform=None,
                 files=None, allowance=None, route_domain=None, redirect=None):
    """One stack's public ports and lb_config -> its routes document (without the network), with the
    platform's alias of each public service (``backend_alias``) and the route domain it was judged
    under.

    ``endpoints``: ``[{service | compose_service, target, published, protocol}]`` (translator);
    ``load_balancers``: the stack model's ``load_balancers``; ``health_checks``: ``{compose
    service: rancher_health_check}`` of the target services; ``files``: ``{"compose": name,
    "rancher": name}`` for the diagnostics; ``allowance``: the tenant's own narrower ports and
    host names (``allowance.of``; None: the platform's); ``route_domain``: the platform's
    ``spin_platform.route_domain`` (None: its default), under which a host name must lie inside the
    tenant's own ``<tenant>.<route_domain>`` (``names_taken``), whatever the allowance says.
    Raises SpinError with every problem as diagnostics.
    """
    platform = normalise_platform(platform)
    route_domain = (route_domain or stack_defaults.DEFAULTS["route_domain"]).lower()
    problems = _Problems(files)
    routes = []
    health_checks = health_checks or {}
    allowed_ports = set(platform["port_set"])
    seen = {}

    def add(route, kind, service, key, automatic=False):
        port = route["port"]
        if port not in allowed_ports:
            problems.error(kind, service, key, "port %s is not one the platform lets stacks publish: use one of %s "
                           "(the platform variable lb_ports)%s" % (port, ports_text(allowed_ports),
                                                                   _let_through(port, route, allowance, automatic)))
            return
        # the tenant's allowance narrows what the tenant writes; an automatic route is the platform's
        if not automatic and not _allowed_port(port, allowance):
            problems.error(kind, service, key, "port %s is not one tenant '%s' may publish: use one of %s (the "
                           "tenant's allowance, spin_tenants.%s.ports; infra staff change it with the role "
                           "spin.platform.tenant)" % (port, allowance["tenant"],
                                                      ports_text(set(allowance["ports"]) & allowed_ports),
                                                      allowance["tenant"]))
            return
        hostname = route["hostname"]
        if hostname is not None:
            if not _HOSTNAME.match(hostname):
                problems.error(kind, service, key + ".hostname", "'%s' is not a hostname: use letters, digits, '-' "
                               "and dots, optionally starting with '*.'" % hostname)
                return
            if not _hostname_allowed(hostname, platform["hostnames"]):
                problems.error(kind, service, key + ".hostname", "hostname '%s' is not one the platform serves: use "
                               "a name matching %s (the platform variable lb_hostnames)"
                               % (hostname, ", ".join("'%s'" % p for p in platform["hostnames"]) or "(none)"))
                return
            taken = names_taken(hostname, tenant, route_domain)
            if taken:
                own = "%s.%s" % (stack_defaults.host_label(tenant), route_domain)
                problems.error(kind, service, key + ".hostname", "hostname '%s' is inside %s under the route "
                               "domain '%s', where each tenant's automatic routes are <service>.<stack>.<tenant>.%s: "
                               "use a name under '%s' (like www.%s) or a domain of your own"
                               % (hostname, taken, route_domain, route_domain, own, own))
                return
            # a name the tenant writes (lb_config); the names the platform gives its services are its own
            if kind == "rancher" and not _allowed_hostname(hostname, allowance):
                problems.error(kind, service, key + ".hostname", "hostname '%s' is not one tenant '%s' may claim: "
                               "use a name matching %s (the tenant's allowance, spin_tenants.%s.hostnames; infra "
                               "staff change it with the role spin.platform.tenant)"
                               % (hostname, allowance["tenant"], ", ".join("'%s'" % p for p in allowance["hostnames"]),
                                  allowance["tenant"]))
                return
        if route["path"] is not None and not _PATH.match(route["path"]):
            problems.error(kind, service, key + ".path", "'%s' is not a path: start with '/' and use no spaces, quotes, "
                           "'#', '$' or braces" % route["path"])
            return
        if route["protocol"] in ("tcp", "tls") and (hostname or route["path"]):
            problems.error(kind, service, key, "a %s rule forwards a whole port: leave hostname and path out, or use "
                           "protocol http/https" % route["protocol"])
            return
        if route["protocol"] in TLS_PROTOCOLS and not platform["certificates"]:
            problems.error(kind, service, key + ".protocol", "the platform has no TLS certificate, so it cannot "
                           "serve %s: ask the platform team to set lb_certificates, or use http" % route["protocol"])
            return
        where = (port, hostname, route["path"], route["protocol"] in HOST_PROTOCOLS)
        for other in routes:
            if other["port"] != port or (other["protocol"] in HOST_PROTOCOLS) != (route["protocol"] in HOST_PROTOCOLS):
                continue
            if other["protocol"] != route["protocol"]:
                problems.error(kind, service, key + ".protocol", "port %d is %s in rule %d (%s) but %s here: one "
                               "port speaks one protocol" % (port, other["protocol"], other["rule"], other["origin"],
                                                             route["protocol"]))
                return
            if route["protocol"] in ("tcp", "tls"):
                problems.error(kind, service, key, "port %d already forwards to %s in rule %d (%s): a %s port "
                               "forwards to one service" % (port, other["service"], other["rule"], other["origin"],
                                                            route["protocol"]))
                return
        if where in seen and seen[where]["priority"] == route["priority"]:
            other = seen[where]
            problems.error(kind, service, key, "rule %d (%s) already routes port %d%s%s: give the two rules "
                           "different priorities or remove one" % (other["rule"], other["origin"], port,
                                                                   " host " + hostname if hostname else "",
                                                                   " path " + route["path"] if route["path"] else ""))
            return
        seen.setdefault(where, route)
        route["rule"] = len(routes) + 1
        routes.append(route)

    for i, endpoint in enumerate(endpoints or []):
        service = _endpoint_service(stack, endpoint)
        index = endpoint.get("index")
        key = endpoint.get("key") or "ports[%d]" % (
            index if index is not None else
            sum(1 for e in (endpoints or [])[:i] if _endpoint_service(stack, e) == service and not e.get("key")))
        protocol = (endpoint.get("protocol") or "tcp").lower()
        if protocol not in ("tcp",) + HOST_PROTOCOLS:
            problems.error("compose", service, key, "a %s port cannot go through the load balancer: %s"
                           % (protocol, _NOT_SUPPORTED.get(protocol, "only TCP ports are forwarded")))
            continue
        if not endpoint.get("published"):
            problems.error("compose", service, key, "give the port the load balancer publishes, like '80:%s' "
                           "(one of %s)" % (endpoint.get("target"), ports_text(allowed_ports))
                           if protocol == "tcp" else
                           "give the port the service publishes on its node, like '%s:%s/%s' (one of %s)"
                           % (endpoint.get("target"), endpoint.get("target"), protocol, ports_text(allowed_ports)))
            continue
        if protocol in HOST_PROTOCOLS:
            # published by the service itself, in host mode: the stack claims the port like the edge's
            route = {"origin": "service '%s' %s" % (service, key), "port": int(endpoint["published"]),
                     "protocol": protocol, "hostname": None, "path": None, "priority": None, "service": service,
                     "target_port": int(endpoint["target"]), "sticky": None, "check": None}
            add(route, "compose", service, key)
            continue
        # an endpoint may carry a host name (the translator's automatic routes, and ports the edge
        # shares by host name): then the stack holds that name on the port, not the whole port
        route = {"origin": endpoint.get("origin") or "service '%s' %s" % (service, key),
                 "port": int(endpoint["published"]), "protocol": "http", "hostname": endpoint.get("hostname"),
                 "path": None, "priority": None, "service": service,
                 "target_port": int(endpoint["target"]), "sticky": None,
                 "check": _check(problems, "rancher", service, health_checks.get(service), "health_check")}
        add(route, "compose", service, key, automatic=bool(endpoint.get("key")))

    for lb_name in sorted(load_balancers or {}):
        lb = load_balancers[lb_name] or {}
        sticky = _sticky(problems, lb_name, lb.get("stickiness"))
        for cert_key, names in (("lb_config.certs", lb.get("certs") or []),
                                ("lb_config.default_cert", [lb["default_cert"]] if lb.get("default_cert") else [])):
            known = [c["name"] for c in platform["certificates"]]
            for name in names:
                if name not in known:
                    problems.error("rancher", lb_name, cert_key, "certificate '%s' is not one of the platform's (%s): "
                                   "the edge serves the platform's certificates by SNI; leave it out, or ask the "
                                   "platform team to add it to lb_certificates" % (name, ", ".join(known) or "none"))
        for i, rule in enumerate(lb.get("port_rules") or []):
            key = "lb_config.port_rules[%d]" % i
            protocol = (rule.get("protocol") or "http").lower()
            if protocol not in PROTOCOLS:
                problems.error("rancher", lb_name, key + ".protocol", "protocol '%s' is not supported: %s"
                               % (protocol, _NOT_SUPPORTED.get(protocol, "use http, https, tcp or tls")))
                continue
            if not rule.get("service") or not rule.get("source_port") or not rule.get("target_port"):
                problems.error("rancher", lb_name, key, "a rule needs source_port, target_port and service")
                continue
            hostname = rule.get("hostname")
            hostname = str(hostname).strip().lower() if hostname not in (None, "") else None
            path = rule.get("path")
            path = str(path).strip() if path not in (None, "", "/") else None
            service = str(rule["service"])
            route = {"origin": "load balancer '%s' %s" % (lb_name, key), "port": int(rule["source_port"]),
                     "protocol": protocol, "hostname": hostname, "path": path,
                     "priority": None if rule.get("priority") is None else int(rule["priority"]),
                     "service": service, "target_port": int(rule["target_port"]),
                     "sticky": sticky if protocol in HTTP_PROTOCOLS else None,
                     "check": _check(problems, "rancher", service, health_checks.get(service), "health_check")}
            add(route, "rancher", lb_name, key)

    if problems.diagnostics:
        raise SpinError("the load balancer rules of stack '%s' have %d problem(s): %s" % (
            stack, len(problems.diagnostics), "; ".join(diag.format_diagnostic(d) for d in problems.diagnostics)),
            diagnostics=problems.diagnostics)
    # x-spin: {https: redirect} of a service: its HTTP routes with a host name send plain HTTP to HTTPS
    # (the key is added only then, so that documents of stacks that ask nothing keep their digest)
    for route in routes:
        if route["service"] in (redirect or ()) and route["protocol"] == "http" and route["hostname"]:
            route["https"] = "redirect"
    doc = {"version": ROUTES_VERSION, "tenant": tenant, "stack": stack, "network": None, "routes": routes,
           "route_domain": route_domain}
    doc["aliases"] = {name: backend_alias(tenant, stack, name) for name in public_services(doc)}
    return doc


def route_url(route, public_host=None):
    """``web: http://www.example.org/path`` for a stored route (its URL as people type it)."""
    scheme = route["protocol"]
    default_port = {"http": 80, "https": 443}.get(scheme)
    port = "" if route["port"] == default_port else ":%s" % route["port"]
    return "%s: %s://%s%s%s" % (route["service"], scheme, route.get("hostname") or public_host or "<edge node>", port,
                                route.get("path") or ("/" if scheme in ("http", "https") else ""))


def public_services(routes_doc):
    """The compose services that must join the stack's load balancer network (those the edge serves)."""
    return sorted({r["service"] for r in routes_doc["routes"] if r["protocol"] not in HOST_PROTOCOLS})


def edge_routes(routes_doc):
    """The routes document with only what the edge serves (a port a service publishes itself is not)."""
    return dict(routes_doc, routes=[r for r in routes_doc["routes"] if r["protocol"] not in HOST_PROTOCOLS])


def _let_through(port, route, allowance, automatic=False):
    """What would let a refused port through: the platform's list, and the tenant's allowance where it
    has one. (An HTTP port outside the list never gets here: stack_defaults.http_port_routes serves it on
    the service's route; an automatic route is the platform's, nothing of it the tenant's to change.)"""
    if automatic:
        return ""
    whose = "" if not allowance or allowance.get("ports") is None else \
        " and to tenant '%s''s ports (spin_tenants.%s.ports)" % (allowance["tenant"], allowance["tenant"])
    return "; infra staff let it through by adding %d to spin_lb_ports%s" % (port, whose)


# ---------------------------------------------------------------------------------------------
# claims: which routes of two stacks cannot both be served
