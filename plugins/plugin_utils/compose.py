# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker-compose.yml (v2, v3.x, compose-spec) + rancher-compose.yml -> the stack model. Pure.

``parse_stack`` returns ``(model, diagnostics)``: it never stops at the first problem, and the
caller creates nothing while ``has_errors(diagnostics)``. The model's shape is fixed in
docs/design.md; docs/compose-keys.md says what each compose key becomes.

Files other than the compose files (env_file, label_file, secrets/configs ``file:``, ``extends``
with ``file:``) are read through the caller's ``read_file(relpath)`` callback, so this module
does no I/O itself; ``compose_text.make_dir_reader`` builds that callback for a submission directory.

The work is table-driven: ``SERVICE_KEYS`` maps each supported service key to a handler,
``REFUSED_KEYS`` / ``IGNORED_KEYS`` give the reason for each key that spin.platform refuses or
ignores, and every other key is an error with a did-you-mean suggestion.

This file is the parser's entry: the key tables (``SERVICE_KEYS``, ``REFUSED_KEYS``,
``IGNORED_KEYS``, ``RANCHER_KEYS``), the per-service driver (``_x_spin``, ``_parse_service``,
``_finish_service``, ``_apply_rancher``, ``_parse_lb``) and ``parse_stack``. The rest, by seam
(docs/design.md, "The compose parser's files"): ``compose_state`` (parse state, ``empty_service``),
``compose_keys_basic`` / ``_ports`` / ``_volumes`` / ``_refs`` / ``_deploy`` (the service key
handlers), ``compose_rancher`` (rancher-compose handlers, lb_config), ``compose_sections`` (top-level
networks/volumes/secrets/configs), ``compose_load`` (the files, version, top keys, profiles),
``compose_merge`` (several files, include), ``compose_extends``, ``compose_text`` (reading,
interpolation, env files), ``compose_values`` (value checks) and ``compose_checks`` (checks across
services, the start order).
"""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.stack import cron
from ansible_collections.spin.platform.plugins.plugin_utils import compose_merge
from ansible_collections.spin.platform.plugins.plugin_utils.compose_checks import (
    check_cycles, check_lb_rules, check_published, check_references, settle_conditions, settle_volumes_from)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_extends import resolve
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_basic import (
    carried_list, carried_string, k_build, k_cap_add, k_cap_drop, k_command, k_container_name, k_cpus, k_devices,
    k_entrypoint, k_env_file, k_environment, k_hostname, k_ignore, k_image, k_init, k_label_file, k_labels,
    k_mem_limit, k_mem_reservation, k_pids_limit, k_privileged, k_read_only, k_scale, k_stdin_open,
    k_stop_grace_period, k_stop_signal, k_sysctls, k_tty, k_ulimits, k_use_api_socket, k_user, k_working_dir)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_deploy import k_deploy
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_ports import k_expose, k_ports, port_number
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_refs import (
    k_configs, k_depends_on, k_healthcheck, k_links, k_log_driver, k_log_opt, k_logging, k_networks, k_restart,
    k_secrets)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_volumes import (
    k_shm_size, k_tmpfs, k_volumes, shm_mount)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_load import (
    active_profiles, default_network, empty_model, load_compose, load_rancher, profiles_of)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_rancher import (
    is_lb, lb_config, lb_port_text, r_health_check, r_scale, r_start_on_create, r_upgrade_strategy,
    rancher_health_check)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_sections import parse_section
from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import (
    DEFAULT_NETWORK, NAME_RE, Service, State)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, did_you_mean, kind, nonempty_str, restart_policy, unknown_key)
from ansible_collections.spin.platform.plugins.module_utils.common.diagnostics import diagnostic
from ansible_collections.spin.platform.plugins.plugin_utils.compose_load import (
    RANCHER_TOP_KEYS, TOP_IGNORED, TOP_KEYS, TOP_REFUSED)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import empty_service, raise_for_errors
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import parse_env_file

# what callers use (translate, submission, the action plugins' tests): this file's API
__all__ = [
    "parse_stack", "empty_model", "empty_service", "raise_for_errors", "active_profiles", "diagnostic",
    "parse_env_file", "SERVICE_KEYS", "REFUSED_KEYS", "IGNORED_KEYS", "ALL_SERVICE_KEYS", "RANCHER_KEYS",
    "RANCHER_REFUSED", "RANCHER_IGNORED", "ALL_RANCHER_KEYS", "TOP_KEYS", "TOP_REFUSED", "TOP_IGNORED",
    "RANCHER_TOP_KEYS",
]


# ---------------------------------------------------------------------------------------------
# the tables: every service key the compose schemas know is here, or an error names it unknown

SERVICE_KEYS = {
    "image": k_image, "build": k_build, "extends": k_ignore, "profiles": k_ignore,
    "command": k_command, "entrypoint": k_entrypoint,
    "environment": k_environment, "env_file": k_env_file,
    "labels": k_labels, "label_file": k_label_file,
    "ports": k_ports, "expose": k_expose, "volumes": k_volumes, "tmpfs": k_tmpfs,
    "networks": k_networks, "links": k_links, "depends_on": k_depends_on,
    "healthcheck": k_healthcheck, "restart": k_restart, "deploy": k_deploy, "scale": k_scale,
    "user": k_user, "working_dir": k_working_dir, "hostname": k_hostname, "container_name": k_container_name,
    "secrets": k_secrets, "configs": k_configs,
    "cap_add": k_cap_add, "cap_drop": k_cap_drop, "read_only": k_read_only, "init": k_init,
    "tty": k_tty, "stdin_open": k_stdin_open, "ulimits": k_ulimits,
    "stop_grace_period": k_stop_grace_period, "stop_signal": k_stop_signal,
    "logging": k_logging, "log_driver": k_log_driver, "log_opt": k_log_opt, "sysctls": k_sysctls,
    "mem_limit": k_mem_limit, "mem_reservation": k_mem_reservation, "cpus": k_cpus,
    "pids_limit": k_pids_limit,
    # carried for policy
    "privileged": k_privileged, "devices": k_devices, "use_api_socket": k_use_api_socket,
    "network_mode": carried_string("network_mode"), "pid": carried_string("pid"),
    "ipc": carried_string("ipc"), "userns_mode": carried_string("userns_mode"),
    "cgroup_parent": carried_string("cgroup_parent"), "uts": carried_string("uts"),
    "cgroup": carried_string("cgroup"), "security_opt": carried_list("security_opt"),
    "volumes_from": carried_list("volumes_from"), "external_links": carried_list("external_links"),
    "shm_size": k_shm_size,
    "device_cgroup_rules": carried_list("device_cgroup_rules"),
}

_CPU_KNOB = "Swarm cannot set it; limit CPUs with deploy.resources.limits.cpus"
REFUSED_KEYS = {
    "annotations": "Swarm services have no annotations; use labels",
    "blkio_config": "Swarm cannot limit block I/O",
    "cpu_count": _CPU_KNOB, "cpu_percent": _CPU_KNOB, "cpu_shares": _CPU_KNOB, "cpu_quota": _CPU_KNOB,
    "cpu_period": _CPU_KNOB, "cpu_rt_period": _CPU_KNOB, "cpu_rt_runtime": _CPU_KNOB, "cpuset": _CPU_KNOB,
    "credential_spec": "it applies to Windows containers only",
    "dns": "the platform sets DNS; services reach each other by name",
    "dns_opt": "the platform sets DNS; services reach each other by name",
    "dns_search": "the platform sets DNS; services reach each other by name",
    "extra_hosts": "/etc/hosts entries are not supported; reach other services by name",
    "gpus": "the platform has no GPUs",
    "group_add": "supplementary groups are not supported; run as a user that has the groups",
    "isolation": "it applies to Windows containers only",
    "mac_address": "Swarm assigns MAC addresses",
    "models": "AI models are not supported",
    "provider": "provider services are not supported",
    "post_start": "lifecycle hooks are not supported",
    "pre_stop": "lifecycle hooks are not supported",
    "runtime": "the platform chooses the container runtime",
    "storage_opt": "Swarm cannot set storage options",
    "volume_driver": "declare the volume under the top-level volumes, with its driver",
}
IGNORED_KEYS = {
    "mem_swappiness": "Swarm cannot set it",
    "memswap_limit": "Swarm cannot set it; memory is limited by mem_limit or deploy.resources",
    "oom_kill_disable": "Swarm cannot set it",
    "oom_score_adj": "Swarm cannot set it on this engine",
    "domainname": "Swarm cannot set it; use hostname",
    "pull_policy": "images are never pulled: they must be on the nodes",
    "pull_refresh_after": "images are never pulled: they must be on the nodes",
    "platform": "the image on the nodes decides the platform",
    "attach": "nothing attaches to a service's output; see its logs",
    "develop": "development (watch) settings do not apply to a deployment",
}
ALL_SERVICE_KEYS = sorted(set(SERVICE_KEYS) | set(REFUSED_KEYS) | set(IGNORED_KEYS))


def _x_spin(sp, value, keys=("route", "https", "schedule")):
    """The platform's own compose extension (``keys``: what the file may set): ``x-spin: {route: false
    | true | <port>}`` turns a service's automatic route off, or asks for it on a port; ``https`` asks
    for a redirect to HTTPS or brings the tenant's certificate (docs/load-balancer.md); ``schedule`` runs
    the service as a job on a schedule (docs/jobs.md)."""
    fields = sp.fields("x-spin", value, {key: None for key in keys}) or {}
    if "https" in fields:
        _x_spin_https(sp, fields["https"])
    if "route" in fields:
        route = fields["route"]
        if isinstance(route, bool):
            sp.model["route"] = route
        else:
            sp.model["route"] = sp.check("x-spin.route", port_number, route)
    if "schedule" in fields:
        sp.model["schedule"] = sp.check("x-spin.schedule", _schedule, fields["schedule"])


def _x_spin_https(sp, value):
    """``x-spin: {https: redirect}`` (plain HTTP answers with a redirect to HTTPS) or
    ``{https: {redirect: true, cert: <secret>, key: <secret>}}``: the tenant's own certificate (with its
    chain) and key, each a top-level secret with a file (docs/load-balancer.md, "HTTPS")."""
    if value == "redirect":
        sp.model["https"] = {"redirect": True, "cert": None, "key": None}
        return
    if not isinstance(value, dict):
        sp.error("x-spin.https", "give 'redirect', or {redirect: true, cert: <secret>, key: <secret>} naming two "
                 "top-level secrets with the certificate and its key")
        return
    fields = sp.fields("x-spin.https", value, {"redirect": None, "cert": None, "key": None}) or {}
    out = {"redirect": False, "cert": None, "key": None}
    if "redirect" in fields:
        if not isinstance(fields["redirect"], bool):
            sp.error("x-spin.https.redirect", "give true or false")
        else:
            out["redirect"] = fields["redirect"]
    for key in ("cert", "key"):
        if fields.get(key) is not None:
            out[key] = sp.check("x-spin.https." + key, nonempty_str, fields[key])
    if bool(out["cert"]) != bool(out["key"]):
        sp.error("x-spin.https", "give both cert and key (each the name of a top-level secret), or neither")
    sp.model["https"] = out


def _schedule(value):
    """``"*/5 * * * *"`` or ``{cron: "*/5 * * * *", timezone: Europe/Zurich}`` -> {cron, timezone}."""
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in ("cron", "timezone"))
        if unknown or "cron" not in value:
            raise Invalid("takes a cron expression, or a mapping with cron and (optionally) timezone%s" % (
                ": remove %s" % ", ".join(unknown) if unknown else ""))
        text, zone = value.get("cron"), value.get("timezone")
    else:
        text, zone = value, None
    try:
        cron.parse(text)
    except ValueError as exc:
        raise Invalid("%s; write instead e.g. schedule: \"*/5 * * * *\" (minute hour day-of-month month "
                      "day-of-week, UTC) or schedule: {cron: \"30 2 * * *\", timezone: Europe/Zurich}" % exc,
                      key="x-spin.schedule.cron" if isinstance(value, dict) else None)
    if zone is not None:
        if not isinstance(zone, str):
            raise Invalid("must be a time zone name such as UTC or Europe/Zurich", key="x-spin.schedule.timezone")
        try:
            cron.zone_of(zone)
        except ValueError as exc:
            raise Invalid(str(exc), key="x-spin.schedule.timezone")
    return {"cron": " ".join(str(text).split()), "timezone": zone or cron.DEFAULT_ZONE}


def _parse_service(st, file, name, raw):
    sp = Service(st, file, name, raw)
    for key, value in raw.items():
        key = str(key)
        if key == "x-spin":
            _x_spin(sp, value)
            continue
        if key.startswith("x-"):
            continue
        if key in SERVICE_KEYS:
            try:
                SERVICE_KEYS[key](sp, value)
            except Invalid as exc:
                sp.error(exc.key or key, exc.message)
        elif key in REFUSED_KEYS:
            sp.error(key, "not supported on spin.platform: " + REFUSED_KEYS[key])
        elif key in IGNORED_KEYS:
            sp.warning(key, "ignored on spin.platform: " + IGNORED_KEYS[key])
        else:
            sp.error(key, unknown_key(key, ALL_SERVICE_KEYS))
    return sp


def _finish_service(sp):
    """Settle what depends on several keys, once the compose and rancher keys are in."""
    model, raw = sp.model, sp.raw
    environment = dict(sp.env_file_vars)
    for name, value in sp.environment.items():
        if value is None:
            value = sp.st.env.get(name)
            if value is None:
                sp.warning("environment.%s" % name, "has no value and the stack's variables do not set it: dropped")
                continue
        environment[name] = str(value)
    model["environment"] = environment
    model["labels"] = dict(sp.label_file_vars, **sp.labels)
    shm_mount(sp)
    if "build" in raw:
        if model["image"]:
            sp.warning("image", "'%s' does not name the built image: the platform tags what it builds "
                       "<registry>/<tenant>/<stack>-%s:<content hash>" % (model["image"], sp.name))
    elif not model["image"] and "image" not in raw:
        sp.error("image", "missing: every service needs an image")
    if model["network_mode"] is not None and "networks" in raw:
        sp.error("network_mode", "cannot be combined with networks: remove one of them")
    if not model["networks"] and model["network_mode"] is None:
        model["networks"] = {DEFAULT_NETWORK: {"aliases": []}}
    if model["deploy"]["mode"].startswith("global") and sp.replicas_set:
        sp.error("deploy.mode", "a global service runs one task per node: remove replicas/scale")
    if model["deploy"]["mode"].startswith("global"):
        model["deploy"]["replicas"] = None
    elif not model["start_on_create"] and model["deploy"]["mode"] == "replicated":
        model["deploy"]["replicas"] = 0
    if model["schedule"]:
        _scheduled_job(sp, model)
    return model


def _scheduled_job(sp, model):
    """A service with x-spin.schedule runs as a Swarm job, one task per run (docs/jobs.md): what a
    job cannot have is refused here, with what to write instead."""
    deploy = model["deploy"]
    if deploy["mode"] not in ("replicated", "replicated-job"):
        sp.error("deploy.mode", "'%s' cannot run on a schedule: a scheduled job runs one task per run; remove "
                 "deploy.mode (or write replicated-job)" % deploy["mode"])
    if sp.replicas_set and deploy["replicas"] != 1:
        sp.error("deploy.replicas", "a scheduled job runs one task per run, not %s: remove replicas/scale"
                 % deploy["replicas"])
    if deploy["update_config"]:
        sp.error("deploy.update_config", "a scheduled job has no rolling updates (each run starts the current "
                 "version): remove update_config / upgrade_strategy")
    if model["ports"]:
        sp.error("ports", "a scheduled job serves no port: remove ports, or run the server as a service of its own")
    if model["route"] not in (None, False):
        sp.error("x-spin.route", "a scheduled job serves no route: remove x-spin.route")
    if not model["start_on_create"]:
        sp.error("start_on_create", "a scheduled job starts only on its schedule anyway: remove start_on_create")
    deploy["mode"], deploy["replicas"] = "replicated-job", 1
    model["route"] = False
    if (model["restart_policy"] or {}).get("condition") == "any":
        sp.error("restart", "a scheduled job's run ends, it is not restarted forever: write restart: \"no\" "
                 "(the default for a scheduled job) or on-failure")
    if model["restart_policy"] is None:
        # a run that fails is recorded and the next slot runs again; a retry would overlap that slot
        model["restart_policy"] = restart_policy("none")


# ---------------------------------------------------------------------------------------------
# rancher-compose.yml: the tables of its service keys (their handlers are in compose_rancher)

# lb_config is not here: it makes the service a load balancer (is_lb, _parse_lb)
RANCHER_KEYS = {"scale": r_scale, "start_on_create": r_start_on_create, "health_check": r_health_check,
                "upgrade_strategy": r_upgrade_strategy}
RANCHER_REFUSED = {
    "external_ips": "external services are not supported",
    "hostname": "external services are not supported",
    "vcpu": "virtual machines are not supported", "memory": "virtual machines are not supported",
    "userdata": "virtual machines are not supported", "disks": "virtual machines are not supported",
    "network_driver": "Rancher drivers are not supported", "storage_driver": "Rancher drivers are not supported",
}
RANCHER_IGNORED = {
    "retain_ip": "Swarm gives each task its own address",
    "metadata": "there is no Rancher metadata service",
    "drain_timeout_ms": "Swarm stops tasks after stop_grace_period",
}
ALL_RANCHER_KEYS = sorted(set(RANCHER_KEYS) | {"lb_config"} | set(RANCHER_REFUSED) | set(RANCHER_IGNORED))


def _apply_rancher(sp, entry, file, keys=None):
    """Run the rancher-compose keys of one service (``keys`` limits which ones apply)."""
    compose_file, sp.file = sp.file, file
    for key, value in entry.items():
        key = str(key)
        if key == "x-spin" and keys is None:
            _x_spin(sp, value, keys=("schedule",))     # rancher-compose has no route key: the compose file's
            continue
        if key.startswith("x-"):
            continue
        if key in RANCHER_KEYS and (keys is None or key in keys):
            try:
                RANCHER_KEYS[key](sp, value)
            except Invalid as exc:
                sp.error(exc.key or key, exc.message)
        elif key in RANCHER_KEYS:
            sp.warning(key, "ignored on a load balancer: spin.platform runs the load balancer itself")
        elif key in RANCHER_REFUSED:
            sp.error(key, "not supported on spin.platform: " + RANCHER_REFUSED[key])
        elif key in RANCHER_IGNORED:
            sp.warning(key, "ignored on spin.platform: " + RANCHER_IGNORED[key])
        else:
            sp.error(key, unknown_key(key, ALL_RANCHER_KEYS))
    sp.file = compose_file


# ---------------------------------------------------------------------------------------------
# load balancers (their parts are in compose_rancher)

def _parse_lb(st, file, name, raw, entry, rancher_name):
    """A load balancer declaration -> model load_balancers[name] (issue 4 turns it into HAProxy)."""
    sp = Service(st, file, name, raw)
    lb = {"ports": [], "port_rules": [], "stickiness": None, "certs": [], "default_cert": None,
          "health_check": None}
    for key, value in raw.items():
        key = str(key)
        if key == "ports":
            sp.check("ports", k_ports, sp, value)
        elif key in ("image", "labels") or key.startswith("x-"):
            continue
        elif key in ALL_SERVICE_KEYS:
            sp.warning(key, "ignored on a load balancer: spin.platform runs the load balancer itself")
        else:
            sp.error(key, unknown_key(key, ALL_SERVICE_KEYS))
    lb["ports"] = [lb_port_text(p) for p in sp.model["ports"]]
    sp.file = rancher_name
    if "lb_config" in entry:
        lb_config(sp, lb, entry["lb_config"])
    else:
        st.warning(file, name, None, "a load balancer without lb_config in %s forwards nothing: add port_rules"
                   % rancher_name)
    if "health_check" in entry:
        lb["health_check"] = rancher_health_check(sp, "health_check", entry["health_check"])
    rest = {k: v for k, v in entry.items() if k not in ("lb_config", "health_check")}
    _apply_rancher(sp, rest, rancher_name, keys=())
    published = {int(text.split(":")[0]) for text in lb["ports"]}
    for i, rule in enumerate(lb["port_rules"]):
        if not lb["ports"] or rule["source_port"] is None:
            continue
        if rule["source_port"] not in published:
            sp.error("lb_config.port_rules[%d].source_port" % i,
                     "%d is not among the load balancer's ports (%s): add it to its ports in %s"
                     % (rule["source_port"], ", ".join(lb["ports"]), file))
    if not lb["ports"]:
        sources = sorted({r["source_port"] for r in lb["port_rules"] if r["source_port"]})
        lb["ports"] = ["%d:%d" % (port, port) for port in sources]
    return lb


# ---------------------------------------------------------------------------------------------
# parse_stack

def parse_stack(compose_text, compose_name, rancher_text=None, rancher_name=None, read_file=None, env=None,
                profiles=None, stat_file=None, override_names=()):
    """Parse a submission -> ``(model, diagnostics)``; see docs/design.md for both shapes.

    ``override_names``: compose files of the submission merged over the first, in order (``docker
    compose -f a -f b``), read through ``read_file``; ``include:`` entries are read the same way
    (``compose_merge``).

    ``read_file(relpath)`` returns the text of a file of the submission or raises SpinError;
    ``stat_file(relpath)`` says whether a path of a relative bind mount is a file (with its mode),
    a directory (with its files) or missing (``make_dir_stat``; without it, what ``read_file`` can
    read is a file); ``env`` holds the variables for ``${VAR}``; ``profiles`` the active compose profiles (None:
    COMPOSE_PROFILES of ``env``). A service with profiles of which none is active is left out, as
    Compose leaves it out. The model is complete only when ``has_errors(diagnostics)`` is false.
    """
    rancher_name = rancher_name or "rancher-compose.yml"
    st = State(compose_name, read_file, env, stat_file)
    active = active_profiles(profiles, env)
    model = empty_model()
    data = load_compose(st, compose_text, compose_name)
    rancher = load_rancher(st, rancher_text, rancher_name)
    if data is None:
        return model, st.diagnostics
    data = compose_merge.load_files(st, data, override_names, lambda text, name, override: load_compose(
        st, text, name, override))
    data = compose_merge.resolve_tags(compose_merge.include(st, data, compose_name, lambda text, name, override:
                                                            load_compose(st, text, name, override)))
    for section in ("networks", "volumes", "secrets", "configs"):
        model[section] = parse_section(st, compose_name, section, data.get(section))
    st.declared_configs = set(model["configs"])
    services = data["services"]
    st.files[compose_name] = services
    for name in services:
        name = str(name)
        if not NAME_RE.match(name):
            st.error(compose_name, name, None, "'%s' is not a valid service name: use letters, digits, '_', '.' "
                     "and '-', starting with a letter or digit" % name)
            continue
        raw = resolve(st, compose_name, name)
        if not isinstance(raw, dict):
            st.error(compose_name, name, None, "must be a mapping of keys, not %s" % kind(raw))
            continue
        inactive = profiles_of(st, compose_name, name, raw, active)
        if inactive:
            st.inactive[name] = inactive
            continue
        entry = rancher.get(name, {})
        if is_lb(raw, entry):
            model["load_balancers"][name] = _parse_lb(st, compose_name, name, raw, entry, rancher_name)
            continue
        sp = _parse_service(st, compose_name, name, raw)
        _apply_rancher(sp, entry, rancher_name)
        model["services"][name] = _finish_service(sp)
    for name in rancher:
        if name in st.inactive:
            continue
        if name not in services:
            st.error(rancher_name, name, None, "is not a service of %s%s" % (compose_name,
                                                                             did_you_mean(name, services)))
    for name, entry in sorted(st.bind_files.items()):
        model["configs"][name] = {"content": entry["content"], "external": False, "name": None, "labels": {},
                                  "source_file": entry["path"]}
    model["bind_store"] = {key: dict(entry, mounts=[dict(m) for m in entry["mounts"]])
                           for key, entry in sorted(st.bind_store.items())
                           if any(m["service"] in model["services"] for m in entry["mounts"])}
    if any(DEFAULT_NETWORK in s["networks"] for s in model["services"].values()):
        model["networks"].setdefault(DEFAULT_NETWORK, default_network())
    settle_volumes_from(st, compose_name, model)
    check_references(st, compose_name, model, set(model["load_balancers"]))
    settle_conditions(st, compose_name, model)
    check_published(st, compose_name, model)
    check_lb_rules(st, rancher_name, model)
    check_cycles(st, compose_name, model)
    model["inactive"] = dict(st.inactive)
    return model, st.diagnostics
