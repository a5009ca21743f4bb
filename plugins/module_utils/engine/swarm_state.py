# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs on the swarm, as plain records: nodes, and the services of spin stacks with their
tasks (replicas running against desired, health, nodes). Pure, apart from ``read_swarm``, which
asks a ``SwarmClient``.

The inventory plugin (``spin.platform.swarm``), ``spin_status`` and the monitoring role's swarm
exporter read the swarm through these functions, so the three agree on what "running" means: a
task whose desired state is running and whose state is running. The labels, never the names,
decide whose a service is.
"""
from __future__ import annotations

TENANT_LABEL = "spin.tenant"
STACK_LABEL = "spin.stack"
SERVICE_LABEL = "spin.service"
IMAGE_LABEL = "spin.image"


def manager_host(addr):
    """``10.0.0.1:2377`` -> ``10.0.0.1``; ``[fd00::1]:2377`` -> ``fd00::1``."""
    text = str(addr or "")
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def node_record(node):
    spec = node.get("Spec") or {}
    desc = node.get("Description") or {}
    status = node.get("Status") or {}
    manager = node.get("ManagerStatus") or {}
    platform = desc.get("Platform") or {}
    resources = desc.get("Resources") or {}
    addr = status.get("Addr")
    manager_addr = manager_host(manager["Addr"]) if manager.get("Addr") else None
    if (not addr or addr == "0.0.0.0") and manager_addr:  # moby/moby#35437: the leader may say 0.0.0.0
        addr = manager_addr
    return {
        "id": node["ID"],
        "hostname": desc.get("Hostname") or node["ID"],
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "state": status.get("State"),
        "addr": addr,
        "leader": bool(manager.get("Leader")),
        "labels": dict(spec.get("Labels") or {}),
        "engine_version": (desc.get("Engine") or {}).get("EngineVersion"),
        "platform": {"os": platform.get("OS"), "architecture": platform.get("Architecture")},
        "cpus": (resources.get("NanoCPUs") or 0) / 1e9,
        "memory": resources.get("MemoryBytes") or 0,
    }


def spin_labels(service):
    """(tenant, stack, compose service name) of a spin service, else None."""
    spec = service.get("Spec") or {}
    labels = spec.get("Labels") or {}
    tenant, stack = labels.get(TENANT_LABEL), labels.get(STACK_LABEL)
    if not tenant or not stack:
        return None
    name = spec.get("Name") or ""
    compose_name = labels.get(SERVICE_LABEL)
    if not compose_name:
        compose_name = name[len(stack) + 1:] if name.startswith(stack + "_") else name
    return tenant, stack, compose_name


def task_record(task, node_names):
    status = task.get("Status") or {}
    addresses = []
    for attachment in task.get("NetworksAttachments") or []:
        addresses.extend(attachment.get("Addresses") or [])
    node_id = task.get("NodeID")
    return {
        "id": task.get("ID"),
        "slot": task.get("Slot"),
        "node_id": node_id,
        "node": node_names.get(node_id, node_id),
        "state": status.get("State"),
        "desired_state": task.get("DesiredState"),
        "since": status.get("Timestamp"),
        "error": status.get("Err"),
        "addresses": addresses,
    }


def has_healthcheck(spec):
    """Does the service's container spec carry a health check of its own? (An image's own
    HEALTHCHECK is not in the spec: Swarm applies it all the same, and ``health`` then reads
    ``starting`` while a task waits for it.)"""
    check = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Healthcheck") or {}
    test = check.get("Test") or []
    return bool(test) and test[0] != "NONE"


STARTING = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting")


def health(record):
    """One word for a service's state, from its record:

    ``running`` every replica runs (and passed its health check: Swarm holds a task in
    ``starting`` until its container is healthy); ``starting`` some are on their way (created,
    pulled, or waiting for their health check); ``degraded`` fewer run than desired and none is
    on its way; ``down`` none runs though some are desired; ``complete`` a job whose tasks
    finished; ``idle`` nothing is desired; ``scheduled`` a scheduled job between runs (docs/jobs.md)."""
    if record.get("schedule"):
        return "running" if record["running"] else "scheduled"
    if record["mode"].endswith("job"):
        done = sum(1 for t in record["tasks"] if t["state"] == "complete")
        return "complete" if done and done >= record["replicas"] else "running" if record["running"] else "starting"
    if not record["replicas"]:
        return "idle"
    if record["running"] >= record["replicas"]:
        return "running"
    if any(t["state"] in STARTING for t in record["tasks"]):
        return "starting"
    return "degraded" if record["running"] else "down"


def service_record(service, tasks, node_names, network_names):
    """``tasks``: the service's tasks whose desired state is running (a job's: complete too)."""
    owner = spin_labels(service)
    if owner is None:
        return None
    tenant, stack, compose_name = owner
    spec = service.get("Spec") or {}
    template = spec.get("TaskTemplate") or {}
    mode = spec.get("Mode") or {}
    endpoint = service.get("Endpoint") or {}
    endpoint_spec = spec.get("EndpointSpec") or {}
    ports = endpoint.get("Ports") or endpoint_spec.get("Ports") or []
    tasks = sorted(tasks, key=lambda t: (t.get("Slot") or 0, t.get("NodeID") or "", t.get("ID") or ""))
    if "Global" in mode:
        mode_name, replicas = "global", len(tasks)
    elif "ReplicatedJob" in mode:
        mode_name, replicas = "replicated-job", (mode["ReplicatedJob"] or {}).get("TotalCompletions", 1)
    elif "GlobalJob" in mode:
        mode_name, replicas = "global-job", len(tasks)
    else:
        mode_name, replicas = "replicated", (mode.get("Replicated") or {}).get("Replicas", 1)
    labels = dict(spec.get("Labels") or {})
    container = template.get("ContainerSpec") or {}
    return {
        "id": service["ID"],
        "name": spec.get("Name"),
        "tenant": tenant,
        "stack": stack,
        "service": compose_name,
        "image": container.get("Image"),
        "image_written": labels.get(IMAGE_LABEL),
        "schedule": labels.get("spin.schedule"),      # a scheduled job (cron.SCHEDULE_LABEL, docs/jobs.md)
        "mode": mode_name,
        "replicas": replicas,
        "running": sum(1 for t in tasks if (t.get("Status") or {}).get("State") == "running"),
        "tasks": [task_record(t, node_names) for t in tasks],
        "healthcheck": has_healthcheck(spec),
        "resources": template.get("Resources") or {},
        "endpoint_mode": endpoint_spec.get("Mode") or "vip",
        "ports": [{"target": p.get("TargetPort"), "published": p.get("PublishedPort"),
                   "protocol": p.get("Protocol") or "tcp", "mode": p.get("PublishMode") or "ingress"}
                  for p in ports],
        "virtual_ips": [v.get("Addr") for v in endpoint.get("VirtualIPs") or [] if v.get("Addr")],
        "networks": [{"name": network_names.get(n.get("Target"), n.get("Target")), "aliases": list(n.get("Aliases") or [])}
                     for n in template.get("Networks") or spec.get("Networks") or []],
        "labels": labels,
        "updated": service.get("UpdatedAt"),
        "update_state": (service.get("UpdateStatus") or {}).get("State"),
    }


def read_swarm(client, tenant=None, stack=None, names=True):
    """Read what runs from Docker: ``{"nodes", "services"}`` (records as above).

    With ``tenant``, Docker is asked only for that tenant's services (and their tasks and
    networks); the labels are checked again here, as ownership must never rest on one filter.
    ``stack`` narrows to one stack; ``names=False`` skips reading network names.
    """
    nodes = client.nodes()
    node_names = {n["ID"]: (n.get("Description") or {}).get("Hostname") or n["ID"] for n in nodes}
    wanted = {TENANT_LABEL: tenant} if tenant else {}
    if stack:
        wanted[STACK_LABEL] = stack
    services = client.services(labels=wanted or None) or []
    services = [s for s in services if spin_labels(s) and (not tenant or spin_labels(s)[0] == tenant)
                and (not stack or spin_labels(s)[1] == stack)]
    tasks_by_service = {}
    for task in client.tasks([s["ID"] for s in services], desired_state="running"):
        tasks_by_service.setdefault(task.get("ServiceID"), []).append(task)
    network_names = {}
    for service in services if names else ():
        template = (service.get("Spec") or {}).get("TaskTemplate") or {}
        for net in template.get("Networks") or []:
            net_id = net.get("Target")
            if net_id and net_id not in network_names:
                found = client.inspect_network(net_id)
                network_names[net_id] = found["Name"] if found else net_id
    records = [service_record(s, tasks_by_service.get(s["ID"], []), node_names, network_names) for s in services]
    return {
        "nodes": sorted((node_record(n) for n in nodes), key=lambda n: (n["hostname"], n["id"])),
        "services": sorted(records, key=lambda s: s["name"]),
    }
