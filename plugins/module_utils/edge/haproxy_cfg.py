# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every fronted stack's routes -> the full ``haproxy.cfg`` text (issue 4), as pure functions:
``render()`` (same input, byte-identical output: no change, no reload), ``redact()`` for diffs,
and ``origin_of_line()`` / ``explain_check_output()``, which map an ``haproxy -c`` complaint back to
the tenant's rule through the ``# spin:`` comment before every generated section. One stack's
routes document and the platform variables are ``haproxy``'s."""
from __future__ import annotations

import hashlib
import re

from ansible_collections.spin.platform.plugins.module_utils.edge import tls_edge
from ansible_collections.spin.platform.plugins.module_utils.edge.tls import REDIRECT
from ansible_collections.spin.platform.plugins.module_utils.edge.haproxy import (
    CERT_DIR, HTTP_PROTOCOLS, NO_ROUTE_BACKEND, SECRET_MARK, STAFF_USERLIST, TLS_PROTOCOLS, backend_host, cert_file,
    edge_routes, normalise_platform)
from ansible_collections.spin.platform.plugins.module_utils.edge.claims import canonical_json, served_routes


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


def _backend_lines(name, doc, service, target_port, mode, check, sticky, platform, rules, auth=False,
                   password=None):
    stack = doc["stack"]
    lines = ["# spin: stack '%s' (tenant '%s'): service '%s' port %d, for %s"
             % (stack, doc["tenant"], service, target_port, ", ".join(rules)),
             "backend %s" % name,
             "    mode %s" % mode,
             "    balance roundrobin"]
    if auth:
        # a platform page for staff: the stats page's user and password (the same on every page)
        lines.append("    http-request auth realm spin.platform unless { http_auth(%s) }" % STAFF_USERLIST
                     if password else "    http-request deny deny_status 403  # no stats password: the page stays shut")
    # by the platform's alias on the stack's own network (haproxy.backend_alias): no name a tenant chooses
    server = ("    server-template %s %d %s:%d check resolvers swarm resolve-prefer ipv4 init-addr last,none"
              % (_server_prefix(service), slots(platform, doc, service), backend_host(doc, service), target_port))
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
            canonical_json(route["check"]), canonical_json(route["sticky"]), bool(route.get("auth")))


def https_routes(by_port, platform):
    """The HTTP routes with a host name, each served over HTTPS on ``lb_https_port`` too ->
    (https port or None, [(doc, route as served there)], why not served or None). Host names belong to
    one stack on every port (claims), so a name on port 80 cannot collide with another stack's name on
    the HTTPS port; a stack that takes that port whole as tcp/tls leaves no room for HTTPS."""
    port = platform.get("https_port")
    if not port:
        return None, [], None
    if port not in platform["port_set"]:
        return None, [], "lb_https_port %d is not one of lb_ports" % port
    taken = [(d, r) for d, r in by_port.get(port, []) if r["protocol"] not in HTTP_PROTOCOLS or r["protocol"] == "http"]
    if taken:
        doc, route = taken[0]
        return None, [], "port %d is %s for %s" % (port, route["protocol"], _describe(doc["stack"], route))
    mirrored = []
    for p_ in sorted(by_port):
        if p_ == port:
            continue
        for doc, route in by_port[p_]:
            if route["protocol"] == "http" and route["hostname"]:
                mirrored.append((doc, dict(route, port=port, protocol="https")))
    return port, mirrored, None


def render(stacks, platform=None, stats_password=None):
    """Routes documents of every fronted stack, in claim order -> haproxy.cfg text (deterministic).

    A route that conflicts with an earlier stack's claim is not served (``served_routes``).
    ``stats_password`` is the stats page's password when the platform variable is empty (the edge
    node keeps a generated one); its line is marked so that ``redact()`` hides it in diffs.
    """
    p = normalise_platform(platform)
    served, left_out = served_routes(stacks)
    # ports the services publish themselves (UDP, host mode) are claimed, not served here
    docs = sorted((edge_routes(d) for d in served), key=lambda d: d["stack"])
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
        out.append("    stats auth '%s:%s'%s" % (p["stats_user"], password, SECRET_MARK))
    else:
        out.append("    http-request deny deny_status 403  # no lb_stats_password: the page stays shut")
    out.append("")
    if password and any(r.get("auth") for d in docs for r in d["routes"]):
        out += ["# spin: platform: the staff who may open the platform's pages (the stats page's user and password)",
                "userlist %s" % STAFF_USERLIST,
                "    user %s insecure-password '%s'%s" % (p["stats_user"], password, SECRET_MARK),
                ""]

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
        stack, service, port, mode = key[:4]
        base = "%s:%s:%d%s" % (stack, service, port, ":tcp" if mode == "tcp" else "")
        name, n = base, 1
        while name in used:
            n += 1
            name = "%s:%d" % (base, n)
        used.add(name)
        names[key] = name

    certs = " ".join("crt %s" % cert_file(c["name"]) for c in p["certificates"])
    https_port, mirrored, why_not = https_routes(by_port, p)
    if why_not:
        out.insert(2, "# HTTPS not served: %s" % why_not)
    if https_port:
        by_port.setdefault(https_port, [])
    for port in sorted(by_port):
        entries = sorted(by_port[port], key=lambda e: _route_order(e[0]["stack"], e[1]))
        if port == https_port:
            entries = sorted(entries + mirrored, key=lambda e: _route_order(e[0]["stack"], e[1]))
        protocol = entries[0][1]["protocol"] if entries and port != https_port else "https"
        stacks_here = sorted({d["stack"] for d, dummy in entries})
        out.append("# spin: port %d (%s): stacks %s" % (port, protocol, ", ".join(stacks_here) or "none"))
        out.append("frontend port:%d" % port)
        bind = "    bind :%d" % port
        if port == https_port:
            # the platform's certificates first (the first is the default), then the stacks' by SNI from the
            # crt-list the runtime API adds to (tls_edge); the image's placeholder answers any other name
            bind += " ssl %scrt %s crt-list %s alpn h2,http/1.1" % (
                certs + " " if certs else "", tls_edge.DEFAULT_CERT, tls_edge.crt_list_path(p))
        elif protocol in TLS_PROTOCOLS:
            bind += " ssl %s" % certs
            if protocol == "https":
                bind += " alpn h2,http/1.1"
        out.append(bind)
        if protocol in HTTP_PROTOCOLS:
            out += ["    mode http",
                    "    option idle-close-on-response",
                    "    option forwardfor",
                    "    http-request set-header X-Forwarded-Proto %s" % ("https" if protocol == "https" else "http"),
                    "    http-request set-header X-Forwarded-Port %d" % port]
            if protocol == "http" and https_port:
                for doc, route in entries:
                    if route.get("https") == REDIRECT and route["hostname"]:
                        out.append("    # spin: redirect to HTTPS: " + _describe(doc["stack"], route))
                        out.append("    http-request redirect %s code 301 if %s" % (
                            "scheme https" if https_port == 443 else
                            "location https://%%[req.hdr(host),field(1,:)]:%d%%[capture.req.uri]" % https_port,
                            " ".join(_conditions(route))))
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
                              route["check"], route["sticky"], p, entry["rules"], auth=key[6], password=password)
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
    return "\n".join(line.split("'")[0] + "'<redacted>'" + SECRET_MARK if line.endswith(SECRET_MARK) else line
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
