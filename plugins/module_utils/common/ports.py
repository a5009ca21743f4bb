# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Port lists of the platform's settings (``lb_ports``, the policy's ``proxy_ports``): ports and
ranges like ``[80, "443", "8000-8009"]``, read one way. (A compose file's ``ports:`` has its own
syntax and messages: the compose parser's.)"""
from __future__ import annotations

import re

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def port_range(item):
    """80 | "80" | "8000-8999" -> (low, high), or None when it is not a port or a range."""
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return (item, item) if 1 <= item <= 65535 else None
    if not isinstance(item, str):
        return None
    match = _RANGE.match(item)
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    return (low, high) if 1 <= low <= high <= 65535 else None


def is_port_list(value):
    return isinstance(value, list) and all(port_range(item) is not None for item in value)


def port_set(items):
    """``[80, "8000-8009"]`` -> ``{80, 8000, ..., 8009}``; raises ValueError on a bad item."""
    out = set()
    for item in items or []:
        found = port_range(item.strip() if isinstance(item, str) else item)
        if found is None:
            raise ValueError("'%s' is not a port or a range like 8000-8009" % str(item).strip())
        out.update(range(found[0], found[1] + 1))
    return out


def in_ports(port, items):
    """Whether ``port`` is one of ``items`` (checked port list)."""
    return any(low <= port <= high for low, high in (port_range(item) for item in items))


def ports_text(ports):
    """A sorted set of ports -> "80, 443, 8000-8009" (for messages)."""
    ports, out, i = sorted(ports), [], 0
    while i < len(ports):
        j = i
        while j + 1 < len(ports) and ports[j + 1] == ports[j] + 1:
            j += 1
        out.append(str(ports[i]) if i == j else "%d-%d" % (ports[i], ports[j]))
        i = j + 1
    return ", ".join(out) or "(none)"
