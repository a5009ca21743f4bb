# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring role's swarm exporter, its pure half: what runs on the swarm (``swarm_state``
records) -> Prometheus metrics, and the scrape targets on each node (Prometheus's HTTP service
discovery). The exporter (``roles/images/files/monitoring/spin-swarm-exporter``) serves them from
a manager's Docker API; its image carries this file and the ones it imports.

Metrics (every tenant's services, labelled by the ``spin.*`` labels, never the names):

* ``spin_service_replicas_desired{tenant, stack, service, mode}`` and ``spin_service_replicas_running``
  (the same count of running tasks ``spin_status`` and the inventory show), ``spin_service_replicas_starting``;
* ``spin_node_ready{node, role, availability}`` 1 when Swarm has the node ready, ``spin_node_info``;
* ``spin_swarm_up`` 1 when the manager answered (0 and no other series when it did not).
"""
from __future__ import annotations

import json

from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_state import STARTING


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _series(name, labels, value):
    shown = ",".join('%s="%s"' % (k, _escape(v)) for k, v in sorted(labels.items()))
    return "%s{%s} %s" % (name, shown, value) if shown else "%s %s" % (name, value)


HELP = {
    "spin_swarm_up": "1 when a swarm manager answered the exporter",
    "spin_service_replicas_desired": "replicas a tenant's service should run (global: its eligible nodes)",
    "spin_service_replicas_running": "tasks of the service running now (healthy, where it has a health check)",
    "spin_service_replicas_starting": "tasks of the service on their way (created, pulled, waiting for health)",
    "spin_node_ready": "1 when Swarm has the node ready",
    "spin_node_info": "the node's role, availability and engine (value 1)",
}


def render(data, up=True):
    """``swarm_state.read_swarm`` output -> the exposition text."""
    out = {name: [] for name in HELP}
    out["spin_swarm_up"].append(_series("spin_swarm_up", {}, 1 if up else 0))
    for record in (data or {}).get("services") or []:
        labels = {"tenant": record["tenant"], "stack": record["stack"], "service": record["service"],
                  "mode": record["mode"]}
        out["spin_service_replicas_desired"].append(_series("spin_service_replicas_desired", labels,
                                                            record["replicas"]))
        out["spin_service_replicas_running"].append(_series("spin_service_replicas_running", labels,
                                                            record["running"]))
        starting = sum(1 for t in record["tasks"] if t["state"] in STARTING)
        out["spin_service_replicas_starting"].append(_series("spin_service_replicas_starting", labels, starting))
    for node in (data or {}).get("nodes") or []:
        out["spin_node_ready"].append(_series("spin_node_ready", {"node": node["hostname"]},
                                              1 if node["state"] == "ready" else 0))
        out["spin_node_info"].append(_series("spin_node_info", {
            "node": node["hostname"], "role": node["role"] or "", "availability": node["availability"] or "",
            "engine": node["engine_version"] or "", "address": node["addr"] or ""}, 1))
    lines = []
    for name, series in out.items():
        if series:
            lines += ["# HELP %s %s" % (name, HELP[name]), "# TYPE %s gauge" % name] + series
    return "\n".join(lines) + "\n"


def node_targets(tasks, nodes, network, ports, edge_label="spin.edge"):
    """The node agents' running tasks (raw Docker tasks of the global agent service) -> Prometheus
    HTTP service discovery, per job: ``{"node": [...], "engine": [...], "edge": [...]}``, each
    ``[{"targets": ["<address on network>:<port>"], "labels": {"node": <hostname>}}]``; ``edge``
    only on the nodes labelled ``spin.edge=true``. ``ports``: ``{job: port}``."""
    by_id = {n["ID"]: n for n in nodes or []}
    out = {job: [] for job in ports}
    for task in sorted(tasks or [], key=lambda t: t.get("NodeID") or ""):
        if task.get("DesiredState") != "running" or (task.get("Status") or {}).get("State") != "running":
            continue
        address = None
        for attachment in task.get("NetworksAttachments") or []:
            if ((attachment.get("Network") or {}).get("Spec") or {}).get("Name") == network:
                address = ((attachment.get("Addresses") or [None])[0] or "").split("/")[0] or None
        if not address:
            continue
        node = by_id.get(task.get("NodeID")) or {}
        hostname = (node.get("Description") or {}).get("Hostname") or task.get("NodeID")
        is_edge = ((node.get("Spec") or {}).get("Labels") or {}).get(edge_label) == "true"
        for job, port in sorted(ports.items()):
            if job == "edge" and not is_edge:
                continue
            out[job].append({"targets": ["%s:%d" % (address, port)], "labels": {"node": hostname}})
    return out


def targets_json(groups):
    return json.dumps(groups, sort_keys=True)
