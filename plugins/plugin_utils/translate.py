# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack model (compose.parse_stack) -> the stack's Swarm resources and spin_service params. Pure.

``stack_to_tasks`` names every object like ``docker stack deploy`` does (``<stack>_<name>``;
secrets and configs ``<stack>_<name>_<sha256[:10]>`` because Swarm cannot change them), labels
every object with its owner, and orders the services so that dependencies start first.

Public ports are not published by the services: the platform load balancer publishes them
(issue 4), so every service gets ``publish: []`` and the ports come back as ``endpoints``.

``platform`` holds the platform's defaults; only these keys are read:

- ``endpoint_mode`` (``dnsrr``): for services that do not set ``deploy.endpoint_mode``. Swarm's
  virtual IPs need IPVS in the kernel; DNS round robin works everywhere.
- ``wait`` (``true``), ``wait_timeout`` (``180``) and ``monitor_window`` (``5``, seconds a new task must
  stay running, healthy where it has a healthcheck, before it counts as started): passed to every
  spin_service task.
- ``pin_local_data`` (``true``): spin_service's ``pin_to_data`` for every service.
- ``tenant_constraints`` (none): placement constraints every service gets first, the nodes the platform
  gives tenants (``node.role==worker`` on a real cluster; placement.py).
- ``auto_routes``, ``route_domain``, ``route_port``, ``http_images``, ``http_ports``,
  ``database_images``: what the platform adds by itself (``stack_defaults``: automatic routes,
  generated root passwords).
- ``proxy_ports``: the ports the edge shares by host name (the policy's; the action plugins pass
  them): a service published on one is served at its own host name there.

