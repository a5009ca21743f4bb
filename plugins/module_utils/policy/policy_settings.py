# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy's settings (issue 5). Pure: the rules and what each refuses, Spin's defaults, the
shape and wording of a violation, and ``merge_policy(platform_vars)``, which builds the policy from
the defaults and the inventory's ``spin_global_fs_roots`` / ``spin_policy`` / ``spin_tenants``
(``validate_tenants`` checks the tenant registry). The rules themselves are ``policy``'s."""
from __future__ import annotations

import copy
import difflib
import posixpath
import re

from ansible_collections.spin.platform.plugins.module_utils.edge import allowance
from ansible_collections.spin.platform.plugins.module_utils.policy import resources
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.capabilities import short_name
from ansible_collections.spin.platform.plugins.module_utils.common.ports import is_port_list, port_set

# rule id -> what it refuses (docs/policy.md has an allowed and a refused example of each)
RULES = {
    "unknown-tenant": "a tenant that is not in the platform's registry (spin_tenants)",
    "name": "tenant, stack and service names that do not match the safe patterns",
    "reserved-label": "labels in the platform's namespaces (spin.*, com.docker.stack.*)",
    "global-fs-user": "a service that mounts a global file system and does not run as the tenant's uid",
    "global-fs-path": "a global file system path outside the tenant's allowed paths",
    "global-fs-read-only": "a read-write mount of a global file system (unless allowed)",
    "global-fs-placement": "a mount of a global file system that no node carries (spin_global_fs, role global_fs)",
    "placement": "placement constraints and preferences by anything but node labels outside the platform's "
                 "namespaces and the nodes' OS and architecture (managers, the platform's own nodes)",
    "cap-add": "capabilities outside the allow-list (NET_BIND_SERVICE only with a global file system)",
    "privileged": "privileged: true",
    "devices": "host devices and device cgroup rules",
    "host-namespace": "the host's (or another container's) network, pid, ipc, user, uts or cgroup namespace",
    "security-opt": "security_opt entries that turn off seccomp, AppArmor, labelling or no-new-privileges",
    "docker-socket": "the Docker socket, or a directory that holds it",
    "host-path": "bind mounts of host paths outside the allowed roots",
    "sysctls": "sysctls outside the allow-list",
    "published-port": "published ports outside the platform's allowed sets",
    "image": "images outside the allowed registries and names",
    "build": "builds from base images outside the allowed ones, with network, secrets or SSH",
    "replica-quota": "more replicas than the tenant's quota, over all its stacks",
    "resource-quota": "more CPU or memory (limits or reservations, times the replicas) than the tenant's quota, "
                      "over all its stacks",
    "resource-size": "a service asking more CPU or memory than any node has",
    "cgroup-parent": "cgroup_parent",
    "volumes-from": "volumes_from (another container's volumes)",
    "external-links": "external_links (containers outside the stack)",
    "external-network": "external networks (networks the stack does not own)",
    "external-volume": "external volumes (volumes the stack does not own)",
    "external-secret": "external secrets (secrets the stack does not own)",
    "external-config": "external configs (configs the stack does not own)",
    "volume-driver": "volume drivers outside the allow-list, and driver_opts (they mount host paths)",
    "network-driver": "network drivers outside the allow-list",
    "ownership": "a stack whose objects belong to another tenant, or to no tenant",
    "engine-no-new-privileges": "an engine that does not enforce no-new-privileges",
}

# The Docker capability names without CAP_ (docker run --cap-add accepts these).
SPIN_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE"]

