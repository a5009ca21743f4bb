# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform's policy over the stack model (issue 5): the rules. Pure.

``policy_settings.merge_policy(platform_vars)`` builds the policy from Spin's defaults and the
inventory's ``spin_global_fs_roots`` / ``spin_policy`` / ``spin_tenants``; ``apply_policy_defaults`` adds
what every service gets (capabilities); ``evaluate`` returns EVERY violation of the stack at
once, each naming the rule, the file, service and key, and how to fix it.

The checks that need the swarm (ownership of existing objects, the replicas of the tenant's
other stacks, the engine's no-new-privileges, symbolic links in bind paths) are
``policy_facts``'s: they take the facts as data, fed by the spin_policy module on a manager. docs/policy.md documents
every variable and rule.
"""
from __future__ import annotations

import copy
import fnmatch
import re

from ansible_collections.spin.platform.plugins.module_utils.build import build
from ansible_collections.spin.platform.plugins.module_utils.policy import placement, resources
from ansible_collections.spin.platform.plugins.module_utils.common.capabilities import short_name
from ansible_collections.spin.platform.plugins.module_utils.common.images import short_name as image_short_name
from ansible_collections.spin.platform.plugins.module_utils.common.ports import in_ports
from ansible_collections.spin.platform.plugins.module_utils.policy.policy_settings import normalise_path, violation


# ---------------------------------------------------------------------------------------------
# small helpers

def path_inside(path, root):
    """Is the (normalised) ``path`` the ``root`` itself or below it?"""
    root = root.rstrip("/") or "/"
    return path == root or root == "/" or path.startswith(root + "/")


def image_allowed(ref, policy):
    registry, name, tag = image_short_name(ref)
    for pattern in policy["images"]:
        p_registry, p_name, p_tag = image_short_name(pattern)
        if p_registry == registry and fnmatch.fnmatchcase(name, p_name) and \
                (p_tag is None or fnmatch.fnmatchcase(tag or "latest", p_tag)):
            return True
    if registry is None:
        return False
    full = "%s/%s" % (registry, name)
    return any(fnmatch.fnmatchcase(full, entry.rstrip("/")) or full.startswith(entry.rstrip("/") + "/")
               for entry in policy["registries"])


def parse_user(user):
    """``"1000:1000"`` -> ("1000", "1000"); ``"www-data"`` -> ("www-data", None)."""
    text = str(user).strip()
    name, dummy, group = text.partition(":")
    return name, (group or None)


def _owner_of_uid(uid, policy):
    for name, entry in (policy.get("tenants") or {}).items():
        if isinstance(entry, dict) and str(entry.get("uid")) == uid:
            return name
    return None


def global_mounts(service, policy):
    """The normalised sources of the service's bind mounts that lie in a global file system."""
    found = []
    for mount in service.get("volumes") or []:
        if mount.get("type") == "bind" and mount.get("source"):
            source = normalise_path(mount["source"])
            if any(path_inside(source, root) for root in policy["global_fs_roots"]):
                found.append(source)
    return found


def _needs_global_fs_user(tenant_entry):
    if not tenant_entry or tenant_entry.get("uid") is None:
        return None
    uid = str(tenant_entry["uid"])
    return uid if tenant_entry.get("gid") is None else "%s:%s" % (uid, tenant_entry["gid"])


# ---------------------------------------------------------------------------------------------
# defaults every service gets

def apply_policy_defaults(model, tenant, tenant_entry, policy):
    """A new model: ``cap_drop: [ALL]`` on every service, and the default capabilities where the
    tenant named none (NET_BIND_SERVICE only when the service mounts a global file system), so
    that ordinary images (httpd, MariaDB) run unchanged. ``no-new-privileges`` is the engine's
    (daemon.json, roles/docker_host): Swarm's API 1.41 has no per-service switch for it.
    """
    out = copy.deepcopy(model)
    for service in out.get("services", {}).values():
        given = [short_name(c) for c in service.get("cap_add") or []]
        if not given:
            given = list(policy["global_fs_cap_add"] if global_mounts(service, policy) else policy["cap_add"])
        service["cap_add"] = given
        service["cap_drop"] = ["ALL"]
        deploy = service.setdefault("deploy", {})
        own = deploy.get("resources") or {}
        filled = resources.with_defaults(own, policy["default_resources"])
        deploy["resources"] = {"limits": dict(own.get("limits") or {}, **filled["limits"]),
                               "reservations": dict(own.get("reservations") or {}, **filled["reservations"])}
        deploy["resources"]["limits"].setdefault("pids", None)
    return out


# ---------------------------------------------------------------------------------------------
# the rules

class Checker:
    def __init__(self, model, tenant, tenant_entry, policy, files, skip):
        self.model = model
        self.tenant = tenant
        self.entry = tenant_entry
        self.policy = policy
        files = files or {}
        self.compose = files.get("compose") or "docker-compose.yml"
        self.rancher = files.get("rancher") or "rancher-compose.yml"
        self.off = set(policy.get("disabled_rules") or []) | set(skip or ())
        self.found = []

    def add(self, rule, file, service, key, message, fix):
        if rule not in self.off:
            self.found.append(violation(rule, file, service, key, message, fix))

    def svc(self, rule, name, key, message, fix):
        self.add(rule, self.compose, name, key, message, fix)

    # -- stack level ---------------------------------------------------------------------------

    def names(self):
        patterns = self.policy["name_patterns"]
        for what, value, key in (("tenant", self.tenant, "spin_tenant"), ("stack", self.stack_name, "spin_stack")):
            if value is not None and not re.match(patterns[what], str(value)):
                self.add("name", None, None, key, "%s name '%s' does not match %s" % (what, value, patterns[what]),
                         "use lower-case letters, digits and '-', starting with a letter")
        for section in ("services", "load_balancers"):
            for name in self.model.get(section) or {}:
                if not re.match(patterns["service"], name):
                    self.svc("name", name, None, "service name '%s' does not match %s" % (name, patterns["service"]),
                             "rename the service: lower-case letters, digits, '_' and '-', starting with a letter")

    def tenant_known(self):
        if self.entry is None:
            self.add("unknown-tenant", None, None, "spin_tenant",
                     "tenant '%s' is not in the platform's tenant registry" % self.tenant,
                     "ask the platform staff to add the tenant to spin_tenants")

    def labels(self, where, name, key, labels):
        prefixes = tuple(self.policy["reserved_label_prefixes"])
        for label in labels or {}:
            if prefixes and str(label).startswith(prefixes):
                self.add("reserved-label", self.compose, where, "%s.%s" % (key, label) if key else label,
                         "label '%s' is in the platform's namespace (%s)%s" % (label, ", ".join(prefixes), name),
                         "rename the label; the platform sets spin.tenant and spin.stack itself")

    # -- one service ---------------------------------------------------------------------------

    def build_options(self, name, spec):
        network = spec.get("network")
        if network not in (None, "none") and not (network == "default" and self.policy["build_network"]):
            self.svc("build", name, "build.network", "builds run without network (RUN steps cannot download anything); "
                     "network '%s' is not available" % network,
                     "remove build.network; put what the build needs in the build context")
        for key in ("secrets", "ssh"):
            if spec.get(key):
                self.svc("build", name, "build." + key, "build %s are not available on the platform: nothing secret may "
                         "go into an image others can pull" % key,
                         "remove build.%s; give the running service a secret (secrets:) instead" % key)

    def service(self, name, svc):
        policy = self.policy
        self.labels(name, "", "labels", svc.get("labels"))
        self.labels(name, "", "deploy.labels", (svc.get("deploy") or {}).get("labels"))
        image = svc.get("image")
        # a built image is judged by how and from what it is built (its Dockerfile: build.check, on the controller)
        if svc.get("build"):
            self.build_options(name, svc["build"])
        elif image and build.foreign_owner(image, self.tenant, policy, policy["images"]):
            owner = build.foreign_owner(image, self.tenant, policy, policy["images"])
            self.svc("image", name, "image", build.foreign_message("image", image, owner),
                     "use one of the allowed images, or build your own (build:)")
        elif image and not image_allowed(image, policy):
            allowed = ", ".join(policy["images"] + ["%s/*" % r for r in policy["registries"]])
            self.svc("image", name, "image", "image '%s' is not among the images the platform allows (%s)"
                     % (image, allowed), "use one of the allowed images, or ask the platform staff to add yours")
        self.mounts(name, svc)
        self.placement(name, (svc.get("deploy") or {}).get("placement") or {})
        self.capabilities(name, svc)
        if svc.get("privileged"):
            self.svc("privileged", name, "privileged", "privileged containers can take over the node",
                     "remove privileged; add only the capabilities you need with cap_add")
        if svc.get("devices"):
            self.svc("devices", name, "devices", "host devices (%s) are not available to tenants"
                     % ", ".join(d["source"] if isinstance(d, dict) else str(d) for d in svc["devices"]),
                     "remove devices")
        if svc.get("device_cgroup_rules"):
            self.svc("devices", name, "device_cgroup_rules", "device cgroup rules open host devices",
                     "remove device_cgroup_rules")
        for key in ("network_mode", "pid", "ipc", "userns_mode", "uts", "cgroup"):
            self.namespace(name, key, svc.get(key))
        self.security_opt(name, svc.get("security_opt") or [])
        if svc.get("use_api_socket"):
            self.svc("docker-socket", name, "use_api_socket", "gives the container the Docker API, which controls "
                     "every tenant's containers", "remove use_api_socket")
        for key, value in sorted((svc.get("sysctls") or {}).items()):
            if not any(fnmatch.fnmatchcase(key, p) for p in policy["sysctls"]):
                self.svc("sysctls", name, "sysctls.%s" % key, "sysctl '%s' is not among the allowed ones (%s)"
                         % (key, ", ".join(policy["sysctls"]) or "none"), "remove it")
        self.ports(name, svc.get("ports") or [])
        if svc.get("cgroup_parent"):
            self.svc("cgroup-parent", name, "cgroup_parent", "a service cannot choose its cgroup ('%s')"
                     % svc["cgroup_parent"], "remove cgroup_parent; limit resources with deploy.resources")
        if svc.get("volumes_from"):
            self.svc("volumes-from", name, "volumes_from", "mounts the volumes of '%s', outside the stack's own "
                     "volumes" % "', '".join(svc["volumes_from"]), "declare a named volume and mount it in both services")
        if svc.get("external_links"):
            self.svc("external-links", name, "external_links", "links to containers outside the stack ('%s')"
                     % "', '".join(svc["external_links"]), "reach services of your stack by name; remove external_links")

    def placement(self, name, spec):
        """Constraints and preferences only narrow the nodes the platform gives tenants (placement.py)."""
        namespaces = self.policy["reserved_label_prefixes"]
        for text in spec.get("constraints") or []:
            parts = placement.split_constraint(text)
            problem = parts and placement.tenant_placement_problem(parts[0], namespaces)
            if problem:
                self.svc("placement", name, "deploy.placement.constraints",
                         "'%s' places by %s" % (text.strip(), problem), "remove it: " + placement.TENANTS_MAY)
        for preference in spec.get("preferences") or []:
            spread = preference.get("spread") or ""
            problem = placement.tenant_placement_problem(spread.strip(), namespaces)
            if problem:
                self.svc("placement", name, "deploy.placement.preferences", "'spread: %s' spreads over %s"
                         % (spread, problem), "remove it, or spread over a label the platform staff give tenants' "
                         "nodes (spread: node.labels.<name>)")

    def namespace(self, name, key, value):
        if value is None:
            return
        text = str(value)
        if key == "network_mode" and text in ("none", "bridge", "default"):
            return
        if key == "ipc" and text in ("private", "shareable", "none"):
            return
        if key == "cgroup" and text == "private":
            return
        if text == "host":
            what = "the host's %s namespace" % {"network_mode": "network", "userns_mode": "user"}.get(key, key)
        elif text.startswith(("container:", "service:")):
            what = "the %s namespace of %s" % ({"network_mode": "network", "userns_mode": "user"}.get(key, key), text)
        else:
            what = "'%s'" % text
        fix = "remove %s; services of a stack share their own network and reach each other by name" % key \
            if key == "network_mode" else "remove %s: each container keeps its own namespace" % key
        self.svc("host-namespace", name, key, "%s: %s is not available to tenants" % (key, what), fix)

    def security_opt(self, name, options):
        allowed = {_normal_opt(o) for o in self.policy["security_opt"]}
        for option in options:
            norm = _normal_opt(option)
            if norm in allowed:
                continue
            kind = norm.split("=", 1)[0]
            if kind in ("seccomp", "apparmor", "systempaths"):
                what = "changes the %s confinement" % kind
            elif kind == "label":
                what = "changes the SELinux labelling"
            elif kind == "no-new-privileges":
                what = "turns off no-new-privileges"
            else:
                what = "is not among the allowed security options"
            self.svc("security-opt", name, "security_opt", "'%s' %s" % (option, what),
                     "remove it: every service runs with the engine's default seccomp and AppArmor profiles")

    def capabilities(self, name, svc):
        mounts = global_mounts(svc, self.policy)
        allowed = self.policy["global_fs_cap_add"] if mounts else self.policy["cap_add"]
        for cap in svc.get("cap_add") or []:
            cap = short_name(cap)
            if cap in allowed:
                continue
            if mounts:
                message = "%s is not allowed for a service that mounts a global file system (%s): only %s" % (
                    cap, ", ".join(mounts), ", ".join(allowed) or "none")
            else:
                message = "%s is not among the allowed capabilities (%s)" % (cap, ", ".join(allowed) or "none")
            self.svc("cap-add", name, "cap_add", message, "remove %s from cap_add" % cap)

    def mounts(self, name, svc):
        policy = self.policy
        mounts = global_mounts(svc, policy)
        for mount in svc.get("volumes") or []:
            if mount.get("type") != "bind":
                continue
            self.bind(name, "volumes", mount.get("source") or "", mount.get("read_only"))
        if mounts:
            self.global_user(name, svc.get("user"), mounts)

    def bind(self, name, key, source, read_only, resolved=None):
        """One bind mount; ``resolved`` is the path after symbolic links (module side)."""
        policy = self.policy
        if resolved is not None:
            shown = "%s (which resolves to %s)" % (source, resolved)
        elif source.startswith("/") and normalise_path(source) != source.rstrip("/"):
            shown = "%s (that is %s)" % (source, normalise_path(source))
        else:
            shown = source
        if not source.startswith("/"):
            self.svc("host-path", name, key, "bind mount of '%s' is not an absolute path" % source,
                     "use a named volume")
            return
        path = normalise_path(resolved if resolved is not None else source)
        sockets = [s for s in policy["docker_socket_paths"] if path_inside(s, path)]
        if sockets:
            self.svc("docker-socket", name, key, "bind mount of %s exposes the Docker socket (%s), which controls "
                     "every tenant's containers" % (shown, sockets[0]), "remove the mount")
            return
        root = next((r for r in policy["global_fs_roots"] if path_inside(path, r)), None)
        if root is not None:
            paths = [normalise_path(p) for p in (self.entry or {}).get("paths") or []]
            if self.entry is not None and not any(path_inside(path, p) for p in paths):
                self.svc("global-fs-path", name, key, "%s is outside the paths tenant '%s' may mount (%s)"
                         % (shown, self.tenant, ", ".join(paths) or "none"),
                         "mount a directory below %s, or ask the platform staff to allow this path"
                         % (" or ".join(paths) if paths else "a path the platform staff allow you"))
            if not read_only and not policy["global_fs_read_write"]:
                self.svc("global-fs-read-only", name, key, "%s is mounted read-write" % shown,
                         "mount it read-only: append ':ro' (or read_only: true)")
            return
        if any(path_inside(path, r) for r in policy["host_path_roots"]):
            return
        roots = policy["global_fs_roots"] + policy["host_path_roots"]
        self.svc("host-path", name, key, "bind mount of %s is outside the allowed host paths (%s)"
                 % (shown, ", ".join(roots) or "none"), "use a named volume, or a path below %s"
                 % (" or ".join(roots) if roots else "an allowed root"))

    def global_user(self, name, user, mounts):
        want = _needs_global_fs_user(self.entry)
        fix = 'run as the tenant\'s uid: add "user: %s"' % want if want else \
            "run as the tenant's uid (the registry holds none for tenant '%s': ask the platform staff)" % self.tenant
        where = ", ".join(mounts)
        if user is None or str(user).strip() == "":
            self.svc("global-fs-user", name, "user", "mounts %s but runs as the image's user (root unless the image "
                     "sets another)" % where, fix)
            return
        uid, gid = parse_user(user)
        entry = self.entry or {}
        problem = None
        if uid in ("0", "root") or gid in ("0", "root"):
            problem = "runs as root" if uid in ("0", "root") else "runs with the root group"
        elif not uid.isdigit() or (gid is not None and not gid.isdigit()):
            problem = "runs as '%s': a user or group name cannot be checked against the registry" % user
        elif entry.get("uid") is not None and uid != str(entry["uid"]):
            other = _owner_of_uid(uid, self.policy)
            problem = "runs as uid %s, which belongs to tenant '%s'" % (uid, other) if other else \
                "runs as uid %s, not the tenant's uid %s" % (uid, entry["uid"])
        elif gid is not None and entry.get("gid") is not None and gid != str(entry["gid"]):
            problem = "runs with gid %s, not the tenant's gid %s" % (gid, entry["gid"])
        if problem:
            self.svc("global-fs-user", name, "user", "mounts %s but %s" % (where, problem), fix)

    def ports(self, name, ports):
        """Which ports a stack may publish is the edge's setting (spin_lb_ports), checked with the
        load balancer's rules; the policy adds what the shared ports (proxy_ports) need."""
        for port in ports:
            published = port.get("published")
            shared = published is not None and in_ports(published, self.policy["proxy_ports"])
            if shared and port.get("mode") == "host":
                self.svc("published-port", name, "ports",
                         "port %d is shared by every tenant through the edge: in mode host the service would take "
                         "it on the node itself" % published,
                         "drop mode: host; the edge serves the service at its own host name on port %d" % published)

    # -- load balancers, top-level sections ------------------------------------------------------

    def load_balancer(self, name, lb):
        policy = self.policy
        for i, rule in enumerate(lb.get("port_rules") or []):
            port, protocol = rule.get("source_port"), (rule.get("protocol") or "http")
            if port is None or not in_ports(port, policy["proxy_ports"]) or protocol in policy["proxy_protocols"]:
                continue
            self.add("published-port", self.rancher, name, "lb_config.port_rules[%d].protocol" % i,
                     "port %d is shared by every tenant through the edge, by host name: it serves %s, not %s"
                     % (port, "/".join(policy["proxy_protocols"]), protocol),
                     "use protocol http or https on port %d, or a port of the edge that is not shared (not %s) "
                     "for %s" % (port, "/".join(str(p) for p in policy["proxy_ports"]), protocol))

    def sections(self):
        policy = self.policy
        for section, rule in (("networks", "external-network"), ("volumes", "external-volume"),
                              ("secrets", "external-secret"), ("configs", "external-config")):
            for name, entry in (self.model.get(section) or {}).items():
                entry = entry or {}
                self.labels(None, " (%s '%s')" % (section[:-1], name), "%s.%s.labels" % (section, name),
                            entry.get("labels"))
                if entry.get("external"):
                    real = entry.get("name") or name
                    if not any(fnmatch.fnmatchcase(real, p) for p in policy["external"][section]):
                        self.add(rule, self.compose, None, "%s.%s.external" % (section, name),
                                 "external %s '%s' is not the stack's own: a stack uses only the %s it creates"
                                 % (section[:-1], real, section),
                                 "remove external: the platform creates the %s for the stack" % section[:-1])
                    continue
                if section == "volumes":
                    self.volume(name, entry)
                elif section == "networks":
                    driver = entry.get("driver") or "overlay"
                    if driver not in policy["network_drivers"]:
                        self.add("network-driver", self.compose, None, "networks.%s.driver" % name,
                                 "network driver '%s' is not allowed (%s)" % (driver, ", ".join(policy["network_drivers"])),
                                 "remove driver: the platform's networks are overlay networks")

    def volume(self, name, entry):
        policy = self.policy
        driver = entry.get("driver") or "local"
        if driver not in policy["volume_drivers"]:
            self.add("volume-driver", self.compose, None, "volumes.%s.driver" % name,
                     "volume driver '%s' is not allowed (%s)" % (driver, ", ".join(policy["volume_drivers"])),
                     "remove driver: named volumes use the local driver")
        opts = entry.get("driver_opts") or {}
        if opts and not policy["volume_driver_opts"]:
            device = opts.get("device")
            what = " (device %s)" % device if device else ""
            self.add("volume-driver", self.compose, None, "volumes.%s.driver_opts" % name,
                     "driver_opts can mount host paths or remote file systems%s past the bind-mount rules" % what,
                     "remove driver_opts; mount an allowed path with a bind mount instead")

    def quota(self, other_replicas, node_count):
        counts = stack_replicas(self.model, node_count)
        limit = replica_quota(self.entry, self.policy)
        total = sum(counts.values()) + (other_replicas or 0)
        if total <= limit:
            return
        detail = ", ".join("%s %d" % (n, c) for n, c in sorted(counts.items()))
        others = " and the tenant's other stacks run %d" % other_replicas if other_replicas else ""
        self.add("replica-quota", self.compose, None, "deploy.replicas",
                 "the stack asks for %d replicas (%s)%s: %d in all, over tenant '%s''s quota of %d"
                 % (sum(counts.values()), detail or "none", others, total, self.tenant, limit),
                 "lower scale / deploy.replicas by %d, or ask the platform staff for a larger quota" % (total - limit))

    def resource_quota(self, other_usage, node_count):
        """CPU and memory over all the tenant's stacks (``other_usage``: the other stacks' sums)."""
        counts = stack_replicas(self.model, node_count)
        mine = [(name, resources.with_defaults(((svc.get("deploy") or {}).get("resources")),
                                               self.policy["default_resources"]), counts[name])
                for name, svc in (self.model.get("services") or {}).items()]
        quota = resources.quota_of(self.entry, self.policy)
        for kind, dim, stack_sum, whole, limit, parts in resources.over_quota(mine, other_usage, quota):
            others = whole - stack_sum
            key = "deploy.resources.%s.%s" % (kind, dim)
            self.add("resource-quota", self.compose, None, key,
                     "the %s %s of the stack's services come to %s (%s)%s: %s in all, over tenant '%s''s quota "
                     "of %s" % (dim == "cpus" and "CPU" or "memory", kind, resources.amount(dim, stack_sum), parts,
                                " and those of the tenant's other stacks to %s" % resources.amount(dim, others)
                                if others else "", resources.amount(dim, whole), self.tenant,
                                resources.amount(dim, limit)),
                     "lower %s (or the replicas) by %s in all, or ask the platform staff for a larger quota "
                     "(spin_tenants.%s.quota.%s.%s)" % (key, resources.amount(dim, whole - limit), self.tenant,
                                                        kind, dim))

    def resource_size(self, biggest):
        """A service asking more than any node has would never be placed."""
        for name, svc in sorted((self.model.get("services") or {}).items()):
            own = resources.with_defaults(((svc.get("deploy") or {}).get("resources")), self.policy["default_resources"])
            for kind, dim, asked, largest in resources.too_large(own, biggest):
                key = "deploy.resources.%s.%s" % (kind, dim)
                self.svc("resource-size", name, key,
                         "asks for %s per replica as its %s, more than any node has (the largest has %s)"
                         % (resources.amount(dim, asked), kind[:-1], resources.amount(dim, largest)),
                         "write at most %s: %s" % (key, resources.compose_value(dim, largest)))

    def run(self, stack, other_replicas, node_count, other_usage=None, biggest=None):
        self.stack_name = stack
        self.tenant_known()
        self.names()
        for name, svc in (self.model.get("services") or {}).items():
            self.service(name, svc)
        for name, lb in (self.model.get("load_balancers") or {}).items():
            self.load_balancer(name, lb)
        self.sections()
        self.quota(other_replicas, node_count)
        self.resource_quota(other_usage, node_count)
        if biggest:
            self.resource_size(biggest)
        return self.found


def _normal_opt(option):
    """``seccomp:unconfined`` / ``seccomp=unconfined`` -> ``seccomp=unconfined``."""
    text = str(option).strip().lower()
    match = re.match(r"^([^=:]+)[=:](.*)$", text)
    if not match:
        return "no-new-privileges=true" if text == "no-new-privileges" else text
    return "%s=%s" % (match.group(1).strip(), match.group(2).strip())


def _lb_port(text):
    """``"80:80"`` / ``"8080:80/udp"`` / ``"80"`` -> (published port, protocol)."""
    body, dummy, protocol = str(text).partition("/")
    first = body.split(":")[-2] if body.count(":") >= 1 else body
    try:
        return int(first), protocol or "tcp"
    except ValueError:
        return None, None


def stack_replicas(model, node_count=1):
    """{service: replicas} of the stack; a global service counts one per node."""
    counts = {}
    for name, svc in (model.get("services") or {}).items():
        deploy = svc.get("deploy") or {}
        if str(deploy.get("mode") or "").startswith("global"):
            counts[name] = node_count
        else:
            replicas = deploy.get("replicas")
            counts[name] = 1 if replicas is None else int(replicas)
    return counts


def replica_quota(tenant_entry, policy):
    quota = ((tenant_entry or {}).get("quota") or {}).get("replicas")
    return policy["default_replica_quota"] if quota is None else quota


def evaluate(model, tenant, tenant_entry, policy, files=None, stack=None, other_replicas=0, node_count=1, skip=(),
             other_usage=None, biggest=None):
    """Every violation of the stack at once (an empty list: the stack may run).

    ``model`` is the stack model (docs/design.md), best after ``apply_policy_defaults``;
    ``tenant_entry`` the tenant's registry entry (None: unknown tenant); ``files`` names the
    tenant's files ``{"compose": ..., "rancher": ...}`` for the messages. The swarm-side facts
    (``other_replicas`` of the tenant's other stacks, ``node_count`` for global services) come
    from the spin_policy module, and so do ``other_usage`` (the CPU and memory of the tenant's
    other stacks, ``resources.total``) and ``biggest`` (the largest node, ``resources.largest_node``:
    None leaves rule resource-size out); ``skip`` leaves rules out (the controller skips the quotas
    that the module checks with the full count).
    """
    return Checker(model, tenant, tenant_entry, policy, files, skip).run(stack, other_replicas, node_count,
                                                                         other_usage, biggest)
