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

On an edge node, the edge is a container (``ensure_edge_container``) that joins each stack's
network while it runs; ``EdgeNode`` writes ``<config_dir>/haproxy.cfg`` and reloads the HAProxy
master through ``<config_dir>/run/master.sock`` (the directory is bind-mounted into the edge at
the same path). Docker API calls go through ``SwarmClient`` (``LbClient`` is another name for it).
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
from concurrent.futures import ThreadPoolExecutor

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
# stored routes: each stack's claim

def _index(config):
    return ((config.get("Version") or {}).get("Index", 0), config.get("ID", ""))


def _decode(config, stack):
    try:
        doc = json.loads(base64.b64decode(config["Spec"].get("Data") or "").decode("utf-8"))
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
    for stack, entry in out.items():
        entry["configs"].sort(key=_index, reverse=True)
        entry["versions"] = [(_index(c), _decode(c, stack)) for c in entry["configs"]]
        entry["doc"] = entry["versions"][0][1]
        entry["index"] = entry["versions"][-1][0]
    return out


def claim_order(stored):
    """The stored documents, the oldest tenure first (what ``haproxy.render`` wants)."""
    return [stored[name]["doc"] for name in sorted(stored, key=lambda n: (stored[n].get("index", (0, "")), n))]


def _holding(stored):
    """Every stored version that holds its claims, in the order Swarm stored them: [(stack, doc)]."""
    versions = sorted((idx, name, doc) for name, entry in stored.items() for idx, doc in entry.get("versions", []))
    holding = []
    for _idx, name, doc in versions:
        if not haproxy.claim_conflicts(doc, [d for n, d in holding if n != name]):
            holding.append((name, doc))
    return holding


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
        beaten = haproxy.claim_conflicts(doc, [d for n, d in holding if n != name])
        if idx == index and name == stack:
            return beaten
        if not beaten:
            holding.append((name, doc))
    return []