DEFAULT_POLICY = {
    # roots of the centre's global file systems (inventory: spin_global_fs_roots)
    "global_fs_roots": ["/global/cfs", "/global/homes"],
    "global_fs_read_write": False,
    "global_fs_cap_add": ["NET_BIND_SERVICE"],
    # a service gets cap_drop ALL, and these when it names no cap_add itself
    "cap_add": list(SPIN_CAPABILITIES),
    # host paths tenants may bind besides the global file systems (none: use named volumes)
    "host_path_roots": [],
    "docker_socket_paths": ["/var/run/docker.sock", "/run/docker.sock"],
    # Kubernetes' "safe" sysctls: namespaced, they touch only the container
    "sysctls": ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"],
    # ports of the central proxy: shared by all tenants, routed by hostname (HTTP / HTTPS only)
    "proxy_ports": [80, 443],
    "proxy_protocols": ["http", "https"],
    # images: name patterns (fnmatch, optional :tag) of local images, and registries (host[/prefix])
    "images": ["httpd", "mysql", "mariadb", "spin/httpd", "spin/mariadb"],
    "registries": [],
    # compose build: images a Dockerfile may start FROM besides those above; RUN steps without
    # network unless build_network; a build stopped after build_timeout seconds; a context of at
    # most build_context_bytes
    "build_base_images": ["spin/base"],
    "build_network": False,
    "build_timeout": 600,
    "build_context_bytes": 100 * 1024 * 1024,
    # relative bind mounts of directories (and of files too large for a config) are synced to the platform's
    # bind store: at most this many bytes and files over a stack's bind mounts
    "bind_store_bytes": 64 * 1024 * 1024,
    "bind_store_files": 10000,
    "default_replica_quota": 10,
    # what a service gets where its deploy.resources names nothing (per replica; None: no limit or reservation)
    "default_resources": {"limits": {"cpus": 1, "memory": "1g"}, "reservations": {"cpus": None, "memory": None}},
    # a tenant's CPU and memory over all its stacks, unless its registry entry's quota says otherwise
    "default_resource_quota": {"limits": {"cpus": 16, "memory": "16g"}, "reservations": {"cpus": 4, "memory": "8g"}},
    "name_patterns": {
        # no '_' in tenant and stack names: '<stack>_' then names the stack's objects unambiguously
        "tenant": r"^[a-z][a-z0-9-]{0,31}$",
        "stack": r"^[a-z][a-z0-9-]{0,23}$",
        "service": r"^[a-z][a-z0-9_-]{0,31}$",
    },
    "security_opt": ["no-new-privileges", "no-new-privileges=true"],
    "volume_drivers": ["local"],
    "volume_driver_opts": False,
    "network_drivers": ["overlay"],
    # external objects a stack may use, by name pattern (none: a stack uses only its own)
    "external": {"networks": [], "volumes": [], "secrets": [], "configs": []},
    "reserved_label_prefixes": ["spin.", "com.docker.stack."],
    "require_no_new_privileges": True,
    "disabled_rules": [],
}

# spin_policy keys that are not policy values
_NOT_IN_SPIN_POLICY = {
    "global_fs_roots": "set spin_global_fs_roots instead",
    # one setting for the ports: the edge publishes every port a stack may claim
    "published_ports": "the ports stacks may publish are the edge's, spin_lb_ports (one setting for the policy "
                       "and the load balancer); remove published_ports",
}


# ---------------------------------------------------------------------------------------------
# violations

def violation(rule, file, service, key, message, fix):
    return {"rule": rule, "file": file, "service": service, "key": key, "message": message, "fix": fix}


def format_violation(v):
    """``docker-compose.yml: service 'web': key 'user': [global-fs-user] message; fix``"""
    parts = []
    if v.get("file"):
        parts.append(v["file"])
    if v.get("service"):
        parts.append("service '%s'" % v["service"])
    if v.get("key"):
        parts.append("key '%s'" % v["key"])
    text = "[%s] %s" % (v["rule"], v["message"])
    if v.get("fix"):
        text += "; " + v["fix"]
    return ": ".join(parts + [text])


# ---------------------------------------------------------------------------------------------
# the policy from platform variables

