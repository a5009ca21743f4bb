# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge load balancer's state in Swarm, and its configuration on an edge node (issues 4, 13).

Swarm holds everything (nothing on a node's disk is the source of truth):

* one Swarm **config** per version of a fronted stack's routes document (JSON, see
  ``haproxy.stack_routes``), labelled ``spin.lb.edge=<edge service>``, ``spin.lb.kind=routes``,
  ``spin.lb.tenant``, ``spin.lb.stack``, ``spin.lb-network``. It is the stack's **claim**: stored
  before anything of the stack is created; the raft index of its creation orders all claims, so
  of two conflicting ones the first holds (``claim_holds``). Not ``spin.stack``: spin_stack prunes
  the configs that carry its stack label and that it did not make itself.
* one attachable overlay **network per fronted stack** (``<prefix><stack>``,
  ``spin.lb.kind=stack-network``): the stack's public services and the edge containers only.

This module is the routes and claims part that spin_stack uses (and the check of a candidate
config with the real HAProxy). On an edge node, the edge is a container
(``lb_provision.ensure_edge_container``) that joins each stack's network while it runs;
``lb_node.EdgeNode`` writes ``<config_dir>/haproxy.cfg`` and reloads the HAProxy master through
``<config_dir>/run/master.sock`` (the directory is bind-mounted into the edge at the same path).
Docker API calls go through ``SwarmClient`` (``LbClient`` is another name for it).
"""
from __future__ import annotations

import base64
import json
import os
import uuid

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb_certs, tls, tls_edge
from ansible_collections.spin.platform.plugins.module_utils.edge import claims
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient

L_EDGE = "spin.lb.edge"
L_KIND = "spin.lb.kind"
L_TENANT = "spin.lb.tenant"
L_STACK = "spin.lb.stack"
L_NETWORK = "spin.lb-network"
L_RECIPE = "spin.lb.image-recipe"


# the edge's Docker calls (image labels, a command in a running container, a one-off container)
# are SwarmClient's; the old name stays for callers
LbClient = SwarmClient


def _is_conflict(exc):
    status = getattr(exc, "details", {}).get("status_code")
    return status == 409 or "already exists" in str(exc)


# =============================================================================================
# stored routes: each stack's claim

def _index(config):
    return ((config.get("Version") or {}).get("Index", 0), config.get("ID", ""))


# A config's data never changes (a new version is a new config), so what it decodes to is kept by its data,
# for the configs an edge's last listing returned ({edge service: {data: document}}): a converge of N
# stacks reads every stack's routes about 2N times. Callers treat the documents as read-only (they copy
# before they change one).
_DECODED = {}


def _decode(config, stack):
    data = config["Spec"].get("Data") or ""
    try:
        doc = json.loads(base64.b64decode(data).decode("utf-8"))
    except ValueError as exc:
        raise SpinError("the stored routes of stack '%s' (Swarm config '%s') are not JSON: %s; remove that "
                        "config and deploy the stack again" % (stack, config["Spec"]["Name"], exc))
    if doc.get("version") != haproxy.ROUTES_VERSION:
        raise SpinError("the stored routes of stack '%s' (Swarm config '%s') have version %s, this "
                        "spin.platform reads %s: upgrade the collection on this controller"
                        % (stack, config["Spec"]["Name"], doc.get("version"), haproxy.ROUTES_VERSION))
    return doc


def stored_routes(client, platform):
    """``{stack: {"doc": newest routes document, "index": tenure, "configs": [newest first],
    "versions": [(index, doc)]}}``.

    A stack's routes config is its claim: it is created before anything of the stack, and never
    changed (a new version is a new config), so the raft index of its creation orders every
    claim. A stack serves its newest document; its tenure (the index of its oldest stored
    version) orders the stacks for the renderer."""
    found = client.configs(labels={L_EDGE: platform["edge_service"], L_KIND: "routes"}) or []
    out = {}
    for config in found:
        stack = (config["Spec"].get("Labels") or {}).get(L_STACK)
        if stack:
            out.setdefault(stack, {"configs": []})["configs"].append(config)
    known, decoded = _DECODED.get(platform["edge_service"]) or {}, {}

    def document(config, stack):
        data = config["Spec"].get("Data") or ""
        if data not in decoded:
            decoded[data] = known[data] if data in known else _decode(config, stack)
        return decoded[data]
    for stack, entry in out.items():
        entry["configs"].sort(key=_index, reverse=True)
        entry["versions"] = [(_index(c), document(c, stack)) for c in entry["configs"]]
        entry["doc"] = entry["versions"][0][1]
        entry["index"] = entry["versions"][-1][0]
    _DECODED[platform["edge_service"]] = decoded
    return out


def claim_order(stored):
    """The stored documents, the oldest tenure first (what ``haproxy_cfg.render`` wants)."""
    return [stored[name]["doc"] for name in sorted(stored, key=lambda n: (stored[n].get("index", (0, "")), n))]


# _holding's last answer: (the versions it was worked out from, the answer). Which claims hold depends on
# the stored versions only, and working it out costs O(N^2) claim checks for N stacks; a converge asks it
# once per stack of the same unchanged set. The key holds the documents themselves (compared by identity,
# and kept alive by the key, so an identity is never reused while it is here).
_HOLDING_MEMO = ((), [])


def _holding(stored):
    """Every stored version that holds its claims, in the order Swarm stored them: [(stack, doc)]."""
    global _HOLDING_MEMO
    versions = sorted(((idx, name, doc) for name, entry in stored.items() for idx, doc in entry.get("versions", [])),
                      key=lambda v: (v[0], v[1]))
    key, answer = _HOLDING_MEMO
    if len(key) == len(versions) and all(a[0] == b[0] and a[1] == b[1] and a[2] is b[2] for a, b in zip(key, versions)):
        return list(answer)
    holding = []
    for _idx, name, doc in versions:
        if not claims.claim_conflicts(doc, [d for n, d in holding if n != name]):
            holding.append((name, doc))
    _HOLDING_MEMO = (tuple(versions), holding)
    return list(holding)


def holders(stored, stack):
    """The documents of the other stacks whose claims hold (what a new claim of ``stack`` must not
    touch)."""
    return [doc for name, doc in _holding(stored) if name != stack]


def claim_holds(stored, stack, index):
    """Does the version of ``stack`` stored at ``index`` hold its claims? Every stored version of
    every stack is taken in the order Swarm stored them; a version holds unless it conflicts with
    an earlier version of another stack that holds. Everyone who asks after storing a version
    sees every earlier one, so all who race agree on the one winner."""
    versions = sorted((idx, name, doc) for name, entry in stored.items() for idx, doc in entry.get("versions", []))
    holding = []
    for idx, name, doc in versions:
        if idx > index:
            break
        beaten = claims.claim_conflicts(doc, [d for n, d in holding if n != name])
        if idx == index and name == stack:
            return beaten
        if not beaten:
            holding.append((name, doc))
    return []


def check_claims(doc, others):
    """Refuse ports and hostnames another stack holds. Pure; raises SpinError naming the holder."""
    conflicts = claims.claim_conflicts(doc, sorted(others, key=lambda d: d["stack"]))
    if conflicts:
        problems = ["rule %d of stack '%s' (%s): %s" % (route["rule"], doc["stack"], route["origin"], why)
                    for route, why in conflicts]
        raise SpinError("; ".join(problems) + ". Choose another hostname or port; nothing was changed.",
                        conflicts=problems)


def _config_name(platform, stack, digest):
    name = "%s.routes.%s.%s" % (platform["edge_service"], stack, digest[:10])
    if len(name) > 64:
        name = "%s.routes.%s.%s" % (platform["edge_service"][:20], stack[:20], digest[:20])
    return name


def _create_routes_config(client, p, doc):
    name = _config_name(p, doc["stack"], claims.routes_digest(doc))
    try:
        return client.create_config(name, claims.canonical_json(doc).encode("utf-8"), labels={
            L_EDGE: p["edge_service"], L_KIND: "routes", L_TENANT: doc["tenant"], L_STACK: doc["stack"],
            L_NETWORK: doc["network"]})
    except SpinError as exc:
        if not _is_conflict(exc):
            raise
        found = client.find_config(name)
        return found["ID"] if found else None


def claim_stack_routes(client, doc, platform=None, stored=None):
    """Store the stack's routes document first, then check it against every other stack's:
    of two conflicting documents the one Swarm stored first holds, so two deploys racing for a
    port or hostname, on one manager or two, cannot both win. The loser removes what it stored
    and is refused (SpinError naming the holder) before anything of its stack is created.

    -> ``{"config": ID of the stored document or None when it was stored already, "stored": the
    stored routes of every stack, with this one}``."""
    p = haproxy.normalise_platform(platform)
    stack = doc["stack"]
    before = stored if stored is not None else stored_routes(client, p)
    mine = before.get(stack)
    check_claims(doc, holders(before, stack))  # refuse early: nothing stored yet
    if mine and mine["doc"] == doc:
        return {"config": None, "stored": before}
    config_id = _create_routes_config(client, p, doc)
    after = stored_routes(client, p)
    own = next((idx for idx, version in (after.get(stack) or {}).get("versions", []) if version == doc), None)
    beaten = claim_holds(after, stack, own) if own is not None else []
    if beaten:
        client.remove_config(config_id)
        problems = ["rule %d of stack '%s' (%s): %s" % (route["rule"], stack, route["origin"], why)
                    for route, why in beaten]
        raise SpinError("; ".join(problems) + " (claimed a moment earlier). Choose another hostname or port; "
                        "nothing was changed.", conflicts=problems)
    return {"config": config_id, "stored": after}


def release_claim(client, claim):
    """Undo ``claim_stack_routes`` (a deploy that failed): its stored document goes, an older one
    of the stack stays."""
    if claim and claim.get("config"):
        client.remove_config(claim["config"])


def store_stack_routes(client, routes_doc, platform=None, check_mode=False):
    """Make ``routes_doc`` the stack's only stored routes (after its services are applied); with
    ``claim_stack_routes`` before, this only removes the older documents. -> changed. A document
    without routes drops the stack's routes."""
    p = haproxy.normalise_platform(platform)
    if not routes_doc["routes"]:
        return drop_stack_routes(client, routes_doc["tenant"], routes_doc["stack"], p, check_mode)
    if not routes_doc.get("network"):
        raise SpinError("internal: the routes of stack '%s' have no network; call plan_stack_routes first"
                        % routes_doc["stack"])
    stack = routes_doc["stack"]
    entry = stored_routes(client, p).get(stack)
    name = _config_name(p, stack, claims.routes_digest(routes_doc))
    if entry and entry["configs"][0]["Spec"]["Name"] == name and len(entry["configs"]) == 1:
        return False
    if check_mode:
        return True
    if not (entry and any(c["Spec"]["Name"] == name for c in entry["configs"])):
        _create_routes_config(client, p, routes_doc)
    for config in (entry or {}).get("configs", []):
        if config["Spec"]["Name"] != name:
            client.remove_config(config["ID"])
    return True


