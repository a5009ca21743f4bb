# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data survives: a named volume for every path that would otherwise get an anonymous one, and
services placed on the node where their node-local volumes are.

Swarm gives every new task new anonymous volumes: a killed container, an engine restart or an
update starts a database on an empty data directory. (Compose keeps them across re-creation;
Swarm does not.) So, on the manager, before the stack is planned:

1. **Named volumes for anonymous paths.** Every path the service's image declares as ``VOLUME``
   that no mount of the service covers, and every anonymous volume the compose file writes
   (``volumes: [/data]``), is mounted from a named volume of its own:
   ``<stack>_<service>_<path slug>.{{.Task.Slot}}`` for a replicated service (one per replica, as
   Compose gives each container its own; Swarm fills in the slot) and
   ``<stack>_<service>_<path slug>`` for a global one (one per node). They carry the stack's owner
   labels plus ``spin.service`` and ``spin.image-volume=<path>`` (also when Swarm creates them on
   another node), are kept across task re-creation, engine restarts and re-deploys, and are removed
   only with ``remove_volumes``.
2. **Placement by data.** A volume of the ``local`` driver lives on one node. A replicated service
   that mounts one is constrained to ``node.id==<id>`` (remembered in the service label
   ``spin.data-node``). The node is, first that applies: the one the service is pinned to already,
   while it is in the swarm; the node the service's newest task ran on (its data is there); this
   manager, where spin_stack creates the stack's named volumes, if the service's own constraints
   allow it; the first node by hostname that they allow.
3. **Migration.** A service that ran before with an anonymous volume at such a path, in a container
   on this engine: it is stopped (replicas 0), the anonymous volume's content is copied into the
   new named volume, and the update then starts it on the copy.

``plan_service`` works on one service's spin_service parameters (``ServiceReconciler.plan`` calls
it, so that spin_stack and the reviewed task file do the same); ``migrate`` carries out the copies
(``ServiceReconciler.apply``, before the update). Swarm creates the named volumes, labelled, where
the task runs. The decisions are pure functions.
"""
from __future__ import annotations

import re
import time

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

L_IMAGE_VOLUME = "spin.image-volume"
L_DATA_NODE = "spin.data-node"
L_REPLACED = "spin.replaced"      # on the copy of a named volume's older content, naming the volume
SLOT = "{{.Task.Slot}}"
_ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")
# local-driver options that point at data elsewhere: such a volume is not tied to a node
_REMOTE_TYPES = ("nfs", "nfs4", "cifs", "smb", "ceph", "glusterfs")


# ---- pure -----------------------------------------------------------------------------------

def slug(path):
    """'/var/lib/mysql' -> 'var-lib-mysql' (a volume name may hold letters, digits, '_', '.', '-')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path.strip("/")) or "root"


def _norm(path):
    return "/" + (path or "").strip("/")


def volume_source(service_name, path, global_mode=False):
    base = "%s_%s" % (service_name, slug(path))
    return base if global_mode else "%s.%s" % (base, SLOT)


def expand(source, slot):
    return source.replace(SLOT, str(slot))


def anonymous_paths(params, image_volumes):
    """Paths that would get an anonymous volume: the image's VOLUMEs no mount covers, and the
    compose file's own anonymous volumes (type volume without a source). Sorted."""
    mounted = {_norm(m.get("target")) for m in params.get("mounts") or [] if m.get("source") or m.get("type") != "volume"}
    written = {_norm(m.get("target")) for m in params.get("mounts") or []
               if m.get("type", "volume") == "volume" and not m.get("source")}
    return sorted((set(_norm(p) for p in image_volumes or []) - mounted) | written)


