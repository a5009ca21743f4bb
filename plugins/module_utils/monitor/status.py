# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant's stacks as they run (issue 19): each service's replicas running against desired,
health, nodes, image and digest, the stack's URLs, its last deploy from the audit trail, the last
lines of each service's log, the tenant's use against its quotas, and any extra facts per stack
(``EXTRA_FACTS``). ``collect`` asks the swarm (only for that tenant's objects); ``render`` turns
the result into the table people read; the JSON is the result itself.

Only the tenant's objects, ever: services are asked for by the ``spin.tenant`` label and checked
again here, routes documents and audit records are kept only when they name the tenant, and a
stack that holds objects of another tenant is refused without a word about them.
"""
from __future__ import annotations

import calendar
import re
import time

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb, lb_certs
from ansible_collections.spin.platform.plugins.module_utils.engine import swarm_state
from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
from ansible_collections.spin.platform.plugins.module_utils.policy import policy, preflight, resources
from ansible_collections.spin.platform.plugins.module_utils.stack import jobs
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.policy.policy_settings import merge_policy
from ansible_collections.spin.platform.plugins.module_utils.common.units import parse_duration

# Per-stack extra facts: (name, provider). A provider is called once per stack as
# ``provider(client, context)`` with ``context = {"tenant", "stack", "services": [swarm_state
# records of the stack], "routes": the stack's stored routes document or None, "params": the
# module's options}`` and returns None (nothing to say) or ``{"text": [lines for the table],
# "data": <JSON-serialisable>}``; the result carries it as ``stacks[i].extra[name]`` and the table
# prints its lines under the stack. A SpinError from a provider is shown as that fact's error;
# status itself goes on. Issue 20 wires certificate expiry and the history of scheduled jobs here.
EXTRA_FACTS = (("certificates", lb_certs.status_fact), ("jobs", jobs.status_fact))

LOG_LINES = 10
MAX_LOG_LINES = 1000
MAX_FOLLOW = 600
_LOG_LINE = re.compile(r"^(\S+) (\S*com\.docker\.swarm\.\S+) ?(.*)$")


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$")


def since_time(since, now=None):
    """``"10m"`` / ``"1h30m"`` (that long ago), a UNIX time, or a log line's RFC 3339 time (then
    just after it: the next round of a follow) -> what Docker's ``since`` takes (text,
    ``<seconds>.<nanoseconds>``); None -> None."""
    if since in (None, ""):
        return None
    now = time.time() if now is None else now
    text = str(since).strip()
    match = _RFC3339.match(text)
    if match:
        seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
        nanos = int((match.group(2) or "0").ljust(9, "0")) + 1
        return "%d.%09d" % (seconds + nanos // 10**9, nanos % 10**9)
    try:
        return "%.9f" % float(text)
    except ValueError:
        pass
    try:
        return "%.9f" % (now - parse_duration(text) / 1e9)
    except (ValueError, TypeError):
        raise SpinError("since '%s' is neither a duration like 10m or 2h, a UNIX time nor a log line's time" % since)


def parse_log(text, tasks):
    """Docker's service log (timestamps, details) -> ``[{"time", "task", "where", "line"}]``, the
    task shown as ``<service>.<slot>@<node>`` as ``docker service logs`` does."""
    by_id = {t["id"]: t for t in tasks}
    out = []
    for raw in text.splitlines():
        raw = raw.rstrip("\r")
        match = _LOG_LINE.match(raw)
        if not match:
            if raw.strip():
                out.append({"time": None, "task": None, "where": "", "line": raw})
            continue
        stamp, details, line = match.groups()
        attrs = dict(part.split("=", 1) for part in details.split(",") if "=" in part)
        task_id = attrs.get("com.docker.swarm.task.id")
        task = by_id.get(task_id) or {}
        where = "%s@%s" % (task.get("slot") or (task_id or "?")[:12], task.get("node") or
                           attrs.get("com.docker.swarm.node.id", "?")[:12])
        out.append({"time": stamp, "task": task_id, "where": where, "line": line})
    return out


def digest_of(image):
    """The digest (or image ID) a pinned service image runs: ``repo@sha256:..`` or ``sha256:..``."""
    image = str(image or "")
    if "@" in image:
        return image.split("@", 1)[1]
    return image if image.startswith("sha256:") else None


def last_run(records, tenant, stack):
    """The newest deploy or removal (not a dry run) of the tenant's stack in the audit trail."""
    runs = [r for r in audit.runs(records) if r["tenant"] == tenant and r["stack"] == stack
            and not r.get("dry_run") and r["action"] in ("deploy", "remove")]
    if not runs:
        return None
    run = runs[-1]
    return {"action": run["action"], "outcome": run["outcome"], "started": run["started"],
            "finished": run["finished"], "cause": run["cause"],
            "run_by": (run.get("run_by") or {}).get("user"), "run": run["run"]}