def drop_stack_routes(client, tenant, stack, platform=None, check_mode=False):
    """Forget a stack's routes. -> changed. Refuses another tenant's stack. Its network goes when
    the edge nodes have left it (``sync_edge``)."""
    p = haproxy.normalise_platform(platform)
    entry = stored_routes(client, p).get(stack)
    if not entry:
        return False
    if entry["doc"]["tenant"] != tenant:
        raise SpinError("stack '%s' belongs to tenant '%s' on the load balancer, not to '%s': nothing was "
                        "changed" % (stack, entry["doc"]["tenant"], tenant))
    if not check_mode:
        for config in entry["configs"]:
            client.remove_config(config["ID"])
        lb_certs.drop_stack(client, p, stack)
    return True


def store_platform_routes(client, doc, platform=None, check_mode=False):
    """The platform's own routes document (``haproxy.platform_routes``: Prometheus's page) stored,
    with its load balancer network; refused when a stack holds one of its host names and paths.
    -> ``{"changed", "network", "routes": doc, "attachments": {service: attachment}}``."""
    p = haproxy.normalise_platform(platform)
    name = doc["stack"]
    doc = dict(doc, network=haproxy.stack_network(p, name))
    stored = stored_routes(client, p)
    mine = stored.get(name)
    if mine and mine["doc"]["tenant"] != claims.PLATFORM_TENANT:
        raise SpinError("the routes named '%s' are tenant '%s''s, not the platform's: choose another name"
                        % (name, mine["doc"]["tenant"]))
    check_claims(doc, holders(stored, name))
    dummy, created = ensure_stack_network(client, p, claims.PLATFORM_TENANT, name, check_mode)
    changed = store_stack_routes(client, doc, p, check_mode)
    return {"changed": changed or created, "network": doc["network"], "routes": doc,
            "attachments": {service: haproxy.lb_attachment(doc, service) for service in haproxy.public_services(doc)}}


