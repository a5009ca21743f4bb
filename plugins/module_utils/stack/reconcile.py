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
its current spec have stayed running for the monitor window (a task with a healthcheck only
reaches ``running`` once healthy, so there the window starts when it is healthy), no task of an
older spec is still meant to run, and no rolling update is in progress. A task counts as running
since the earlier of the moment this wait first saw it running and the time Docker gives (so
unchanged services are not held up). A slot whose tasks keep failing or exiting ends the wait
early with Docker's own task error and the container's last output.
"""
from __future__ import annotations

import copy
import datetime
import re
import time
from collections import defaultdict

from ansible_collections.spin.platform.plugins.module_utils.stack import local_data
from ansible_collections.spin.platform.plugins.module_utils.common.diff import Difference, differences_as_list
from ansible_collections.spin.platform.plugins.module_utils.stack.cron import SCHEDULE_LABEL
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.sensitive import REDACTED, is_secret_env, redact_env
from ansible_collections.spin.platform.plugins.module_utils.stack.service_compare import (
    compare_service_spec, describe_service_spec, task_is_current)
from ansible_collections.spin.platform.plugins.module_utils.stack.service_spec import (
    build_service_spec, references, with_rolling_default)
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import UpdateOutOfSequence

FAILED_STATES = ("failed", "rejected")
EXITED_STATES = FAILED_STATES + ("complete",)   # "complete": the container exited 0, for a service a crash too
DEFAULT_WAIT_TIMEOUT = 180
OUTPUT_LINES = 5          # last lines of a failed container quoted in the error
DEFAULT_MONITOR_WINDOW = 5.0   # seconds; Docker's own update monitor defaults to 5s as well


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
        self.last_exited = None      # the newest task of the current spec that exited (set by wait)
        self.data = local_data.DataPlan()   # named volumes, placement by data, copies (local_data)

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

    @property
    def monitor_window(self):
        window = self.params.get("monitor_window")
        return DEFAULT_MONITOR_WINDOW if window is None else float(window)

    @property
    def secret_names(self):
        return set((self.params.get("secret_env") or {}).keys())

    def diff(self):
        """Before and after of every managed option; secret environment values redacted."""
        before = describe_service_spec(self.actual["Spec"], self.refs) if self.actual else {}
        after = describe_service_spec(self.desired, self.refs) if self.desired is not None else {}
        return {"before": redact_env(before, self.secret_names), "after": redact_env(after, self.secret_names)}

    def differences_list(self):
        """The differences as dicts; secret environment values redacted (the old value too)."""
        out = differences_as_list(self.differences)
        for entry in out:
            if entry["path"].startswith("env."):
                name = entry["path"][len("env."):]
                if name in self.secret_names or is_secret_env(name, entry["before"]) \
                        or is_secret_env(name, entry["after"]):
                    entry.update((k, REDACTED) for k in ("before", "after") if entry[k] is not None)
        return out

    def result(self):
        service = self.after
        if service is not None and self.secret_names:
            service = _service_with_redacted_env(service, self.secret_names)
        out = {"changed": self.changed, "service": service, "differences": self.differences_list(),
               "diff": self.diff()}
        if self.data.notes:
            out["data"] = list(self.data.notes)
        return out


def _service_with_redacted_env(service, names):
    """Inspect output with the values of secret environment variables hidden."""
    service = copy.deepcopy(service)
    container = ((service.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}
    if container.get("Env"):
        container["Env"] = ["%s=%s" % (k, REDACTED) if k in names else "%s=%s" % (k, v) if sep else k
                            for k, sep, v in (item.partition("=") for item in container["Env"])]
    return service


def _task_name(service_name, task):
    return "%s.%s" % (service_name, task.get("Slot") or task.get("NodeID", "?"))


def _task_error(service_name, task):
    status = task.get("Status") or {}
    text = status.get("Err") or status.get("Message") or "no error given"
    return "task %s (%s) %s: %s" % (_task_name(service_name, task), task.get("ID", "?")[:12], status.get("State"), text)


def _newest(tasks):
    return max(tasks, key=lambda t: ((t.get("Status") or {}).get("Timestamp") or "", t.get("ID", "")))


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_timestamp(text):
    """Docker's RFC 3339 time with nanoseconds -> seconds since the epoch, or None."""
    match = _TIMESTAMP.match(text or "")
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    when = datetime.datetime.fromisoformat(match.group(1) + zone)
    return when.timestamp() + float("0" + (match.group(2) or ".0")[:10])


