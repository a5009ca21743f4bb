# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcilers: read what exists, compare with what is wanted, act, wait.

``ServiceReconciler`` works on one service at a time but keeps the steps apart, so that a stack
can plan and apply all its services and then wait for all of them once::

    plans = [rec.plan(p) for p in params_list]
    for plan in plans:
        rec.apply(plan)
    rec.wait(plans)

Waiting follows Docker's tasks: a service is ready when the requested number of tasks made from
its current spec run (a task with a healthcheck only reaches ``running`` once healthy), no task of
an older spec is still meant to run, and no rolling update is in progress. A slot whose tasks keep
failing ends the wait early with Docker's own task error.
"""
from __future__ import annotations

import copy
import time
from collections import defaultdict

from .diff import Difference, differences_as_list
from .errors import SpinError
from .service_spec import (build_service_spec, compare_service_spec, describe_service_spec, references,
                           task_is_current)
from .swarm import UpdateOutOfSequence

FAILED_STATES = ("failed", "rejected")
DEFAULT_WAIT_TIMEOUT = 180
OUTPUT_LINES = 5          # last lines of a failed container quoted in the error


class WaitError(SpinError):
    """Services that failed or were not ready in time: ``failures = {service name: message}``."""

    def __init__(self, message, failures):
        super(WaitError, self).__init__(message)
        self.failures = failures


class ServicePlan(object):
    """What one service needs: ``action`` is create, update, remove or none."""

    def __init__(self, name, action, params, desired=None, actual=None, refs=None, differences=None):
        self.name = name
        self.action = action
        self.params = params
        self.desired = desired
        self.actual = actual
        self.refs = refs or {}
        self.differences = differences or []
        self.service_id = actual["ID"] if actual else None
        self.after = actual          # the service once applied (inspect output), or None
        self.warnings = []
        self.applied = False

    @property
    def changed(self):
        return self.action != "none"

    @property
    def wait(self):
        return self.params.get("wait", True) is not False

    @property
    def wait_timeout(self):
        timeout = self.params.get("wait_timeout")
        return DEFAULT_WAIT_TIMEOUT if timeout is None else timeout

    def diff(self):
        before = describe_service_spec(self.actual["Spec"], self.refs) if self.actual else {}
        after = describe_service_spec(self.desired, self.refs) if self.desired is not None else {}
        return {"before": before, "after": after}

    def result(self):
        return {"changed": self.changed, "service": self.after, "differences": differences_as_list(self.differences),
                "diff": self.diff()}


def _task_name(service_name, task):
    return "%s.%s" % (service_name, task.get("Slot") or task.get("NodeID", "?"))


def _task_error(service_name, task):
    status = task.get("Status") or {}
    text = status.get("Err") or status.get("Message") or "no error given"
    return "task %s (%s) %s: %s" % (_task_name(service_name, task), task.get("ID", "?")[:12], status.get("State"), text)


def _newest(tasks):
    return max(tasks, key=lambda t: ((t.get("Status") or {}).get("Timestamp") or "", t.get("ID", "")))


class ServiceReconciler(object):

    def __init__(self, client, check_mode=False, poll_interval=0.1, failure_limit=3,
                 clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.check_mode = check_mode
        self.poll_interval = poll_interval
        self.failure_limit = failure_limit
        self.clock = clock
        self.sleep = sleep

    # ---- plan --------------------------------------------------------------------------------

    def plan(self, params, known_refs=None):
        """Compare the wanted service with the one Docker has. ``known_refs`` gives IDs for objects
        not in Docker yet (a stack in check mode) in the shape ``build_service_spec`` takes."""
        name = params["name"]
        if params.get("state", "present") == "absent":
            actual = self.client.find_service(name)
            if actual is None:
                return ServicePlan(name, "none", params)
            return ServicePlan(name, "remove", params, actual=actual,
                               differences=[Difference("state", "present", "absent")])
        needed = references(params)
        refs = self.client.resolve_references(needed, known_refs)
        missing = self._missing_in_check_mode(needed, refs)
        desired = build_service_spec(params, refs, self.client.api_version)
        actual = self.client.find_service(name)
        if actual is None:
            plan = ServicePlan(name, "create", params, desired=desired, refs=refs,
                               differences=[Difference("state", "absent", "present")])
        else:
            differences = compare_service_spec(desired, actual["Spec"], refs)
            plan = ServicePlan(name, "update" if differences else "none", params, desired=desired, actual=actual,
                               refs=refs, differences=differences)
        plan.warnings.extend(missing)
        return plan

    def _missing_in_check_mode(self, needed, refs):
        """In check mode a network, secret or config that an earlier task of the same run would create
        does not exist yet: plan as if it did, and say so. Outside check mode a missing one is an
        error (build_service_spec names it)."""
        if not self.check_mode:
            return []
        notes = []
        for kind, names in needed.items():
            for name in names:
                if name not in refs.setdefault(kind, {}):
                    refs[kind][name] = "(%s not created yet)" % name
                    notes.append("%s '%s' does not exist yet; check mode assumes an earlier task creates it"
                                 % (kind[:-1], name))
        return notes

    # ---- apply -------------------------------------------------------------------------------

    def apply(self, plan):
        """Create, update or remove (nothing in check mode). Does not wait."""
        if self.check_mode or plan.action == "none":
            return plan
        if plan.action == "create":
            plan.service_id = self.client.create_service(plan.desired)
        elif plan.action == "update":
            try:
                plan.warnings = self._update(plan, plan.actual)
            except UpdateOutOfSequence:
                # changed under us between read and write: compare again with the fresh spec, once
                fresh = self.client.inspect_service(plan.service_id)
                if fresh is None:
                    raise SpinError("service '%s' was removed while it was being updated; run again" % plan.name)
                plan.actual = fresh
                plan.differences = compare_service_spec(plan.desired, fresh["Spec"], plan.refs)
                if not plan.differences:
                    plan.action = "none"
                    return plan
                plan.warnings = self._update(plan, fresh)
        elif plan.action == "remove":
            self.client.remove_service(plan.service_id)
        plan.applied = True
        plan.after = None if plan.action == "remove" else self.client.inspect_service(plan.service_id)
        return plan

    def _update(self, plan, actual):
        spec = copy.deepcopy(plan.desired)
        # keep Docker's force-update counter: lowering it would be a change of its own
        force = (actual["Spec"].get("TaskTemplate") or {}).get("ForceUpdate")
        if force:
            spec["TaskTemplate"]["ForceUpdate"] = force
        return self.client.update_service(actual["ID"], actual["Version"]["Index"], spec)

    # ---- wait --------------------------------------------------------------------------------

    def wait(self, plans, timeout=None):
        """Wait until every plan's service is ready (or its tasks are gone, for removals).
        Raises one SpinError naming every service that failed or did not get ready in time."""
        pending = [p for p in plans if p.wait and not self.check_mode and p.service_id
                   and (p.applied or p.action == "none")]
        if not pending:
            return
        if timeout is None:
            timeout = max(p.wait_timeout for p in pending)
        deadline = self.clock() + timeout
        failures, progress = {}, {}
        while True:
            for plan in list(pending):
                done, fatal, state = self._check(plan)
                progress[plan.name] = state
                if done:
                    pending.remove(plan)
                elif fatal:
                    failures[plan.name] = fatal
                    pending.remove(plan)
            if not pending or self.clock() >= deadline:
                break
            self.sleep(self.poll_interval)
        for plan in pending:
            failures[plan.name] = "service '%s' was not ready within %ss: %s" % (plan.name, timeout, progress[plan.name])
        for plan in plans:
            if plan.name not in failures and plan.action != "remove" and plan.service_id and plan.applied:
                plan.after = self.client.inspect_service(plan.service_id) or plan.after
        if failures:
            raise WaitError("; ".join(failures[name] for name in sorted(failures)), failures)

    def _check(self, plan):
        """-> (done, fatal message or None, progress text)."""
        if plan.action == "remove":
            # a job's completed tasks stay listed after the service is gone, but hold nothing
            left = [t for t in self.client.leftover_tasks(plan.name, plan.service_id)
                    if (t.get("Status") or {}).get("State") != "complete"]
            return not left, None, "%d task(s) still shutting down" % len(left)
        service = self.client.inspect_service(plan.service_id)
        if service is None:
            return False, "service '%s' was removed by someone else while waiting for it" % plan.name, "removed"
        spec = service["Spec"]
        update = service.get("UpdateStatus") or {}
        update_state = update.get("State")
        if plan.desired is not None:
            drift = compare_service_spec(plan.desired, spec, plan.refs)
            if drift:
                if (update_state or "").startswith("rollback"):
                    why = "Docker rolled back the update of service '%s': %s" % (plan.name, update.get("Message"))
                else:
                    why = "service '%s' was changed by someone else while waiting (%s)" % (
                        plan.name, ", ".join(d.path for d in drift))
                return False, self._with_task_error(why, plan.name, spec, self.client.service_tasks(service["ID"])), why
        tasks = self.client.service_tasks(service["ID"])
        template = spec.get("TaskTemplate") or {}
        current = [t for t in tasks if task_is_current(t.get("Spec"), template)]
        live = [t for t in tasks if t.get("DesiredState") == "running"]
        running = [t for t in current if t.get("DesiredState") == "running"
                   and (t.get("Status") or {}).get("State") == "running"]
        starting = [t for t in current if t.get("DesiredState") == "running" and t not in running]
        stale = [t for t in live if t not in current]
        mode = spec.get("Mode") or {}
        if "ReplicatedJob" in mode or "GlobalJob" in mode:
            return self._check_job(plan.name, spec, current, update)
        if "Replicated" in mode:
            wanted = (mode["Replicated"] or {}).get("Replicas", 1)
            enough = len(running) >= wanted
        else:
            wanted = len(live)
            enough = bool(live) and len(running) == len(live)
        updating = update_state in ("updating", "rollback_started")
        state = "%d of %d task(s) running" % (len(running), wanted)
        if starting:
            hc = (template.get("ContainerSpec") or {}).get("Healthcheck") or {}
            waiting_hc = hc.get("Test") and hc["Test"][0] != "NONE"
            state += ", %d starting%s" % (len(starting), " (healthcheck not passed yet)" if waiting_hc else "")
        if stale:
            state += ", %d of the old spec still running" % len(stale)
        if updating:
            state += ", rolling update %s" % update_state
        if enough and not stale and not updating:
            return True, None, state
        fatal = self._failing(plan.name, spec, current, update)
        failed = [t for t in current if (t.get("Status") or {}).get("State") in FAILED_STATES]
        if failed:
            state += "; last task error: " + _task_error(plan.name, _newest(failed))
        return False, fatal, state

    def _check_job(self, name, spec, current, update):
        """A job is done when its tasks of the current spec completed; a failed one ends the wait."""
        complete = [t for t in current if (t.get("Status") or {}).get("State") == "complete"]
        job = (spec.get("Mode") or {}).get("ReplicatedJob")
        if job is not None:
            wanted = job.get("TotalCompletions") or 1
            done = len(complete) >= wanted
        else:
            wanted = len(current)
            done = bool(current) and len(complete) == len(current)
        state = "%d of %d task(s) completed" % (len(complete), wanted)
        if done:
            return True, None, state
        return False, self._failing(name, spec, current, update), state

    def _failure_limit(self, spec):
        policy = (spec.get("TaskTemplate") or {}).get("RestartPolicy") or {}
        if policy.get("Condition") == "none":
            return 1
        if policy.get("MaxAttempts"):
            return min(self.failure_limit, policy["MaxAttempts"] + 1)
        return self.failure_limit

    def _failing(self, name, spec, current, update):
        """A fatal message when a slot failed often enough that waiting longer will not help."""
        by_slot = defaultdict(list)
        for task in current:
            if (task.get("Status") or {}).get("State") in FAILED_STATES:
                by_slot[task.get("Slot") or task.get("NodeID")].append(task)
        limit = self._failure_limit(spec)
        worst = [tasks for tasks in by_slot.values() if len(tasks) >= limit]
        if worst:
            tasks = max(worst, key=len)
            newest = _newest(tasks)
            return "service '%s' does not start: %s (%d failed attempts)%s" % (
                name, _task_error(name, newest), len(tasks), self._last_output(newest))
        if update.get("State") == "paused" and by_slot:
            newest = _newest([t for ts in by_slot.values() for t in ts])
            return "Docker paused the update of service '%s': %s; %s%s" % (
                name, update.get("Message"), _task_error(name, newest), self._last_output(newest))
        return None

    def _last_output(self, task):
        """The last lines the task's container wrote (an entrypoint says there why it exits), or ''."""
        if not task.get("ID") or not (task.get("Status") or {}).get("ContainerStatus"):
            return ""  # never started (no such image, no node): no output
        tty = bool(((task.get("Spec") or {}).get("ContainerSpec") or {}).get("TTY"))
        try:
            text = self.client.task_logs(task["ID"], tail=OUTPUT_LINES, tty=tty)
        except SpinError:
            return ""
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
        if not lines:
            return ""
        return "; the container's last output:\n" + "\n".join("    " + line for line in lines[-OUTPUT_LINES:])

    def _with_task_error(self, why, name, spec, tasks):
        failed = [t for t in tasks if (t.get("Status") or {}).get("State") in FAILED_STATES]
        return why + ("; last task error: " + _task_error(name, _newest(failed)) if failed else "")

    # ---- one service -------------------------------------------------------------------------

    def run(self, params):
        """plan + apply + wait for one service; returns the module result."""
        plan = self.plan(params)
        self.apply(plan)
        if plan.wait:
            try:
                self.wait([plan])
            except WaitError as exc:
                # report what was done as well: the service was created or updated all the same
                raise SpinError(exc.message, **plan.result())
        result = plan.result()
        if plan.warnings:
            result["warnings"] = list(plan.warnings)
        return result
