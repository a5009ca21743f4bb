# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge load balancer's state in Swarm, and its configuration on an edge node (issue 4).

Swarm holds everything (nothing on a node's disk is the source of truth):

* one Swarm **config** per fronted stack with the stack's routes document (JSON, see
  ``haproxy.stack_routes``), labelled ``spin.lb.edge=<edge service>``, ``spin.lb.kind=routes``,
  ``spin.lb.tenant``, ``spin.lb.stack``, ``spin.lb-network``. Not ``spin.stack``: spin_stack
  prunes the configs that carry its stack label and that it did not make itself.
* one Swarm config per taken **slot network** (``<edge>.slot.NN``, ``spin.lb.kind=slot``). Names
  are unique in Swarm, so creating it is an atomic claim: two deploys cannot take one slot.
* the slot networks themselves (``spin-lb-00`` ..) and the edge service.

On an edge node, ``EdgeNode`` writes ``<config_dir>/haproxy.cfg`` and reloads the HAProxy master
through ``<config_dir>/run/master.sock`` (the directory is bind-mounted into the edge at the same
path). Docker API calls go through ``SwarmClient`` (``LbClient`` is another name for it).
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets as pysecrets
import socket
import time
import uuid

from . import haproxy
from .errors import SpinError
from .swarm import SwarmClient

L_EDGE = "spin.lb.edge"
L_KIND = "spin.lb.kind"
L_TENANT = "spin.lb.tenant"
L_STACK = "spin.lb.stack"
L_NETWORK = "spin.lb-network"
L_RECIPE = "spin.lb.image-recipe"

RELOAD_TIMEOUT = 30


# the edge's Docker calls (image labels, a command in a running container, a one-off container)
# are SwarmClient's; the old name stays for callers
LbClient = SwarmClient


def _is_conflict(exc):
    status = getattr(exc, "details", {}).get("status_code")
    return status == 409 or "already exists" in str(exc)


# =============================================================================================
# stored routes and slots

def _owner_of(doc):
    return "stack '%s' (tenant '%s')" % (doc["stack"], doc["tenant"])


def stored_routes(client, platform):
    """``{stack: {"doc": routes document, "configs": [config objects, newest first]}}``."""
    found = client.configs(labels={L_EDGE: platform["edge_service"], L_KIND: "routes"}) or []
    out = {}
    for config in found:
        stack = (config["Spec"].get("Labels") or {}).get(L_STACK)
        if stack:
            out.setdefault(stack, {"configs": []})["configs"].append(config)
    for stack, entry in out.items():
        entry["configs"].sort(key=lambda c: (c.get("Version") or {}).get("Index", 0), reverse=True)
        newest = entry["configs"][0]
        try:
            doc = json.loads(base64.b64decode(newest["Spec"].get("Data") or "").decode("utf-8"))
        except ValueError as exc:
            raise SpinError("the stored routes of stack '%s' (Swarm config '%s') are not JSON: %s; remove that "
                            "config and deploy the stack again" % (stack, newest["Spec"]["Name"], exc))
        if doc.get("version") != haproxy.ROUTES_VERSION:
            raise SpinError("the stored routes of stack '%s' (Swarm config '%s') have version %s, this "
                            "spin.platform reads %s: upgrade the collection on this controller"
                            % (stack, newest["Spec"]["Name"], doc.get("version"), haproxy.ROUTES_VERSION))
        entry["doc"] = doc
    return out


def _overlap(a, b):
    """Do two hostnames (exact or '*.suffix') serve a common name?"""
    if a == b:
        return True
    for wild, other in ((a, b), (b, a)):
        if wild.startswith("*.") and other.endswith(wild[1:]):
            return True
    return False