def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def _is_bool(value):
    return isinstance(value, bool)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_CHECKS = {
    "global_fs_read_write": (_is_bool, "true or false"),
    "global_fs_cap_add": (_is_str_list, "a list of capability names"),
    "cap_add": (_is_str_list, "a list of capability names"),
    "host_path_roots": (_is_str_list, "a list of absolute paths"),
    "docker_socket_paths": (_is_str_list, "a list of absolute paths"),
    "sysctls": (_is_str_list, "a list of sysctl names or patterns"),
    "proxy_ports": (is_port_list, "a list of ports"),
    "proxy_protocols": (_is_str_list, "a list of load balancer protocols"),
    "images": (_is_str_list, "a list of image name patterns"),
    "registries": (_is_str_list, "a list of registries (host[:port][/prefix])"),
    "build_base_images": (_is_str_list, "a list of image name patterns"),
    "build_network": (_is_bool, "true or false"),
    "build_timeout": (_is_count, "a number of seconds"),
    "build_context_bytes": (_is_count, "a number of bytes"),
    "bind_store_bytes": (_is_count, "a number of bytes"),
    "bind_store_files": (_is_count, "a number of files"),
    "default_replica_quota": (_is_count, "a whole number >= 0"),
    "security_opt": (_is_str_list, "a list of security options"),
    "volume_drivers": (_is_str_list, "a list of volume driver names"),
    "volume_driver_opts": (_is_bool, "true or false"),
    "network_drivers": (_is_str_list, "a list of network driver names"),
    "reserved_label_prefixes": (_is_str_list, "a list of label prefixes"),
    "require_no_new_privileges": (_is_bool, "true or false"),
    "disabled_rules": (_is_str_list, "a list of rule names"),
}


def port_numbers(items):
    """``[80, "8000-8002"]`` -> ``[80, 8000, 8001, 8002]`` (the items were checked by merge_policy)."""
    return sorted(port_set(items))


def _did_you_mean(word, candidates):
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return " (did you mean '%s'?)" % close[0] if close else ""


# what a registry entry holds: ports and hostnames narrow the edge's for this tenant (allowance.py)
TENANT_KEYS = ("uid", "gid", "paths", "quota") + allowance.KEYS


def validate_tenants(tenants):
    """Errors of the tenant registry ``spin_tenants`` (infra staff's data), as strings."""
    errors = []
    if tenants is None:
        return errors
    if not isinstance(tenants, dict):
        return ["spin_tenants must be a mapping of tenant name -> {uid, gid, paths, quota, ports, hostnames}"]
    owners = {}
    for name, entry in tenants.items():
        where = "spin_tenants.%s" % name
        if not isinstance(entry, dict):
            errors.append("%s must be a mapping with uid, gid, paths and quota" % where)
            continue
        unknown = sorted(set(entry) - set(TENANT_KEYS))
        for key in unknown:
            errors.append("%s: unknown key '%s'%s" % (where, key, _did_you_mean(key, TENANT_KEYS)))
        errors.extend(allowance.check(entry, where))
        for key in ("uid", "gid"):
            value = entry.get(key)
            if value is None:
                continue
            if not _is_count(value) or value == 0:
                errors.append("%s.%s must be a number > 0 (0 is root), not %r" % (where, key, value))
        uid = entry.get("uid")
        if _is_count(uid) and uid > 0:
            if uid in owners:
                errors.append("%s.uid %d is also tenant '%s''s: each tenant needs its own uid"
                              % (where, uid, owners[uid]))
            owners.setdefault(uid, name)
        paths = entry.get("paths", [])
        if paths is not None and (not _is_str_list(paths) or not all(p.startswith("/") for p in paths)):
            errors.append("%s.paths must be a list of absolute paths" % where)
        errors.extend(quota_errors(entry.get("quota"), where + ".quota"))
    return errors


def quota_errors(quota, where):
    """Mistakes of a tenant's ``quota``: ``{replicas, limits: {cpus, memory}, reservations: {cpus, memory}}``."""
    if quota is None:
        return []
    if not isinstance(quota, dict) or set(quota) - {"replicas", "limits", "reservations"}:
        return ["%s must be a mapping with replicas, limits and reservations" % where]
    errors = []
    if quota.get("replicas") is not None and not _is_count(quota["replicas"]):
        errors.append("%s.replicas must be a whole number >= 0" % where)
    errors.extend(resources.normalise({k: v for k, v in quota.items() if k != "replicas"}, where)[1])
    return errors


