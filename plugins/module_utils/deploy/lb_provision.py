# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provisioning the edge (spin_lb only): this node's edge container, the cluster-wide stats relay
service, and the migration away from the pool design (an edge *service* on a fixed pool of networks).
The routes are ``lb``'s; serving them on a node is ``lb_node``'s.
"""
from __future__ import annotations

import time

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy
from ansible_collections.spin.platform.plugins.module_utils.edge import claims
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge.lb import (
    L_EDGE, L_KIND, L_NETWORK, L_RECIPE, ensure_stack_network, store_stack_routes, stored_routes)
from ansible_collections.spin.platform.plugins.module_utils.edge.lb_node import EdgeNode
from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import ServiceReconciler


# =============================================================================================
# provisioning: the slot networks and the edge service

def _base_params(platform, name, recipe):
    """spin_service parameters shared by the edge and its stats relay (see docs/design.md)."""
    p = platform
    return {
        "name": name, "state": "present", "image": p["image"], "command": None, "entrypoint": None,
        "env": {}, "workdir": None, "user": None, "hostname": None,
        "labels": {L_EDGE: p["edge_service"]},
        "container_labels": {L_RECIPE: recipe} if recipe else {},
        "mode": "global", "replicas": None, "networks": [], "endpoint_mode": "dnsrr", "publish": [],
        "mounts": [{"type": "bind", "source": p["config_dir"], "target": p["config_dir"], "readonly": False}],
        "healthcheck": None,
        "restart_policy": {"condition": "any", "delay": "2s", "max_attempts": None, "window": None},
        "resources": None,
        "placement": {"constraints": ["node.labels.spin.edge == true"], "preferences": [], "max_replicas": None},
        "update_config": None, "rollback_config": None, "secrets": [], "configs": [], "cap_add": [],
        "cap_drop": [], "read_only": False, "init": False, "stop_grace_period": None, "stop_signal": None,
        "logging": None, "sysctls": {}, "wait": True, "wait_timeout": 120,
    }


def edge_container_spec(platform, image_id, recipe=None):
    """This node's edge: a container of the HAProxy image (not a Swarm service: Docker attaches a
    running container, never a service task, to a network, and a service's networks are in its
    spec, so every new fronted stack would restart it). It publishes every port tenants may claim,
    bind-mounts the config directory and the platform certificates, restarts always, and stops
    softly (SIGUSR1: the requests under way finish; hard-stop-after bounds it)."""
    p = platform
    spec = {
        "name": p["edge_service"], "image": p["image"], "image_id": image_id, "command": [p["config_dir"]],
        "ports": dict((port, port) for port in p["port_set"]),
        "binds": ["%s:%s:rw" % (p["config_dir"], p["config_dir"])] + [
            "%s:%s/%s:ro" % (c["file"], haproxy.CERT_DIR, haproxy.cert_file(c["name"])) for c in p["certificates"]],
        "stop_signal": "SIGUSR1", "stop_timeout": 70,
    }
    digest = claims.routes_digest(spec)[:16]
    spec["labels"] = {L_EDGE: p["edge_service"], "spin.role": "edge", "spin.lb.spec": digest}
    if recipe:
        spec["labels"][L_RECIPE] = recipe
    return spec


def ensure_edge_container(client, platform, check_mode=False):
    """This node's edge container as the platform variables say: created when missing, replaced
    (stop first: the host ports cannot be bound twice) when its spec differs, started when
    stopped. Then it joins every fronted stack's network (``sync_edge``). -> result dict."""
    p = haproxy.normalise_platform(platform)
    image = client.inspect_image(p["image"])
    if image is None:
        if check_mode:
            return {"changed": True, "action": "create"}
        raise SpinError("image '%s' is not on this node: build it with the images role (site.yml) first" % p["image"])
    spec = edge_container_spec(p, image["Id"], ((image.get("Config") or {}).get("Labels") or {}).get("spin.recipe"))
    found = [c for c in client.containers(labels={L_EDGE: p["edge_service"], "spin.role": "edge"}, every=True) or []
             if "/%s" % p["edge_service"] in c.get("Names", [])]
    current = found[0] if found else None
    action = "none"
    if current is None:
        action = "create"
    elif (current.get("Labels") or {}).get("spin.lb.spec") != spec["labels"]["spin.lb.spec"] or \
            current.get("ImageID") != image["Id"]:
        action = "replace"
    elif current.get("State") != "running":
        action = "start"
    result = {"changed": action != "none", "action": action, "container": current["Id"] if current else None}
    if check_mode or action == "none":
        return result
    if action == "replace":
        client.stop_container(current["Id"], timeout=spec["stop_timeout"])
        client.remove_container(current["Id"])
    if action in ("create", "replace", "start"):
        _wait_for_pool_edge_to_stop(client, p)
    if action in ("create", "replace"):
        EdgeNode(p).ensure_dirs()
        result["container"] = client.create_container(
            spec["name"], spec["image"], command=spec["command"], labels=spec["labels"], ports=spec["ports"],
            binds=spec["binds"], restart="always", stop_signal=spec["stop_signal"], stop_timeout=spec["stop_timeout"])
    client.start_container(result["container"])
    return result


