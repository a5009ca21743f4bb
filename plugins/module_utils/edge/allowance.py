# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant's allowance on the edge: the ports it may publish and the host names it may claim.

The registry entry (``spin_tenants.<name>``) may narrow the platform's own settings
(``spin_lb_ports``, ``spin_lb_hostnames``) with ``ports`` (same syntax: ``[8003, "8100-8109"]``)
and ``hostnames`` (patterns: ``["*.cory.example.org"]``). A key left out means no narrowing:
the tenant may use what the platform allows, as before. ``haproxy.stack_routes`` applies the
normalised allowance to the routes a stack asks for. Pure.
"""
from __future__ import annotations

import fnmatch
import re

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy

KEYS = ("ports", "hostnames")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# an exact name, or '*.' and a suffix of at least two labels (one label would be half the internet)
_PATTERN = re.compile(r"^(?:\*\.%s(?:\.%s)+|%s(?:\.%s)*)$" % (_LABEL, _LABEL, _LABEL, _LABEL))


def check(entry, where):
    """Mistakes of an entry's ``ports`` and ``hostnames`` (``where``: "spin_tenants.cory"), as strings."""
    errors = []
    if not isinstance(entry, dict):
        return errors
    ports = entry.get("ports")
    if ports is not None:
        if not isinstance(ports, list) or not ports or any(isinstance(p, bool) for p in ports):
            errors.append("%s.ports must be a non-empty list of ports and ranges, like [8003, \"8100-8109\"] (leave "
                          "it out to let the tenant use every port of spin_lb_ports)" % where)
        else:
            try:
                haproxy.port_set(ports)
            except ValueError as exc:
                errors.append("%s.ports: %s" % (where, exc))
    hostnames = entry.get("hostnames")
    if hostnames is not None:
        if not isinstance(hostnames, list) or not hostnames:
            errors.append("%s.hostnames must be a non-empty list of host names or patterns, like "
                          "['*.cory.example.org'] (leave it out to let the tenant claim every name of "
                          "spin_lb_hostnames)" % where)
        else:
            for i, pattern in enumerate(hostnames):
                if not isinstance(pattern, str) or not _PATTERN.match(pattern.lower()):
                    errors.append("%s.hostnames[%d]: %r is not a host name or a pattern like '*.cory.example.org' "
                                  "(a wildcard needs a suffix of two labels or more)" % (where, i, pattern))
    return errors


def within_platform(entry, where, lb_platform):
    """Parts of a (well-formed) allowance the platform itself does not allow, as strings: an
    allowance can only narrow ``spin_lb_ports`` and ``spin_lb_hostnames``."""
    errors = []
    if not isinstance(entry, dict) or check(entry, where):
        return errors
    platform = haproxy.normalise_platform(lb_platform)
    if entry.get("ports") is not None:
        outside = haproxy.port_set(entry["ports"]) - set(platform["port_set"])
        if outside:
            errors.append("%s.ports: %s %s not among the edge's ports (spin_lb_ports: %s): a tenant's ports are some "
                          "of those" % (where, haproxy.ports_text(outside), "is" if len(outside) == 1 else "are",
                                        haproxy.ports_text(platform["port_set"])))
    for i, pattern in enumerate(entry.get("hostnames") or []):
        # a pattern the platform serves: every name it matches matches one of the platform's patterns
        if not any(fnmatch.fnmatchcase(pattern.lower(), str(p).lower()) for p in platform["hostnames"]):
            errors.append("%s.hostnames[%d]: '%s' is not among the names the edge serves (spin_lb_hostnames: %s)"
                          % (where, i, pattern, ", ".join("'%s'" % p for p in platform["hostnames"])))
    return errors


def of(tenant, entry):
    """The normalised allowance of a (checked) registry entry, or None when it narrows nothing:
    ``{"tenant": name, "ports": set or None, "hostnames": [pattern] or None}``."""
    entry = entry if isinstance(entry, dict) else {}
    if entry.get("ports") is None and entry.get("hostnames") is None:
        return None
    return {"tenant": tenant,
            "ports": haproxy.port_set(entry["ports"]) if entry.get("ports") is not None else None,
            "hostnames": [str(p).lower() for p in entry["hostnames"]] if entry.get("hostnames") is not None
            else None}
