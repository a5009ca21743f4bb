# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""This edge node: ``<config_dir>/haproxy.cfg`` rendered from the routes stored in Swarm
(``lb.stored_routes``), checked, written and reloaded through the HAProxy master socket
(``<config_dir>/run/master.sock``), and the edge container on every fronted stack's network.

spin_lb runs this on each edge node; spin_stack runs ``sync_edge`` too, where an edge runs on its
manager, so that the run that changed a stack's routes also serves them. The routes and claims
themselves are ``lb``'s; provisioning the edge is ``lb_provision``'s.
"""
from __future__ import annotations

import os
import re
import secrets as pysecrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb_certs, tls_edge
from ansible_collections.spin.platform.plugins.module_utils.edge import node_metrics
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge.lb import (
    L_EDGE, L_KIND, claim_order, edge_container, stored_routes, validate_config)

RELOAD_TIMEOUT = 30


# =============================================================================================
# the edge node: haproxy.cfg on disk, the master socket

class EdgeNode(object):
    """The edge's directory on this node and the HAProxy master that runs from it."""

    def __init__(self, platform, clock=time.monotonic, sleep=time.sleep):
        self.platform = platform
        self.dir = platform["config_dir"]
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        self.run = os.path.join(self.dir, "run")
        self.metrics = node_metrics.directory_for(self.dir)
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

    def report(self, check_ok, reload_ok=True, stacks=0, certs=None):
        """Tell monitoring (the node exporter's textfile collector) whether this edge could check
        and load the configuration of the stored routes: the alert SpinEdgeConfigCheckFailing; and
        when each stack's certificate expires (issue 20)."""
        samples = [
            ("spin_edge_config_check_ok", "1 when the edge's configuration from the stored routes passed haproxy -c",
             {}, 1 if check_ok else 0),
            ("spin_edge_reload_ok", "1 when the edge's last reload took the configuration", {}, 1 if reload_ok else 0),
            ("spin_edge_stacks", "fronted stacks in the edge's configuration", {}, stacks),
            ("spin_edge_config_check_timestamp_seconds", "when the edge last checked its configuration", {},
             int(time.time()))]
        for path, cert in sorted((certs or {}).items()):
            samples.append(("spin_edge_certificate_expiry_timestamp_seconds",
                            "when a certificate the edge serves expires (UNIX time)",
                            {"certificate": os.path.basename(path)[:-len(".pem")], "source": cert.get("source", "")},
                            int(cert["not_after"])))
        node_metrics.write(self.metrics, "spin_edge", samples)

    def admin(self, command):
        return self._ask(os.path.join(self.run, "admin.sock"), command)

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
    text = haproxy_cfg.render(docs, p, stats_password=node.stats_password(check_mode))
    before = node.current()
    container = container or edge_container(client, p)
    networks = attach_edge(client, p, docs, container, check_mode)
    result = {"changed": before != text or bool(networks["connected"] or networks["disconnected"]),
              "config_changed": before != text, "reloaded": False, "reload_seconds": None,
              "stacks": sorted(d["stack"] for d in docs), "config_path": node.cfg, "networks": networks,
              "diff": {"before": haproxy_cfg.redact(before) or "", "after": haproxy_cfg.redact(text),
                       "before_header": node.cfg, "after_header": node.cfg},
              "certificates": {"added": [], "updated": [], "removed": []}}
    # the stacks' certificates: files first (what a starting or reloading worker loads, and what the
    # check reads), then the running worker through its runtime API, with no reload (tls_edge)
    want = tls_edge.wanted(p, lb_certs.stored_certificates(client, p), {d["stack"] for d in docs}) \
        if p["https_port"] else {}
    result["certificate_files"] = sorted(want)
    if not check_mode:
        node.ensure_dirs()
        result["changed"] = tls_edge.write_files(p, want) or result["changed"]
    if before == text:
        if not check_mode:
            _runtime_certs(node, p, want, result)
            node.report(True, stacks=len(docs), certs=want)
        return result
    # in check mode too: it changes nothing, and tells whether it would fail
    try:
        validate_config(client, text, p, container=container, check_mode=check_mode)
    except SpinError:
        if not check_mode:
            node.report(False, stacks=len(docs))
        raise
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
            node.report(True, reload_ok=False, stacks=len(docs))
            raise
        result["reloaded"] = True
    _runtime_certs(node, p, want, result)
    node.report(True, stacks=len(docs), certs=want)
    return result


def _runtime_certs(node, platform, want, result):
    """The running worker's certificates brought to the stored ones (no reload); nothing when no
    HAProxy runs here or the config has no HTTPS frontend yet (the next start loads the files)."""
    if not os.path.exists(os.path.join(node.run, "admin.sock")) or \
            tls_edge.crt_list_path(platform) not in (node.current() or ""):
        return
    try:
        done = tls_edge.sync_runtime(node.admin, platform, want)
    except (OSError, socket.error):
        return  # no worker answers (the edge is starting): it loads the files
    result["certificates"] = {k: [os.path.basename(p) for p in v] for k, v in done.items()}
    if any(done.values()):
        result["changed"] = True
