# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy checks that only a swarm manager can make: who owns the stack's objects, the
tenant's replicas in its other stacks, where bind paths lead on this host, and whether the engine
enforces no-new-privileges. Shared by spin_policy and spin_stack."""
from __future__ import annotations

import json
import os

from ansible_collections.spin.platform.plugins.module_utils.policy import placement, policy, resources
from ansible_collections.spin.platform.plugins.module_utils.engine import swarm_state
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_facts, policy_settings

DOCKER_PIDFILE = "/var/run/docker.pid"


def stack_objects(client, stack):
    """Every object labelled for the stack or named like its objects, as check_ownership wants them."""
    prefix = stack + "_"
    listings = (
        ("service", client.services(), lambda o: o["Spec"]["Name"], lambda o: o["Spec"].get("Labels")),
        ("network", client.networks(), lambda o: o["Name"], lambda o: o.get("Labels")),
        ("volume", client.volumes(), lambda o: o["Name"], lambda o: o.get("Labels")),
        ("secret", client.secrets(), lambda o: o["Spec"]["Name"], lambda o: o["Spec"].get("Labels")),
        ("config", client.configs(), lambda o: o["Spec"]["Name"], lambda o: o["Spec"].get("Labels")),
    )
    found = []
    for kind, items, name_of, labels_of in listings:
        for item in items or []:
            name, labels = name_of(item), labels_of(item) or {}
            if labels.get("spin.stack") == stack or labels.get("com.docker.stack.namespace") == stack \
                    or name.startswith(prefix):
                found.append({"kind": kind, "name": name, "labels": labels})
    return found


def _replicas(service, node_count):
    mode = service["Spec"].get("Mode") or {}
    if "Global" in mode or "GlobalJob" in mode:
        return node_count
    if "ReplicatedJob" in mode:
        return int((mode["ReplicatedJob"] or {}).get("MaxConcurrent") or 1)
    return int((mode.get("Replicated") or {}).get("Replicas") or 0)


def tenant_services(client, tenant):
    """The tenant's services (the label checked again: ownership never rests on one filter)."""
    return [s for s in client.services(labels={"spin.tenant": tenant}) or []
            if (s["Spec"].get("Labels") or {}).get("spin.tenant") == tenant]


def usage(services, node_count, defaults, skip_stack=None):
    """Replicas, and CPU and memory (``resources.total``), of ``services`` outside ``skip_stack``; a
    service without limits counts with the platform's defaults, which its next deploy gives it."""
    replicas, parts = 0, []
    for service in services:
        labels = service["Spec"].get("Labels") or {}
        if skip_stack is not None and labels.get("spin.stack") == skip_stack:
            continue
        count = _replicas(service, node_count)
        replicas += count
        own = resources.from_spec((service["Spec"].get("TaskTemplate") or {}).get("Resources"))
        parts.append((service["Spec"]["Name"], resources.with_defaults(own, defaults), count))
    return replicas, resources.total(parts)


def other_replicas(client, tenant, stack, node_count):
    """Replicas of the tenant's services in its other stacks (a global service: one per node)."""
    return usage(tenant_services(client, tenant), node_count, resources.empty(), skip_stack=stack)[0]


