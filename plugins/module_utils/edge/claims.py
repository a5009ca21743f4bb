# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Claims on the edge: whose names a host-name rule takes under the route domain, and which routes of
two stacks cannot both be served (the first stored keeps them). Pure."""
from __future__ import annotations

import hashlib
import json

from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults

# ports a service publishes itself, in host mode on the node that runs its task (the edge forwards TCP only);
# the stack claims them as it claims the edge's ports
HOST_PROTOCOLS = ("udp",)


def names_taken(hostname, tenant, route_domain):
    """Whose names a host-name rule (exact or '*.suffix') of ``tenant`` takes under the automatic-route
    domain, or None. There every tenant owns ``<tenant>.<route_domain>`` and what is under it (its
    automatic routes are ``<service>.<stack>.<tenant>.<route_domain>``), whether or not the tenant
    exists yet; the domain itself, and a wildcard over it, are every tenant's."""
    if not hostname or not route_domain:
        return None
    domain = route_domain.lower()
    wildcard = hostname.startswith("*.")
    if hostname == domain or (wildcard and (domain == hostname[2:] or domain.endswith(hostname[1:]))):
        return "every tenant's names"
    if not hostname.endswith("." + domain):
        return None
    owner = hostname[:-len(domain) - 1].rsplit(".", 1)[-1]
    if owner == "*":
        return "every tenant's names"
    return None if owner == stack_defaults.host_label(tenant) else "tenant '%s''s names" % owner


def route_domains(docs):
    """The route domains the routes documents were judged under (older ones carry none)."""
    return sorted({d["route_domain"] for d in docs if d.get("route_domain")})


def trespass(route, tenant, domains):
    """Why a stored route of ``tenant`` takes another tenant's names under a route domain, or None.
    The platform's own routes (``platform_routes``) may use the domain itself."""
    if tenant == PLATFORM_TENANT:
        return None
    for domain in domains:
        taken = names_taken(route["hostname"], tenant, domain)
        if taken:
            return "hostname '%s' is inside %s under the route domain '%s'" % (route["hostname"], taken, domain)
    return None


# the owner of the platform's routes documents: '_' is in no tenant's name (policy name_patterns)
PLATFORM_TENANT = "_platform"


def routes_digest(routes_doc):
    return hashlib.sha256(canonical_json(routes_doc).encode("utf-8")).hexdigest()


def canonical_json(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


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
    if (held["protocol"] in HOST_PROTOCOLS) != (route["protocol"] in HOST_PROTOCOLS):
        return None  # a UDP port on the nodes and a TCP port on the edge do not meet
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
    claims first) forbid: ``[(route, why)]``. A held route inside another tenant's names under a
    route domain (stored before that rule, ``trespass``) holds against nobody. Pure."""
    out = []
    domains = route_domains([doc] + list(holders))
    for route in doc["routes"]:
        for holder in holders:
            if holder["stack"] == doc["stack"]:
                continue
            why = next((w for w in (route_conflict(route, held, holder) for held in holder["routes"]
                                    if not trespass(held, holder["tenant"], domains)) if w), None)
            if why:
                out.append((route, why))
                break
    return out


def served_routes(stacks):
    """Routes documents in claim order (the first holds) -> the same documents with the routes
    that an earlier stack's claim forbids left out, and ``[(stack, route, why)]`` of those. The
    claim check refuses such a stack before it is created; this keeps two stacks off one
    unconditional port even while two deploys race, or when state was written by hand. A route
    inside another tenant's names under a route domain (stored before that was refused) is left
    out too, wherever its stack stands in the order."""
    served, left_out = [], []
    domains = route_domains(stacks or [])
    for doc in stacks or []:
        trespassing = [(route, trespass(route, doc["tenant"], domains)) for route in doc["routes"]]
        trespassing = [(route, why + " (stored before that was refused): not served")
                       for route, why in trespassing if why]
        if trespassing:
            left_out.extend((doc["stack"], route, why) for route, why in trespassing)
            doc = dict(doc, routes=[r for r in doc["routes"] if all(r is not t for t, dummy in trespassing)])
        conflicts = claim_conflicts(doc, served)
        if conflicts:
            bad = [id(route) for route, dummy in conflicts]
            left_out.extend((doc["stack"], route, why) for route, why in conflicts)
            doc = dict(doc, routes=[r for r in doc["routes"] if id(r) not in bad])
        served.append(doc)
    return served, left_out
