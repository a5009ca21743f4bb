# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``deploy`` service key and its sub-keys (the ``_d_<sub-key>`` handlers, ``DEPLOY_KEYS``). Pure."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.policy import placement
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, as_float, as_int, as_list, as_str, byte_size, cpus, duration, enum, label_map, nonempty_str,
    restart_policy, str_list)


# ---------------------------------------------------------------------------------------------
# service key: deploy

DEPLOY_MODES = ("replicated", "global", "replicated-job", "global-job")


def k_deploy(sp, value):
    fields = sp.fields("deploy", value, {name: None for name in DEPLOY_KEYS})
    for name, item in (fields or {}).items():
        try:
            DEPLOY_KEYS[name](sp, "deploy." + name, item)
        except Invalid as exc:
            sp.error(exc.key or "deploy." + name, exc.message)


def _d_mode(sp, key, value):
    sp.model["deploy"]["mode"] = enum(as_str(value), DEPLOY_MODES)


def _d_replicas(sp, key, value):
    sp.assign(("deploy", "replicas"), as_int(value, what="a number of replicas"), key)
    sp.replicas_set = True


def _d_labels(sp, key, value):
    sp.model["deploy"]["labels"] = label_map(value)


def _d_endpoint_mode(sp, key, value):
    sp.model["deploy"]["endpoint_mode"] = enum(value, ("vip", "dnsrr"))


_LIMITS_SPEC = {"cpus": None, "memory": None, "pids": None}
_RESERVATIONS_SPEC = {"cpus": None, "memory": None,
                      "generic_resources": ("refuse", "the platform has no generic resources"),
                      "devices": ("refuse", "the platform has no devices to reserve (GPUs)")}
_RESOURCE_CHECKS = {"cpus": cpus, "memory": byte_size, "pids": lambda v: as_int(v, minimum=-1)}


def _d_resources(sp, key, value):
    fields = sp.fields(key, value, {"limits": None, "reservations": None})
    for part, spec in (("limits", _LIMITS_SPEC), ("reservations", _RESERVATIONS_SPEC)):
        if fields and part in fields:
            sub = "%s.%s" % (key, part)
            for name, item in (sp.fields(sub, fields[part], spec) or {}).items():
                number = sp.check("%s.%s" % (sub, name), _RESOURCE_CHECKS[name], item)
                if number is not None:
                    sp.assign(("deploy", "resources", part, name), number, "%s.%s" % (sub, name), item)


_PLACEMENT_SPEC = {"constraints": None, "preferences": None, "max_replicas_per_node": None}


def _constraint(text):
    """A constraint as Swarm reads it (placement.split_constraint): what Swarm would refuse when the service is
    made is refused here, before anything is created."""
    if placement.split_constraint(text) is None:
        raise Invalid("'%s' is not a constraint Swarm reads: write it like node.labels.zone == a (a key, == or "
                      "!=, a value of letters, digits and - _ . : /)" % text)
    return text.strip()


def _preference(item):
    if not isinstance(item, dict) or set(item) != {"spread"}:
        raise Invalid("each preference is a mapping like {spread: node.labels.zone}")
    return {"spread": nonempty_str(item["spread"])}


def _d_placement(sp, key, value):
    fields = sp.fields(key, value, _PLACEMENT_SPEC) or {}
    spec = sp.model["deploy"]["placement"]
    if "constraints" in fields:
        texts = sp.check(key + ".constraints", str_list, fields["constraints"], default=[])
        spec["constraints"] = [c for c in (sp.check(key + ".constraints", _constraint, t) for t in texts) if c]
    if "preferences" in fields:
        items = sp.check(key + ".preferences", as_list, fields["preferences"], default=[])
        spec["preferences"] = [p for p in (sp.check(key + ".preferences", _preference, i) for i in items) if p]
    if fields.get("max_replicas_per_node") is not None:
        spec["max_replicas_per_node"] = sp.check(key + ".max_replicas_per_node", as_int, fields["max_replicas_per_node"])


_UPDATE_FIELDS = ("parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order")
_UPDATE_CHECKS = {
    "parallelism": as_int, "delay": duration, "monitor": duration,
    "max_failure_ratio": lambda v: as_float(v, 0, 1),
    "order": lambda v: enum(v, ("start-first", "stop-first")),
}


def ensure_update_config(sp, which):
    if sp.model["deploy"][which] is None:
        sp.model["deploy"][which] = {name: None for name in _UPDATE_FIELDS}


def _update_config(which, actions):
    def handler(sp, key, value):
        fields = sp.fields(key, value, {name: None for name in _UPDATE_FIELDS})
        if fields is None:
            return
        ensure_update_config(sp, which)
        for name, item in fields.items():
            check = _UPDATE_CHECKS.get(name) or (lambda v: enum(v, actions))
            result = sp.check("%s.%s" % (key, name), check, item)
            if result is not None:
                sp.assign(("deploy", which, name), result, "%s.%s" % (key, name), item)
    return handler


_RESTART_SPEC = {"condition": None, "delay": None, "max_attempts": None, "window": None}


def _d_restart_policy(sp, key, value):
    fields = sp.fields(key, value, _RESTART_SPEC)
    if fields is None:
        return
    condition = sp.check(key + ".condition", enum, fields.get("condition", "any"), ("none", "on-failure", "any"))
    attempts = fields.get("max_attempts")
    sp.model["restart_policy"] = restart_policy(
        condition or "any",
        None if attempts is None else sp.check(key + ".max_attempts", as_int, attempts),
        sp.check(key + ".delay", duration, fields.get("delay")),
        sp.check(key + ".window", duration, fields.get("window")))


DEPLOY_KEYS = {
    "mode": _d_mode, "replicas": _d_replicas, "labels": _d_labels, "endpoint_mode": _d_endpoint_mode,
    "resources": _d_resources, "placement": _d_placement, "restart_policy": _d_restart_policy,
    "update_config": _update_config("update_config", ("continue", "rollback", "pause")),
    "rollback_config": _update_config("rollback_config", ("continue", "pause")),
}
