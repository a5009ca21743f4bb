# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose parser's checks across services (references, published ports, the load balancer's
rules, dependency cycles) and the start order that spin_stack follows."""
from __future__ import annotations

import re

from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import did_you_mean, restart_policy


# ---------------------------------------------------------------------------------------------
# checks across services, and the start order

def dependencies(service):
    """The services one service needs started before it: depends_on, then links."""
    return list(dict.fromkeys(list(service.get("depends_on") or []) + list(service.get("links") or {})))


def start_order(services):
    """-> (names in start order, None) or (partial order, [a, b, ..., a] cycle).

    Dependencies first; ties keep the order of the file, so the result is deterministic.
    Dependencies on names that are not services are left out (reported elsewhere).
    """
    pending = list(services)
    deps = {name: [d for d in dependencies(services[name]) if d in services and d != name] for name in pending}
    order = []
    while pending:
        ready = next((n for n in pending if all(d in order for d in deps[n])), None)
        if ready is None:
            return order, _find_cycle(pending, deps)
        order.append(ready)
        pending.remove(ready)
    return order, None


def _find_cycle(pending, deps):
    for start in pending:
        path, node = [start], start
        while True:
            node = next(d for d in deps[node] if d in pending)
            if node in path:
                return path[path.index(node):] + [node]
            path.append(node)
    return []  # not reached: every pending node has a pending dependency


def check_references(st, file, model, lb_names):
    services = model["services"]
    for name, svc in services.items():
        optional = st.optional.get(name, set())

        def ref_error(key, target, what):
            if target == name:
                st.error(file, name, key, "a service cannot %s itself" % what)
            elif target in lb_names:
                st.warning(file, name, key, "'%s' is a load balancer, not a service: ignored" % target)
            elif target in services:
                return True
            elif key == "depends_on" and target in optional:
                st.warning(file, name, "depends_on.%s" % target, "service '%s' is not deployed%s; it is not "
                           "required (required: false), so '%s' starts without it"
                           % (target, _inactive_text(st, target), name))
            elif target in st.inactive:
                st.error(file, name, key, "service '%s' is not deployed: its profiles (%s) are not active; add %s "
                         "to spin_compose_profiles in the vars file (or COMPOSE_PROFILES in .env), or write "
                         "required: false under depends_on.%s"
                         % (target, ", ".join(st.inactive[target]), st.inactive[target][0], target)
                         if key == "depends_on" else
                         "service '%s' is not deployed: its profiles (%s) are not active; add %s to "
                         "spin_compose_profiles in the vars file (or COMPOSE_PROFILES in .env), or remove the link"
                         % (target, ", ".join(st.inactive[target]), st.inactive[target][0]))
            else:
                st.error(file, name, key, "service '%s' does not exist%s" % (target, did_you_mean(target, services)))
            return False
        svc["depends_on"] = [d for d in svc["depends_on"] if ref_error("depends_on", d, "depend on")]
        svc["depends_on_conditions"] = {d: c for d, c in svc["depends_on_conditions"].items()
                                        if d in svc["depends_on"]}
        svc["links"] = {t: a for t, a in svc["links"].items() if ref_error("links", t, "link to")}
        if svc["container_name"]:
            for other, other_svc in services.items():
                if other != name and other_svc["container_name"] == svc["container_name"]:
                    st.error(file, name, "container_name", "'%s' is also the container_name of service '%s': "
                             "give each its own name" % (svc["container_name"], other))
        for network in svc["networks"]:
            if network not in model["networks"]:
                st.error(file, name, "networks.%s" % network, "network '%s' is not declared under the top-level "
                         "networks%s" % (network, did_you_mean(network, model["networks"])))
        for i, volume in enumerate(svc["volumes"]):
            if volume["type"] == "volume" and volume["source"] and volume["source"] not in model["volumes"]:
                st.error(file, name, "volumes[%d]" % i, "volume '%s' is not declared under the top-level volumes: "
                         "add it there" % volume["source"] + did_you_mean(volume["source"], model["volumes"]))
        for section in ("secrets", "configs"):
            for i, ref in enumerate(svc[section]):
                if ref["source"] not in model[section]:
                    st.error(file, name, "%s[%d]" % (section, i), "%s '%s' is not declared under the top-level %s"
                             % (section[:-1], ref["source"], section) + did_you_mean(ref["source"], model[section]))


def _volumes_from_entry(text):
    """'app', 'app:ro', 'service:app:rw', 'container:x' -> (kind, name, mode or None)."""
    parts = str(text).split(":")
    kind = "service"
    if parts[0] in ("service", "container") and len(parts) > 1:
        kind = parts.pop(0)
    name = parts[0]
    mode = parts[1] if len(parts) > 1 else None
    if len(parts) > 2 or mode not in (None, "ro", "rw") or not name:
        raise ValueError
    return kind, name, mode


def _shared_volume_name(model, source, target):
    """A named volume for an anonymous one that volumes_from shares: ``<service>-<path>``."""
    base = "%s-%s" % (source, re.sub(r"[^A-Za-z0-9_.-]+", "-", target.strip("/")) or "root")
    name, n = base, 1
    while name in model["volumes"]:
        n += 1
        name = "%s-%d" % (base, n)
    return name


def settle_volumes_from(st, file, model):
    """volumes_from a service of the stack: the same mounts (its named volumes, bind mounts and bind-store
    directories; an anonymous volume becomes a named one both mount, so both see one copy, and the
    deploy places them together: local_data), read-only with ':ro'; the service starts after it.
    ``container:`` stays for the policy to refuse (outside the stack)."""
    services = model["services"]
    for name, svc in services.items():
        outside = []
        for i, text in enumerate(svc["volumes_from"]):
            key = "volumes_from[%d]" % i
            try:
                kind, source, mode = _volumes_from_entry(text)
            except ValueError:
                st.error(file, name, key, "'%s' is not a volumes_from entry: write a service name, 'service:ro' or "
                         "'service:rw'" % text)
                continue
            if kind == "container":
                outside.append(text)
                continue
            if source == name or source not in services:
                st.error(file, name, key, "a service cannot take its own volumes" if source == name else
                         "service '%s' does not exist%s" % (source, did_you_mean(source, services)))
                continue
            own = {v["target"].rstrip("/") for v in svc["volumes"]}
            for volume in services[source]["volumes"]:
                if volume["type"] == "tmpfs" or volume["target"].rstrip("/") in own:
                    continue
                if volume["type"] == "volume" and not volume["source"]:
                    shared = _shared_volume_name(model, source, volume["target"])
                    model["volumes"][shared] = {"driver": "local", "driver_opts": {}, "labels": {},
                                                "external": False, "name": None}
                    volume["source"] = shared
                svc["volumes"].append(dict(volume, read_only=True if mode == "ro" else volume["read_only"]))
                if volume["type"] == "store":
                    entry = model["bind_store"][volume["source"]]
                    entry["mounts"].append({"service": name, "key": key, "file": file, "target": volume["target"],
                                            "read_only": mode == "ro" or volume["read_only"]})
            if source not in svc["depends_on"]:
                svc["depends_on"].append(source)
        svc["volumes_from"] = outside


def _inactive_text(st, target):
    return " (not in an active profile: %s)" % ", ".join(st.inactive[target]) if target in st.inactive else ""


def settle_conditions(st, file, model):
    """What depends_on conditions ask of the services they name: a service that others wait for with
    service_completed_successfully runs once, to completion (a Swarm job, as Compose runs a one-off
    container); service_healthy needs a healthcheck that is not switched off."""
    services = model["services"]
    for name, svc in services.items():
        for target, condition in svc["depends_on_conditions"].items():
            other = services[target]
            key = "depends_on.%s.condition" % target
            if condition == "service_healthy" and (other["healthcheck"] or {}).get("disable"):
                st.error(file, name, key, "service_healthy needs a healthcheck, and '%s' switches it off: give "
                         "'%s' a healthcheck, or write condition: service_started" % (target, target))
            elif condition == "service_completed_successfully":
                _make_job(st, file, target, other)


def _make_job(st, file, name, svc):
    deploy = svc["deploy"]
    if deploy["mode"] in ("replicated", "global"):
        deploy["mode"] += "-job"
    if deploy["update_config"] is not None:
        st.warning(file, name, "deploy.update_config", "ignored: '%s' runs once (others wait for it with "
                   "service_completed_successfully), so it has no rolling updates" % name)
        deploy["update_config"] = None
    policy = svc["restart_policy"]
    if policy is None:
        # Compose's default: the one-off runs once; a failure stops the dependants from starting
        svc["restart_policy"] = restart_policy("none")
    elif policy["condition"] == "any":
        st.warning(file, name, "restart", "'%s' runs once (others wait for it with service_completed_successfully): "
                   "it is restarted only on failure" % name)
        policy["condition"] = "on-failure"


def check_published(st, file, model):
    seen = {}
    for name, svc in model["services"].items():
        for port in svc["ports"]:
            if port["published"] is None:
                continue
            key = (port["published"], port["protocol"])
            if key in seen and seen[key] != name:
                st.error(file, name, "ports", "port %d/%s is already published by service '%s'"
                         % (port["published"], port["protocol"], seen[key]))
            seen.setdefault(key, name)


def check_lb_rules(st, rancher_name, model):
    services = model["services"]
    for name, lb in model["load_balancers"].items():
        for i, rule in enumerate(lb["port_rules"]):
            target = rule["service"]
            if target and target not in services:
                st.error(rancher_name, name, "lb_config.port_rules[%d].service" % i, "service '%s' does not "
                         "exist%s" % (target, did_you_mean(target, services)))


def check_cycles(st, file, model):
    _order, cycle = start_order(model["services"])
    if cycle:
        st.error(file, cycle[0], "depends_on", "services depend on each other in a loop: %s; remove one "
                 "depends_on or link" % " -> ".join(cycle))
