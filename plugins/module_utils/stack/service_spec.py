# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_service parameters -> Docker API ``ServiceSpec``. Pure.

``build_service_spec(params, refs, api_version)`` writes the spec Docker is sent. Docker wants IDs
where tenants write names (networks, secrets, configs): the caller resolves them and passes
``refs = {"networks": {name: id}, "secrets": {name: id}, "configs": {name: id}}``;
``references(params)`` lists the names to resolve. Comparing two specs (the table of managed
fields) is ``service_compare``'s.
"""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.capabilities import kernel_name
from ansible_collections.spin.platform.plugins.module_utils.stack.cron import SCHEDULE_LABEL
from ansible_collections.spin.platform.plugins.module_utils.common.units import (
    parse_bytes, parse_cpus, parse_duration, parse_mode)

# Docker's values when a spec leaves a setting out (measured on engine 20.10, API 1.41).
DEFAULT_STOP_GRACE_PERIOD = 10 * 10**9
DEFAULT_RESTART_POLICY = {"condition": "any", "delay": "5s", "max_attempts": 0, "window": "0s"}
DEFAULT_UPDATE_CONFIG = {"parallelism": 1, "delay": "0s", "failure_action": "pause", "monitor": "5s",
                         "max_failure_ratio": 0, "order": "stop-first"}
DEFAULT_SECRET_MODE = 0o444

# Options that need a newer API than the oldest engine we talk to (checked when they are set).
MIN_API_VERSION = {
    "cap_add": "1.41", "cap_drop": "1.41", "resources.limits.pids": "1.41",
    "sysctls": "1.40", "placement.max_replicas": "1.40", "init": "1.37", "ulimits": "1.41",
}
JOB_MODES = ("replicated-job", "global-job")


def start_first_allowed(params):
    """May a new task of this service start before the old one stops (issue 20: a rotated secret or
    config, a new image, rolled out with no moment without a task)? Not when two tasks would fight
    over what only one can hold: a port published in host mode on a node, or a read-write mount (a
    database's files: two servers on one data directory corrupt it or refuse to start); not a job."""
    if (params.get("mode") or "replicated") in JOB_MODES:
        return False
    if any((port.get("mode") or "host") == "host" for port in params.get("publish") or []):
        return False
    return not any(m.get("type") in ("volume", "bind") and not m.get("readonly") for m in params.get("mounts") or [])


def with_rolling_default(params):
    """A tenant's service (label ``spin.stack``) that names no update_config rolls out start-first
    where ``start_first_allowed``, else Docker's stop-first. -> params (changed in place)."""
    if params.get("update_config") is None and (params.get("labels") or {}).get("spin.stack") \
            and start_first_allowed(params):
        params["update_config"] = {"order": "start-first"}
    return params


# ---------------------------------------------------------------------------------------------
# params -> spec

class _Builder(object):
    """Carries the service name so that every error names the service and the key."""

    def __init__(self, params):
        self.params = params
        self.name = params.get("name") or "?"

    def fail(self, key, message):
        raise SpinError("service '%s': key '%s': %s" % (self.name, key, message))

    def get(self, key, default=None):
        value = self.params.get(key)
        return default if value is None else value

    def duration(self, key, value):
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(key, str(exc))

    def size(self, key, value):
        try:
            return parse_bytes(value)
        except ValueError as exc:
            self.fail(key, str(exc))

    def cpus(self, key, value):
        try:
            return parse_cpus(value)
        except ValueError as exc:
            self.fail(key, str(exc))

    def mode(self, key, value):
        try:
            return parse_mode(value)
        except ValueError as exc:
            self.fail(key, str(exc))


def references(params):
    """The names of networks, secrets and configs that ``build_service_spec`` needs as IDs."""
    return {
        "networks": [n["name"] for n in params.get("networks") or []],
        "secrets": [s["secret_name"] for s in params.get("secrets") or []],
        "configs": [c["config_name"] for c in params.get("configs") or []],
    }


def _api_at_least(api_version, minimum):
    if not api_version:
        return True
    return tuple(int(p) for p in str(api_version).split(".")) >= tuple(int(p) for p in minimum.split("."))


def _is_set(params, dotted):
    value = params
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return bool(value)


def _env_list(b, env):
    out = []
    for key, value in (env or {}).items():
        if isinstance(value, bool):
            b.fail("env.%s" % key, "%r is a YAML boolean: quote it ('%s') so the container gets the text you mean"
                   % (value, str(value).lower()))
        out.append("%s=%s" % (key, "" if value is None else value))
    return sorted(out)


def _str_dict(d):
    return dict((str(k), "" if v is None else str(v)) for k, v in (d or {}).items())


def _mounts(b, mounts):
    out = []
    for i, m in enumerate(mounts or []):
        key = "mounts[%d]" % i
        mtype = m.get("type") or "volume"
        target = m.get("target")
        if not target:
            b.fail(key + ".target", "every mount needs a target path inside the container")
        spec = {"Type": mtype, "Target": target}
        source = m.get("source")
        if mtype == "tmpfs":
            if source:
                b.fail(key + ".source", "a tmpfs mount has no source; remove it")
            tmpfs = {}
            if m.get("tmpfs_size") is not None:
                tmpfs["SizeBytes"] = b.size(key + ".tmpfs_size", m["tmpfs_size"])
            if m.get("tmpfs_mode") is not None:
                tmpfs["Mode"] = b.mode(key + ".tmpfs_mode", m["tmpfs_mode"])
            if tmpfs:
                spec["TmpfsOptions"] = tmpfs
        else:
            if mtype == "bind" and not (source and source.startswith("/")):
                b.fail(key + ".source", "a bind mount needs an absolute host path as source, got %r" % (source,))
            if source:
                spec["Source"] = source
            if mtype == "volume" and (m.get("volume_driver") or m.get("volume_options")):
                driver = {"Name": m.get("volume_driver") or "local"}
                if m.get("volume_options"):
                    driver["Options"] = _str_dict(m["volume_options"])
                spec["VolumeOptions"] = {"DriverConfig": driver}
            if mtype == "volume" and m.get("volume_nocopy"):
                spec.setdefault("VolumeOptions", {})["NoCopy"] = True
            if mtype == "volume" and m.get("volume_labels"):
                # the labels Swarm gives the volume when it creates it on the node that runs the task
                spec.setdefault("VolumeOptions", {})["Labels"] = _str_dict(m["volume_labels"])
        if m.get("readonly"):
            spec["ReadOnly"] = True
        out.append(spec)
    return out


def _healthcheck(b, hc):
    if not hc:
        return None
    test = hc.get("test")
    if isinstance(test, str):
        test = ["NONE"] if test.upper() == "NONE" else ["CMD-SHELL", test]
    # without a test Docker keeps the image's own and takes the other settings from here
    spec = {}
    if test is not None:
        test = [str(t) for t in test]
        if not test or test[0] not in ("NONE", "CMD", "CMD-SHELL"):
            b.fail("healthcheck.test", "the test must start with CMD, CMD-SHELL or NONE, got %r"
                   % (test[0] if test else test,))
        spec["Test"] = test
        if test[0] == "NONE":
            return spec
    for opt, field in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")):
        if hc.get(opt) is not None:
            spec[field] = b.duration("healthcheck." + opt, hc[opt])
    if hc.get("retries") is not None:
        spec["Retries"] = int(hc["retries"])
    if not spec:
        b.fail("healthcheck", "give a test, or the settings (interval, timeout, retries, start_period) that "
               "change the image's own healthcheck")
    return spec


def _file_refs(b, items, kind, refs):
    """secrets/configs -> SecretReference/ConfigReference list."""
    name_key = "%s_name" % kind
    out = []
    for i, item in enumerate(items or []):
        key = "%ss[%d]" % (kind, i)
        name = item.get(name_key)
        if name not in refs:
            b.fail(key, "the %s '%s' does not exist in the swarm; create it first (spin_stack creates a stack's "
                   "%ss from its files)" % (kind, name, kind))
        target = item.get("target") or name
        spec = {
            "File": {"Name": target, "UID": str(item.get("uid") or "0"), "GID": str(item.get("gid") or "0"),
                     "Mode": DEFAULT_SECRET_MODE if item.get("mode") is None else b.mode(key + ".mode", item["mode"])},
            "%sID" % kind.capitalize(): refs[name],
            "%sName" % kind.capitalize(): name,
        }
        out.append(spec)
    return out


def _resources(b, res):
    if not res:
        return None
    out = {}
    for part, field, keys in (("limits", "Limits", ("cpus", "memory", "pids")),
                              ("reservations", "Reservations", ("cpus", "memory"))):
        given = res.get(part) or {}
        spec = {}
        if given.get("cpus") is not None:
            spec["NanoCPUs"] = int(round(b.cpus("resources.%s.cpus" % part, given["cpus"]) * 10**9))
        if given.get("memory") is not None:
            spec["MemoryBytes"] = b.size("resources.%s.memory" % part, given["memory"])
        if "pids" in keys and given.get("pids") is not None:
            spec["Pids"] = int(given["pids"])
        if spec:
            out[field] = spec
    return out or None


def _update_config(b, key, conf):
    if not conf:
        return None
    merged = dict(DEFAULT_UPDATE_CONFIG)
    merged.update(dict((k, v) for k, v in conf.items() if v is not None))
    return {
        "Parallelism": int(merged["parallelism"]),
        "Delay": b.duration(key + ".delay", merged["delay"]),
        "FailureAction": merged["failure_action"],
        "Monitor": b.duration(key + ".monitor", merged["monitor"]),
        "MaxFailureRatio": float(merged["max_failure_ratio"]),
        "Order": merged["order"],
    }


def build_service_spec(params, refs=None, api_version=None):
    """spin_service params (as the module receives them) -> Docker API ``ServiceSpec`` dict.

    ``refs``: ``{"networks": {name: id}, "secrets": {...}, "configs": {...}}`` from the caller.
    ``api_version``: the negotiated API version; options newer than it are refused by name.
    """
    b = _Builder(params)
    refs = refs or {}
    if not params.get("image"):
        b.fail("image", "a service needs an image, e.g. httpd:2.4")
    for option, minimum in sorted(MIN_API_VERSION.items()):
        if _is_set(params, option) and not _api_at_least(api_version, minimum):
            b.fail(option, "needs Docker API %s or later; this engine speaks %s. Remove the option or upgrade "
                   "the engine" % (minimum, api_version))

    cs = {"Image": params["image"]}
    if params.get("entrypoint") is not None:
        cs["Command"] = [str(a) for a in params["entrypoint"]]
    if params.get("command") is not None:
        cs["Args"] = [str(a) for a in params["command"]]
    env = _env_list(b, dict(params.get("env") or {}, **(params.get("secret_env") or {})))
    if env:
        cs["Env"] = env
    for option, field in (("workdir", "Dir"), ("user", "User"), ("hostname", "Hostname"),
                          ("stop_signal", "StopSignal")):
        if params.get(option):
            cs[field] = str(params[option])
    if params.get("container_labels"):
        cs["Labels"] = _str_dict(params["container_labels"])
    mounts = _mounts(b, params.get("mounts"))
    if mounts:
        cs["Mounts"] = mounts
    healthcheck = _healthcheck(b, params.get("healthcheck"))
    if healthcheck:
        cs["Healthcheck"] = healthcheck
    secrets = _file_refs(b, params.get("secrets"), "secret", refs.get("secrets") or {})
    if secrets:
        cs["Secrets"] = secrets
    configs = _file_refs(b, params.get("configs"), "config", refs.get("configs") or {})
    if configs:
        cs["Configs"] = configs
    for option, field in (("cap_add", "CapabilityAdd"), ("cap_drop", "CapabilityDrop")):
        if params.get(option):
            cs[field] = [kernel_name(c) for c in params[option]]
    # false is Docker's default (and leaves the daemon's `init` setting in charge), so only true is sent
    if params.get("read_only"):
        cs["ReadOnly"] = True
    if params.get("init"):
        cs["Init"] = True
    if params.get("stop_grace_period") is not None:
        cs["StopGracePeriod"] = b.duration("stop_grace_period", params["stop_grace_period"])
    if params.get("sysctls"):
        cs["Sysctls"] = _str_dict(params["sysctls"])
    if params.get("ulimits"):
        cs["Ulimits"] = [{"Name": str(u["name"]), "Soft": int(u["soft"]), "Hard": int(u["hard"])}
                         for u in sorted(params["ulimits"], key=lambda u: str(u["name"]))]
    # false is Docker's default, so only true is sent
    if params.get("tty"):
        cs["TTY"] = True
    if params.get("stdin_open"):
        cs["OpenStdin"] = True

    tt = {"ContainerSpec": cs}
    resources = _resources(b, params.get("resources"))
    if resources:
        tt["Resources"] = resources
    rp = params.get("restart_policy")
    if rp:
        policy = {"Condition": rp.get("condition") or "any"}
        if rp.get("delay") is not None:
            policy["Delay"] = b.duration("restart_policy.delay", rp["delay"])
        if rp.get("max_attempts") is not None:
            policy["MaxAttempts"] = int(rp["max_attempts"])
        if rp.get("window") is not None:
            policy["Window"] = b.duration("restart_policy.window", rp["window"])
        tt["RestartPolicy"] = policy
    pl = params.get("placement")
    if pl:
        placement = {}
        if pl.get("constraints"):
            placement["Constraints"] = list(pl["constraints"])
        if pl.get("preferences"):
            prefs = []
            for i, pref in enumerate(pl["preferences"]):
                if not (isinstance(pref, dict) and pref.get("spread")):
                    b.fail("placement.preferences[%d]" % i, "write a preference as {spread: node.labels.zone}")
                prefs.append({"Spread": {"SpreadDescriptor": pref["spread"]}})
            placement["Preferences"] = prefs
        if pl.get("max_replicas"):
            placement["MaxReplicas"] = int(pl["max_replicas"])
        if placement:
            tt["Placement"] = placement
    logging = params.get("logging")
    if logging and logging.get("driver"):
        tt["LogDriver"] = {"Name": logging["driver"]}
        if logging.get("options"):
            tt["LogDriver"]["Options"] = _str_dict(logging["options"])
    networks = []
    network_ids = refs.get("networks") or {}
    for i, net in enumerate(params.get("networks") or []):
        if net["name"] not in network_ids:
            b.fail("networks[%d]" % i, "the network '%s' does not exist in the swarm; create it first (an attachable "
                   "overlay network, e.g. with spin_stack or `docker network create -d overlay`)" % net["name"])
        attachment = {"Target": network_ids[net["name"]]}
        if net.get("aliases"):
            attachment["Aliases"] = [str(a) for a in net["aliases"]]
        networks.append(attachment)
    if networks:
        tt["Networks"] = networks

    spec = {"Name": params["name"], "Labels": _str_dict(params.get("labels")), "TaskTemplate": tt}
    mode = params.get("mode") or "replicated"
    replicas = 1 if params.get("replicas") is None else int(params["replicas"])
    if mode == "global":
        spec["Mode"] = {"Global": {}}
    elif mode == "global-job":
        spec["Mode"] = {"GlobalJob": {}}
    elif mode == "replicated-job" and SCHEDULE_LABEL in (params.get("labels") or {}):
        # a scheduled job is idle between runs: the platform's scheduler starts each run (module_utils/stack/jobs.py)
        spec["Mode"] = {"ReplicatedJob": {"MaxConcurrent": 0, "TotalCompletions": 0}}
    elif mode == "replicated-job":
        if replicas < 1:
            b.fail("replicas", "a job needs at least one task to complete")
        spec["Mode"] = {"ReplicatedJob": {"MaxConcurrent": replicas, "TotalCompletions": replicas}}
    else:
        if replicas < 0:
            b.fail("replicas", "must be 0 or more, not %s (0 stops every task and keeps the service)" % replicas)
        spec["Mode"] = {"Replicated": {"Replicas": replicas}}
    if mode in JOB_MODES and params.get("update_config"):
        b.fail("update_config", "a job has no rolling updates: it runs again when its options change; remove "
               "update_config")
    for option, field in (("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")):
        conf = _update_config(b, option, params.get(option))
        if conf:
            spec[field] = conf

    endpoint_mode = params.get("endpoint_mode") or "dnsrr"
    ports = []
    for i, port in enumerate(params.get("publish") or []):
        mode = port.get("mode") or ("host" if endpoint_mode == "dnsrr" else "ingress")
        if mode == "ingress" and endpoint_mode == "dnsrr":
            b.fail("publish[%d].mode" % i, "a port published in ingress mode needs endpoint_mode vip; with "
                   "endpoint_mode dnsrr publish it with mode: host")
        if not port.get("target_port"):
            b.fail("publish[%d].target_port" % i, "give the container port to publish")
        p = {"Protocol": port.get("protocol") or "tcp", "TargetPort": int(port["target_port"]), "PublishMode": mode}
        if port.get("published_port"):
            p["PublishedPort"] = int(port["published_port"])
        ports.append(p)
    spec["EndpointSpec"] = {"Mode": endpoint_mode}
    if ports:
        spec["EndpointSpec"]["Ports"] = ports
    return spec