``filesystems`` (the inventory's ``spin_global_fs``) adds placement by data: a service that
bind-mounts a path inside a global file system runs only on nodes labelled ``spin.fs.<name>=true``
(``placement.py``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re

import yaml

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag, sensitive, units
from ansible_collections.spin.platform.plugins.module_utils.policy import placement
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults
from ansible_collections.spin.platform.plugins.module_utils.stack import bind_store, cron
from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.plugin_utils import compose_checks
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge.claims import HOST_PROTOCOLS

PLATFORM_DEFAULTS = {"endpoint_mode": "dnsrr", "wait": True, "wait_timeout": 180, "monitor_window": 5,
                     "pin_local_data": True, "bind_store": bind_store.DEFAULT_ROOT}
# ports the edge shares between stacks by host name; the action plugins pass the policy's proxy_ports
DEFAULT_PROXY_PORTS = (80, 443)

# the order of docs/design.md; render_task_file writes the parameters in this order
SERVICE_PARAM_KEYS = (
    "name", "state", "image", "command", "entrypoint", "env", "secret_env", "workdir", "user", "hostname", "labels",
    "container_labels", "mode", "replicas", "networks", "endpoint_mode", "publish", "mounts", "healthcheck",
    "restart_policy", "resources", "placement", "update_config", "rollback_config", "secrets", "configs",
    "cap_add", "cap_drop", "read_only", "init", "stop_grace_period", "stop_signal", "logging", "sysctls",
    "ulimits", "tty", "stdin_open", "image_volumes", "pin_to_data", "wait", "wait_timeout", "monitor_window",
)

# modules of the reviewable task file, by resource kind
TASK_MODULES = {
    "networks": "spin.platform.spin_network",
    "volumes": "spin.platform.spin_volume",
    "secrets": "spin.platform.spin_secret",
    "configs": "spin.platform.spin_config",
    "services": "spin.platform.spin_service",
}

MAX_SERVICE_NAME = 63     # Swarm service names are DNS labels
MAX_DATA_NAME = 64        # Swarm secret and config names
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# model keys that spin_service cannot express: policy (issue 5) refuses them first; if one still
# reaches the translator it is an error, never silently dropped
_UNREPRESENTABLE = {
    "privileged": "Swarm cannot run privileged containers",
    "devices": "Swarm cannot give a service host devices",
    "network_mode": "Swarm services join networks; remove network_mode",
    "pid": "Swarm cannot share a PID namespace",
    "ipc": "Swarm cannot share an IPC namespace",
    "userns_mode": "Swarm cannot set the user namespace",
    "security_opt": "security options are not supported",
    "cgroup_parent": "Swarm cannot set the cgroup parent",
    "volumes_from": "Swarm cannot share volumes between containers; use a named volume",
    "uts": "Swarm cannot share the UTS namespace",
    "cgroup": "Swarm cannot set the cgroup namespace",
    "device_cgroup_rules": "Swarm cannot set device cgroup rules",
    "external_links": "services reach only services of their stack",
    "use_api_socket": "the Docker API is never given to a service",
}


def ownership_labels(tenant, stack):
    return {"spin.tenant": tenant, "spin.stack": stack, "com.docker.stack.namespace": stack}


def data_name(stack, name, content_b64):
    """Secrets and configs are immutable: a change of content is a new name."""
    digest = hashlib.sha256(base64.b64decode(content_b64)).hexdigest()[:10]
    return "%s_%s_%s" % (stack, name, digest)


def _fail(problems, file=None, diagnostics=()):
    """One SpinError with every problem; ``problems`` are (service, key, message) of ``file``."""
    diagnostics = list(diagnostics) + [diag.error(file, service, key, message) for service, key, message in problems]
    raise SpinError("the stack cannot be translated:\n%s" % "\n".join(
        diag.format_diagnostic(d) for d in diagnostics), diagnostics=diagnostics)


def _check_names(tenant, stack):
    problems = []
    for what, value in (("tenant", tenant), ("stack", stack)):
        if not isinstance(value, str) or not _STACK_NAME.match(value):
            problems.append((None, None, "the %s name %r must be lower-case letters, digits, '_' and '-'"
                             % (what, value)))
    if problems:
        _fail(problems)


# ---------------------------------------------------------------------------------------------
# stack resources

def _networks(model, stack, owner):
    names, created = {}, []
    for key, net in model["networks"].items():
        if net["external"]:
            names[key] = net["name"] or key
            continue
        names[key] = "%s_%s" % (stack, key)
        created.append({"name": names[key], "driver": net["driver"], "internal": net["internal"],
                        "attachable": net["attachable"], "driver_opts": dict(net["driver_opts"]),
                        "labels": dict(net["labels"], **owner)})
    return names, created


def _volumes(model, stack, owner):
    names, created = {}, []
    for key, vol in model["volumes"].items():
        if vol["external"]:
            names[key] = vol["name"] or key
            continue
        names[key] = "%s_%s" % (stack, key)
        created.append({"name": names[key], "driver": vol["driver"], "driver_opts": dict(vol["driver_opts"]),
                        "labels": dict(vol["labels"], **owner)})
    return names, created


def _data(model, section, stack, owner, problems):
    names, created = {}, []
    for key, item in model[section].items():
        if item["external"]:
            names[key] = item["name"] or key
            continue
        if item["content"] is None:
            problems.append((None, "%s.%s" % (section, key), "has no content"))
            continue
        names[key] = data_name(stack, key, item["content"])
        if len(names[key]) > MAX_DATA_NAME:
            problems.append((None, "%s.%s" % (section, key), "'%s' is longer than %d characters: use a shorter "
                             "stack or %s name" % (names[key], MAX_DATA_NAME, section[:-1])))
        created.append({"name": names[key], "data": item["content"], "labels": dict(item["labels"], **owner)})
    return names, created


# ---------------------------------------------------------------------------------------------
# one service

def _duration(ns):
    return units.format_duration(ns)


def _healthcheck(check):
    if check is None:
        return None
    if check.get("disable"):
        return {"test": ["NONE"]}
    if all(check.get(key) is None for key in ("test", "interval", "timeout", "retries", "start_period")):
        return None  # the image's own healthcheck, unchanged
    return {"test": check["test"], "interval": _duration(check["interval"]),
            "timeout": _duration(check["timeout"]), "retries": check["retries"],
            "start_period": _duration(check["start_period"])}


def _restart_policy(policy):
    if policy is None:
        return None
    return {"condition": policy["condition"], "delay": _duration(policy["delay"]),
            "max_attempts": policy["max_attempts"], "window": _duration(policy["window"])}


def _resources(resources):
    limits, reservations = resources["limits"], resources["reservations"]
    if all(v is None for v in list(limits.values()) + list(reservations.values())):
        return None
    return {"limits": {"cpus": limits["cpus"], "memory": limits["memory"], "pids": limits["pids"]},
            "reservations": {"cpus": reservations["cpus"], "memory": reservations["memory"]}}


def _placement(placement):
    if not (placement["constraints"] or placement["preferences"] or placement["max_replicas_per_node"]):
        return None
    return {"constraints": list(placement["constraints"]),
            "preferences": [dict(p) for p in placement["preferences"]],
            "max_replicas": placement["max_replicas_per_node"]}


def _update_config(config):
    if config is None:
        return None
    return {"parallelism": config["parallelism"], "delay": _duration(config["delay"]),
            "failure_action": config["failure_action"], "monitor": _duration(config["monitor"]),
            "max_failure_ratio": config["max_failure_ratio"], "order": config["order"]}


def _mount(volume, model, volume_names, store_paths=None):
    if volume["type"] == "store":
        # a directory of the submission, synced to the platform's bind store (bind_store.py)
        volume = dict(volume, type="bind", source=store_paths[volume["source"]])
    mount = {"type": volume["type"], "source": volume["source"], "target": volume["target"],
             "readonly": volume["read_only"], "volume_driver": None, "volume_options": None, "volume_labels": None,
             "tmpfs_size": volume.get("tmpfs_size"), "tmpfs_mode": volume.get("tmpfs_mode"),
             "volume_nocopy": bool(volume.get("nocopy"))}
    if volume["type"] == "volume" and volume["source"]:
        mount["source"] = volume_names[volume["source"]]
        declared = model["volumes"][volume["source"]]
        if not declared["external"]:
            # Swarm creates a missing volume on whichever node runs the task, from these
            mount["volume_driver"] = declared["driver"]
            mount["volume_options"] = dict(declared["driver_opts"])
    return mount


def _host_published(svc):
    """The ports a service publishes itself: UDP, which the edge does not forward, in host mode on the
    node that runs each task (the stack claims them like the edge's ports)."""
    return [{"published_port": port["published"], "target_port": port["target"], "protocol": port["protocol"],
             "mode": "host"} for port in svc["ports"] if port["protocol"] in HOST_PROTOCOLS and port["published"]]


def _store_bind(volume, store_paths):
    """A model volume, a bind-store entry as the bind of its directory (placement by data)."""
    return dict(volume, type="bind", source=store_paths[volume["source"]]) if volume["type"] == "store" else volume


def _store_labels(svc, model):
    """A read-write bind-store directory keeps its path when its content changes: a container label with
    the content's digest makes the change an update, so the service restarts on the new files (a
    read-only one is a new directory, and a new mount, anyway)."""
    labels = {}
    for volume in svc["volumes"]:
        entry = (model.get("bind_store") or {}).get(volume["source"]) if volume["type"] == "store" else None
        if entry is not None and not entry["read_only"]:
            labels["spin.bind-store.%s" % volume["source"]] = entry["digest"][:12]
    return labels


def bind_store_tasks(model, tenant, stack, platform, problems):
    """The stack's bind-store entries for the manager (``bind_store.py``), with the path each is
    mounted from: ``{root, tenant, stack, entries: [{key, source, kind, read_only, digest, manifest,
    bytes, files, path}]}``; None when the stack has none."""
    entries = []
    root = platform.get("bind_store") or bind_store.DEFAULT_ROOT
    for key, entry in sorted((model.get("bind_store") or {}).items()):
        if entry.get("digest") is None:
            problems.append((entry["mounts"][0]["service"], entry["mounts"][0]["key"], "the content of '%s' was not "
                             "read, so it cannot be handed over" % entry["source"]))
            continue
        item = {k: entry.get(k) for k in ("source", "kind", "read_only", "digest", "manifest", "bytes", "files")}
        item.update(key=key, path=bind_store.entry_path(root, tenant, stack, key, entry["digest"], entry["read_only"]))
        entries.append(item)
    if not entries:
        return None
    try:
        bind_store.check_root(root)
    except SpinError as exc:
        problems.append((None, None, exc.message))
    return {"root": root, "tenant": tenant, "stack": stack, "entries": entries}


def _refs(refs, names, kind):
    return [{kind + "_name": names[r["source"]], "target": r["target"], "uid": r["uid"], "gid": r["gid"],
             "mode": r["mode"]} for r in refs]


def link_aliases(services):
    """{service: [more names it answers to]}: the aliases other services gave it with links, and its
    own container_name (Compose's containers answer to it)."""
    aliases = {}
    for name, svc in services.items():
        if svc.get("container_name") and svc["container_name"] != name:
            aliases.setdefault(name, []).append(svc["container_name"])
    for svc in services.values():
        for target, names in svc["links"].items():
            for alias in names:
                if alias != target and alias not in aliases.setdefault(target, []):
                    aliases[target].append(alias)
    return aliases


_NO_NEW_PRIVILEGES = re.compile(r"^\s*no-new-privileges\s*([:=]\s*true\s*)?$", re.IGNORECASE)


def _unrepresentable(name, svc):
    empty = compose.empty_service()
    # no-new-privileges is already in force: the engine sets it for every container (daemon.json)
    svc = dict(svc, security_opt=[o for o in svc.get("security_opt") or [] if not _NO_NEW_PRIVILEGES.match(o)])
    return [(name, key, "%s: %s" % ("cannot be translated", reason))
            for key, reason in _UNREPRESENTABLE.items() if svc.get(key, empty[key]) != empty[key]]


def _undeclared(name, svc, model):
    """References the model does not declare (compose.parse_stack reports them first)."""
    refs = [("networks", net) for net in svc["networks"]]
    refs += [("volumes", v["source"]) for v in svc["volumes"] if v["type"] == "volume" and v["source"]]
    refs += [(section, r["source"]) for section in ("secrets", "configs") for r in svc[section]]
    return [(name, section, "%s '%s' is not declared under the top-level %s" % (section[:-1], ref, section))
            for section, ref in refs if ref not in model[section]]


def _schedule_labels(svc):
    """A scheduled job's schedule, for the platform's scheduler (docs/jobs.md)."""
    if not svc.get("schedule"):
        return {}
    return {cron.SCHEDULE_LABEL: svc["schedule"]["cron"], cron.ZONE_LABEL: svc["schedule"]["timezone"]}


def service_params(name, svc, ctx):
    """One compose service of the model -> spin_service parameters (docs/design.md)."""
    stack, owner, platform = ctx["stack"], ctx["owner"], ctx["platform"]
    marks = dict(owner, **{"spin.service": name})
    extra_aliases = ctx["link_aliases"].get(name, [])
    deploy = svc["deploy"]
    params = {
        "name": "%s_%s" % (stack, name), "state": "present", "image": svc["image"],
        "command": svc["command"], "entrypoint": svc["entrypoint"],
        "env": sensitive.split_env(svc["environment"])[0], "secret_env": sensitive.split_env(svc["environment"])[1],
        "workdir": svc["working_dir"], "user": svc["user"], "hostname": svc["hostname"],
        "labels": dict(deploy["labels"], **dict(marks, **_schedule_labels(svc))),
        "container_labels": dict(svc["labels"], **dict(marks, **_store_labels(svc, ctx["model"]))),
        "mode": deploy["mode"], "replicas": None if deploy["mode"].startswith("global") else deploy["replicas"],
        "networks": [{"name": ctx["network_names"][net],
                      "aliases": list(dict.fromkeys([name] + cfg["aliases"] + extra_aliases))}
                     for net, cfg in svc["networks"].items()],
        "endpoint_mode": deploy["endpoint_mode"] or platform["endpoint_mode"],
        "publish": _host_published(svc),
        "mounts": [_mount(v, ctx["model"], ctx["volume_names"], ctx["store_paths"]) for v in svc["volumes"]],
        "healthcheck": _healthcheck(svc["healthcheck"]),
        "restart_policy": _restart_policy(svc["restart_policy"]),
        "resources": _resources(deploy["resources"]),
        "placement": placement.with_platform_constraints(
            placement.with_fs_constraints(_placement(deploy["placement"]), placement.service_filesystems(
                [_store_bind(v, ctx["store_paths"]) for v in svc["volumes"]], ctx["filesystems"])),
            ctx["tenant_constraints"]),
        "update_config": _update_config(deploy["update_config"]),
        "rollback_config": _update_config(deploy["rollback_config"]),
        "secrets": _refs(svc["secrets"], ctx["secret_names"], "secret"),
        "configs": _refs(svc["configs"], ctx["config_names"], "config"),
        "cap_add": list(svc["cap_add"]), "cap_drop": list(svc["cap_drop"]),
        "read_only": svc["read_only"], "init": svc["init"],
        "stop_grace_period": _duration(svc["stop_grace_period"]), "stop_signal": svc["stop_signal"],
        "logging": dict(svc["logging"]) if svc["logging"] else None,
        "sysctls": dict(svc["sysctls"]),
        "ulimits": [dict(limit, name=limit_name) for limit_name, limit in sorted(svc["ulimits"].items())],
        "tty": svc["tty"], "stdin_open": svc["stdin_open"],
        "wait": platform["wait"], "wait_timeout": platform["wait_timeout"],
        "monitor_window": platform["monitor_window"],
        "image_volumes": True, "pin_to_data": bool(platform["pin_local_data"]),
    }
    return {key: params[key] for key in SERVICE_PARAM_KEYS}


def _endpoints(order, services, stack, tenant, config, platform, routes):
    """The public ports and the automatic routes, for the edge. A port the edge shares by host name
    (the policy's proxy ports, 80 and 443) is served at the service's own host name."""
    shared = set(platform.get("proxy_ports") or DEFAULT_PROXY_PORTS)
    out = []
    for name in order:
        hostname = stack_defaults.host_name(name, stack, tenant, config["route_domain"])
        for index, port in enumerate(services[name]["ports"]):
            endpoint = {"service": "%s_%s" % (stack, name), "compose_service": name, "target": port["target"],
                        "published": port["published"], "protocol": port["protocol"], "index": index}
            if port.get("route"):
                # an HTTP port outside the edge's list: served on the service's own route (stack_defaults)
                endpoint.update(published=config["route_port"], hostname=port["route"], key="ports[%d]" % index,
                                origin="service '%s' ports[%d]" % (name, index))
            elif port["published"] in shared and port["protocol"] == "tcp":
                endpoint["hostname"] = hostname
            out.append(endpoint)
        if name in routes:
            out.append({"service": "%s_%s" % (stack, name), "compose_service": name,
                        "target": routes[name]["port"], "published": config["route_port"], "protocol": "tcp",
                        "hostname": routes[name]["hostname"], "key": stack_defaults.ROUTE_KEY,
                        "origin": "service '%s' automatic route" % name})
    return out


def stack_to_tasks(model, tenant, stack, platform=None, filesystems=None, files=None):
    """Stack model -> {networks, volumes, secrets, configs, services (start order), endpoints, wait_for}.

    ``filesystems``: the global file systems (``spin_global_fs``) for placement by data; ``files``:
    the tenant's file names ``{"compose": ...}`` for the messages. ``platform`` also steers what the
    platform adds by itself (``stack_defaults``): automatic routes and generated root passwords.

    Raises SpinError (with diagnostics) for a dependency loop, names Swarm cannot take, or a
    model key spin_service cannot express.
    """
    _check_names(tenant, stack)
    platform = dict(PLATFORM_DEFAULTS, **(platform or {}))
    config = stack_defaults.settings(platform)
    file = (files or {}).get("compose") or "docker-compose.yml"
    owner = ownership_labels(tenant, stack)
    services = model["services"]
    order, cycle = compose_checks.start_order(services)
    problems = []
    if cycle:
        problems.append((cycle[0], "depends_on", "services depend on each other in a loop: %s; remove one "
                         "depends_on or link" % " -> ".join(cycle)))
    network_names, networks = _networks(model, stack, owner)
    volume_names, volumes = _volumes(model, stack, owner)
    secret_names, secrets = _data(model, "secrets", stack, owner, problems)
    for item in secrets:
        item["generate"] = False
    config_names, configs = _data(model, "configs", stack, owner, problems)
    for name in services:
        problems.extend(_unrepresentable(name, services[name]))
        problems.extend(_undeclared(name, services[name], model))
        if len("%s_%s" % (stack, name)) > MAX_SERVICE_NAME:
            problems.append((name, None, "'%s_%s' is longer than %d characters: use a shorter stack or service "
                             "name" % (stack, name, MAX_SERVICE_NAME)))
    routes, route_problems = stack_defaults.automatic_routes(model, tenant, stack, config, file)
    store = bind_store_tasks(model, tenant, stack, platform, problems)
    if problems or route_problems:
        _fail(problems, file, route_problems)
    store_paths = {e["key"]: e["path"] for e in (store or {}).get("entries") or []}
    ctx = {"stack": stack, "owner": owner, "platform": platform, "model": model, "filesystems": filesystems or {},
           "store_paths": store_paths,
           "tenant_constraints": placement.platform_constraints(platform.get("tenant_constraints")),
           "link_aliases": link_aliases(services), "network_names": network_names,
           "volume_names": volume_names, "secret_names": secret_names, "config_names": config_names}
    params = [service_params(name, services[name], ctx) for name in order]
    secrets.extend(_generated_passwords(order, services, params, stack, owner))
    tasks = {
        "networks": networks, "volumes": volumes, "secrets": secrets, "configs": configs,
        "services": params,
        "endpoints": _endpoints(order, services, stack, tenant, config, platform, routes),
        "wait_for": _wait_for(order, services, stack),
        "bind_store": store,
    }
    https = _https(order, services, model, secret_names, file)
    if https["redirect"] or https["certificates"]:
        tasks["https"] = https  # only when asked: the tasks of every other stack stay as they were
    return tasks


def _https(order, services, model, secret_names, file):
    """x-spin.https of the services -> ``{"redirect": [services], "certificates": [{"service", "cert", "key"}]}``
    (cert and key: the Swarm names of the secrets whose content is the tenant's certificate and key;
    spin_stack judges them on the manager, ``tls.tenant_certificate``)."""
    out = {"redirect": [], "certificates": []}
    problems = []
    for name in order:
        https = services[name].get("https")
        if not https:
            continue
        if https["redirect"]:
            out["redirect"].append(name)
        if not https["cert"]:
            continue
        for key in ("cert", "key"):
            secret = (model.get("secrets") or {}).get(https[key])
            if secret is None or secret.get("external") or https[key] not in secret_names:
                problems.append((name, "x-spin.https." + key, "'%s' is not a top-level secret with a file of this "
                                 "stack: declare it (secrets: {%s: {file: ./%s.pem}})"
                                 % (https[key], https[key], https[key])))
        out["certificates"].append({"service": name, "cert": secret_names.get(https["cert"]),
                                    "key": secret_names.get(https["key"])})
    if problems:
        _fail(problems, file, [])
    return out


def public_endpoints(model, tenant, stack, platform=None, files=None):
    """The stack's endpoints for the edge (public ports and automatic routes), as ``stack_to_tasks``
    returns them, without the rest of the translation: the controller checks the load balancer's
    rules with them even when the policy refuses something else. Raises SpinError for a route a
    tenant asked for and cannot have."""
    platform = dict(PLATFORM_DEFAULTS, **(platform or {}))
    config = stack_defaults.settings(platform)
    file = (files or {}).get("compose") or "docker-compose.yml"
    routes, problems = stack_defaults.automatic_routes(model, tenant, stack, config, file)
    if problems:
        _fail([], file, problems)
    order, _cycle = compose_checks.start_order(model["services"])
    return _endpoints(order, model["services"], stack, tenant, config, platform, routes)


def _generated_passwords(order, services, params, stack, owner):
    """A database that names no root password gets a generated one: a secret the deploy fills with
    random bytes once (``data: null, generate: true``), named by the image's ``*_FILE`` variable."""
    generated = []
    for name, svc_params in zip(order, params):
        variable = stack_defaults.root_password(services[name])
        if variable is None:
            continue
        secret = stack_defaults.generated_secret_name(stack, name)
        target = stack_defaults.secret_target(name)
        generated.append({"name": secret, "data": None, "generate": True,
                          "labels": dict(owner, **{stack_defaults.GENERATED_LABEL: variable, "spin.service": name})})
        svc_params["env"][variable] = "/run/secrets/" + target
        svc_params["secrets"].append({"secret_name": secret, "target": target, "uid": "0", "gid": "0",
                                      "mode": 0o444})
    return generated


def _wait_for(order, services, stack):
    """{service: [services it starts only after]}: compose depends_on with service_healthy or
    service_completed_successfully (the others only order the start)."""
    return {"%s_%s" % (stack, name): ["%s_%s" % (stack, target) for target in services[name]["depends_on_conditions"]]
            for name in order if services[name]["depends_on_conditions"]}


# ---------------------------------------------------------------------------------------------
# the reviewable task file

def redacted(item):
    if item.get("generate"):
        return dict(item, data=None)
    raw = base64.b64decode(item["data"])
    return dict(item, data="<redacted: %d bytes>" % len(raw))


def render_task_file(tasks, tenant, stack, inactive=None):
    """The tasks as an Ansible task list (YAML text) for people to review; deterministic.

    Secret contents are redacted; everything else is written as spin.platform applies it.
    ``inactive``: services left out by compose profiles ({service: profiles}), named in the header.
    """
    # plain types only: callers may hand in str subclasses (Ansible's tagged values) yaml cannot dump
    tasks = json.loads(json.dumps(tasks))
    tenant, stack = str(tenant), str(stack)
    entries = []
    for kind in ("networks", "volumes", "secrets", "configs", "services"):
        for item in tasks[kind]:
            params = redacted(item) if kind == "secrets" else item
            if kind == "services":
                # null means "not set": leave it out, so the module's default applies (replicas of a
                # global service are none, and spin_service takes no null for an int)
                params = {key: value for key, value in params.items() if value is not None}
            entries.append({"name": "%s %s" % (kind[:-1].capitalize(), item["name"]), TASK_MODULES[kind]: params})
    header = ("# Stack '%s' of tenant '%s', translated by spin.platform from the tenant's compose files.\n"
              "# For review: the deploy applies the same data. Secret contents are redacted.\n" % (stack, tenant))
    if any(not secret.get("generate") for secret in tasks["secrets"]):
        header += ("# To run it, give spin_secret the submission directory, which holds the secret files:\n"
                   "#   module_defaults: {spin.platform.spin_secret: {data_file: <submission directory>}}\n")
    header += "# Public endpoints (published by the platform load balancer):\n"
    for endpoint in tasks.get("endpoints", []):
        header += "#   %s%s/%s -> %s:%s\n" % (endpoint.get("hostname") + ":" if endpoint.get("hostname") else "",
                                              endpoint["published"] or "(any)", endpoint["protocol"],
                                              endpoint["service"], endpoint["target"])
    store = tasks.get("bind_store") or {}
    if store.get("entries"):
        header += ("# Bind store (relative bind mounts of directories): spin_stack syncs these from the submission "
                   "before the services start;\n# this file mounts them and does not carry their files:\n")
        for entry in store["entries"]:
            header += "#   %s -> %s (%s, %d files, %d bytes, sha256 %s)\n" % (
                entry["source"], entry["path"], "read-only" if entry["read_only"] else "read-write",
                entry.get("files") or 0, entry.get("bytes") or 0, entry["digest"][:12])
    for name, profiles in sorted((inactive or {}).items()):
        header += "# Not deployed: service %s (profiles %s, none of them active)\n" % (name, ", ".join(profiles))
    return header + yaml.dump(entries, Dumper=_ReviewDumper, sort_keys=False, default_flow_style=False, width=120,
                              allow_unicode=True)


class _ReviewDumper(yaml.SafeDumper):
    """Writes every string that holds a Jinja delimiter as ``!unsafe``: the review file is run with
    ansible-playbook, and a tenant's ``{{ lookup('pipe', ...) }}`` must stay text there too."""


def _represent_text(dumper, text):
    if any(mark in text for mark in ("{{", "{%", "{#")):
        return dumper.represent_scalar("!unsafe", text, style="'")
    return dumper.represent_str(text)


_ReviewDumper.add_representer(str, _represent_text)