def task_history(client, data):
    """Every task the services still know of (replaced ones too), as records by service ID: the
    log lines of a replaced task name its slot and node, and its error is the last one."""
    node_names = {n["id"]: n["hostname"] for n in data["nodes"]}
    out = {}
    for task in client.tasks([r["id"] for r in data["services"]]) if data["services"] else []:
        out.setdefault(task.get("ServiceID"), []).append(swarm_state.task_record(task, node_names))
    for tasks in out.values():
        tasks.sort(key=lambda t: t["since"] or "")
    return out


def last_lines(text, tasks, count):
    """Docker gives the last lines of each task: the service's last ``count``, oldest first."""
    entries = parse_log(text, tasks)
    entries.sort(key=lambda e: e["time"] or "")
    return entries[-count:] if count else []


def service_entry(record, logs=None, history=None):
    """A swarm_state record (and its tasks' history, oldest first) -> what status shows of one service."""
    running = [t for t in record["tasks"] if t["state"] == "running"]
    nodes = {}
    for task in running:
        nodes[task["node"]] = nodes.get(task["node"], 0) + 1
    errors = [t["error"] for t in list(history or []) + record["tasks"] if t["error"]]
    return {
        "service": record["service"], "name": record["name"], "mode": record["mode"],
        "replicas": record["replicas"], "running": record["running"], "health": swarm_state.health(record),
        "healthcheck": record["healthcheck"], "nodes": nodes, "image": record["image_written"] or record["image"],
        "digest": digest_of(record["image"]), "pinned": record["image"], "last_error": errors[-1] if errors else None,
        "tasks": [{k: t[k] for k in ("slot", "node", "state", "since", "error")} for t in record["tasks"]],
        "updated": record["updated"], "update_state": record["update_state"], "logs": logs or [],
    }


def refuse_foreign(client, tenant, stack):
    """A stack whose objects belong to another tenant (or to no tenant) is not this tenant's to
    look at: refused, naming nobody."""
    for obj in preflight.stack_objects(client, stack):
        labels = obj.get("labels") or {}
        if labels.get("spin.tenant") != tenant:
            raise SpinError("stack '%s' is not tenant '%s''s: nothing of it is shown. Name one of the tenant's "
                            "own stacks, or leave the stack out for all of them" % (stack, tenant))


def _extra(client, context, providers):
    out = {}
    for name, provider in providers:
        try:
            value = provider(client, context)
        except SpinError as exc:
            value = {"text": ["%s: %s" % (name, exc.message)], "error": exc.message}
        if value is not None:
            out[name] = value
    return out