def name_anonymous_volumes(params, image_volumes, owner):
    """Give every anonymous path of one service (spin_service params, changed in place) a named
    volume. -> the paths, with their mount source (a template with the slot for replicated)."""
    global_mode = params.get("mode") == "global"
    added = []
    for path in anonymous_paths(params, image_volumes):
        source = volume_source(params["name"], path, global_mode)
        labels = dict(owner, **{"spin.service": (params.get("labels") or {}).get("spin.service") or params["name"],
                                L_IMAGE_VOLUME: path})
        mounts = [m for m in params.get("mounts") or [] if _norm(m.get("target")) != path]
        mounts.append({"type": "volume", "source": source, "target": path, "readonly": False,
                       "volume_driver": "local", "volume_options": None, "volume_labels": labels,
                       "tmpfs_size": None, "tmpfs_mode": None, "volume_nocopy": False})
        params["mounts"] = mounts
        added.append({"path": path, "source": source, "labels": labels})
    return added


def is_node_local(mount, declared=None):
    """Does this mount's data live on one node? (a volume of the local driver, not a network file
    system mounted through it, not tmpfs). ``declared``: the translated volume it names, if any."""
    if (mount.get("type") or "volume") != "volume" or not mount.get("source"):
        return False
    driver = mount.get("volume_driver") or (declared or {}).get("driver") or "local"
    options = dict((declared or {}).get("driver_opts") or {}, **(mount.get("volume_options") or {}))
    if driver != "local":
        return False
    kind = str(options.get("type") or "").lower()
    return kind != "tmpfs" and kind not in _REMOTE_TYPES and "addr=" not in str(options.get("o") or "")


_CONSTRAINT = re.compile(r"^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$")


def _node_value(node, key):
    spec, desc = node.get("Spec") or {}, node.get("Description") or {}
    simple = {"node.id": node.get("ID"), "node.hostname": desc.get("Hostname"), "node.role": spec.get("Role"),
              "node.platform.os": (desc.get("Platform") or {}).get("OS"),
              "node.platform.arch": (desc.get("Platform") or {}).get("Architecture")}
    if key in simple:
        return simple[key], True
    for prefix, labels in (("node.labels.", spec.get("Labels")), ("engine.labels.", (desc.get("Engine") or {}).get(
            "Labels"))):
        if key.startswith(prefix):
            return (labels or {}).get(key[len(prefix):]), True
    return None, False


def node_fits(node, constraints):
    """Would Swarm place a task on ``node`` (inspect output)? Ready, active, and every constraint
    met; a constraint this code cannot read counts as met (Swarm decides)."""
    if (node.get("Spec") or {}).get("Availability", "active") != "active" or \
            (node.get("Status") or {}).get("State", "ready") != "ready":
        return False
    for constraint in constraints or []:
        match = _CONSTRAINT.match(constraint)
        if not match:
            continue
        value, known = _node_value(node, match.group(1))
        if not known:
            continue
        equal = str(value).lower() == match.group(3).lower() if value is not None else False
        if equal != (match.group(2) == "=="):
            return False
    return True


def choose_node(nodes, constraints, pinned=None, last_ran=None, here=None, shared=None):
    """-> (node ID, why) for a service with node-local data, or (None, why) when no node fits.
    ``shared``: (node, service) where another service of the stack that mounts the same local volume
    runs (volumes_from): the two stay together."""
    known = {n.get("ID"): n for n in nodes or []}
    if pinned and pinned in known:
        return pinned, "its data is there (pinned before)"
    if shared and shared[0] in known:
        return shared[0], "it shares a volume with service %s, which runs there" % shared[1]
    if last_ran and last_ran in known:
        return last_ran, "its data is there (its last task ran there)"
    if here in known and node_fits(known[here], constraints):
        return here, "this manager runs the deploy and its constraints allow it"
    fitting = sorted((n for n in known.values() if node_fits(n, constraints)),
                     key=lambda n: ((n.get("Description") or {}).get("Hostname") or "", n.get("ID")))
    if fitting:
        return fitting[0]["ID"], "the first node its constraints allow"
    return None, "no node fits its placement constraints"


def pin(params, node_id):
    """Constrain one service (translated params, in place) to ``node_id``."""
    placement = dict(params.get("placement") or {"constraints": [], "preferences": [], "max_replicas": None})
    constraints = list(placement.get("constraints") or [])
    constraint = "node.id==%s" % node_id
    if constraint not in constraints:
        constraints.append(constraint)
    placement["constraints"] = constraints
    params["placement"] = placement
    params["labels"] = dict(params.get("labels") or {}, **{L_DATA_NODE: node_id})


