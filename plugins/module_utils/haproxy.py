# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge load balancer's configuration, as pure functions (issue 4).

``stack_routes()`` turns one stack's public ``ports`` (the translator's ``endpoints``) and its
rancher-compose ``lb_config`` (the stack model's ``load_balancers``) into that stack's normalised
**routes document**; ``render()`` turns the routes documents of every fronted stack into the full
``haproxy.cfg`` text. Same input, byte-identical output: that is what makes "no change, no reload".

Every generated section is preceded by a ``# spin:`` comment naming the stack and rule it came
from, so that ``origin_of_line()`` can map an ``haproxy -c`` complaint back to the tenant's rule.

No files, no Docker, no Ansible here (see docs/design.md).
"""
from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import re

from . import diagnostics as diag
from .errors import SpinError
from .ports import port_set, ports_text  # noqa: F401 (port_set: the platform's API)

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
}

CERT_DIR = "/run/secrets"
NO_ROUTE_BACKEND = "spin:no-route"
PROTOCOLS = ("http", "https", "tcp", "tls")
_TLS = ("https", "tls")
_HTTP = ("http", "https")
_NOT_SUPPORTED = {
    "udp": "HAProxy does not forward UDP: publish UDP services on a dedicated node instead",
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
_SECRET_MARK = "  # spin:secret"


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
    for key in ("servers", "stats_port", "maxconn", "nbthread"):
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
                 files=None, allowance=None):
    """One stack's public ports and lb_config -> its routes document (without the network).

    ``endpoints``: ``[{service | compose_service, target, published, protocol}]`` (translator);
    ``load_balancers``: the stack model's ``load_balancers``; ``health_checks``: ``{compose
    service: rancher_health_check}`` of the target services; ``files``: ``{"compose": name,
    "rancher": name}`` for the diagnostics; ``allowance``: the tenant's own narrower ports and
    host names (``allowance.of``; None: the platform's). Raises SpinError with every problem as
    diagnostics.
    """
    platform = normalise_platform(platform)
    problems = _Problems(files)
    routes = []
    health_checks = health_checks or {}
    allowed_ports = set(platform["port_set"])
    seen = {}

    def add(route, kind, service, key, automatic=False):
        port = route["port"]
        if port not in allowed_ports:
            problems.error(kind, service, key, "port %s is not one the platform lets stacks publish: use one of %s "
                           "(the platform variable lb_ports)" % (port, ports_text(allowed_ports)))
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
        if route["protocol"] in _TLS and not platform["certificates"]:
            problems.error(kind, service, key + ".protocol", "the platform has no TLS certificate, so it cannot "
                           "serve %s: ask the platform team to set lb_certificates, or use http" % route["protocol"])
            return
        where = (port, hostname, route["path"])
        for other in routes:
            if other["port"] != port:
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
        if protocol != "tcp":
            problems.error("compose", service, key, "a %s port cannot go through the load balancer: %s"
                           % (protocol, _NOT_SUPPORTED.get(protocol, "only TCP ports are forwarded")))
            continue
        if not endpoint.get("published"):
            problems.error("compose", service, key, "give the port the load balancer publishes, like '80:%s' "
                           "(one of %s)" % (endpoint.get("target"), ports_text(allowed_ports)))
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
                     "sticky": sticky if protocol in _HTTP else None,
                     "check": _check(problems, "rancher", service, health_checks.get(service), "health_check")}
            add(route, "rancher", lb_name, key)

    if problems.diagnostics:
        raise SpinError("the load balancer rules of stack '%s' have %d problem(s): %s" % (
            stack, len(problems.diagnostics), "; ".join(diag.format_diagnostic(d) for d in problems.diagnostics)),
            diagnostics=problems.diagnostics)
    return {"version": ROUTES_VERSION, "tenant": tenant, "stack": stack, "network": None, "routes": routes}


def public_services(routes_doc):
    """The compose services that must join the stack's load balancer network."""
    return sorted({r["service"] for r in routes_doc["routes"]})


def routes_digest(routes_doc):
    return hashlib.sha256(canonical_json(routes_doc).encode("utf-8")).hexdigest()


def canonical_json(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# claims: which routes of two stacks cannot both be served

def owner_of(doc):
    return "stack '%s' (tenant '%s')" % (doc["stack"], doc["tenant"])


def hostnames_overlap(a, b):
    """Do two hostnames (exact or '*.suffix') serve a common name?"""
    if a == b:
        return True
    for wild, other in ((a, b), (b, a)):
        if wild.startswith("*.") and other.endswith(wild[1:]):
            return True
    return False


def route_conflict(route, held, holder):
    """Why ``route`` cannot be served beside ``held``, a route of another stack (``holder``, its
    routes document), or None."""
    if route["hostname"] and held["hostname"] and hostnames_overlap(route["hostname"], held["hostname"]):
        if route["hostname"] == held["hostname"]:
            return "hostname '%s' is held by %s" % (route["hostname"], owner_of(holder))
        return "hostname '%s' overlaps '%s', held by %s" % (route["hostname"], held["hostname"], owner_of(holder))
    if held["port"] != route["port"]:
        return None
    if held["protocol"] != route["protocol"]:
        return "port %d is served as %s by %s: use protocol %s or another port" % (
            route["port"], held["protocol"], owner_of(holder), held["protocol"])
    if held["hostname"] is None or route["hostname"] is None:
        return "port %d is held by %s%s" % (
            route["port"], owner_of(holder),
            "" if held["hostname"] is None else " (for hostname '%s'; a rule without a hostname takes the whole "
            "port)" % held["hostname"])
    return None


def claim_conflicts(doc, holders):
    """The rules of ``doc`` that routes of ``holders`` (other stacks' documents, which hold their
    claims first) forbid: ``[(route, why)]``. Pure."""
    out = []
    for route in doc["routes"]:
        for holder in holders:
            if holder["stack"] == doc["stack"]:
                continue
            why = next((w for w in (route_conflict(route, held, holder) for held in holder["routes"]) if w), None)
            if why:
                out.append((route, why))
                break
    return out


def served_routes(stacks):
    """Routes documents in claim order (the first holds) -> the same documents with the routes
    that an earlier stack's claim forbids left out, and ``[(stack, route, why)]`` of those. The
    claim check refuses such a stack before it is created; this keeps two stacks off one
    unconditional port even while two deploys race, or when state was written by hand."""
    served, left_out = [], []
    for doc in stacks or []:
        conflicts = claim_conflicts(doc, served)
        if conflicts:
            bad = [id(route) for route, dummy in conflicts]
            left_out.extend((doc["stack"], route, why) for route, why in conflicts)
            doc = dict(doc, routes=[r for r in doc["routes"] if id(r) not in bad])
        served.append(doc)
    return served, left_out


# ---------------------------------------------------------------------------------------------
# every stack -> haproxy.cfg

def _host_rank(hostname):
    if hostname is None:
        return (2, 0)
    if hostname.startswith("*."):
        return (1, -len(hostname))
    return (0, 0)


def _route_order(stack, route):
    """Exact hosts before wildcards before any host; longer paths first; then priority (lower first)."""
    priority = route["priority"] if route["priority"] is not None else 1 << 30
    return (_host_rank(route["hostname"]), -len(route["path"] or ""), priority, stack, route["rule"])


def _describe(stack, route):
    target = "%s:%d" % (route["service"], route["target_port"])
    where = "%s%s" % (route["hostname"] or "any host", route["path"] or "")
    return "rule %d of stack '%s' (%s): port %d %s %s -> %s" % (
        route["rule"], stack, route["origin"], route["port"], route["protocol"], where, target)


def _conditions(route):
    conds = []
    if route["hostname"]:
        if route["hostname"].startswith("*."):
            conds.append("{ req.hdr(host),field(1,:),lower -m end %s }" % route["hostname"][1:])
        else:
            conds.append("{ req.hdr(host),field(1,:),lower -m str %s }" % route["hostname"])
    if route["path"]:
        conds.append("{ path_beg %s }" % route["path"])
    return conds


def _backend_lines(name, doc, service, target_port, mode, check, sticky, platform, rules):
    stack = doc["stack"]
    lines = ["# spin: stack '%s' (tenant '%s'): service '%s' port %d, for %s"
             % (stack, doc["tenant"], service, target_port, ", ".join(rules)),
             "backend %s" % name,
             "    mode %s" % mode,
             "    balance roundrobin"]
    server = ("    server-template %s %d tasks.%s_%s:%d check resolvers swarm resolve-prefer ipv4 init-addr last,none"
              % (_server_prefix(service), slots(platform, doc, service), stack, service, target_port))
    if check:
        req = check["request"]
        if req:
            lines.append("    option httpchk")
            send = "    http-check send meth %s uri %s ver %s" % (req["method"], req["uri"], req["version"])
            if req["version"] == "HTTP/1.1":
                send += " hdr Host %s" % service
            lines.append(send)
            lines.append("    http-check expect status 200-399")
        lines.append("    timeout check %dms" % check["timeout_ms"])
        server += " inter %dms rise %d fall %d" % (check["inter_ms"], check["rise"], check["fall"])
        if check["port"] and int(check["port"]) != target_port:
            server += " port %d" % int(check["port"])
    else:
        server += " inter 1s fastinter 250ms downinter 1s rise 2 fall 2"
    if sticky:
        cookie = "    cookie %s insert" % sticky["cookie"]
        if sticky["indirect"]:
            cookie += " indirect"
        if sticky["nocache"]:
            cookie += " nocache"
        if sticky["postonly"]:
            cookie += " postonly"
        if sticky["domain"]:
            cookie += " domain %s" % sticky["domain"]
        lines.append(cookie + " dynamic")
        # dynamic cookies: a server's cookie is a hash of its address and this key
        lines.append("    dynamic-cookie-key %s" % hashlib.sha256(name.encode("utf-8")).hexdigest()[:16])
    lines.append(server)
    return lines


def slots(platform, doc, service):
    """Server slots of a service's backend: lb_servers, or more for a service the stack scales
    further (its replicas and a fifth more, for rolling updates, in tens)."""
    replicas = int((doc.get("replicas") or {}).get(service) or 0)
    wanted = replicas + max(2, (replicas + 4) // 5)
    return max(platform["servers"], -(-wanted // 10) * 10 if replicas else 0)


def _server_prefix(service):
    return re.sub(r"[^A-Za-z0-9_-]", "_", service)


def _backend_key(doc, route):
    mode = "tcp" if route["protocol"] in ("tcp", "tls") else "http"
    return (doc["stack"], route["service"], route["target_port"], mode,
            canonical_json(route["check"]), canonical_json(route["sticky"]))


def render(stacks, platform=None, stats_password=None):
    """Routes documents of every fronted stack, in claim order -> haproxy.cfg text (deterministic).

    A route that conflicts with an earlier stack's claim is not served (``served_routes``).
    ``stats_password`` is the stats page's password when the platform variable is empty (the edge
    node keeps a generated one); its line is marked so that ``redact()`` hides it in diffs.
    """
    p = normalise_platform(platform)
    served, left_out = served_routes(stacks)
    docs = sorted(served, key=lambda d: d["stack"])
    out = [
        "# spin.platform edge load balancer, generated by spin.platform.spin_lb: do not edit, it is rewritten.",
        "# stacks: %s" % (", ".join("%s (tenant %s, network %s)" % (d["stack"], d["tenant"], d.get("network"))
                                    for d in docs) or "none"),
    ]
    out += ["# not served: %s" % _describe(stack, route) + ": " + why for stack, route, why in left_out]
    out += [
        "",
        "# spin: platform: global settings",
        "global",
        "    log stdout format raw local0 notice",
        "    stats socket %s/run/admin.sock mode 600 level admin expose-fd listeners" % p["config_dir"],
        "    stats timeout 30s",
        "    server-state-file %s/run/servers.state" % p["config_dir"],
        "    hard-stop-after %s" % p["hard_stop_after"],
        "    crt-base %s" % CERT_DIR,
        "    ssl-default-bind-options ssl-min-ver TLSv1.2",
    ]
    if p["maxconn"]:
        out.append("    maxconn %d" % p["maxconn"])
    if p["nbthread"]:
        out.append("    nbthread %d" % p["nbthread"])
    out += [
        "",
        "# spin: platform: Swarm's DNS, which follows the tasks of every service (no reload when scaling)",
        "resolvers swarm",
        "    nameserver docker 127.0.0.11:53",
        "    accepted_payload_size 8192",
        "    resolve_retries 3",
        "    timeout resolve 1s",
        "    timeout retry 1s",
        "    hold valid 1s",
        "    hold obsolete 0s",
        "    hold nx 5s",
        "    hold other 5s",
        "    hold refused 5s",
        "    hold timeout 5s",
        "",
        "# spin: platform: defaults",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    option dontlog-normal",
        "    option redispatch 1",
        "    retries 3",
        "    retry-on conn-failure empty-response response-timeout",
        "    load-server-state-from-file global",
        # a replica that died answers nothing: give up on it within half a second and retry elsewhere
        "    timeout connect 500ms",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 30s",
        "    timeout tunnel 1h",
        "    timeout client-fin 5s",
        "    timeout check 2s",
        "",
    ]
    password = p["stats_password"] or stats_password or ""
    out += [
        "# spin: platform: the stats page, on a socket that the stats relay publishes on lb_stats_bind:lb_stats_port",
        "frontend spin:stats",
        "    bind unix@%s/run/stats.sock mode 600" % p["config_dir"],
        "    mode http",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        "    stats enable",
        "    stats uri /",
        "    stats refresh 10s",
        "    stats show-legends",
    ]
    if password:
        out.append("    stats auth '%s:%s'%s" % (p["stats_user"], password, _SECRET_MARK))
    else:
        out.append("    http-request deny deny_status 403  # no lb_stats_password: the page stays shut")
    out.append("")

    # routes by port, and the backends they need
    by_port = {}
    backends = {}
    backend_order = []
    for doc in docs:
        for route in sorted(doc["routes"], key=lambda r: r["rule"]):
            by_port.setdefault(route["port"], []).append((doc, route))
            key = _backend_key(doc, route)
            if key not in backends:
                backends[key] = {"doc": doc, "route": route, "rules": []}
                backend_order.append(key)
            backends[key]["rules"].append("rule %d (%s)" % (route["rule"], route["origin"]))
    names = {}
    used = set()
    for key in sorted(backend_order):
        stack, service, port, mode, dummy, dummy = key
        base = "%s:%s:%d%s" % (stack, service, port, ":tcp" if mode == "tcp" else "")
        name, n = base, 1
        while name in used:
            n += 1
            name = "%s:%d" % (base, n)
        used.add(name)
        names[key] = name

    certs = " ".join("crt %s" % cert_file(c["name"]) for c in p["certificates"])
    for port in sorted(by_port):
        entries = sorted(by_port[port], key=lambda e: _route_order(e[0]["stack"], e[1]))
        protocol = entries[0][1]["protocol"]
        stacks_here = sorted({d["stack"] for d, dummy in entries})
        out.append("# spin: port %d (%s): stacks %s" % (port, protocol, ", ".join(stacks_here)))
        out.append("frontend port:%d" % port)
        bind = "    bind :%d" % port
        if protocol in _TLS:
            bind += " ssl %s" % certs
            if protocol == "https":
                bind += " alpn h2,http/1.1"
        out.append(bind)
        if protocol in _HTTP:
            out += ["    mode http",
                    "    option idle-close-on-response",
                    "    option forwardfor",
                    "    http-request set-header X-Forwarded-Proto %s" % ("https" if protocol == "https" else "http"),
                    "    http-request set-header X-Forwarded-Port %d" % port]
            for doc, route in entries:
                out.append("    # spin: " + _describe(doc["stack"], route))
                conds = _conditions(route)
                out.append("    use_backend %s%s" % (names[_backend_key(doc, route)],
                                                     " if " + " ".join(conds) if conds else ""))
            out.append("    default_backend %s" % NO_ROUTE_BACKEND)
        else:
            doc, route = entries[0]
            out += ["    mode tcp",
                    "    option tcplog",
                    "    # spin: " + _describe(doc["stack"], route),
                    "    default_backend %s" % names[_backend_key(doc, route)]]
        out.append("")

    for key in sorted(backend_order):
        entry = backends[key]
        route = entry["route"]
        out += _backend_lines(names[key], entry["doc"], route["service"], route["target_port"], key[3],
                              route["check"], route["sticky"], p, entry["rules"])
        out.append("")

    out += ["# spin: platform: what answers when no rule matches",
            "backend %s" % NO_ROUTE_BACKEND,
            "    mode http",
            "    http-request return status 404 content-type text/plain string \"spin.platform: no route for "
            "this host and path\\n\"",
            ""]
    return "\n".join(out)


def redact(text):
    """The config with its secret lines hidden (for diffs and logs)."""
    if text is None:
        return None
    return "\n".join(line.split("'")[0] + "'<redacted>'" + _SECRET_MARK if line.endswith(_SECRET_MARK) else line
                     for line in text.split("\n"))


_ALERT_LINE = re.compile(r"\[[^\]\s]*?:(\d+)\]")
_PROXY_NAME = re.compile(r"(?:proxy|backend|frontend)\s+'([^']+)'", re.I)


def origin_of_line(text, lineno):
    """The ``# spin:`` comment that governs line ``lineno`` (1-based) of a rendered config."""
    lines = text.split("\n")
    for i in range(min(lineno, len(lines)) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped.startswith("# spin: "):
            return stripped[len("# spin: "):]
    return None


def _origin_of_proxy(text, name):
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.split()[1:2] == [name] and line.split()[0] in ("frontend", "backend", "listen"):
            return origin_of_line(text, i + 1)
    return None


def explain_check_output(text, output):
    """``haproxy -c`` output for ``text`` -> messages that name the stack and rule of each problem."""
    messages = []
    for raw in output.splitlines():
        if "[ALERT]" not in raw:
            continue
        line = re.sub(r"^\[ALERT\]\s*(?:\(\d+\)\s*)?:\s*", "", raw).strip()
        origin = None
        match = _ALERT_LINE.search(line)
        if match:
            origin = origin_of_line(text, int(match.group(1)))
        if origin is None:
            match = _PROXY_NAME.search(line)
            if match:
                origin = _origin_of_proxy(text, match.group(1))
        if "Fatal errors found in configuration" in line or "Error(s) found in configuration file" in line:
            continue
        messages.append("%s: %s" % (origin, line) if origin else line)
    return messages
