# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduled jobs (issue 20, docs/jobs.md): the platform's scheduler and the job history status shows.

A tenant's service with ``x-spin.schedule`` is deployed as a Swarm ``replicated-job`` service that
is idle between runs (no completions wanted) and carries its schedule in labels
(``cron.SCHEDULE_LABEL``, ``cron.ZONE_LABEL``). The scheduler (``tick``, run every few seconds by
the role ``jobs``'s service on a manager) starts a run by updating the service to one completion
with ``ForceUpdate`` raised: Swarm starts a new job iteration, with the service's own spec, so a
run is exactly the service the tenant deployed (policy, quota, networks, secrets).

The swarm is the only state. Each decision about a slot is a Swarm config named after the job and
the slot (``spin-job-<service id[:12]>-<slot>-<run|skip>``), created *before* the run starts: a
second scheduler (a manager that comes back after Swarm moved the scheduler away) finds the name
taken and does nothing, so a slot never runs twice. The run's end (start, end, exit code, the last
log lines) is another config, ``...-end``. Configs are in the raft store: they survive the loss
of a manager as the services do. A slot whose previous run is still going is skipped and recorded
(``-skip``). The newest ``KEEP`` slots of each job are kept; the records of a job that is gone
are removed.
"""
from __future__ import annotations

import base64
import json
import re
import time

from ansible_collections.spin.platform.plugins.module_utils.stack import cron
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

KEEP = 20                 # slots of history kept per job
LOG_LINES = 5             # last log lines kept per run
START_GRACE = 120         # seconds a started run may show no task before it counts as lost
RECORD_LABEL = "spin.job.of"
TERMINAL = ("complete", "failed", "shutdown", "rejected", "orphaned", "remove")
_LOG_LINE = re.compile(r"^(\S+) (\S*com\.docker\.swarm\.\S+) ?(.*)$")


def _labels(service):
    return (service.get("Spec") or {}).get("Labels") or {}


def record_name(service_id, slot, kind):
    return "spin-job-%s-%d-%s" % (service_id[:12], slot, kind)


def read_records(client, service_id=None, tenant=None):
    """The scheduler's records (of one job, or of every job) -> ``{service_id: {slot: {kind: record}}}``.
    With ``tenant``: only records that name that tenant (status shows a tenant nothing else)."""
    labels = {RECORD_LABEL: service_id} if service_id else {RECORD_LABEL: None}
    out = {}
    for config in client.configs(labels=labels) or []:
        spec = config.get("Spec") or {}
        own = spec.get("Labels") or {}
        if tenant is not None and own.get("spin.job.tenant") != tenant:
            continue
        try:
            record = json.loads(base64.b64decode(spec.get("Data") or "").decode("utf-8"))
        except (ValueError, TypeError):
            continue
        record["_id"] = config.get("ID")
        out.setdefault(own.get(RECORD_LABEL), {}).setdefault(int(record.get("slot_ts") or 0), {})[
            record.get("kind")] = record
    return out


def _write(client, service, slot, kind, record):
    """Create the record; False when its name is taken (another scheduler decided this slot)."""
    labels = _labels(service)
    record = dict(record, kind=kind, slot_ts=slot, slot=cron.iso(slot))
    data = json.dumps(record, sort_keys=True).encode("utf-8")
    try:
        client.create_config(record_name(service["ID"], slot, kind), data, labels={
            RECORD_LABEL: service["ID"], "spin.job.tenant": labels.get("spin.tenant", ""),
            "spin.job.stack": labels.get("spin.stack", ""), "spin.job.service": labels.get("spin.service", "")})
    except SpinError as exc:
        if "already exists" in exc.message or "AlreadyExists" in exc.message or "409" in exc.message:
            return False
        raise
    return True


def _iteration(task_or_service):
    job = task_or_service.get("JobIteration") or (task_or_service.get("JobStatus") or {}).get("JobIteration") or {}
    return int(job.get("Index") or 0)


def run_state(tasks, iteration, fired, now, restart_delay=5.0):
    """Where a run (the job's tasks of ``iteration``) stands: ``("running", None)`` or
    ``("ended", facts)`` with facts ``{start, end, exit_code, state, error, tasks}``."""
    mine = [t for t in tasks if _iteration(t) == iteration]
    going = [t for t in mine if (t.get("Status") or {}).get("State") not in TERMINAL]
    if going:
        return "running", None
    if not mine:
        if now - fired < START_GRACE:
            return "running", None
        return "ended", {"start": None, "end": None, "exit_code": None, "state": "lost",
                         "error": "no task of this run was found (Swarm removed it, or it never started)", "tasks": []}
    mine.sort(key=lambda t: t.get("CreatedAt") or "")
    newest = mine[-1]
    status = newest.get("Status") or {}
    ended_at = cron.timegm(status.get("Timestamp"))
    complete = [t for t in mine if (t.get("Status") or {}).get("State") == "complete"]
    retry = ((newest.get("Spec") or {}).get("RestartPolicy") or {}).get("Condition") == "on-failure"
    if not complete and retry and ended_at is not None and now - ended_at < restart_delay + 5:
        return "running", None        # Swarm may still start the next attempt
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    return "ended", {
        "start": cron.iso(cron.timegm(mine[0].get("CreatedAt"))), "end": cron.iso(ended_at),
        "exit_code": code, "state": "succeeded" if complete else status.get("State") or "failed",
        "error": status.get("Err") or None, "tasks": [t.get("ID") for t in mine]}


def last_lines(text, task_ids, count=LOG_LINES):
    """The run's own lines of the service's log (its tasks only), oldest first, at most ``count``."""
    out = []
    for raw in (text or "").splitlines():
        match = _LOG_LINE.match(raw.rstrip("\r"))
        if not match:
            continue
        stamp, details, line = match.groups()
        attrs = dict(part.split("=", 1) for part in details.split(",") if "=" in part)
        if attrs.get("com.docker.swarm.task.id") in task_ids:
            out.append((stamp, line))
    out.sort(key=lambda entry: entry[0])     # stable: lines of one instant stay in order
    return [line for dummy, line in out[-count:]]


def _start(client, service, slot, now):
    """Raise the job to one completion with ForceUpdate + 1: Swarm runs a new iteration. The version
    read before the record was written guards the update: a deploy in between wins, and the slot's
    record says so."""
    spec = service["Spec"]
    iteration = _iteration(service) + 1
    if not _write(client, service, slot, "run", {"fired": cron.iso(now), "iteration": iteration}):
        return "taken"
    spec = json.loads(json.dumps(spec))
    spec["Mode"] = {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    template = spec.setdefault("TaskTemplate", {})
    template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1
    try:
        client.update_service(service["ID"], service["Version"]["Index"], spec)
    except SpinError as exc:
        _write(client, service, slot, "end", {"state": "not started", "error": exc.message, "exit_code": None,
                                              "start": None, "end": cron.iso(now), "lines": []})
        return "failed"
    return "started"


def plan_job(service, records, now):
    """What to do for one job now (pure): ``(action, slot)`` with action one of ``None``, ``"run"``,
    ``"skip"``; and the open run to look at, ``(slot, record)`` or None."""
    labels = _labels(service)
    schedule = cron.parse(labels[cron.SCHEDULE_LABEL])
    zone = cron.zone_of(labels.get(cron.ZONE_LABEL))
    created = cron.timegm(service.get("CreatedAt")) or now
    last = max([created] + list(records))
    open_run = None
    for slot in sorted(records, reverse=True):
        kinds = records[slot]
        if "run" in kinds and "end" not in kinds:
            open_run = (slot, kinds["run"])
            break
    slot = cron.latest(schedule, last, now, zone)
    if slot is None:
        return None, None, open_run
    return ("skip" if open_run else "run"), slot, open_run


def tick(client, now=None, log=None):
    """One round over every scheduled job of the swarm: close runs that ended, start what is due,
    skip what would overlap, forget old and orphaned records. -> list of event texts."""
    now = time.time() if now is None else now
    events = []
    say = events.append
    services = [s for s in client.services(labels={cron.SCHEDULE_LABEL: None}) or []
                if cron.SCHEDULE_LABEL in _labels(s)]
    records = read_records(client)
    for service in services:
        name = service["Spec"]["Name"]
        mine = records.get(service["ID"], {})
        try:
            action, slot, open_run = plan_job(service, mine, now)
        except ValueError as exc:      # a label changed by hand: the deploy validated the one it wrote
            say("%s: schedule %r: %s" % (name, _labels(service).get(cron.SCHEDULE_LABEL), exc))
            continue
        if open_run:
            open_slot, run = open_run
            tasks = client.service_tasks(service["ID"])
            state, facts = run_state(tasks, int(run.get("iteration") or 0), cron.timegm(run.get("fired")) or now, now)
            if state == "ended":
                facts["lines"] = last_lines(client.service_logs(service["ID"], tail=200), facts.pop("tasks"))
                if _write(client, service, open_slot, "end", facts):
                    say("%s: run of %s ended: %s, exit code %s" % (
                        name, cron.iso(open_slot), facts["state"], facts["exit_code"]))
                mine.setdefault(open_slot, {})["end"] = facts
                action = "run" if action == "skip" else action
        if action == "skip":
            if _write(client, service, slot, "skip", {"reason": "the run of %s was still going" % cron.iso(open_run[0]),
                                                      "at": cron.iso(now)}):
                say("%s: skipped %s: the run of %s is still going" % (name, cron.iso(slot), cron.iso(open_run[0])))
        elif action == "run":
            say("%s: run of %s: %s" % (name, cron.iso(slot), _start(client, service, slot, now)))
    events.extend(forget(client, records, {s["ID"] for s in services}))
    if log:
        for line in events:
            log(line)
    return events


def forget(client, records, live):
    """Remove the records of jobs that are gone, and all but the newest ``KEEP`` slots of each job."""
    out = []
    for service_id, slots in records.items():
        old = sorted(slots)[:-KEEP] if service_id in live else sorted(slots)
        for slot in old:
            for record in slots[slot].values():
                if record.get("_id"):
                    client.remove_config(record["_id"])
        if old and service_id not in live:
            out.append("forgot %d slot(s) of removed job %s" % (len(old), service_id[:12]))
    return out


# ---- what status shows -----------------------------------------------------------------------

def history(records):
    """A job's records -> its slots, newest first: ``[{slot, state, start, end, exit_code, lines, reason}]``."""
    out = []
    for slot in sorted(records, reverse=True):
        kinds = records[slot]
        if "skip" in kinds:
            out.append({"slot": cron.iso(slot), "state": "skipped", "reason": kinds["skip"].get("reason")})
        if "run" in kinds or "end" in kinds:
            end = kinds.get("end") or {}
            out.append({"slot": cron.iso(slot), "state": end.get("state") or "running",
                        "start": end.get("start") or (kinds.get("run") or {}).get("fired"), "end": end.get("end"),
                        "exit_code": end.get("exit_code"), "error": end.get("error"), "lines": end.get("lines") or []})
    return out


def status_fact(client, context, now=None):
    """``status.EXTRA_FACTS`` provider: each scheduled job of the stack, its schedule, time zone,
    next slot and its runs (start, end, exit code, last lines) and skips, newest first."""
    now = time.time() if now is None else now
    lines, data = [], {}
    for record in context["services"]:
        service = client.inspect_service(record["id"]) or {}
        labels = _labels(service)
        if cron.SCHEDULE_LABEL not in labels or labels.get("spin.tenant") != context["tenant"]:
            continue
        text, zone_name = labels[cron.SCHEDULE_LABEL], labels.get(cron.ZONE_LABEL) or cron.DEFAULT_ZONE
        try:
            nxt = cron.iso(cron.following(cron.parse(text), now, cron.zone_of(zone_name)))
        except ValueError:
            nxt = None
        runs = history(read_records(client, service["ID"], tenant=context["tenant"]).get(service["ID"], {}))
        data[record["service"]] = {"schedule": text, "timezone": zone_name, "next": nxt, "history": runs}
        lines.append("job %s: schedule '%s' (%s), next %s; %d slot(s) recorded" % (
            record["service"], text, zone_name, nxt or "-", len(runs)))
        for run in runs:
            if run["state"] == "skipped":
                lines.append("  %s skipped: %s" % (run["slot"], run["reason"]))
                continue
            lines.append("  %s %s: start %s end %s exit %s%s" % (
                run["slot"], run["state"], run["start"] or "-", run["end"] or "-",
                "-" if run["exit_code"] is None else run["exit_code"],
                " (%s)" % run["error"] if run["error"] else ""))
            lines.extend("    | %s" % line for line in run["lines"])
    if not data:
        return None
    return {"text": lines, "data": data}