def _wait_for_pool_edge_to_stop(client, platform, timeout=120, sleep=time.sleep, clock=time.monotonic):
    """The pool design's edge task on this node holds the host ports until it has finished its
    requests (a soft stop, bounded by hard-stop-after): wait for it before the container starts."""
    deadline = clock() + timeout
    while client.containers(labels={"com.docker.swarm.service.name": platform["edge_service"]}, status="running"):
        if clock() >= deadline:
            raise SpinError("the old edge service's task on this node still runs after %ss, so the edge container "
                            "cannot take the ports: see `docker ps --filter name=%s`" % (timeout,
                                                                                         platform["edge_service"]))
        sleep(0.5)


def migrate_pool(client, platform, check_mode=False):
    """From the pool design (an edge *service* on a fixed pool of networks): move every stored
    stack to a network of its own (its public services join it, a rolling update of theirs),
    then remove the old edge service; its pool networks go once nothing is on them.
    -> the stacks moved. The edge is away from the moment the service goes until this node's
    edge container has started (a few seconds): the one step of the migration."""
    p = haproxy.normalise_platform(platform)
    moved = []
    for stack, entry in sorted(stored_routes(client, p).items()):
        doc = entry["doc"]
        wanted = haproxy.stack_network(p, stack)
        if doc.get("network") == wanted:
            continue
        moved.append(stack)
        if check_mode:
            continue
        ensure_stack_network(client, p, doc["tenant"], stack)
        net_id = client.find_network(wanted)["Id"]
        # on its own network a public service answers to the platform's alias only (haproxy.lb_attachment)
        doc = dict(doc, network=wanted, aliases={name: haproxy.backend_alias(doc["tenant"], stack, name)
                                                 for name in haproxy.public_services(doc)})
        for name in haproxy.public_services(doc):
            found = client.find_service("%s_%s" % (stack, name))
            if found is None:
                continue
            spec = found["Spec"]
            template = spec.setdefault("TaskTemplate", {})
            nets = template.get("Networks") or spec.get("Networks") or []
            if not any(n.get("Target") == net_id for n in nets):
                template["Networks"] = list(nets) + [{"Target": net_id,
                                                      "Aliases": haproxy.lb_attachment(doc, name)["aliases"]}]
                spec.pop("Networks", None)
                spec.setdefault("Labels", {})[L_NETWORK] = wanted
                client.update_service(found["ID"], found["Version"]["Index"], spec)
        store_stack_routes(client, doc, p)
    legacy = client.find_service(p["edge_service"])
    if legacy is not None and not check_mode:
        client.remove_service(legacy["ID"])
    for net in client.networks(labels={L_EDGE: p["edge_service"], L_KIND: "network"}) or []:
        if not check_mode:
            try:
                client.remove_network(net["Id"])
            except SpinError:
                pass  # a stack's services are still on it until the stack's next deploy
    for marker in client.configs(labels={L_EDGE: p["edge_service"], L_KIND: "slot"}) or []:
        if not check_mode:
            client.remove_config(marker["ID"])
    return {"stacks": moved, "service_removed": legacy is not None}


def stats_service_params(platform, recipe=None):
    """The stats relay: on the host's own network, lb_stats_bind:lb_stats_port -> the edge's
    stats socket. A port published by the edge itself would be reachable from every container
    on the node (Docker's userland proxy makes them all look like the host)."""
    p = platform
    params = _base_params(p, "%s_stats" % p["edge_service"], recipe)
    params.update({
        "entrypoint": ["socat"],
        "command": ["TCP-LISTEN:%d,bind=%s,fork,reuseaddr" % (p["stats_port"], p["stats_bind"]),
                    "UNIX-CONNECT:%s/run/stats.sock" % p["config_dir"]],
        "labels": {L_EDGE: p["edge_service"], "spin.role": "edge-stats"},
        "networks": [{"name": "host", "aliases": []}],
    })
    return params


def ensure_edge(client, platform, check_mode=False, wait=True, wait_timeout=120):
    """The cluster-wide part of the edge (once, on a manager): the pool design migrated away, and
    the stats relay service on the edge nodes. Each edge node's container is
    ``ensure_edge_container``'s. -> result dict."""
    p = haproxy.normalise_platform(platform)
    image = client.inspect_image(p["image"])
    if image is None and not check_mode:
        raise SpinError("image '%s' is not on this node: build it with the images role (site.yml) first"
                        % p["image"])
    recipe = (((image or {}).get("Config") or {}).get("Labels") or {}).get("spin.recipe")
    migrated = migrate_pool(client, p, check_mode)
    edge_nodes = [n for n in client.nodes() or []
                  if ((n.get("Spec") or {}).get("Labels") or {}).get("spin.edge") == "true"]
    warnings = []
    if not edge_nodes:
        # a global service with no eligible node has no task to wait for
        wait = False
        warnings.append("no swarm node is labelled spin.edge=true, so the edge runs nowhere: label the edge "
                        "nodes (swarm_node_labels: {spin.edge: 'true'} in the inventory, then site.yml)")
    known = {"host": client.swarm_network_id("host")}
    reconciler = ServiceReconciler(client, check_mode=check_mode)
    params = stats_service_params(p, recipe)
    params["wait"] = wait
    params["wait_timeout"] = wait_timeout
    plan = reconciler.plan(params, known_refs={"networks": known})
    reconciler.apply(plan)
    if wait and not check_mode:
        reconciler.wait([plan])
    return {"changed": bool(migrated["stacks"] or migrated["service_removed"]) or plan.changed,
            "migrated": migrated, "services": {plan.name: plan.result()}, "edge_nodes": len(edge_nodes),
            "warnings": warnings}
