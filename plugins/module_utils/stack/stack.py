# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile a whole stack: its networks, volumes, secrets and configs, its services in start
order, and what the stack no longer declares.

The stack is planned completely before anything changes, so that a conflict (a network that
would have to change in place, say) stops the run with nothing done. Apply keeps a journal;
when a step fails, or a service does not get ready, what this run created is removed and what
it updated is put back to its previous spec, and the error says so.

Objects belong to a stack by their labels (``spin.stack``), never by their names.
"""
from __future__ import annotations

import threading
import time

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.local_data import is_image_volume
from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import (
    ServicePlan, ServiceReconciler, WaitError)
from ansible_collections.spin.platform.plugins.module_utils.common.stack_defaults import GENERATED_LABEL
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import check_network, create_resource

NEW_ID = "(created by this run)"


def _stack_filter(stack):
    return {"spin.stack": stack}


class ResourceAction(object):
    """A network, volume, secret or config: ``action`` is create, remove or none."""

    def __init__(self, kind, name, action, item=None, actual_id=None, note=None):
        self.kind = kind
        self.name = name
        self.action = action
        self.item = item or {}
        self.actual_id = actual_id
        self.note = note

    def summary(self):
        out = {"kind": self.kind, "name": self.name, "action": self.action}
        if self.note:
            out["note"] = self.note
        return out


class StackPlan(object):

    def __init__(self, tenant, stack, state):
        self.tenant = tenant
        self.stack = stack
        self.state = state
        self.resources = []        # created before the services
        self.services = []         # ServicePlans in start order (create / update / none)
        self.removals = []         # ServicePlans (remove) of services the stack no longer has
        self.stale = []            # resources removed after the services (remove)
        self.wait_for = {}         # service -> services that must be ready before it is applied
        self.warnings = []

    @property
    def changed(self):
        return any(r.action != "none" for r in self.resources + self.stale) or \
            any(p.changed for p in self.services + self.removals)

    def actions(self):
        """What changes (or would), object by object; unchanged objects are left out (summary() counts
        the unchanged services)."""
        out = [r.summary() for r in self.resources if r.action != "none"]
        for plan in self.services + self.removals:
            if plan.action == "none":
                continue
            entry = {"kind": "service", "name": plan.name, "action": plan.action}
            if plan.action == "update":
                entry["differences"] = plan.differences_list()
            out.append(entry)
        out.extend(r.summary() for r in self.stale)
        return out

    def summary(self):
        counts = {"create": [], "update": [], "remove": [], "none": []}
        for plan in self.services + self.removals:
            counts[plan.action].append(plan.name)
        return {"services_created": counts["create"], "services_updated": counts["update"],
                "services_removed": counts["remove"], "services_unchanged": counts["none"]}

    def diff(self):
        before, after = {}, {}
        for plan in self.services + self.removals:
            one = plan.diff()
            if one["before"]:
                before["service " + plan.name] = one["before"]
            if one["after"]:
                after["service " + plan.name] = one["after"]
        for res in self.resources + self.stale:
            key = "%s %s" % (res.kind, res.name)
            if res.action in ("none", "remove"):
                before[key] = "exists"
            if res.action in ("none", "create"):
                after[key] = "exists"
        return {"before": before, "after": after}


class _Alongside(object):
    """A callable run in a thread of its own; ``result()`` waits for it and raises what it raised
    (anything but a SpinError becomes one); ``settle()`` only waits."""

    def __init__(self, work):
        self.error = None
        self.thread = None
        if work is not None:
            self.thread = threading.Thread(target=self._run, args=(work,), name="spin-alongside", daemon=True)
            self.thread.start()

    def _run(self, work):
        try:
            work()
        except SpinError as exc:
            self.error = exc
        except Exception as exc:  # pylint: disable=broad-except  # reported by result(), in the main thread
            self.error = SpinError("%s: %s" % (type(exc).__name__, exc))

    def settle(self):
        if self.thread is not None:
            self.thread.join()

    def result(self):
        self.settle()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


class StackReconciler(object):

    def __init__(self, client, check_mode=False, services=None, release_timeout=30, clock=time.monotonic,
                 sleep=time.sleep):
        self.client = client
        self.check_mode = check_mode
        self.services = services or ServiceReconciler(client, check_mode=check_mode)
        self.release_timeout = release_timeout
        self.clock = clock
        self.sleep = sleep

    # ---- plan --------------------------------------------------------------------------------

    def plan_present(self, tenant, stack, tasks):
        """``tasks``: translate.stack_to_tasks output (plus any networks the LB added)."""
        plan = StackPlan(tenant, stack, "present")
        plan.wait_for = dict(tasks.get("wait_for") or {})
        known = {"networks": {}, "secrets": {}, "configs": {}}
        for net in tasks.get("networks") or []:
            action = self._plan_network(net)
            plan.resources.append(action)
            known["networks"][net["name"]] = action.actual_id or NEW_ID
        for vol in tasks.get("volumes") or []:
            found = self.client.find_volume(vol["name"])
            plan.resources.append(ResourceAction("volume", vol["name"], "none" if found else "create", vol))
        for kind, finder in (("secrets", self.client.find_secret), ("configs", self.client.find_config)):
            for item in tasks.get(kind) or []:
                found = finder(item["name"])
                plan.resources.append(ResourceAction(kind[:-1], item["name"], "none" if found else "create", item,
                                                     actual_id=found["ID"] if found else None))
                known[kind][item["name"]] = found["ID"] if found else NEW_ID
        wanted = set()
        for params in tasks.get("services") or []:
            wanted.add(params["name"])
            plan.services.append(self.services.plan(params, known_refs=known))
        for service in self.client.services(labels=_stack_filter(stack)) or []:
            name = service["Spec"]["Name"]
            if name not in wanted:
                plan.removals.append(self.services.plan({"name": name, "state": "absent"}))
        self._plan_stale(plan, tasks)
        return plan

    def plan_absent(self, tenant, stack, remove_volumes=False):
        plan = StackPlan(tenant, stack, "absent")
        for service in self.client.services(labels=_stack_filter(stack)) or []:
            plan.removals.append(self.services.plan({"name": service["Spec"]["Name"], "state": "absent"}))
        self._plan_stale(plan, {}, remove_volumes=remove_volumes)
        if not remove_volumes:
            kept = [v["Name"] for v in self.client.volumes(labels=_stack_filter(stack)) or []]
            if kept:
                plan.warnings.append("kept the stack's volumes %s (their data stays); remove them with "
                                     "remove_volumes: true" % ", ".join(sorted(kept)))
        return plan

    def _plan_network(self, net):
        found = self.client.find_network(net["name"])
        if found is None:
            return ResourceAction("network", net["name"], "create", net)
        check_network(net, self.client.inspect_network(found["Id"]) or found)
        return ResourceAction("network", net["name"], "none", net, actual_id=found["Id"])

    def _plan_stale(self, plan, tasks, remove_volumes=False):
        """Secrets, configs and networks of the stack that the tasks no longer name."""
        wanted = {kind: {item["name"] for item in tasks.get(kind) or []}
                  for kind in ("networks", "secrets", "configs", "volumes")}
        label = _stack_filter(plan.stack)
        for secret in self.client.secrets(labels=label) or []:
            name = secret["Spec"]["Name"]
            if name in wanted["secrets"]:
                continue
            if not remove_volumes and GENERATED_LABEL in (secret["Spec"].get("Labels") or {}):
                # a generated root password belongs to the data: it stays while the volumes do, so that a
                # later deploy over the kept data finds the password that data was made with
                plan.warnings.append("kept the generated secret '%s' with the stack's volumes (the kept data "
                                     "was made with it); remove_volumes: true removes both" % name)
                continue
            plan.stale.append(ResourceAction("secret", name, "remove", actual_id=secret["ID"]))
        for config in self.client.configs(labels=label) or []:
            if config["Spec"]["Name"] not in wanted["configs"]:
                plan.stale.append(ResourceAction("config", config["Spec"]["Name"], "remove", actual_id=config["ID"]))
        for net in self.client.networks(labels=label) or []:
            if net["Name"] not in wanted["networks"]:
                plan.stale.append(ResourceAction("network", net["Name"], "remove", actual_id=net["Id"]))
        services = {(s.get("labels") or {}).get("spin.service") for s in tasks.get("services") or []}
        for vol in self.client.volumes(labels=label) or []:
            if vol["Name"] in wanted["volumes"] or (plan.state == "present" and is_image_volume(vol, services)):
                # a service's own volumes (per replica, made by Swarm) stay while the service does
                continue
            if remove_volumes:
                plan.stale.append(ResourceAction("volume", vol["Name"], "remove", actual_id=vol["Name"]))
            elif plan.state == "present":
                plan.warnings.append("volume '%s' is no longer declared; it is kept with its data (remove the "
                                     "stack with remove_volumes: true to delete it)" % vol["Name"])

    # ---- apply -------------------------------------------------------------------------------

    def apply(self, plan, wait=True, alongside=None):
        """Carry the plan out (nothing in check mode). On failure, undo this run's changes.

        ``alongside`` (optional) runs in a thread of its own from the start, while the resources
        and services are created and their tasks start (spin_stack: the edge brought up to date,
        whose network join takes about a second); apply awaits it after the services are ready,
        and when it raised, the run is undone as for any other failure. In check mode it runs
        first, in this thread."""
        if self.check_mode:
            if alongside is not None:
                alongside()
            return plan
        journal = []
        side = _Alongside(alongside)
        try:
            for res in plan.resources:
                if res.action == "create":
                    res.actual_id = self._create(res)
                    journal.append(("resource", res, None))
            for index, svc in enumerate(plan.services):
                self._wait_for_dependencies(plan, svc)
                if svc.action != "none" and any(r.action == "create" for r in plan.resources):
                    # planned against IDs that did not exist yet: plan again with the real ones
                    svc = plan.services[index] = self.services.plan(svc.params)
                previous = svc.actual
                self.services.apply(svc)
                if svc.applied:
                    journal.append(("service", svc, previous))
            if wait:
                self.services.wait(plan.services)
            side.result()
            for svc in plan.removals:
                self.services.apply(svc)
            if plan.removals:
                self.services.wait(plan.removals)
        except SpinError as exc:
            side.settle()  # nothing runs beside the undo
            undone = self._undo(journal)
            raise SpinError("%s%s" % (exc.message, undone), failures=getattr(exc, "failures", None),
                            actions=plan.actions())
        for res in plan.stale:
            try:
                self._remove_when_released(res, plan.removals)
            except SpinError as exc:
                # e.g. a secret an old task still holds while an update rolls on: next run removes it
                plan.warnings.append("could not remove %s '%s' yet: %s" % (res.kind, res.name, exc.message))
                res.note = "left for a later run"
        return plan

    def _wait_for_dependencies(self, plan, svc):
        """compose depends_on conditions: a service is created or updated only once the services it
        waits for are ready (healthy, or a one-off job completed)."""
        names = plan.wait_for.get(svc.name) or ()
        if svc.action != "none" and names:
            self.services.wait([p for p in plan.services if p.name in names])

    def _remove_when_released(self, res, removed_services):
        """Remove; when Docker says the object is still in use and services were just removed, their
        task containers are still going away (a volume or network outlives the task by a moment):
        ask again until they are gone, within ``release_timeout``."""
        deadline = self.clock() + (self.release_timeout if removed_services else 0)
        while True:
            try:
                return self._remove(res)
            except SpinError as exc:
                text = exc.message.lower()
                if self.clock() >= deadline or not ("in use" in text or "active endpoints" in text):
                    raise
            self.sleep(0.5)

    def _create(self, res):
        return create_resource(self.client, res.kind, res.item)

    def _remove(self, res):
        remove = {"network": self.client.remove_network, "volume": self.client.remove_volume,
                  "secret": self.client.remove_secret, "config": self.client.remove_config}[res.kind]
        remove(res.actual_id)

    def _undo(self, journal):
        """Best effort, newest first: services before the resources they use. Returns the sentence
        that tells the tenant what was undone."""
        done, failed, removed = [], [], []
        for kind, item, previous in reversed([e for e in journal if e[0] == "service"]):
            try:
                what = self.services.undo(item, previous)
                if item.action == "create":
                    gone = ServicePlan(item.name, "remove", {"name": item.name, "state": "absent"},
                                       actual={"ID": item.service_id})
                    gone.applied = True
                    removed.append(gone)
                if what:
                    done.append(what)
            except SpinError as exc:
                failed.append(exc.message)
        if removed:
            try:
                # a network can go only once the tasks on it are gone
                self.services.wait(removed, timeout=60)
            except WaitError as exc:
                failed.append(exc.message)
        services_undone = list(done)
        for kind, res, _unused in reversed([e for e in journal if e[0] == "resource"]):
            try:
                # a restored service's tasks of the failed spec hold a new network until they stop
                self._remove_when_released(res, services_undone)
                done.append("removed %s %s" % (res.kind, res.name))
            except SpinError as exc:
                failed.append(exc.message)
        text = ""
        if done:
            text += "; undone: " + ", ".join(done)
        if failed:
            text += "; could not undo: " + "; ".join(failed)
        return text


def stack_services_state(client, stack):
    """{service name: {id, version, image, replicas}} of the stack's services, for the result."""
    out = {}
    for service in client.services(labels=_stack_filter(stack)) or []:
        spec = service["Spec"]
        mode = spec.get("Mode") or {}
        out[spec["Name"]] = {
            "id": service["ID"], "version": service["Version"]["Index"],
            "image": ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image"),
            "replicas": (mode.get("Replicated") or {}).get("Replicas") if "Replicated" in mode else "global",
        }
    return out