def check_claims(doc, others):
    """Refuse ports and hostnames another stack holds. Pure; raises SpinError naming the holder."""
    conflicts = haproxy.claim_conflicts(doc, sorted(others, key=lambda d: d["stack"]))
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
    name = _config_name(p, doc["stack"], haproxy.routes_digest(doc))
    try:
        return client.create_config(name, haproxy.canonical_json(doc).encode("utf-8"), labels={
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
    name = _config_name(p, stack, haproxy.routes_digest(routes_doc))
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
    return True


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
                      health_checks=None, files=None, check_mode=False, validate=True, replicas=None):
    """Before a stack is deployed: its routes, its claims, its network, a checked config.

    Raises SpinError (naming the rule, and the holder of a claimed port or hostname) and changes
    nothing then. Returns ``{"network": the stack's network or None, "routes": routes document,
    "public_services": [compose names that must join the network], "config": candidate text,
    "claim": what ``release_claim`` undoes, "network_created": bool}``. Outside check mode the
    routes are stored first (the claim), then the network is made.
    """
    p = haproxy.normalise_platform(platform)
    doc = haproxy.stack_routes(tenant, stack, endpoints, load_balancers, health_checks, p, files)
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
    others = dict((name, e) for name, e in stored.items() if name != stack)
    if doc["routes"]:
        others[stack] = {"doc": doc, "index": (stored.get(stack) or {}).get("index", (1 << 62, ""))}
    text = haproxy.render(claim_order(others), p, stats_password="check")
    if validate:
        validate_config(client, text, p)
    return {"network": doc["network"], "routes": doc, "public_services": haproxy.public_services(doc),
            "config": text, "claim": claim, "network_created": created}


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
                raise SpinError("the edge HAProxy on this node did not start within %ss: see `docker ps -a "
                                "--filter name=%s` and `docker logs %s`" % (timeout, self.platform["edge_service"],
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
                                    "serving with the old one): see `docker logs %s`"
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

def edge_networks(client, container):
    """The load balancer networks the container is on: {name: network ID}."""
    networks = ((client.inspect_container(container["Id"]) or {}).get("NetworkSettings") or {}).get("Networks") or {}
    return {name: (net or {}).get("NetworkID") for name, net in networks.items()}


def _parallel(jobs, workers=8):
    """Run independent Docker calls side by side (the engine attaches a network in about a second,
    mostly waiting on the swarm); -> the first SpinError, raised after all finished."""
    errors = []
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        for future in [pool.submit(job) for job in jobs]:
            try:
                future.result()
            except SpinError as exc:
                errors.append(exc)
    if errors:
        raise errors[0]


def _connect(client, network, container_id, attempts=3, sleep=time.sleep):
    """Join a network; the engine's attachment goes through the swarm and may time out on a busy
    manager ("context deadline exceeded"): try again, then give up with Docker's own error."""
    for attempt in range(1, attempts + 1):
        try:
            return client.connect_network(network, container_id)
        except SpinError as exc:
            text = exc.message.lower()
            if "already exists" in text or "already attached" in text:
                return None
            if attempt == attempts or not ("deadline" in text or "timeout" in text or "timed out" in text):
                raise
            sleep(attempt)
    return None


def attach_edge(client, platform, docs, container=None, check_mode=False):
    """Connect this node's edge container to the network of every fronted stack, and disconnect
    it from the networks of stacks that are gone (whose networks are then removed, once no edge
    node is left on them). -> {"connected": [...], "disconnected": [...]}."""
    container = container or edge_container(client, platform)
    out = {"connected": [], "disconnected": []}
    if container is None or "com.docker.swarm.service.name" in (container.get("Labels") or {}):
        return out
    have = edge_networks(client, container)
    wanted = {doc["network"] for doc in docs if doc.get("network")}
    out["connected"] = sorted(wanted - set(have))
    mine = {net["Name"]: net["Id"] for net in client.networks(labels={L_EDGE: platform["edge_service"],
                                                                      L_KIND: "stack-network"}) or []}
    out["disconnected"] = sorted(name for name in have if name in mine and name not in wanted)
    if check_mode:
        return out
    _parallel([(lambda n=name: _connect(client, n, container["Id"])) for name in out["connected"]])
    for name in out["disconnected"]:
        client.disconnect_network(name, container["Id"])
    for name, net_id in mine.items():
        if name not in wanted:
            try:
                client.remove_network(net_id)
            except SpinError:
                pass  # another edge node, or a service of the stack, is still on it: a later run removes it
    return out


def sync_edge(client, platform, check_mode=False, node=None, stored=None, reload=True, container=None):
    """Render every stored stack's routes, and make this edge node serve them: its edge container
    on every fronted stack's network, the config checked, written and reloaded.

    -> {"changed", "config_changed", "reloaded", "reload_seconds", "stacks", "networks", "diff"}.
    An invalid config never replaces the running one (SpinError names the stack and rule).
    """
    p = haproxy.normalise_platform(platform)
    node = node or EdgeNode(p)
    stored = stored if stored is not None else stored_routes(client, p)
    docs = claim_order(stored)
    text = haproxy.render(docs, p, stats_password=node.stats_password(check_mode))
    before = node.current()
    container = container or edge_container(client, p)
    networks = attach_edge(client, p, docs, container, check_mode)
    result = {"changed": before != text or bool(networks["connected"] or networks["disconnected"]),
              "config_changed": before != text, "reloaded": False, "reload_seconds": None,
              "stacks": sorted(d["stack"] for d in docs), "config_path": node.cfg, "networks": networks,
              "diff": {"before": haproxy.redact(before) or "", "after": haproxy.redact(text),
                       "before_header": node.cfg, "after_header": node.cfg}}
    if before == text:
        return result
    # in check mode too: it changes nothing, and tells whether it would fail
    validate_config(client, text, p, container=container, check_mode=check_mode)
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
    digest = haproxy.routes_digest(spec)[:16]
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
        for name in haproxy.public_services(doc):
            found = client.find_service("%s_%s" % (stack, name))
            if found is None:
                continue
            spec = found["Spec"]
            template = spec.setdefault("TaskTemplate", {})
            nets = template.get("Networks") or spec.get("Networks") or []
            if not any(n.get("Target") == net_id for n in nets):
                template["Networks"] = list(nets) + [{"Target": net_id, "Aliases": [name]}]
                spec.pop("Networks", None)
                spec.setdefault("Labels", {})[L_NETWORK] = wanted
                client.update_service(found["ID"], found["Version"]["Index"], spec)
        store_stack_routes(client, dict(doc, network=wanted), p)
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
    from .reconcile import ServiceReconciler  # the reconciler pulls in service_spec: only when provisioning

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