def merge_policy(platform_vars=None):
    """Spin's defaults + the inventory's variables -> the policy (a JSON-serialisable dict).

    ``platform_vars`` may hold ``spin_global_fs_roots``, ``spin_policy`` (keys of
    DEFAULT_POLICY) and ``spin_tenants`` (the registry, kept as ``policy["tenants"]``). Raises
    SpinError listing every mistake: a typo in a policy variable must not pass unnoticed.
    """
    platform_vars = platform_vars or {}
    policy = copy.deepcopy(DEFAULT_POLICY)
    errors = []
    overrides = platform_vars.get("spin_policy") or {}
    if not isinstance(overrides, dict):
        errors.append("spin_policy must be a mapping, not %s" % type(overrides).__name__)
        overrides = {}
    for key, value in overrides.items():
        if key in _NOT_IN_SPIN_POLICY:
            errors.append("spin_policy.%s: %s" % (key, _NOT_IN_SPIN_POLICY[key]))
        elif key == "name_patterns" or key == "external":
            errors.extend(_merge_sub(policy, key, value))
        elif key in ("default_resources", "default_resource_quota"):
            merged, problems = resources.normalise(value, "spin_policy.%s" % key)
            errors.extend(problems)
            for kind, dim in resources.KEYS:
                given = value.get(kind) if isinstance(value, dict) else None
                if not problems and isinstance(given, dict) and dim in given:
                    policy[key][kind][dim] = merged[kind][dim]
        elif key not in DEFAULT_POLICY:
            errors.append("spin_policy.%s: unknown key%s" % (key, _did_you_mean(key, DEFAULT_POLICY)))
        elif not _CHECKS[key][0](value):
            errors.append("spin_policy.%s must be %s, not %r" % (key, _CHECKS[key][1], value))
        else:
            policy[key] = copy.deepcopy(value)
    roots = platform_vars.get("spin_global_fs_roots")
    if roots is not None:
        if _is_str_list(roots) and all(r.startswith("/") for r in roots):
            policy["global_fs_roots"] = [normalise_path(r) for r in roots]
        else:
            errors.append("spin_global_fs_roots must be a list of absolute paths, not %r" % (roots,))
    for key in ("host_path_roots", "docker_socket_paths"):
        if not all(p.startswith("/") for p in policy[key]):
            errors.append("spin_policy.%s must hold absolute paths" % key)
        policy[key] = [normalise_path(p) for p in policy[key]]
    for key in ("cap_add", "global_fs_cap_add"):
        policy[key] = [short_name(c) for c in policy[key]]
    for key in ("default_resources", "default_resource_quota"):
        policy[key] = resources.normalise(policy[key], "spin_policy.%s" % key)[0]
    for rule in policy["disabled_rules"]:
        if rule not in RULES:
            errors.append("spin_policy.disabled_rules: unknown rule '%s'%s" % (rule, _did_you_mean(rule, RULES)))
    tenants = platform_vars.get("spin_tenants")
    errors.extend(validate_tenants(tenants))
    policy["tenants"] = copy.deepcopy(tenants) if isinstance(tenants, dict) else {}
    if errors:
        raise SpinError("the platform's policy variables have %d error(s):\n%s" % (len(errors), "\n".join(errors)))
    return policy


def _merge_sub(policy, key, value):
    if not isinstance(value, dict):
        return ["spin_policy.%s must be a mapping" % key]
    errors = []
    for sub, item in value.items():
        if sub not in policy[key]:
            errors.append("spin_policy.%s.%s: unknown key%s" % (key, sub, _did_you_mean(sub, policy[key])))
        elif key == "name_patterns":
            try:
                re.compile(item)
                policy[key][sub] = item
            except (re.error, TypeError) as exc:
                errors.append("spin_policy.name_patterns.%s is not a regular expression: %s" % (sub, exc))
        elif not _is_str_list(item):
            errors.append("spin_policy.external.%s must be a list of name patterns" % sub)
        else:
            policy[key][sub] = list(item)
    return errors


def normalise_path(path):
    """Lexical, symlink-free normalisation: ``/global/cfs/../../etc`` -> ``/etc``; ``//x`` -> ``/x``."""
    if not path.startswith("/"):
        return posixpath.normpath(path)
    return posixpath.normpath("/" + path.lstrip("/"))