def collect(client, params, providers=None, now=None):
    """Everything status shows, for ``params["tenant"]`` (and ``params["stack"]``): a JSON-
    serialisable dict ``{"tenant", "stacks": [...], "quota", "nodes"}``."""
    tenant, stack = params["tenant"], params.get("stack")
    if stack:
        refuse_foreign(client, tenant, stack)
    data = swarm_state.read_swarm(client, tenant=tenant, stack=stack, names=False)
    by_stack = {}
    for record in data["services"]:
        by_stack.setdefault(record["stack"], []).append(record)
    platform = haproxy.normalise_platform(params.get("lb_platform"))
    stored = lb.stored_routes(client, platform)
    records = audit.read_records(params["audit_log"]) if params.get("audit_log") and _exists(params["audit_log"]) \
        else []
    routed = {name for name, entry in stored.items() if entry["doc"].get("tenant") == tenant}
    stacks = [stack] if stack else sorted(set(by_stack) | routed)
    since = since_time(params.get("since"), now)
    lines = min(int(params.get("lines") if params.get("lines") is not None else LOG_LINES), MAX_LOG_LINES)
    history = task_history(client, data)
    out = []
    for name in stacks:
        services = by_stack.get(name, [])
        entry = stored.get(name)
        doc = entry["doc"] if entry and entry["doc"].get("tenant") == tenant else None
        shown = []
        for record in services:
            logs = []
            if params.get("logs", True) and lines > 0:
                logs = last_lines(client.service_logs(record["id"], tail=lines, since=since, tty=_tty(client, record)),
                                  history.get(record["id"], []), lines)
            shown.append(service_entry(record, logs, history.get(record["id"], [])))
        urls = [haproxy.route_url(r, params.get("public_host")) for r in (doc or {}).get("routes", [])]
        for item in shown:
            item["urls"] = [u.split(": ", 1)[1] for u in urls if u.split(": ", 1)[0] == item["service"]]
        context = {"tenant": tenant, "stack": name, "services": services, "routes": doc, "params": params}
        out.append({"stack": name, "services": shown, "urls": urls, "last_deploy": last_run(records, tenant, name),
                    "extra": _extra(client, context, EXTRA_FACTS if providers is None else providers)})
    return {"tenant": tenant, "stacks": out, "quota": quota_use(client, params, data["nodes"]),
            "nodes": len(data["nodes"])}


def follow(client, params, clock=time.time, sleep=time.sleep):
    """The log lines the tenant's services (of ``params["stack"]``; ``params["service"]`` only)
    write from ``params["since"]`` on, read every second for ``params["follow"]`` seconds: ``{"logs":
    [{"service", "time", "where", "line"}] oldest first, "last": the newest line's time}``."""
    tenant, stack = params["tenant"], params.get("stack")
    if stack:
        refuse_foreign(client, tenant, stack)
    data = swarm_state.read_swarm(client, tenant=tenant, stack=stack, names=False)
    records = [r for r in data["services"] if not params.get("service") or r["service"] == params["service"]]
    if params.get("service") and not records:
        where = " in stack '%s'" % stack if stack else ""
        raise SpinError("tenant '%s' has no service '%s'%s" % (tenant, params["service"], where))
    ttys = {r["id"]: _tty(client, r) for r in records}
    history = task_history(client, dict(data, services=records))
    start = clock()
    since = since_time(params.get("since"), start)
    # without a since: the last lines first, then what comes after this moment
    tail = None if since else min(int(params.get("lines") or LOG_LINES), MAX_LOG_LINES)
    since = since or "%.9f" % start
    deadline = start + max(0, min(int(params.get("follow") or 0), MAX_FOLLOW))
    seen, out = set(), []
    while True:
        for record in records:
            text = client.service_logs(record["id"], tail=tail, since=None if tail else since, tty=ttys[record["id"]])
            for entry in parse_log(text, history.get(record["id"], [])):
                key = (record["name"], entry["time"], entry["where"], entry["line"])
                if key not in seen:
                    seen.add(key)
                    out.append(dict(entry, service=record["service"], stack=record["stack"]))
        tail = None
        if clock() >= deadline or len(out) >= MAX_LOG_LINES:
            break
        sleep(min(1.0, max(0.0, deadline - clock())))
    out.sort(key=lambda e: e["time"] or "")
    out = out[-MAX_LOG_LINES:]
    last = out[-1]["time"] if out and out[-1]["time"] else rfc3339(min(clock(), deadline))
    return {"tenant": tenant, "stack": stack, "logs": out, "last": last,
            "lines": ["%s %s.%s | %s" % (e["time"] or "", e["service"], e["where"], e["line"]) for e in out]}