def _newest_node(tasks):
    ran = [t for t in tasks or [] if t.get("NodeID") and ((t.get("Status") or {}).get("ContainerStatus") or {}).get(
        "ContainerID")]
    if not ran:
        return None
    return max(ran, key=lambda t: ((t.get("Status") or {}).get("Timestamp") or "", t.get("ID", "")))["NodeID"]


# ---- on the manager -------------------------------------------------------------------------

def _image_volumes(client, image):
    found = client.inspect_image(image) if image else None
    if found is None:
        return None
    return sorted(((found.get("Config") or {}).get("Volumes") or {}).keys())


OWNER_LABELS = ("spin.tenant", "spin.stack", "com.docker.stack.namespace")


class DataPlan(object):
    """What ``plan_service`` decided for one service: sentences for the result, warnings, copies to make."""

    def __init__(self):
        self.notes, self.warnings, self.migrations = [], [], []


def node_context(client):
    """This engine's node ID and the swarm's nodes (read once per run)."""
    return {"here": ((client.info() or {}).get("Swarm") or {}).get("NodeID"), "nodes": client.nodes() or []}


def plan_service(client, params, actual, context):
    """Name the service's anonymous volumes (``params["image_volumes"]``, default on) and pin it to
    the node of its node-local volumes (``params["pin_to_data"]``, default on): ``params`` (spin_service
    parameters) is changed in place. ``actual``: the service as Docker has it, or None.
    ``context``: a function that returns ``node_context`` (called only when needed). -> DataPlan."""
    out = DataPlan()
    name = params["name"]
    added = []
    if params.get("image_volumes", True) is not False:
        image_volumes = _image_volumes(client, params.get("image"))
        if image_volumes is None:
            out.warnings.append(
                "service %s: image %s is not on this node, so the paths it declares as VOLUME cannot be read: "
                "declare a named volume for each of its data paths, or they lose their data whenever a task is "
                "replaced" % (name, params.get("image")))
        owner = {k: v for k, v in (params.get("labels") or {}).items() if k in OWNER_LABELS}
        added = name_anonymous_volumes(params, image_volumes or [], owner)
    if params.get("pin_to_data", True) is not False and params.get("mode") != "global" and any(
            is_node_local(m) for m in params.get("mounts") or []):
        ctx = context()
        pinned = (((actual or {}).get("Spec") or {}).get("Labels") or {}).get(L_DATA_NODE)
        known = {n.get("ID") for n in ctx["nodes"]}
        local = [m["source"] for m in params.get("mounts") or [] if is_node_local(m)]
        pins = ctx.setdefault("pins", {})
        shared = next((pins[source] for source in local if source in pins and pins[source][1] != name), None)
        last_ran = _newest_node(client.service_tasks(actual["ID"])) if actual and pinned not in known and \
            not shared else None
        node, why = choose_node(ctx["nodes"], (params.get("placement") or {}).get("constraints"), pinned, last_ran,
                                ctx["here"], shared)
        if node is None:
            out.warnings.append("service %s has node-local volumes but %s; Swarm decides where it runs, and its "
                                "data stays only as long as it runs there" % (name, why))
        else:
            pin(params, node)
            for source in local:
                pins.setdefault(source, (node, name))
            out.notes.append("service %s runs on node %s: %s" % (name, node, why))
    for item in added:
        out.notes.append("service %s: %s gets the named volume %s" % (name, item["path"], item["source"]))
        for move in _migrations(client, params, actual, item):
            out.migrations.append(move)
            out.notes.append("service %s: the data at %s is copied from its anonymous volume %s into %s, the "
                             "service stopped meanwhile%s" % (name, move["path"], move["from"][:12], move["to"],
                                                              "; what %s holds now is kept aside" % move["to"]
                                                              if move["replaces"] else ""))
    return out


def is_image_volume(volume, services):
    """A volume this module named for a service that is still in ``services`` (compose names)."""
    labels = volume.get("Labels") or {}
    return bool(labels.get(L_IMAGE_VOLUME)) and labels.get("spin.service") in services