def check_claims(doc, others):
    """Refuse ports and hostnames another stack holds. Pure; raises SpinError naming the holder."""
    problems = []
    for route in doc["routes"]:
        why = None
        for other in sorted(others, key=lambda d: d["stack"]):
            if other["stack"] == doc["stack"]:
                continue
            for held in other["routes"]:
                if route["hostname"] and held["hostname"] and _overlap(route["hostname"], held["hostname"]):
                    if route["hostname"] == held["hostname"]:
                        why = "hostname '%s' is held by %s" % (route["hostname"], _owner_of(other))
                    else:
                        why = "hostname '%s' overlaps '%s', held by %s" % (route["hostname"], held["hostname"],
                                                                           _owner_of(other))
                elif held["port"] == route["port"] and held["protocol"] != route["protocol"]:
                    why = "port %d is served as %s by %s: use protocol %s or another port" % (
                        route["port"], held["protocol"], _owner_of(other), held["protocol"])
                elif held["port"] == route["port"] and (held["hostname"] is None or route["hostname"] is None):
                    why = "port %d is held by %s%s" % (
                        route["port"], _owner_of(other),
                        "" if held["hostname"] is None else " (for hostname '%s'; a rule without a hostname "
                        "takes the whole port)" % held["hostname"])
                if why:
                    break
            if why:
                break
        if why:
            problems.append("rule %d of stack '%s' (%s): %s" % (route["rule"], doc["stack"], route["origin"], why))
    if problems:
        raise SpinError("; ".join(problems) + ". Choose another hostname or port; nothing was changed.",
                        conflicts=problems)


def _slot_markers(client, platform):
    return client.configs(labels={L_EDGE: platform["edge_service"], L_KIND: "slot"}) or []


def slot_usage(client, platform, stored=None):
    """``{network: {"tenant", "stack", "why"}}`` for every slot network in use, from Swarm state:
    slot claims, stored routes, and services (other than the edge) attached to the network."""
    names = haproxy.network_names(platform)
    usage = {}
    for marker in _slot_markers(client, platform):
        labels = marker["Spec"].get("Labels") or {}
        if labels.get(L_NETWORK) in names:
            usage.setdefault(labels[L_NETWORK], {"tenant": labels.get(L_TENANT), "stack": labels.get(L_STACK),
                                                 "why": "claimed by Swarm config '%s'" % marker["Spec"]["Name"]})
    for stack, entry in (stored if stored is not None else stored_routes(client, platform)).items():
        net = entry["doc"].get("network")
        if net in names:
            usage.setdefault(net, {"tenant": entry["doc"]["tenant"], "stack": stack, "why": "stored routes"})
    ids = {}
    for net in client.networks(labels={L_EDGE: platform["edge_service"], L_KIND: "network"}) or []:
        if net["Name"] in names:
            ids[net["Id"]] = net["Name"]
    for service in client.services() or []:
        spec = service["Spec"]
        if spec["Name"] == platform["edge_service"]:
            continue
        labels = spec.get("Labels") or {}
        for attachment in (spec.get("TaskTemplate") or {}).get("Networks") or []:
            net = ids.get(attachment.get("Target")) or (attachment.get("Target") if attachment.get("Target") in names
                                                        else None)
            if net:
                usage.setdefault(net, {"tenant": labels.get("spin.tenant"), "stack": labels.get("spin.stack"),
                                       "why": "service '%s' is attached" % spec["Name"]})
    return usage


def assign_slot(client, platform, tenant, stack, stored=None, check_mode=False):
    """The slot network of ``stack``: the one it holds, else a free one, claimed atomically."""
    usage = slot_usage(client, platform, stored)
    mine = sorted(net for net, holder in usage.items() if holder["stack"] == stack)
    for net in mine:
        holder = usage[net]
        if holder["tenant"] not in (None, tenant):
            raise SpinError("stack '%s' is held by tenant '%s' on the load balancer (network %s, %s): choose "
                            "another stack name" % (stack, holder["tenant"], net, holder["why"]))
    if mine:
        return mine[0]
    for net in haproxy.network_names(platform):
        if net in usage:
            continue
        if check_mode:
            return net
        try:
            client.create_config(
                "%s.slot.%s" % (platform["edge_service"], net[len(platform["network_prefix"]):]),
                json.dumps({"tenant": tenant, "stack": stack, "network": net}).encode("utf-8"),
                labels={L_EDGE: platform["edge_service"], L_KIND: "slot", L_TENANT: tenant, L_STACK: stack,
                        L_NETWORK: net})
        except SpinError as exc:
            if _is_conflict(exc):
                continue  # another deploy took it a moment ago
            raise
        return net
    raise SpinError("all %d load balancer networks are in use, so stack '%s' cannot be published: the platform "
                    "team can raise lb_network_count (and run site.yml), or remove a stack that no longer needs "
                    "the load balancer" % (platform["network_count"], stack))