def rfc3339(when):
    """A UNIX time -> ``2026-12-07T03:04:18.801519114Z`` (as Docker writes log times)."""
    seconds = int(when)
    nanos = min(int(round((when - seconds) * 1e9)), 999999999)
    return "%s.%09dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)), nanos)


def _exists(path):
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


def _tty(client, record):
    found = client.inspect_service(record["id"]) or {}
    return bool((((found.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("TTY"))


def quota_use(client, params, nodes):
    """The tenant's replicas, CPU and memory over all its stacks, against its quotas."""
    pol = merge_policy({"spin_tenants": params.get("tenants"), "spin_policy": params.get("policy")})
    entry = pol["tenants"].get(params["tenant"])
    node_count = max(1, len(nodes))
    replicas, used = preflight.usage(preflight.tenant_services(client, params["tenant"]), node_count,
                                     pol["default_resources"])
    return {"replicas": {"used": replicas, "quota": policy.replica_quota(entry, pol)},
            "resources": resources.usage_rows(used, resources.quota_of(entry, pol))}


# ---- the table people read ---------------------------------------------------------------------

def _columns(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _nodes_text(nodes):
    return ", ".join(node if count == 1 else "%s (%d)" % (node, count) for node, count in sorted(nodes.items())) or "-"


def render(status):
    """The status as lines of text: the tenant's use against its quotas, then per stack its last
    deploy, a table of its services, its URLs, extra facts and each service's last log lines."""
    quota = status["quota"]
    lines = ["tenant %s: %d of %d replicas; %s" % (
        status["tenant"], quota["replicas"]["used"], quota["replicas"]["quota"],
        "; ".join("%s %s of %s%s" % (r["what"], r["used"], r["quota"],
                                     " (%d%%)" % r["percent"] if r["percent"] is not None else "")
                  for r in quota["resources"]))]
    if not status["stacks"]:
        lines.append("no stacks")
    for stack in status["stacks"]:
        lines.append("")
        last = stack["last_deploy"]
        deploy = "never deployed here" if last is None else "last %s: %s %s%s%s" % (
            last["action"], last["outcome"], last["finished"] or last["started"] or "",
            " by %s" % last["run_by"] if last["run_by"] else "",
            " (%s)" % _short(last["cause"]) if last["cause"] and last["outcome"] != "deployed" else "")
        lines.append("stack %s: %s" % (stack["stack"], deploy))
        if stack["services"]:
            rows = [("SERVICE", "REPLICAS", "HEALTH", "NODES", "IMAGE", "DIGEST")]
            for svc in stack["services"]:
                rows.append((svc["service"], "%d/%d" % (svc["running"], svc["replicas"]), svc["health"],
                             _nodes_text(svc["nodes"]), svc["image"] or "-", (svc["digest"] or "-")[:19]))
            lines.extend("  " + row for row in _columns(rows))
            for svc in stack["services"]:
                if svc["last_error"] and svc["health"] != "running":
                    lines.append("  %s: last error: %s" % (svc["service"], _short(svc["last_error"])))
        else:
            lines.append("  no services")
        for url in stack["urls"]:
            lines.append("  url %s" % url)
        for name in sorted(stack["extra"]):
            for text in stack["extra"][name].get("text") or []:
                lines.append("  %s" % text)
        for svc in stack["services"]:
            if svc["logs"]:
                lines.append("  logs of %s (last %d lines):" % (svc["service"], len(svc["logs"])))
                lines.extend("    %s %s | %s" % (entry["time"] or "", "%s.%s" % (svc["service"], entry["where"])
                                                 if entry["where"] else svc["service"], entry["line"])
                             for entry in svc["logs"])
    return lines


def _short(text, size=160):
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[:size - 3] + "..."
