# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy's checks that need the swarm (issue 5): bind paths as the manager resolves them,
the quota over the tenant's other stacks, the engine's no-new-privileges, and the ownership of
existing objects (the labels decide, never the names). The facts come in as data, fed by the
spin_policy and spin_stack modules on a manager."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.policy.policy import Checker
from ansible_collections.spin.platform.plugins.module_utils.policy.policy_settings import normalise_path, violation


# ---------------------------------------------------------------------------------------------
# facts from the swarm (fed by the spin_policy module)

def bind_mounts(model):
    """The stack's bind mounts as ``[{service, key, source, read_only}]`` (for the module's
    symbolic-link check on a manager)."""
    out = []
    for name, svc in (model.get("services") or {}).items():
        for mount in svc.get("volumes") or []:
            if mount.get("type") == "bind" and mount.get("source"):
                out.append({"service": name, "key": "volumes", "source": mount["source"],
                            "read_only": bool(mount.get("read_only"))})
    return out


def resolved_bind_violations(binds, tenant, tenant_entry, policy, files=None):
    """Bind mounts whose real path (after symbolic links, as the engine resolves it) breaks a
    rule that the written path kept. ``binds``: ``bind_mounts()`` entries with ``resolved``."""
    checker = Checker({}, tenant, tenant_entry, policy, files, ())
    for bind in binds:
        resolved = bind.get("resolved")
        if resolved is None or normalise_path(resolved) == normalise_path(bind["source"]):
            continue
        checker.bind(bind["service"], bind["key"], bind["source"], bind.get("read_only"), resolved=resolved)
    return checker.found


def quota_violations(model, tenant, tenant_entry, policy, other_replicas, node_count=1, files=None,
                     other_usage=None, biggest=None):
    """The replica, CPU and memory quotas over all the tenant's stacks, and (with ``biggest``, the
    largest node) the services asking more than any node has."""
    checker = Checker(model, tenant, tenant_entry, policy, files, ())
    checker.quota(other_replicas, node_count)
    checker.resource_quota(other_usage, node_count)
    if biggest:
        checker.resource_size(biggest)
    return checker.found


def engine_violations(facts, policy):
    """The engine's no-new-privileges from what the module saw on the manager.

    ``facts``: ``{"daemon_json": True|False|None, "dockerd_flag": True|False|None,
    "newest_container": None | {"name": str, "no_new_privs": bool}}``. A running container is
    the strongest evidence (the setting applies only after dockerd restarted). Returns
    ``(violations, warnings)``; no evidence at all is a warning, not a refusal.
    """
    if not policy.get("require_no_new_privileges") or "engine-no-new-privileges" in policy.get("disabled_rules", []):
        return [], []
    fix = ("platform staff: set no-new-privileges: true in the engine's daemon.json (roles/docker_host does) "
           "and restart dockerd")
    newest = facts.get("newest_container")
    if newest is not None and not newest.get("no_new_privs"):
        return [violation("engine-no-new-privileges", None, None, None,
                          "the engine does not enforce no-new-privileges: container '%s' on the manager runs "
                          "without it" % newest.get("name"), fix)], []
    if newest is not None or facts.get("daemon_json") or facts.get("dockerd_flag"):
        return [], []
    if facts.get("daemon_json") is False:
        return [violation("engine-no-new-privileges", None, None, None,
                          "the engine's daemon.json does not set no-new-privileges: containers could gain "
                          "privileges through setuid programs", fix)], []
    return [], ["could not verify the engine's no-new-privileges setting (no daemon.json, no running container "
                "on this manager)"]


# ---------------------------------------------------------------------------------------------
# ownership (the labels decide, never the names)

def check_ownership(objects, tenant, stack):
    """Violations when the stack's existing objects belong to someone else.

    ``objects``: ``[{"kind": "service", "name": "magic_web", "labels": {...}}]``, every Swarm
    object labelled ``spin.stack=<stack>`` and every object named ``<stack>_...`` (stack names
    have no '_', so that prefix is the stack's alone). An object of another tenant, or one with
    no owner labels (created outside the platform), refuses the deploy or remove.
    """
    owners = {}
    strays = []
    for obj in objects:
        labels = obj.get("labels") or {}
        owner_stack, owner = labels.get("spin.stack"), labels.get("spin.tenant")
        if owner_stack == stack and owner == tenant:
            continue
        if owner_stack == stack and owner:
            owners.setdefault(owner, []).append(obj)
        elif owner and owner_stack:
            owners.setdefault(owner, []).append(obj)
        else:
            strays.append(obj)
    found = []
    for owner in sorted(owners):
        names = ", ".join("%s '%s'" % (o.get("kind", "object"), o.get("name")) for o in owners[owner])
        stacks = sorted({(o.get("labels") or {}).get("spin.stack") for o in owners[owner]} - {stack})
        other = " (%s named like this stack's objects, of stack %s)" % (names, ", ".join("'%s'" % s for s in stacks)) \
            if stacks else ""
        found.append(violation("ownership", None, None, "spin_stack",
                               "stack '%s' belongs to tenant '%s'%s" % (stack, owner, other),
                               "choose another stack name"))
    if strays:
        names = ", ".join("%s '%s'" % (o.get("kind", "object"), o.get("name")) for o in strays)
        found.append(violation("ownership", None, None, "spin_stack",
                               "stack '%s' has objects that belong to no tenant (%s): they were not made by the "
                               "platform" % (stack, names),
                               "choose another stack name, or ask the platform staff to remove them"))
    return found