def ensure_stack_network(client, platform, tenant, stack, check_mode=False):
    """The stack's own load balancer network (attachable overlay, labelled), created when missing.
    Refuses a network of that name that is not this stack's. -> (name, created)."""
    name = haproxy.stack_network(platform, stack)
    found = client.find_network(name)
    if found is not None:
        labels = found.get("Labels") or {}
        if labels.get(L_EDGE) != platform["edge_service"] or labels.get(L_STACK) != stack or \
                labels.get(L_TENANT) != tenant or not found.get("Attachable"):
            raise SpinError("network '%s' exists but is not the load balancer network of stack '%s' of tenant '%s' "
                            "(labels %s): remove it, or choose another stack name" % (name, stack, tenant, labels))
        return name, False
    if not check_mode:
        try:
            client.create_network(name, driver="overlay", attachable=True, labels={
                L_EDGE: platform["edge_service"], L_KIND: "stack-network", L_TENANT: tenant, L_STACK: stack})
        except SpinError as exc:
            if not _is_conflict(exc):
                raise
    return name, True


def plan_stack_routes(client, tenant, stack, endpoints=None, load_balancers=None, platform=None,
                      health_checks=None, files=None, check_mode=False, validate=True, replicas=None,
                      route_domain=None, redirect=None, tenant_certs=None, allowance=None):
    """Before a stack is deployed: its routes, its claims, its network, a checked config.

    Raises SpinError (naming the rule, and the holder of a claimed port or hostname) and changes
    nothing then: the manager judges the rules again (``route_domain``: the platform's
    ``spin_platform.route_domain``, see ``haproxy.stack_routes``). Returns ``{"network": the
    stack's network or None, "routes": routes document, "public_services": [compose names that
    must join the network], "attachments": {compose name: its attachment to the network, with
    the platform's alias only}, "config": a callable that renders the candidate text, "claim": what ``release_claim`` undoes,
    "network_created": bool}``. Outside check mode the routes are stored first (the claim), then
    the network is made.
    """
    p = haproxy.normalise_platform(platform)
    doc = haproxy.stack_routes(tenant, stack, endpoints, load_balancers, health_checks, p, files,
                               route_domain=route_domain, redirect=redirect)
    # the tenant's own certificates are judged before anything is stored (a name it does not own is refused)
    own_certs = [tls.tenant_certificate(tenant, c["service"], c["cert"], c["key"], tls.https_names(doc),
                                        doc["route_domain"], allowance, p["hostnames"]) for c in tenant_certs or []]
    if own_certs and not p["https_port"]:
        raise SpinError("stack '%s' brings its own certificate, but this platform serves no HTTPS (lb_https_port is "
                        "0): leave x-spin.https.cert out" % stack)
    stored = stored_routes(client, p)
    mine = stored.get(stack)
    if mine and mine["doc"]["tenant"] != tenant:
        raise SpinError("stack '%s' belongs to tenant '%s' on the load balancer: choose another stack name"
                        % (stack, mine["doc"]["tenant"]))
    claim, created = None, False
    if doc["routes"]:
        doc["network"] = haproxy.stack_network(p, stack)
        public = haproxy.public_services(doc)
        if replicas:
            doc["replicas"] = {name: int(replicas[name]) for name in public if replicas.get(name)}
        if check_mode:
            check_claims(doc, holders(stored, stack))
        else:
            claim = claim_stack_routes(client, doc, p, stored)
            stored = claim["stored"]
        _unused, created = ensure_stack_network(client, p, tenant, stack, check_mode)
    certificates = []
    if p["https_port"] and (doc["routes"] or own_certs):
        # issued or taken before the services start, so that the edge serves them with the routes; renewed
        # here too, by any deploy of the stack once fewer than lb_cert_renew_days are left
        ca_pem = None
        if os.path.exists(lb_certs.ca_files(p)[0]):
            with open(lb_certs.ca_files(p)[0]) as handle:
                ca_pem = handle.read()
        cert_plan = lb_certs.plan_stack(doc, lb_certs.stored_certificates(client, p, stack).get(stack), own_certs, p,
                                        ca=ca_pem)
        certificates = lb_certs.apply_stack(client, p, tenant, stack, cert_plan, check_mode) + [
            dict(c, unchanged=True) for c in cert_plan["certs"] if c["label"] in cert_plan["keep"]]
    others = dict((name, e) for name, e in stored.items() if name != stack)
    if doc["routes"]:
        others[stack] = {"doc": doc, "index": (stored.get(stack) or {}).get("index", (1 << 62, ""))}

    def render():
        # only when the candidate is checked: rendering every stored stack's routes costs about 0.4 ms per
        # stack, which a converge of N stacks would pay N times over (spin_stack checks it only where no
        # edge runs on the manager; an edge's own sync renders what it serves)
        return haproxy_cfg.render(claim_order(others), p, stats_password="check")

    if validate:
        validate_config(client, render(), p)
    public = haproxy.public_services(doc)
    return {"network": doc["network"], "routes": doc, "public_services": public,
            "attachments": {name: haproxy.lb_attachment(doc, name) for name in public} if doc["network"] else {},
            "config": render, "claim": claim, "network_created": created, "certificates": certificates}


