# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two service specs compared: one table of managed fields (``FIELDS``). Pure.

Each field reads a piece of a spec and normalises it to a canonical, option-shaped value, in which
Docker's filled-in defaults and the empty forms of a value are equal (absent ``RestartPolicy`` ==
``{Condition: any, Delay: 5s, MaxAttempts: 0}``, absent ``Env`` == ``[]``, ...). One generic compare
of those values yields the differences, named by option path (``env.LANG``,
``update_config.order``); fields that are not in the table are not managed. Building the spec
Docker is sent is ``service_spec``'s.
"""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.capabilities import kernel_name
from ansible_collections.spin.platform.plugins.module_utils.common.diff import DifferenceTracker
from ansible_collections.spin.platform.plugins.module_utils.common.images import full_name
from ansible_collections.spin.platform.plugins.module_utils.stack.service_spec import (
    DEFAULT_RESTART_POLICY, DEFAULT_SECRET_MODE, DEFAULT_STOP_GRACE_PERIOD, DEFAULT_UPDATE_CONFIG)
from ansible_collections.spin.platform.plugins.module_utils.common.units import format_duration


# ---------------------------------------------------------------------------------------------
# the table of managed fields

def _dig(data, path):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _n_str(value, ctx):
    return str(value) if value not in (None, "") else None


def _n_list(value, ctx):
    return list(value or [])


def _n_dict(value, ctx):
    return dict(value or {})


def _n_bool(value, ctx):
    return bool(value)


def _n_caps(value, ctx):
    return sorted(kernel_name(c) for c in value or [])


def _n_sorted(value, ctx):
    return sorted(value or [])


def _n_env(value, ctx):
    out = {}
    for item in value or []:
        key, sep, val = item.partition("=")
        out[key] = val if sep else None
    return out


def _dur(value, default=None):
    return format_duration(default if value is None else value)


def _n_stop_grace(value, ctx):
    return _dur(value, DEFAULT_STOP_GRACE_PERIOD)


def _n_mode(value, ctx):
    value = value or {}
    for key, name in (("Global", "global"), ("ReplicatedJob", "replicated-job"), ("GlobalJob", "global-job")):
        if key in value:
            return name
    return "replicated"


def _n_replicas(value, ctx):
    if value and "Replicated" in value:
        replicas = (value.get("Replicated") or {}).get("Replicas")
        return 1 if replicas is None else replicas
    if value and "ReplicatedJob" in value:
        return (value.get("ReplicatedJob") or {}).get("TotalCompletions") or 1
    return None


def _n_ulimits(value, ctx):
    return sorted(({"name": u.get("Name"), "soft": u.get("Soft", 0), "hard": u.get("Hard", 0)}
                   for u in value or []), key=lambda u: u["name"] or "")


def _n_healthcheck(value, ctx):
    if not value:
        return None
    return {
        "test": list(value.get("Test") or []),
        "interval": _dur(value.get("Interval") or None),
        "timeout": _dur(value.get("Timeout") or None),
        "start_period": _dur(value.get("StartPeriod") or None),
        "retries": value.get("Retries") or None,
    }


def _n_mounts(value, ctx):
    out = []
    for m in value or []:
        volume = m.get("VolumeOptions") or {}
        driver = volume.get("DriverConfig") or {}
        tmpfs = m.get("TmpfsOptions") or {}
        out.append({
            "type": m.get("Type") or "volume", "source": m.get("Source") or None, "target": m.get("Target"),
            "readonly": bool(m.get("ReadOnly")), "volume_driver": driver.get("Name") or None,
            "volume_options": dict(driver.get("Options") or {}), "volume_labels": dict(volume.get("Labels") or {}),
            "tmpfs_size": tmpfs.get("SizeBytes") or None, "tmpfs_mode": tmpfs.get("Mode") or None,
            "volume_nocopy": bool(volume.get("NoCopy")),
        })
    return sorted(out, key=lambda m: (m["target"] or "", m["type"]))


def _n_file_refs(kind):
    def normalise(value, ctx):
        out = []
        for ref in value or []:
            name = ref.get("%sName" % kind.capitalize())
            f = ref.get("File") or {}
            out.append({"%s_name" % kind: name, "target": f.get("Name") or name, "uid": f.get("UID") or "0",
                        "gid": f.get("GID") or "0", "mode": DEFAULT_SECRET_MODE if f.get("Mode") is None else f["Mode"]})
        return sorted(out, key=lambda r: (r["target"], r["%s_name" % kind]))
    return normalise


def _n_resources(value, ctx):
    value = value or {}
    limits, reservations = value.get("Limits") or {}, value.get("Reservations") or {}

    def cpus(nano):
        return nano / 1e9 if nano else None
    return {
        "limits": {"cpus": cpus(limits.get("NanoCPUs")), "memory": limits.get("MemoryBytes") or None,
                   "pids": limits.get("Pids") or None},
        "reservations": {"cpus": cpus(reservations.get("NanoCPUs")), "memory": reservations.get("MemoryBytes") or None},
    }


def _n_restart_policy(value, ctx):
    if not value:
        return dict(DEFAULT_RESTART_POLICY)
    return {"condition": value.get("Condition") or "any", "delay": _dur(value.get("Delay"), 5 * 10**9),
            "max_attempts": value.get("MaxAttempts") or 0, "window": _dur(value.get("Window"), 0)}


def _n_placement(value, ctx):
    value = value or {}
    return {"constraints": sorted(value.get("Constraints") or []),
            "preferences": [(p.get("Spread") or {}).get("SpreadDescriptor") for p in value.get("Preferences") or []],
            "max_replicas": value.get("MaxReplicas") or None}


def _n_logging(value, ctx):
    if not value or not value.get("Name"):
        return None
    return {"driver": value["Name"], "options": dict(value.get("Options") or {})}


def _n_networks(value, ctx):
    names = ctx.get("network_names") or {}
    out = [{"name": names.get(n.get("Target"), n.get("Target")), "aliases": sorted(n.get("Aliases") or [])}
           for n in value or []]
    return sorted(out, key=lambda n: n["name"])


def _n_update_config(value, ctx):
    if not value:
        return dict(DEFAULT_UPDATE_CONFIG)
    return {"parallelism": value.get("Parallelism") or 0, "delay": _dur(value.get("Delay"), 0),
            "failure_action": value.get("FailureAction") or "pause", "monitor": _dur(value.get("Monitor"), 0),
            "max_failure_ratio": value.get("MaxFailureRatio") or 0, "order": value.get("Order") or "stop-first"}


def _n_endpoint_mode(value, ctx):
    return value or "vip"


def _n_ports(value, ctx):
    out = [{"published_port": p.get("PublishedPort") or None, "target_port": p.get("TargetPort"),
            "protocol": p.get("Protocol") or "tcp", "mode": p.get("PublishMode") or "ingress"} for p in value or []]
    return sorted(out, key=lambda p: (p["target_port"] or 0, p["protocol"], p["published_port"] or 0))


def image_equal(desired, actual):
    """``httpd`` equals ``httpd:latest@sha256:...`` (Docker pins what the tenant named); a digest
    the tenant wrote must match."""
    if desired is None or actual is None:
        return desired == actual
    dname, dtag, ddigest = full_name(desired)
    aname, atag, adigest = full_name(actual)
    if dname != aname:
        return False
    if ddigest:
        return ddigest == adigest and (dtag is None or atag is None or dtag == atag)
    if atag is None and adigest:
        return False
    return (dtag or "latest") == (atag or "latest")


class Field(object):
    """One managed option: where it lives in a ServiceSpec, and how to normalise it."""

    def __init__(self, name, path, normalise, equal=None):
        self.name = name
        self.path = path
        self.normalise = normalise
        self.equal = equal
        self.task = path[0] == "TaskTemplate"

    def read(self, spec, ctx):
        value = _dig(spec, self.path)
        if self.name == "networks" and value is None:
            value = spec.get("Networks")  # services created through API < 1.25 keep them at the top
        return self.normalise(value, ctx)


_CS = ("TaskTemplate", "ContainerSpec")
FIELDS = [
    Field("image", _CS + ("Image",), _n_str, equal=image_equal),
    Field("command", _CS + ("Args",), _n_list),
    Field("entrypoint", _CS + ("Command",), _n_list),
    Field("env", _CS + ("Env",), _n_env),
    Field("workdir", _CS + ("Dir",), _n_str),
    Field("user", _CS + ("User",), _n_str),
    Field("hostname", _CS + ("Hostname",), _n_str),
    Field("container_labels", _CS + ("Labels",), _n_dict),
    Field("mounts", _CS + ("Mounts",), _n_mounts),
    Field("healthcheck", _CS + ("Healthcheck",), _n_healthcheck),
    Field("secrets", _CS + ("Secrets",), _n_file_refs("secret")),
    Field("configs", _CS + ("Configs",), _n_file_refs("config")),
    Field("cap_add", _CS + ("CapabilityAdd",), _n_caps),
    Field("cap_drop", _CS + ("CapabilityDrop",), _n_caps),
    Field("read_only", _CS + ("ReadOnly",), _n_bool),
    Field("init", _CS + ("Init",), _n_bool),
    Field("stop_grace_period", _CS + ("StopGracePeriod",), _n_stop_grace),
    Field("stop_signal", _CS + ("StopSignal",), _n_str),
    Field("sysctls", _CS + ("Sysctls",), _n_dict),
    Field("ulimits", _CS + ("Ulimits",), _n_ulimits),
    Field("tty", _CS + ("TTY",), _n_bool),
    Field("stdin_open", _CS + ("OpenStdin",), _n_bool),
    Field("resources", ("TaskTemplate", "Resources"), _n_resources),
    Field("restart_policy", ("TaskTemplate", "RestartPolicy"), _n_restart_policy),
    Field("placement", ("TaskTemplate", "Placement"), _n_placement),
    Field("logging", ("TaskTemplate", "LogDriver"), _n_logging),
    Field("networks", ("TaskTemplate", "Networks"), _n_networks),
    Field("labels", ("Labels",), _n_dict),
    Field("mode", ("Mode",), _n_mode),
    Field("replicas", ("Mode",), _n_replicas),
    Field("update_config", ("UpdateConfig",), _n_update_config),
    Field("rollback_config", ("RollbackConfig",), _n_update_config),
    Field("endpoint_mode", ("EndpointSpec", "Mode"), _n_endpoint_mode),
    Field("publish", ("EndpointSpec", "Ports"), _n_ports),
]


def _context(refs):
    networks = (refs or {}).get("networks") or {}
    return {"network_names": dict((v, k) for k, v in networks.items())}


def describe_service_spec(spec, refs=None, fields=None):
    """ServiceSpec -> {option: normalised value} over the managed fields (the diff's before/after)."""
    ctx = _context(refs)
    return dict((f.name, f.read(spec or {}, ctx)) for f in (fields or FIELDS))


def _compare(fields, desired, actual, refs):
    ctx = _context(refs)
    tracker = DifferenceTracker()
    for field in fields:
        after, before = field.read(desired or {}, ctx), field.read(actual or {}, ctx)
        if field.equal is not None:
            if not field.equal(after, before):
                tracker.add(field.name, before, after)
        else:
            tracker.compare(field.name, before, after)
    return tracker.differences


def compare_service_spec(desired, actual, refs=None):
    """Differences ``[Difference(path, before, after)]`` from ``actual`` (what Docker has) to
    ``desired`` (what ``build_service_spec`` made), over the managed fields only."""
    return _compare(FIELDS, desired, actual, refs)


TASK_FIELDS = [f for f in FIELDS if f.task]


def task_is_current(task_spec, task_template):
    """Was this task made from the service's current TaskTemplate? (Docker's tasks carry no spec
    version.) ``ForceUpdate`` counts too: a forced update replaces every task."""
    if (task_spec or {}).get("ForceUpdate", 0) != (task_template or {}).get("ForceUpdate", 0):
        return False
    return not _compare(TASK_FIELDS, {"TaskTemplate": task_template}, {"TaskTemplate": task_spec}, None)