def _migrations(client, params, existing, item):
    """Anonymous volumes of this service's containers on this engine that hold the path's data."""
    if existing is None:
        return []
    out = []
    for container in client.containers(labels={"com.docker.swarm.service.id": existing["ID"]}) or []:
        detail = client.inspect_container(container["Id"]) or {}
        task_name = ((detail.get("Config") or {}).get("Labels") or {}).get("com.docker.swarm.task.name") or ""
        parts = task_name.split(".")
        slot = parts[1] if len(parts) == 3 and parts[1].isdigit() else None
        target = item["source"] if params.get("mode") == "global" else (expand(item["source"], slot) if slot else None)
        if target is None:
            continue
        for mount in detail.get("Mounts") or []:
            if mount.get("Type") == "volume" and _norm(mount.get("Destination")) == item["path"] \
                    and _ANONYMOUS.match(mount.get("Name") or ""):
                # the running container's data is the live data; a named volume of the same name left by
                # an earlier deploy (with the data of back then) is kept aside, not thrown away
                out.append({"service": params["name"], "service_id": existing["ID"], "path": item["path"],
                            "from": mount["Name"], "to": target, "labels": item["labels"],
                            "image": params.get("image"), "replaces": client.find_volume(target) is not None})
    return out


def migrate(client, migrations):
    """Copy each anonymous volume into its named volume, the service stopped meanwhile. -> notes."""
    notes = []
    by_service = {}
    for item in migrations:
        by_service.setdefault(item["service_id"], []).append(item)
    for service_id, items in by_service.items():
        service = client.inspect_service(service_id)
        if service is None:
            continue
        name = service["Spec"]["Name"]
        spec = service["Spec"]
        replicas = ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas")
        if replicas:
            # stopped, so that the copy is consistent; the stack's update then starts it on the copy
            stopped = dict(spec, Mode={"Replicated": {"Replicas": 0}})
            client.update_service(service_id, service["Version"]["Index"], stopped)
            _wait_stopped(client, service_id, name)
        try:
            for item in items:
                binds = ["%s:/from:ro" % item["from"], "%s:/to" % item["to"]]
                script = "cp -a /from/. /to/"
                kept = None
                if client.find_volume(item["to"]) is None:
                    client.create_volume(item["to"], driver="local", labels=item["labels"])
                else:
                    kept = "%s.before-%s" % (item["to"], time.strftime("%Y%m%d%H%M%S", time.gmtime()))
                    client.create_volume(kept, driver="local", labels=dict(item["labels"], **{L_REPLACED: item["to"]}))
                    binds.append("%s:/kept" % kept)
                    script = "cp -a /to/. /kept/ && find /to -mindepth 1 -delete && " + script
                code, output = client.run_once(item["image"], ["-c", script], entrypoint=["/bin/sh"], binds=binds,
                                               user="0:0", labels={"spin.stack": spec.get("Labels", {}).get(
                                                   "spin.stack", "")})
                if code != 0:
                    raise SpinError("could not copy the data of service %s at %s from its anonymous volume %s into "
                                    "%s (exit %s): %s" % (name, item["path"], item["from"], item["to"], code,
                                                          output.strip()[-500:]))
                notes.append("service %s: copied the data at %s from the anonymous volume %s into %s%s"
                             % (name, item["path"], item["from"][:12], item["to"],
                                "; what %s held before is kept in %s" % (item["to"], kept) if kept else ""))
        except SpinError:
            if replicas:
                fresh = client.inspect_service(service_id)
                if fresh is not None:
                    client.update_service(service_id, fresh["Version"]["Index"], spec)
            raise
    return notes


_LIVE_STATES = ("running", "starting", "preparing", "assigned", "accepted", "ready", "pending", "new")


def _wait_stopped(client, service_id, name, polls=600, sleep=time.sleep):
    for poll in range(polls):
        if not [t for t in client.service_tasks(service_id) if (t.get("Status") or {}).get("State") in _LIVE_STATES]:
            return poll
        sleep(0.1)
    raise SpinError("service %s did not stop within 60s, so its data could not be copied; run again" % name)
