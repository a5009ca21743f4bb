"""A fake SwarmClient for unit tests (no Docker): one engine with services, networks, volumes,
secrets and configs, kept in the shapes Docker answers with.

- Every change is recorded in ``calls`` (reads are not), so a test can assert what was done, in
  what order, or that check mode did nothing.
- Task states come from a script: ``tasks_for(service, poll)`` -> the service's tasks at the
  ``poll``-th ``service_tasks()`` call; ``leftover[name]`` -> the tasks a removed service still has,
  one list per ``leftover_tasks()`` call (the last one repeats).
- Like Docker, it refuses to remove an object that is still in use: by a service's spec, or (a
  network or volume) by the tasks of a removed service that are still shutting down.
- ``faults[method]`` is a list of exceptions (or None for "succeed") that the next calls of that
  changing method raise, after recording the call.

Imported as ``ansible_collections.spin.platform.tests.unit.fake_swarm`` (tests/conftest.py
puts the collection on sys.path; ansible-test units has it there already).
"""
import base64
import copy
import itertools

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient, UpdateOutOfSequence

VXLAN = {"com.docker.network.driver.overlay.vxlanid_list": "4097"}
HOST = "unix:///var/run/docker.sock"


def _matches(labels, wanted):
    labels = labels or {}
    return all(k in labels and (v is None or labels[k] == v) for k, v in (wanted or {}).items())


class Clock(object):
    """``clock`` and ``sleep`` for the reconcilers: sleeping moves the time on, without waiting."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def task(svc, slot, state, desired="running", err=None, ts="2026-01-01T00:00:00Z", template=None, tid=None):
    spec = copy.deepcopy(template if template is not None else svc["Spec"]["TaskTemplate"])
    spec.pop("Runtime", None)
    status = {"State": state, "Timestamp": ts, "Message": state}
    if err:
        status["Err"] = err
    return {"ID": tid or "task%s%s%s" % (slot, state, ts[-3:]), "Slot": slot, "Spec": spec, "Status": status,
            "DesiredState": desired}


def replicas(svc):
    return svc["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 1)


def running_after(polls, state_before="starting"):
    """Every slot's task is `state_before` for `polls` polls, then running."""
    def tasks_for(svc, poll):
        state = "running" if poll >= polls else state_before
        return [task(svc, slot, state) for slot in range(1, replicas(svc) + 1)]
    return tasks_for


def _uses(spec, kind, ref):
    template = spec.get("TaskTemplate") or {}
    container = template.get("ContainerSpec") or {}
    if kind == "network":
        return any(n.get("Target") == ref for n in template.get("Networks") or [])
    if kind == "volume":
        return any(m.get("Type") == "volume" and m.get("Source") == ref for m in container.get("Mounts") or [])
    key = {"secret": ("Secrets", "SecretID"), "config": ("Configs", "ConfigID")}[kind]
    return any(item.get(key[1]) == ref for item in container.get(key[0]) or [])