def _config_name(platform, stack, digest):
    name = "%s.routes.%s.%s" % (platform["edge_service"], stack, digest[:10])
    if len(name) > 64:
        name = "%s.routes.%s.%s" % (platform["edge_service"][:20], stack[:20], digest[:20])
    return name


def store_stack_routes(client, routes_doc, platform=None, check_mode=False):
    """Store a stack's routes document (after its services are applied). -> changed.
    A document without routes drops the stack's routes and frees its slot."""
    p = haproxy.normalise_platform(platform)
    if not routes_doc["routes"]:
        return drop_stack_routes(client, routes_doc["tenant"], routes_doc["stack"], p, check_mode)
    if not routes_doc.get("network"):
        raise SpinError("internal: the routes of stack '%s' have no network; call plan_stack_routes first"
                        % routes_doc["stack"])
    stack = routes_doc["stack"]
    entry = stored_routes(client, p).get(stack)
    data = haproxy.canonical_json(routes_doc)
    name = _config_name(p, stack, haproxy.routes_digest(routes_doc))
    if entry and entry["configs"][0]["Spec"]["Name"] == name and len(entry["configs"]) == 1:
        return False
    if check_mode:
        return True
    if not (entry and any(c["Spec"]["Name"] == name for c in entry["configs"])):
        try:
            client.create_config(name, data.encode("utf-8"), labels={
                L_EDGE: p["edge_service"], L_KIND: "routes", L_TENANT: routes_doc["tenant"], L_STACK: stack,
                L_NETWORK: routes_doc["network"]})
        except SpinError as exc:
            if not _is_conflict(exc):
                raise
    for config in (entry or {}).get("configs", []):
        if config["Spec"]["Name"] != name:
            client.remove_config(config["ID"])
    return True


def drop_stack_routes(client, tenant, stack, platform=None, check_mode=False):
    """Forget a stack's routes and free its slot. -> changed. Refuses another tenant's stack."""
    p = haproxy.normalise_platform(platform)
    entry = stored_routes(client, p).get(stack)
    markers = [m for m in _slot_markers(client, p) if (m["Spec"].get("Labels") or {}).get(L_STACK) == stack]
    owners = ([entry["doc"]["tenant"]] if entry else []) + [(m["Spec"].get("Labels") or {}).get(L_TENANT)
                                                            for m in markers]
    for owner in owners:
        if owner != tenant:
            raise SpinError("stack '%s' belongs to tenant '%s' on the load balancer, not to '%s': nothing was "
                            "changed" % (stack, owner, tenant))
    if not entry and not markers:
        return False
    if not check_mode:
        for config in (entry or {}).get("configs", []):
            client.remove_config(config["ID"])
        for marker in markers:
            client.remove_config(marker["ID"])
    return True


def plan_stack_routes(client, tenant, stack, endpoints=None, load_balancers=None, platform=None,
                      health_checks=None, files=None, check_mode=False, validate=True):
    """Before a stack is deployed: its routes, its claims, its slot network, a checked config.

    Raises SpinError (naming the rule, and the holder of a claimed port or hostname) and changes
    nothing then. Returns ``{"network": slot network or None, "routes": routes document,
    "public_services": [compose names that must join the network], "config": candidate text}``.
    Outside check mode a stack that gets a slot for the first time claims it here.
    """
    p = haproxy.normalise_platform(platform)
    doc = haproxy.stack_routes(tenant, stack, endpoints, load_balancers, health_checks, p, files)
    stored = stored_routes(client, p)
    mine = stored.get(stack)
    if mine and mine["doc"]["tenant"] != tenant:
        raise SpinError("stack '%s' belongs to tenant '%s' on the load balancer: choose another stack name"
                        % (stack, mine["doc"]["tenant"]))
    others = [entry["doc"] for name, entry in sorted(stored.items()) if name != stack]
    check_claims(doc, others)
    if doc["routes"]:
        doc["network"] = assign_slot(client, p, tenant, stack, stored, check_mode)
    text = haproxy.render(others + ([doc] if doc["routes"] else []), p, stats_password="check")
    if validate:
        validate_config(client, text, p)
    return {"network": doc["network"], "routes": doc, "public_services": haproxy.public_services(doc),
            "config": text}


