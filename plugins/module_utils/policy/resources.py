# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CPU and memory per tenant (issue 19). Pure.

Every service runs with limits and reservations: its own (compose ``deploy.resources``), else the
platform's defaults (``spin_policy.default_resources``). A tenant's **use** is, for each of
``limits.cpus``, ``limits.memory``, ``reservations.cpus`` and ``reservations.memory``, the sum over
its services of the value per replica times the replicas (a global service: one per node); its
**quota** is its registry entry's (``spin_tenants.<tenant>.quota.limits`` / ``.reservations``), else
``spin_policy.default_resource_quota``. ``policy`` refuses a stack that would take its tenant over
a quota (rule ``resource-quota``, with the numbers) and a service asking more than any node has
(rule ``resource-size``); ``spin_status`` shows use against quota.
"""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.units import parse_bytes, parse_cpus

KINDS = ("limits", "reservations")
DIMENSIONS = ("cpus", "memory")
# (kind, dimension) in the order messages and tables show them
KEYS = tuple((kind, dim) for kind in KINDS for dim in DIMENSIONS)
GIB = 1024 ** 3


def empty():
    return {kind: {dim: None for dim in DIMENSIONS} for kind in KINDS}


def normalise(value, where):
    """``{limits: {cpus, memory}, reservations: {cpus, memory}}`` as staff write it (memory ``"1g"``
    or bytes, cpus a number; every key optional) -> (numbers, [errors])."""
    out, errors = empty(), []
    if value is None:
        return out, errors
    if not isinstance(value, dict) or set(value) - set(KINDS):
        return out, ["%s must be a mapping with limits and reservations, each {cpus, memory}" % where]
    for kind in KINDS:
        part = value.get(kind)
        if part is None:
            continue
        if not isinstance(part, dict) or set(part) - set(DIMENSIONS):
            errors.append("%s.%s must be a mapping with cpus and memory" % (where, kind))
            continue
        for dim in DIMENSIONS:
            try:
                out[kind][dim] = (parse_cpus if dim == "cpus" else parse_bytes)(part.get(dim))
            except ValueError as exc:
                errors.append("%s.%s.%s: %s" % (where, kind, dim, exc))
    return out, errors


def with_defaults(given, defaults):
    """A service's resources with the platform's defaults where it names none. A default limit
    never falls below the service's own reservation (Docker refuses a reservation over the limit)."""
    out = empty()
    for kind, dim in KEYS:
        value = (given or {}).get(kind, {}).get(dim)
        out[kind][dim] = value if value is not None else defaults[kind][dim]
    for dim in DIMENSIONS:
        mine, reserved = (given or {}).get("limits", {}).get(dim), out["reservations"][dim]
        if mine is None and reserved is not None and out["limits"][dim] is not None:
            out["limits"][dim] = max(out["limits"][dim], reserved)
    return out


def from_spec(resources):
    """Docker's ``TaskTemplate.Resources`` -> the same shape (None where unset)."""
    out = empty()
    for kind, key in (("limits", "Limits"), ("reservations", "Reservations")):
        part = (resources or {}).get(key) or {}
        if part.get("NanoCPUs"):
            out[kind]["cpus"] = part["NanoCPUs"] / 1e9
        if part.get("MemoryBytes"):
            out[kind]["memory"] = int(part["MemoryBytes"])
    return out


def total(services):
    """``[(name, resources per replica, replicas)]`` -> ``{(kind, dim): sum}`` (unset counts 0)."""
    out = dict.fromkeys(KEYS, 0)
    for dummy, res, replicas in services:
        for kind, dim in KEYS:
            out[(kind, dim)] += ((res or {}).get(kind, {}).get(dim) or 0) * replicas
    return out


def quota_of(entry, policy):
    """The tenant's quota ``{(kind, dim): value or None}`` (None: no quota on it)."""
    own = ((entry or {}).get("quota") or {})
    out = {}
    for kind, dim in KEYS:
        value = (own.get(kind) or {}).get(dim)
        if value is None:
            value = policy["default_resource_quota"][kind][dim]
        else:
            value = (parse_cpus if dim == "cpus" else parse_bytes)(value)
        out[(kind, dim)] = value
    return out


def amount(dim, value):
    """``cpus`` 1.5 -> ``1.5 CPUs``; ``memory`` 1610612736 -> ``1.5 GiB`` (MiB below 1 GiB)."""
    if value is None:
        return "no quota"
    if dim == "cpus":
        text = ("%.2f" % value).rstrip("0").rstrip(".")
        return "%s CPU%s" % (text, "" if text == "1" else "s")
    if value >= GIB:
        return "%s GiB" % ("%.2f" % (value / GIB)).rstrip("0").rstrip(".")
    return "%s MiB" % ("%.1f" % (value / 1024.0 ** 2)).rstrip("0").rstrip(".")


def compose_value(dim, value):
    """What to write in ``deploy.resources``: ``0.5`` / ``512M``."""
    if dim == "cpus":
        return ("%.2f" % value).rstrip("0").rstrip(".")
    mib = int(value // (1024 ** 2))
    return "%dG" % (mib // 1024) if mib and mib % 1024 == 0 else "%dM" % max(mib, 1)


def over_quota(mine, others, quota):
    """``mine``: ``[(service, resources per replica, replicas)]`` of the stack; ``others``: the
    tenant's other stacks' ``{(kind, dim): sum}``; -> ``[(kind, dim, stack sum, total, quota,
    breakdown text)]`` for every quota the stack would break."""
    sums = total(mine)
    found = []
    for kind, dim in KEYS:
        limit = quota.get((kind, dim))
        whole = sums[(kind, dim)] + (others or {}).get((kind, dim), 0)
        if limit is None or whole <= limit + 1e-9:
            continue
        parts = ["%s %d x %s" % (name, replicas, amount(dim, res[kind][dim]))
                 for name, res, replicas in sorted(mine, key=lambda m: m[0]) if res[kind][dim]]
        found.append((kind, dim, sums[(kind, dim)], whole, limit, ", ".join(parts) or "none"))
    return found


def largest_node(nodes):
    """The most CPUs and memory one ready, active node has: ``{"cpus", "memory"}`` (0: unknown)."""
    usable = [n for n in nodes or [] if n.get("state") == "ready" and n.get("availability") == "active"]
    return {"cpus": max([n.get("cpus") or 0 for n in usable] or [0]),
            "memory": max([n.get("memory") or 0 for n in usable] or [0])}


def too_large(resources, biggest):
    """``[(kind, dim, asked, largest)]`` of a service that asks more than any node has."""
    found = []
    for kind, dim in KEYS:
        asked = (resources or {}).get(kind, {}).get(dim)
        if asked and biggest.get(dim) and asked > biggest[dim] + 1e-9:
            found.append((kind, dim, asked, biggest[dim]))
    return found


def usage_rows(used, quota):
    """Use against quota for status: ``[{"what": "limits.memory", "used": text, "quota": text,
    "percent": int | None, "used_value", "quota_value"}]``."""
    rows = []
    for kind, dim in KEYS:
        value, limit = used.get((kind, dim), 0), quota.get((kind, dim))
        rows.append({"what": "%s.%s" % (kind, dim), "used": amount(dim, value), "quota": amount(dim, limit),
                     "percent": int(round(100.0 * value / limit)) if limit else None,
                     "used_value": value, "quota_value": limit})
    return rows