class FakeSwarm(object):
    api_version = "1.41"

    # names -> IDs exactly as the real client does it, through the find_* methods below
    resolve_references = SwarmClient.resolve_references

    def __init__(self):
        self.nets, self.vols, self.secs, self.cfgs = {}, {}, {}, {}
        self.svcs = {}               # service ID -> inspect output
        self.calls = []
        self.faults = {}
        self.tasks_for = running_after(0)
        self.polls = {}              # service ID -> service_tasks() calls so far
        self.leftover = {}           # removed service name -> script of its leftover tasks
        self.gone = {}               # removed service name -> its last spec (what its leftover tasks hold)
        self.conflicts = 0           # next update_service calls that someone else's update beats
        self.names = {}              # object ID -> name, for steps()
        self.logs = {}               # task ID -> what its container wrote
        self.node_id = "node1"       # this engine's swarm node
        self.node_list = [{"ID": "node1", "Spec": {"Role": "manager", "Availability": "active", "Labels": {}},
                           "Description": {"Hostname": "m1"}, "Status": {"State": "ready"}}]
        self.images = {}             # name or ID -> inspect output
        self.ctrs = {}               # container ID -> inspect output (containers of this engine)
        self.ran = []                # run_once calls: (image, argv, binds)
        self._ids = itertools.count(1)
        self._service_ids = itertools.count(1)

    def _id(self, kind):
        return "%s%d" % (kind, next(self._ids))

    def steps(self):
        """``calls`` as (method, object name): IDs are hard to read in a test."""
        return [(call[0], self.names.get(call[1], call[1])) for call in self.calls]

    def _record(self, *call):
        self.calls.append(call)
        queue = self.faults.get(call[0])
        if queue:
            fault = queue.pop(0)
            if fault is not None:
                raise fault

    def _users(self, kind, ref):
        """Services whose spec uses the object, and removed ones whose tasks (holding a network or
        volume) are still shutting down."""
        users = [s["Spec"]["Name"] for s in self.svcs.values() if _uses(s["Spec"], kind, ref)]
        if kind in ("network", "volume"):
            users += [name for name, spec in self.gone.items()
                      if (self.leftover.get(name) or [[]])[0] and _uses(spec, kind, ref)]
        return users

    # ---- services: Docker adds its own fields to a stored spec ----------------------------

    def find_service(self, name):
        for svc in self.svcs.values():
            if svc["Spec"]["Name"] == name:
                return copy.deepcopy(svc)
        return None

    def inspect_service(self, service_id):
        svc = self.svcs.get(service_id)
        return copy.deepcopy(svc) if svc else None

    def services(self, labels=None):
        return [copy.deepcopy(s) for s in self.svcs.values() if _matches(s["Spec"].get("Labels"), labels)]

    def _store(self, spec):
        spec = copy.deepcopy(spec)
        spec["TaskTemplate"].setdefault("ForceUpdate", 0)
        spec["TaskTemplate"]["Runtime"] = "container"
        spec["TaskTemplate"]["ContainerSpec"]["Isolation"] = "default"
        return spec

    def create_service(self, spec):
        self._record("create_service", spec["Name"])
        sid = "sid%d" % next(self._service_ids)
        self.svcs[sid] = {"ID": sid, "Version": {"Index": 10}, "Spec": self._store(spec)}
        self.names[sid] = spec["Name"]
        return sid

    def update_service(self, service_id, version, spec):
        self._record("update_service", spec["Name"], version, spec["TaskTemplate"].get("ForceUpdate"))
        svc = self.svcs[service_id]
        if self.conflicts:
            self.conflicts -= 1
            svc["Version"]["Index"] += 1
            raise UpdateOutOfSequence("update out of sequence")
        if version != svc["Version"]["Index"]:
            raise UpdateOutOfSequence("rpc error: code = Unknown desc = update out of sequence")
        svc["PreviousSpec"] = svc["Spec"]
        svc["Spec"] = self._store(spec)
        svc["Version"]["Index"] += 1
        svc["UpdateStatus"] = {"State": "completed"}
        return ["a warning"] if spec["Labels"].get("warn") else []

    def remove_service(self, service_id):
        self._record("remove_service", service_id)
        svc = self.svcs.pop(service_id)
        self.gone[svc["Spec"]["Name"]] = svc["Spec"]
        self.leftover.setdefault(svc["Spec"]["Name"], [[]])

    def service_tasks(self, service_id):
        svc = self.svcs.get(service_id)
        if svc is None:
            return []
        poll = self.polls[service_id] = self.polls.get(service_id, -1) + 1
        return self.tasks_for(svc, poll)

    def task_logs(self, task_id, tail=10, tty=False):
        return "".join(line + "\n" for line in self.logs.get(task_id, "").splitlines()[-tail:])

    def leftover_tasks(self, name, service_id):
        script = self.leftover.get(name) or [[]]
        return script.pop(0) if len(script) > 1 else script[0]

    # ---- networks: Docker adds the VXLAN option to an overlay network -----------------------

    def find_network(self, name):
        return copy.deepcopy(self.nets.get(name))

    def inspect_network(self, network_id):
        return copy.deepcopy(next((n for n in self.nets.values() if n["Id"] == network_id), None))

    def networks(self, labels=None):
        return [copy.deepcopy(n) for n in self.nets.values() if _matches(n["Labels"], labels)]

    def create_network(self, name, driver="overlay", options=None, labels=None, attachable=False, internal=False,
                       ipam=None):
        self._record("create_network", name, {"driver": driver, "options": options, "labels": labels,
                                              "attachable": attachable, "internal": internal})
        opts = dict(options or {}, **(VXLAN if driver == "overlay" else {}))
        self.nets[name] = {"Name": name, "Id": self._id("net"), "Driver": driver, "Internal": internal,
                           "Attachable": attachable, "Options": opts, "Labels": dict(labels or {}), "Scope": "swarm"}
        self.names[self.nets[name]["Id"]] = name
        return self.nets[name]["Id"]

    def remove_network(self, network_id):
        self._record("remove_network", network_id)
        users = self._users("network", network_id)
        if users:
            raise SpinError("Docker at %s refused to remove network %s: rpc error: code = FailedPrecondition desc = "
                            "network %s is in use by task of %s" % (HOST, network_id, network_id, users[0]))
        self.nets = {k: v for k, v in self.nets.items() if v["Id"] != network_id}

    # ---- engine, nodes, images, containers ---------------------------------------------------

    def info(self):
        return {"Swarm": {"NodeID": self.node_id, "LocalNodeState": "active"}}

    def nodes(self):
        return copy.deepcopy(self.node_list)

    def inspect_image(self, name):
        """Any image exists, without VOLUMEs, unless ``images`` says otherwise (None: not on this node)."""
        return copy.deepcopy(self.images.get(name, {"Id": "sha256:" + "0" * 64, "Config": {}}))

    def containers(self, labels=None, status=None):
        return [{"Id": cid} for cid, c in self.ctrs.items() if _matches(c["Config"]["Labels"], labels)]

    def inspect_container(self, container_id):
        return copy.deepcopy(self.ctrs.get(container_id))

    def run_once(self, image, argv, files=None, directory="/tmp", labels=None, timeout=60, entrypoint=None,
                 name=None, binds=None, user=None):
        self._record("run_once", image)
        self.ran.append((image, list(entrypoint or []) + list(argv), list(binds or [])))
        return 0, ""

    # ---- volumes: Docker answers Options/Labels null when none were given -------------------

    def find_volume(self, name):
        return copy.deepcopy(self.vols.get(name))

    def volumes(self, labels=None):
        return [copy.deepcopy(v) for v in self.vols.values() if _matches(v["Labels"], labels)]

    def create_volume(self, name, driver="local", driver_opts=None, labels=None):
        self._record("create_volume", name, {"driver": driver, "driver_opts": driver_opts, "labels": labels})
        self.vols[name] = {"Name": name, "Driver": driver, "Options": driver_opts or None, "Labels": labels or None,
                           "Scope": "local", "Mountpoint": "/var/lib/docker/volumes/%s/_data" % name}
        return self.vols[name]

    def remove_volume(self, name):
        self._record("remove_volume", name)
        users = self._users("volume", name)
        if users:
            raise SpinError("Docker at %s refused to remove volume '%s': remove %s: volume is in use - [%s]"
                            % (HOST, name, name, users[0]))
        self.vols.pop(name)

    # ---- secrets (Docker never returns their data) and configs (it does) --------------------

    def find_secret(self, name):
        return copy.deepcopy(self.secs.get(name))

    def secrets(self, labels=None):
        return [copy.deepcopy(s) for s in self.secs.values() if _matches(s["Spec"]["Labels"], labels)]

    def create_secret(self, name, data, labels=None):
        assert isinstance(data, bytes)
        self._record("create_secret", name, {"data": data, "labels": labels})
        self.secs[name] = {"ID": self._id("sec"), "Version": {"Index": 1}, "Spec": {"Name": name,
                                                                                    "Labels": dict(labels or {})}}
        self.stored_secret = data
        self.names[self.secs[name]["ID"]] = name
        return self.secs[name]["ID"]

    def remove_secret(self, secret_id):
        self._record("remove_secret", secret_id)
        self._refuse_in_use("secret", secret_id)
        self.secs = {k: v for k, v in self.secs.items() if v["ID"] != secret_id}

    def find_config(self, name):
        return copy.deepcopy(self.cfgs.get(name))

    def configs(self, labels=None):
        return [copy.deepcopy(c) for c in self.cfgs.values() if _matches(c["Spec"]["Labels"], labels)]

    def create_config(self, name, data, labels=None):
        assert isinstance(data, bytes)
        self._record("create_config", name, {"data": data, "labels": labels})
        self.cfgs[name] = {"ID": self._id("cfg"), "Version": {"Index": 1},
                           "Spec": {"Name": name, "Labels": dict(labels or {}),
                                    "Data": base64.b64encode(data).decode("ascii")}}
        self.names[self.cfgs[name]["ID"]] = name
        return self.cfgs[name]["ID"]

    def remove_config(self, config_id):
        self._record("remove_config", config_id)
        self._refuse_in_use("config", config_id)
        self.cfgs = {k: v for k, v in self.cfgs.items() if v["ID"] != config_id}

    def _refuse_in_use(self, kind, object_id):
        users = self._users(kind, object_id)
        if users:
            raise SpinError("Docker at %s refused to remove %s %s: rpc error: code = InvalidArgument desc = %s '%s' "
                            "is in use by the following service: %s" % (HOST, kind, object_id, kind, object_id,
                                                                        users[0]))