def _exit_state(task):
    return (task.get("Status") or {}).get("State") in EXITED_STATES


class ServiceReconciler(object):

    def __init__(self, client, check_mode=False, poll_interval=0.1, failure_limit=3,
                 clock=time.monotonic, sleep=time.sleep, wall=time.time):
        self.client = client
        self.check_mode = check_mode
        self.poll_interval = poll_interval
        self.failure_limit = failure_limit
        self.clock = clock
        self.sleep = sleep
        self.wall = wall
        self._first_seen_running = {}   # task ID -> clock() when a wait first saw it running
        self._nodes = None                # local_data.node_context(), read once

    def _node_context(self):
        if self._nodes is None:
            self._nodes = local_data.node_context(self.client)
        return self._nodes

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
        actual = self.client.find_service(name)
        # named volumes for anonymous paths, placement by data: on a copy, so that planning again
        # (a stack after creating its networks) starts from the same parameters
        effective = copy.deepcopy(params)
        data = local_data.plan_service(self.client, effective, actual, self._node_context)
        with_rolling_default(effective)      # after the image's volumes are known: a database's stay stop-first
        desired = build_service_spec(effective, refs, self.client.api_version)
        if actual is None:
            plan = ServicePlan(name, "create", params, desired=desired, refs=refs,
                               differences=[Difference("state", "absent", "present")])
        else:
            differences = compare_service_spec(desired, actual["Spec"], refs)
            plan = ServicePlan(name, "update" if differences else "none", params, desired=desired, actual=actual,
                               refs=refs, differences=differences)
        plan.data = data
        plan.warnings.extend(missing + data.warnings)
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
            if plan.data.migrations:
                # stops the service, copies its anonymous volumes' data; the update below starts it again
                plan.data.notes.extend(local_data.migrate(self.client, plan.data.migrations))
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
            if plan.last_exited:
                failures[plan.name] += self._last_output(plan.last_exited)
        for plan in plans:
            if plan.name not in failures and plan.action != "remove" and plan.service_id and plan.applied:
                plan.after = self.client.inspect_service(plan.service_id) or plan.after
        if failures:
            raise WaitError("; ".join(failures[name] for name in sorted(failures)), failures)

    def _check(self, plan):
        """-> (done, fatal message or None, progress text)."""
        if plan.action == "remove":
            # a job's completed tasks stay listed after the service is gone, but hold nothing; so do a job's
            # failed runs (a scheduled job's history: its container stopped)
            mode = ((plan.actual or {}).get("Spec") or {}).get("Mode") or {}
            ended = ("complete", "failed", "rejected", "shutdown", "orphaned") \
                if "ReplicatedJob" in mode or "GlobalJob" in mode else ("complete",)
            left = [t for t in self.client.leftover_tasks(plan.name, plan.service_id)
                    if (t.get("Status") or {}).get("State") not in ended]
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
        stable = [t for t in running if self._running_for(t) >= plan.monitor_window]
        if "Replicated" in mode:
            wanted = (mode["Replicated"] or {}).get("Replicas", 1)
            enough = len(stable) >= wanted
        else:
            wanted = len(live)
            enough = bool(live) and len(stable) == len(live)
        updating = update_state in ("updating", "rollback_started")
        state = "%d of %d task(s) running" % (len(running), wanted)
        if len(stable) < len(running):
            state += " (%d of them for less than the %gs monitor window)" % (
                len(running) - len(stable), plan.monitor_window)
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
        failed = [t for t in current if _exit_state(t)]
        if failed:
            state += "; last task error: " + _task_error(plan.name, _newest(failed))
        plan.last_exited = _newest(failed) if failed else None
        return False, fatal, state

    def _check_job(self, name, spec, current, update):
        """A job is done when its tasks of the current spec completed; a failed one ends the wait."""
        complete = [t for t in current if (t.get("Status") or {}).get("State") == "complete"]
        job = (spec.get("Mode") or {}).get("ReplicatedJob")
        if SCHEDULE_LABEL in (spec.get("Labels") or {}):
            # a scheduled job is idle until the platform's scheduler starts a run (docs/jobs.md)
            return True, None, "scheduled (runs on its schedule)"
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

    def _running_for(self, task):
        """Seconds the task has been running: since the earlier of the first time a wait saw it running
        and the time Docker says it started (an old task of an unchanged service counts at once)."""
        now = self.clock()
        since = self._first_seen_running.setdefault(task.get("ID"), now)
        started = parse_timestamp((task.get("Status") or {}).get("Timestamp"))
        if started is not None:
            since = min(since, now - max(0.0, self.wall() - started))
        return now - since

    def _failure_limit(self, spec):
        policy = (spec.get("TaskTemplate") or {}).get("RestartPolicy") or {}
        if policy.get("Condition") == "none":
            return 1
        if policy.get("MaxAttempts"):
            return min(self.failure_limit, policy["MaxAttempts"] + 1)
        return self.failure_limit

    def _failing(self, name, spec, current, update):
        """A fatal message when a slot failed (or exited) often enough that waiting longer will not help.
        Under a restart condition other than ``any`` one clean exit is final as well: it is not restarted."""
        mode = spec.get("Mode") or {}
        job = "ReplicatedJob" in mode or "GlobalJob" in mode     # a job's task that completes is done, not crashed
        by_slot = defaultdict(list)
        for task in current:
            if (task.get("Status") or {}).get("State") in (FAILED_STATES if job else EXITED_STATES):
                by_slot[task.get("Slot") or task.get("NodeID")].append(task)
        limit = self._failure_limit(spec)
        condition = ((spec.get("TaskTemplate") or {}).get("RestartPolicy") or {}).get("Condition") or "any"
        worst = [tasks for tasks in by_slot.values() if len(tasks) >= limit
                 or (condition != "any" and any(t["Status"]["State"] == "complete" for t in tasks))]
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
        failed = [t for t in tasks if _exit_state(t)]
        return why + ("; last task error: " + _task_error(name, _newest(failed)) if failed else "")

    # ---- undo --------------------------------------------------------------------------------

    def undo(self, plan, previous):
        """Put one applied plan back: remove the service it created, or give the service it updated
        its ``previous`` inspect output's spec again. -> what was done, as a phrase. Raises SpinError."""
        if plan.action == "create":
            self.client.remove_service(plan.service_id)
            return "removed service %s" % plan.name
        if plan.action == "update" and previous is not None:
            fresh = self.client.inspect_service(plan.service_id)
            if fresh is None:
                raise SpinError("service '%s' is gone; its previous spec cannot be restored" % plan.name)
            self.client.update_service(plan.service_id, fresh["Version"]["Index"], previous["Spec"])
            return "restored the previous spec of service %s" % plan.name
        return None

    # ---- one service -------------------------------------------------------------------------

    def run(self, params):
        """plan + apply + wait for one service; returns the module result. A created or updated
        service that does not get ready is undone (removed, or put back to its previous spec)."""
        plan = self.plan(params)
        previous = plan.actual
        self.apply(plan)
        if plan.wait:
            try:
                self.wait([plan])
            except WaitError as exc:
                message = exc.message
                if plan.applied:
                    try:
                        done = self.undo(plan, previous)
                        message += "; undone: %s" % done if done else ""
                    except SpinError as undo_error:
                        message += "; could not undo: %s" % undo_error.message
                # report what was done as well: the service was created or updated all the same
                raise SpinError(message, **plan.result())
        result = plan.result()
        if plan.warnings:
            result["warnings"] = list(plan.warnings)
        return result