# =============================================================================================
# checking a config with the real HAProxy

def edge_container(client, platform):
    """This engine's running edge task container, or None."""
    found = client.containers(labels={"com.docker.swarm.service.name": platform["edge_service"]},
                              status="running") or []
    return sorted(found, key=lambda c: c.get("Created", 0), reverse=True)[0] if found else None


def validate_config(client, text, platform, container=None, check_mode=False):
    """``haproxy -c`` on ``text`` in this node's edge container (its real certificates), else in a
    one-off container of the edge image (placeholder certificates). Raises SpinError naming the
    stack and rule of each problem."""
    name = "spin-check-%s.cfg" % uuid.uuid4().hex[:8]
    container = container if container is not None else edge_container(client, platform)
    if container:
        code, output = client.exec_in(container["Id"], ["spin-edge-check", "/tmp/" + name], {name: text})
        client.exec_in(container["Id"], ["rm", "-f", "/tmp/" + name])
        where = "the edge container %s" % container["Id"][:12]
    else:
        if client.inspect_image(platform["image"]) is None:
            if check_mode:
                return None  # a node that site.yml has not built the image on yet: nothing to check with
            raise SpinError("image '%s' is not on this node, so the new configuration cannot be checked: build it "
                            "with the images role (site.yml)" % platform["image"])
        certs = [haproxy.cert_file(c["name"]) for c in platform["certificates"]]
        code, output = client.run_once(platform["image"], ["/tmp/" + name] + certs, {name: text},
                                       entrypoint=["spin-edge-check"],
                                       labels={L_EDGE: platform["edge_service"], L_KIND: "check"})
        where = "a one-off container of %s" % platform["image"]
    if code != 0:
        messages = haproxy.explain_check_output(text, output) or [output.strip()[-2000:]]
        raise SpinError("HAProxy refused the new configuration (haproxy -c in %s), so the edge keeps its "
                        "current one: %s" % (where, "; ".join(messages)), haproxy_errors=messages)
    return output


# =============================================================================================
# the edge node: haproxy.cfg on disk, the master socket