def _read(path, binary=False):
    try:
        with open(path, "rb" if binary else "r") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def engine_facts(client, docker_host, daemon_json):
    """no-new-privileges as this manager's engine has it: its flags, daemon.json, and the newest
    Swarm task container's own NoNewPrivs (the proof that the running daemon applies it)."""
    facts = {"daemon_json": None, "dockerd_flag": None, "newest_container": None}
    if not str(docker_host or "").startswith("unix://"):
        return facts  # a remote engine: its files and processes are not ours to read
    pid = (_read(DOCKER_PIDFILE) or "").strip()
    cmdline = _read("/proc/%s/cmdline" % pid, binary=True) if pid.isdigit() else None
    if cmdline:
        args = cmdline.decode("utf-8", "replace").split("\0")
        facts["dockerd_flag"] = any(a in ("--no-new-privileges", "--no-new-privileges=true") for a in args)
        for i, arg in enumerate(args):
            if arg == "--config-file" and i + 1 < len(args):
                daemon_json = args[i + 1]
            elif arg.startswith("--config-file="):
                daemon_json = arg.split("=", 1)[1]
    text = _read(daemon_json)
    if text is not None:
        try:
            facts["daemon_json"] = bool(json.loads(text).get("no-new-privileges"))
        except (ValueError, AttributeError):
            facts["daemon_json"] = False
    running = client.containers(labels={"com.docker.swarm.task.id": None}, status="running")
    if running:
        newest = max(running, key=lambda c: c.get("Created") or 0)
        state = (client.inspect_container(newest["Id"]) or {}).get("State") or {}
        cgroup = _read("/proc/%s/cgroup" % state.get("Pid")) or ""
        status = _read("/proc/%s/status" % state.get("Pid")) or ""
        # the pid is ours to read only when we share the engine's pid namespace
        if newest["Id"] in cgroup and "NoNewPrivs:" in status:
            value = status.split("NoNewPrivs:", 1)[1].split()[0]
            facts["newest_container"] = {"name": (newest.get("Names") or ["?"])[0].lstrip("/"),
                                         "no_new_privs": value == "1"}
    return facts


def resolve_binds(binds):
    """Bind sources after symbolic links, where they exist on this manager."""
    out = []
    for bind in binds or []:
        source = bind.get("source") or ""
        entry = dict(bind)
        entry["resolved"] = os.path.realpath(source) if source.startswith("/") and os.path.exists(source) else None
        out.append(entry)
    return out


def manager_checks(client, tenant, stack, platform, controller, docker_host, daemon_json):
    """Every violation the manager adds to the controller's. Returns a dict with ``violations``
    (the controller's and these), ``warnings``, ``replicas`` and ``engine``."""
    pol = policy_settings.merge_policy(platform)
    entry = pol["tenants"].get(tenant)
    files = controller.get("files") or {}
    found = list(controller.get("violations") or [])

    found.extend(policy_facts.check_ownership(stack_objects(client, stack), tenant, stack))

    info = client.info() or {}
    node_count = int(((info.get("Swarm") or {}).get("Nodes")) or 1)
    counts = controller.get("replicas") or {}
    asked = controller.get("resources") or {}
    stack_total = sum(node_count if count == "global" else int(count) for count in counts.values())
    others, other_usage = usage(tenant_services(client, tenant), node_count, pol["default_resources"],
                                skip_stack=stack)
    model = {"services": {name: {"deploy": {"mode": "global" if count == "global" else "replicated",
                                            "replicas": None if count == "global" else int(count),
                                            "resources": asked.get(name)}}
                          for name, count in counts.items()}}
    biggest = resources.largest_node([swarm_state.node_record(n) for n in client.nodes() or []])
    found.extend(policy_facts.quota_violations(model, tenant, entry, pol, others, node_count, files,
                                               other_usage=other_usage, biggest=biggest))
    found.extend(policy_facts.resolved_bind_violations(resolve_binds(controller.get("binds")), tenant, entry, pol, files))
    if platform.get("spin_global_fs") and "global-fs-placement" not in pol["disabled_rules"]:
        found.extend(placement.placement_violations(controller.get("binds"), platform["spin_global_fs"],
                                                    client.nodes(), files))

    facts = engine_facts(client, docker_host, daemon_json)
    engine_found, warnings = policy_facts.engine_violations(facts, pol)
    found.extend(engine_found)
    return {"violations": found, "warnings": warnings, "engine": facts,
            "replicas": {"stack": stack_total, "other_stacks": others, "quota": policy.replica_quota(entry, pol)},
            "resources": resources.usage_rows(other_usage, resources.quota_of(entry, pol))}
