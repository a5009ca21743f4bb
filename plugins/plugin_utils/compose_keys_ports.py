# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service key handlers: ports (short and long syntax, ranges, host_ip) and expose. Pure."""
from __future__ import annotations

import re

from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import MAX_PORT_RANGE
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, as_int, as_list, as_str, enum)


# ---------------------------------------------------------------------------------------------
# service keys: ports, expose

def port_number(text, what="port"):
    number = as_int(text, minimum=1, maximum=65535, what="a %s number" % what)
    return number


def _port_range(text):
    """'80' -> (80, 80); '8000-8010' -> (8000, 8010); '' -> None."""
    text = text.strip()
    if not text:
        return None
    low, sep, high = text.partition("-")
    low = port_number(low)
    high = port_number(high) if sep else low
    if high < low:
        raise Invalid("port range '%s' runs backwards" % text)
    if high - low >= MAX_PORT_RANGE:
        raise Invalid("port range '%s' has more than %d ports" % (text, MAX_PORT_RANGE))
    return low, high


def _split_short_port(text):
    """'127.0.0.1:8080:80/udp' -> (host_ip, published, target, protocol) as strings."""
    body, dummy, protocol = text.strip().partition("/")
    host_ip = None
    if body.startswith("["):
        end = body.find("]")
        if end < 0 or body[end + 1:end + 2] != ":":
            raise ValueError
        host_ip, parts = body[1:end], body[end + 2:].split(":")
        if len(parts) != 2:
            raise ValueError
    else:
        parts = body.split(":")
        if len(parts) == 3:
            host_ip = parts.pop(0)
        if len(parts) > 2:
            raise ValueError
    published, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    return host_ip, published, target, protocol or "tcp"


_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|::1|localhost)$")
_ANY_ADDRESS = ("0.0.0.0", "::", "")


def _host_ip(sp, key, host_ip, targets):
    """-> True when the port stays on the host's loopback (so it is not published at all)."""
    if host_ip is None or host_ip.strip() in _ANY_ADDRESS:
        return False
    if _LOOPBACK.match(host_ip.strip()):
        sp.model["loopback_ports"].extend(t for t in targets if t not in sp.model["loopback_ports"])
        sp.warning(key, "bound to %s: in Compose only the host itself reaches it, so spin.platform publishes "
                   "nothing for it (the stack's services reach '%s' on port %s by name)"
                   % (host_ip, sp.name, ", ".join(str(t) for t in targets)))
        return True
    sp.warning(key, "host IP '%s' is ignored: the platform load balancer publishes the port" % host_ip)
    return False


def _expand_ports(text, targets, publics, protocol, mode):
    count = targets[1] - targets[0] + 1
    if publics is not None and publics[1] - publics[0] + 1 != count:
        raise Invalid("'%s': the published and container port ranges must have the same length" % text)
    return [{"target": targets[0] + i, "published": None if publics is None else publics[0] + i,
             "protocol": protocol, "mode": mode} for i in range(count)]


def _short_port(sp, key, item):
    text = as_str(item, "a port like 8080:80 or a mapping")
    try:
        host_ip, published, target, protocol = _split_short_port(text)
        if not re.match(r"^[0-9-]*$", published + target):
            raise ValueError
    except ValueError:
        raise Invalid("'%s' is not a port mapping: write it like 8080:80, 80 or 127.0.0.1:8080:80/udp" % text)
    protocol = enum(protocol, ("tcp", "udp", "sctp"))
    targets = _port_range(target)
    if targets is None:
        raise Invalid("'%s' has no container port" % text)
    ports = _expand_ports(text, targets, _port_range(published), protocol, "ingress")
    if _host_ip(sp, key, host_ip, [p["target"] for p in ports]):
        return []
    return ports


_LONG_PORT_SPEC = {"target": None, "published": None, "protocol": None, "mode": None, "host_ip": None,
                   "name": ("warn", "port names have no meaning on Swarm"),
                   "app_protocol": ("warn", "the load balancer's protocol comes from rancher-compose lb_config")}


def _long_port(sp, key, item):
    fields = sp.fields(key, item, _LONG_PORT_SPEC)
    if "target" not in fields:
        raise Invalid("needs a target (the container port)")
    targets = sp.check(key + ".target", _port_range, as_str(fields["target"], "a port or a range like 8000-8001"))
    publics = None
    if fields.get("published") is not None:
        publics = sp.check(key + ".published", _port_range, as_str(fields["published"], "a port or a range"))
    protocol = sp.check(key + ".protocol", enum, fields.get("protocol") or "tcp", ("tcp", "udp", "sctp"))
    mode = sp.check(key + ".mode", enum, fields.get("mode") or "ingress", ("ingress", "host"))
    if targets is None:
        return []
    text = "%s:%s" % (fields.get("published"), fields["target"])
    ports = _expand_ports(text, targets, publics, protocol or "tcp", mode or "ingress")
    host_ip = fields.get("host_ip")
    if host_ip is not None and _host_ip(sp, key + ".host_ip", as_str(host_ip), [p["target"] for p in ports]):
        return []
    return ports


def k_ports(sp, value):
    for i, item in enumerate(as_list(value)):
        key = "ports[%d]" % i
        parse = _long_port if isinstance(item, dict) else _short_port
        sp.model["ports"].extend(sp.check(key, parse, sp, key, item, default=[]))


def _expose_item(item):
    text = as_str(item, "a port number")
    port, dummy, protocol = text.partition("/")
    if protocol:
        enum(protocol, ("tcp", "udp", "sctp"))
    low, high = _port_range(port) or (None, None)
    if low is None:
        raise Invalid("'%s' is not a port" % text)
    return list(range(low, high + 1))


def k_expose(sp, value):
    for i, item in enumerate(as_list(value)):
        for port in sp.check("expose[%d]" % i, _expose_item, item, default=[]):
            if port not in sp.model["expose"]:
                sp.model["expose"].append(port)