# =============================================================================================
# checking a config with the real HAProxy

def edge_container(client, platform):
    """This engine's running edge container, or None (also the task of a pool-design edge
    service, so that a check runs against the real certificates until the migration)."""
    for labels in ({L_EDGE: platform["edge_service"], "spin.role": "edge"},
                   {"com.docker.swarm.service.name": platform["edge_service"]}):
        found = [c for c in client.containers(labels=labels, status="running") or []
                 if "com.docker.swarm.service.name" in labels or "/%s" % platform["edge_service"] in c.get("Names", [])]
        if found:
            return sorted(found, key=lambda c: c.get("Created", 0), reverse=True)[0]
    return None


def validate_config(client, text, platform, container=None, check_mode=False):
    """``haproxy -c`` on ``text`` in this node's edge container (its real certificates), else in a
    one-off container of the edge image (placeholder certificates). Raises SpinError naming the
    stack and rule of each problem."""
    name = "spin-check-%s.cfg" % uuid.uuid4().hex[:8]
    container = container if container is not None else edge_container(client, platform)
    if container:
        # the HTTPS frontend's crt-list is in the config directory this engine's edge mounts: a first check after
        # an upgrade finds none yet (sync_edge writes it), so an empty one stands in
        crt_list = tls_edge.crt_list_path(platform)
        checked = text
        if crt_list in text and not os.path.exists(crt_list):
            if check_mode:  # change nothing: an empty list (same lines, so HAProxy's line numbers still map)
                checked = text.replace(" crt-list %s " % crt_list, " crt-list /dev/null ")
            else:
                tls_edge.ensure_crt_list(platform)
        code, output = client.exec_in(container["Id"], ["spin-edge-check", "/tmp/" + name], {name: checked})
        client.exec_in(container["Id"], ["rm", "-f", "/tmp/" + name])
        where = "the edge container %s" % container["Id"][:12]
    else:
        if client.inspect_image(platform["image"]) is None:
            if check_mode:
                return None  # a node that site.yml has not built the image on yet: nothing to check with
            raise SpinError("image '%s' is not on this node, so the new configuration cannot be checked: build it "
                            "with the images role (site.yml)" % platform["image"])
        certs = [haproxy.cert_file(c["name"]) for c in platform["certificates"]]
        # the HTTPS frontend's crt-list is on the edge node's disk: an empty one stands in for it here
        crt_list = tls_edge.crt_list_path(platform)
        argv = ["-c", 'mkdir -p "$(dirname "$1")" && : > "$1" && shift && exec spin-edge-check "$@"', "sh",
                crt_list, "/tmp/" + name] + certs
        code, output = client.run_once(platform["image"], argv, {name: text}, entrypoint=["sh"],
                                       labels={L_EDGE: platform["edge_service"], L_KIND: "check"})
        where = "a one-off container of %s" % platform["image"]
    if code != 0:
        messages = haproxy_cfg.explain_check_output(text, output) or [output.strip()[-2000:]]
        raise SpinError("HAProxy refused the new configuration (haproxy -c in %s), so the edge keeps its "
                        "current one: %s" % (where, "; ".join(messages)), haproxy_errors=messages)
    return output