class EdgeNode(object):
    """The edge's directory on this node and the HAProxy master that runs from it."""

    def __init__(self, platform, clock=time.monotonic, sleep=time.sleep):
        self.platform = platform
        self.dir = platform["config_dir"]
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.run = os.path.join(self.dir, "run")
        self.clock = clock
        self.sleep = sleep

    # ---- files ------------------------------------------------------------------------------

    def current(self):
        try:
            with open(self.cfg, "r") as handle:
                return handle.read()
        except IOError:
            return None

    def stats_password(self, check_mode=False):
        """lb_stats_password, else this node's own generated one (kept in stats.password, 0600)."""
        if self.platform["stats_password"]:
            return self.platform["stats_password"]
        path = os.path.join(self.dir, "stats.password")
        try:
            with open(path) as handle:
                value = handle.read().strip()
            if value:
                return value
        except IOError:
            pass
        if check_mode:
            return "<generated on first run>"
        self.ensure_dirs()
        value = pysecrets.token_hex(16)
        _write_atomic(path, value + "\n")
        return value

    def ensure_dirs(self):
        for path in (self.dir, self.run):
            if not os.path.isdir(path):
                os.makedirs(path, 0o700)

    def write(self, text):
        self.ensure_dirs()
        _write_atomic(self.cfg, text)

    # ---- HAProxy sockets --------------------------------------------------------------------

    def _ask(self, sock_path, command, timeout=5.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(sock_path)
            s.sendall(command.encode("utf-8") + b"\n")
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            s.close()

    def master(self, command):
        return self._ask(os.path.join(self.run, "master.sock"), command)

    def running(self):
        try:
            return parse_show_proc(self.master("show proc"))["master"] is not None
        except (OSError, socket.error):
            return False

    def wait_running(self, timeout=120):
        """Wait until this node's HAProxy master answers (after the edge service started)."""
        deadline = self.clock() + timeout
        while not self.running():
            if self.clock() >= deadline:
                raise SpinError("the edge HAProxy on this node did not start within %ss: see `docker service ps "
                                "%s` and `docker service logs %s`" % (timeout, self.platform["edge_service"],
                                                                      self.platform["edge_service"]))
            self.sleep(0.2)

    def save_server_state(self):
        """``show servers state`` -> run/servers.state, which the new worker loads: it starts with
        the addresses and health of the old one instead of an empty backend."""
        state = self._ask(os.path.join(self.run, "admin.sock"), "show servers state")
        if not state.startswith("1\n"):
            return False
        _write_atomic(os.path.join(self.run, "servers.state"), state)
        return True

    def reload(self, timeout=RELOAD_TIMEOUT):
        """Hitless reload through the master; -> seconds until the new worker took over."""
        before = parse_show_proc(self.master("show proc"))
        try:
            self.save_server_state()
        except (OSError, socket.error):
            pass  # no state to hand over: the new worker asks DNS
        started = self.clock()
        try:
            self.master("reload")
        except (OSError, socket.error):
            pass  # the master closes the connection when it re-executes
        deadline = started + timeout
        while True:
            try:
                now = parse_show_proc(self.master("show proc"))
            except (OSError, socket.error):
                now = None
            if now and now["master"] and now["master"]["reloads"] > before["master"]["reloads"]:
                if now["master"]["failed"] > before["master"]["failed"]:
                    raise SpinError("HAProxy could not load the new configuration on this edge node (it keeps "
                                    "serving with the old one): see `docker service logs %s`"
                                    % self.platform["edge_service"])
                old = set(before["workers"])
                if now["workers"] and not set(now["workers"]) & old:
                    return self.clock() - started
            if self.clock() >= deadline:
                raise SpinError("HAProxy on this edge node did not finish reloading within %ss" % timeout)
            self.sleep(0.05)


def _write_atomic(path, text):
    tmp = "%s.%s.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(tmp, path)


_PROC_LINE = re.compile(r"^(\d+)\s+(master|worker|program)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?")


def parse_show_proc(text):
    """The master CLI's ``show proc`` -> {"master": {pid, reloads, failed} | None, "workers": [pids],
    "old_workers": [pids]}."""
    out = {"master": None, "workers": [], "old_workers": []}
    section = "workers"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# old workers"):
            section = "old_workers"
            continue
        if stripped.startswith("# programs"):
            section = "programs"
            continue
        if stripped.startswith("# workers"):
            section = "workers"
            continue
        match = _PROC_LINE.match(stripped)
        if not match:
            continue
        pid, kind, reloads, failed = int(match.group(1)), match.group(2), int(match.group(3)), match.group(4)
        if kind == "master":
            out["master"] = {"pid": pid, "reloads": reloads, "failed": int(failed or 0)}
        elif kind == "worker" and section in ("workers", "old_workers"):
            out[section].append(pid)
    return out


# =============================================================================================
# the whole edge node: render from Swarm, check, write, reload

def sync_edge(client, platform, check_mode=False, node=None, stored=None, reload=True):
    """Render every stored stack's routes, and make this edge node serve them.

    -> {"changed", "config_changed", "reloaded", "reload_seconds", "stacks", "diff"}. An invalid
    config never replaces the running one (SpinError names the stack and rule).
    """
    p = haproxy.normalise_platform(platform)
    node = node or EdgeNode(p)
    stored = stored if stored is not None else stored_routes(client, p)
    docs = [stored[name]["doc"] for name in sorted(stored)]
    text = haproxy.render(docs, p, stats_password=node.stats_password(check_mode))
    before = node.current()
    result = {"changed": before != text, "config_changed": before != text, "reloaded": False,
              "reload_seconds": None, "stacks": [d["stack"] for d in docs], "config_path": node.cfg,
              "diff": {"before": haproxy.redact(before) or "", "after": haproxy.redact(text),
                       "before_header": node.cfg, "after_header": node.cfg}}
    if before == text:
        return result
    # in check mode too: it changes nothing, and tells whether it would fail
    validate_config(client, text, p, check_mode=check_mode)
    if check_mode:
        return result
    node.write(text)
    if reload and node.running():
        try:
            result["reload_seconds"] = round(node.reload(), 3)
        except SpinError:
            # keep the file the running worker was loaded from, so that the next run tries again
            if before is not None:
                node.write(before)
            raise
        result["reloaded"] = True
    return result


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


def edge_service_params(platform, recipe=None):
    """The edge: HAProxy on every node labelled spin.edge=true, on every slot network, publishing
    every port tenants may claim in host mode (no ingress mesh, no VIP)."""
    p = platform
    params = _base_params(p, p["edge_service"], recipe)
    params.update({
        "command": [p["config_dir"]],
        "labels": {L_EDGE: p["edge_service"], "spin.role": "edge"},
        "networks": [{"name": n, "aliases": []} for n in haproxy.network_names(p)],
        "publish": [{"published_port": port, "target_port": port, "protocol": "tcp", "mode": "host"}
                    for port in p["port_set"]],
        # host ports cannot be bound twice on a node: the old task stops first
        "update_config": {"parallelism": 1, "delay": "5s", "order": "stop-first", "failure_action": "pause",
                          "monitor": "10s", "max_failure_ratio": None},
        "secrets": [{"secret_name": c["secret"], "target": haproxy.cert_file(c["name"]), "uid": "0", "gid": "0",
                     "mode": 0o400} for c in p["certificates"]],
        # SIGUSR1: soft stop, the requests under way finish (hard-stop-after bounds it)
        "stop_grace_period": "70s", "stop_signal": "SIGUSR1",
    })
    return params


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


def ensure_networks(client, platform, check_mode=False):
    """Create the missing slot networks. -> names created (or to create)."""
    created = []
    for name in haproxy.network_names(platform):
        found = client.find_network(name)
        if found is not None:
            labels = found.get("Labels") or {}
            if found.get("Driver") != "overlay" or labels.get(L_EDGE) != platform["edge_service"]:
                raise SpinError("network '%s' exists but is not a load balancer network of edge '%s' (driver %s, "
                                "labels %s): remove it or change lb_network_prefix"
                                % (name, platform["edge_service"], found.get("Driver"), labels))
            continue
        created.append(name)
        if not check_mode:
            client.create_network(name, driver="overlay", attachable=False,
                                  labels={L_EDGE: platform["edge_service"], L_KIND: "network"})
    return created


def ensure_edge(client, platform, check_mode=False, wait=True, wait_timeout=120):
    """The slot networks and the edge service as the platform variables say. -> result dict."""
    from .reconcile import ServiceReconciler  # the reconciler pulls in service_spec: only when provisioning

    p = haproxy.normalise_platform(platform)
    image = client.inspect_image(p["image"])
    if image is None and not check_mode:
        raise SpinError("image '%s' is not on this node: build it with the images role (site.yml) first"
                        % p["image"])
    recipe = (((image or {}).get("Config") or {}).get("Labels") or {}).get("spin.recipe")
    created = ensure_networks(client, p, check_mode)
    edge_nodes = [n for n in client.nodes() or []
                  if ((n.get("Spec") or {}).get("Labels") or {}).get("spin.edge") == "true"]
    warnings = []
    if not edge_nodes:
        # a global service with no eligible node has no task to wait for
        wait = False
        warnings.append("no swarm node is labelled spin.edge=true, so the edge runs nowhere: label the edge "
                        "nodes (swarm_node_labels: {spin.edge: 'true'} in the inventory, then site.yml)")
    known = {n: "(new network %s)" % n for n in created}
    known["host"] = client.swarm_network_id("host")
    reconciler = ServiceReconciler(client, check_mode=check_mode)
    plans = []
    for params in (edge_service_params(p, recipe), stats_service_params(p, recipe)):
        params["wait"] = wait
        params["wait_timeout"] = wait_timeout
        plan = reconciler.plan(params, known_refs={"networks": known})
        reconciler.apply(plan)
        plans.append(plan)
    if wait and not check_mode:
        reconciler.wait(plans)
    result = {"changed": bool(created) or any(plan.changed for plan in plans), "networks_created": created,
              "services": {plan.name: plan.result() for plan in plans}, "edge_nodes": len(edge_nodes),
              "warnings": warnings}
    return result
