# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rancher-compose.yml: the per-service handlers (``r_<key>``, health_check, upgrade_strategy;
durations there are in milliseconds) and the load balancer's parts (``is_lb``, lb_config, port
rules); ``compose`` holds the tables and applies them. Pure."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common import images
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_deploy import ensure_update_config
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_ports import port_number
from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import LB_IMAGE
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, as_bool, as_int, as_list, as_str, enum, nonempty_str, scalar_text, str_list)


# ---------------------------------------------------------------------------------------------
# rancher-compose.yml: per-service overlay (durations there are in milliseconds)

def _millis(value):
    return as_int(value, what="a number of milliseconds") * 10**6


_RANCHER_HC_SPEC = {
    "port": None, "interval": None, "healthy_threshold": None, "unhealthy_threshold": None,
    "response_timeout": None, "request_line": None, "strategy": None, "initializing_timeout": None,
    "reinitializing_timeout": ("warn", "only initializing_timeout is used"),
    "recreate_on_quorum_strategy_config": ("warn", "Swarm replaces unhealthy tasks one by one"),
}
_RANCHER_HC_CHECKS = {
    "port": port_number, "interval": _millis, "healthy_threshold": lambda v: as_int(v, 1),
    "unhealthy_threshold": lambda v: as_int(v, 1), "response_timeout": _millis,
    "request_line": nonempty_str, "initializing_timeout": _millis,
    "strategy": lambda v: enum(v, ("none", "recreate", "recreateOnQuorum")),
}


def rancher_health_check(sp, key, value):
    fields = sp.fields(key, value, _RANCHER_HC_SPEC)
    if fields is None:
        return None
    check = {name: None for name in _RANCHER_HC_CHECKS}
    for name, item in fields.items():
        check[name] = sp.check("%s.%s" % (key, name), _RANCHER_HC_CHECKS[name], item)
    if "port" not in fields:
        sp.error(key, "needs a port (the container port to check)")
    return check


def r_scale(sp, value):
    sp.assign(("deploy", "replicas"), as_int(value, what="a number of replicas"), "scale")
    sp.replicas_set = True


def r_start_on_create(sp, value):
    sp.model["start_on_create"] = as_bool(value)


def r_health_check(sp, value):
    sp.model["rancher_health_check"] = rancher_health_check(sp, "health_check", value)


_UPGRADE_SPEC = {"start_first": None, "batch_size": None, "interval_millis": None}


def r_upgrade_strategy(sp, value):
    fields = sp.fields("upgrade_strategy", value, _UPGRADE_SPEC)
    if not fields:
        return
    ensure_update_config(sp, "update_config")
    for name, field, convert in (
            ("start_first", "order", lambda v: "start-first" if as_bool(v) else "stop-first"),
            ("batch_size", "parallelism", lambda v: as_int(v, 1)),
            ("interval_millis", "delay", _millis)):
        if name in fields:
            result = sp.check("upgrade_strategy." + name, convert, fields[name])
            if result is not None:
                sp.assign(("deploy", "update_config", field), result, "upgrade_strategy." + name, fields[name])


# ---------------------------------------------------------------------------------------------
# load balancers: a compose service with rancher lb_config, or the Rancher LB image

def is_lb(raw, rancher_entry):
    image = raw.get("image")
    if isinstance(image, str):
        repository = images.repository_of(image)
        if repository == LB_IMAGE or repository.endswith("/" + LB_IMAGE):
            return True
    return isinstance(rancher_entry, dict) and "lb_config" in rancher_entry


_LB_CONFIG_SPEC = {"port_rules": None, "certs": None, "default_cert": None, "stickiness_policy": None,
                   "config": ("refuse", "custom HAProxy configuration would affect every tenant; "
                                        "ask the platform team")}
_PORT_RULE_SPEC = {"source_port": None, "target_port": None, "service": None, "hostname": None, "path": None,
                   "priority": None, "protocol": None,
                   "backend_name": ("warn", "the platform names the backends"),
                   "selector": ("refuse", "selectors are not supported; name the service"),
                   "container": ("refuse", "rules forward to services, not containers")}
_LB_PROTOCOLS = ("http", "https", "tcp", "tls", "sni", "udp")
_STICKINESS_SPEC = {"name": None, "cookie": None, "domain": None, "indirect": None, "nocache": None,
                    "postonly": None, "mode": None}


def _lb_service_name(text):
    name = nonempty_str(text, "a service name")
    if "/" in name:
        raise Invalid("'%s' names a service of another stack: a load balancer forwards only to services "
                      "of its own stack" % name)
    return name


def _port_rule(sp, key, item):
    fields = sp.fields(key, item, _PORT_RULE_SPEC)
    if fields is None:
        return None
    rule = {"source_port": None, "target_port": None, "service": None, "hostname": None, "path": None,
            "priority": None, "protocol": "http"}
    checks = {"source_port": port_number, "target_port": port_number, "service": _lb_service_name,
              "hostname": as_str, "path": as_str, "priority": as_int,
              "protocol": lambda v: enum(v, _LB_PROTOCOLS)}
    for name, item_value in fields.items():
        if item_value is not None and item_value != "":
            rule[name] = sp.check("%s.%s" % (key, name), checks[name], item_value)
    for required in ("source_port", "target_port", "service"):
        if required not in fields:
            sp.error(key, "needs %s" % required)
    return rule


def lb_config(sp, lb, value):
    fields = sp.fields("lb_config", value, _LB_CONFIG_SPEC) or {}
    rules = sp.check("lb_config.port_rules", as_list, fields.get("port_rules") or [], default=[])
    for i, item in enumerate(rules):
        rule = _port_rule(sp, "lb_config.port_rules[%d]" % i, item)
        if rule:
            lb["port_rules"].append(rule)
    if "certs" in fields:
        lb["certs"] = sp.check("lb_config.certs", str_list, fields["certs"] or [], default=[])
    if fields.get("default_cert") is not None:
        lb["default_cert"] = sp.check("lb_config.default_cert", nonempty_str, fields["default_cert"])
    if fields.get("stickiness_policy") is not None:
        sticky = sp.fields("lb_config.stickiness_policy", fields["stickiness_policy"], _STICKINESS_SPEC)
        if sticky is not None:
            lb["stickiness"] = {name: (None if sticky.get(name) is None
                                       else sp.check("lb_config.stickiness_policy." + name, scalar_text,
                                                     sticky[name]))
                                for name in _STICKINESS_SPEC}


def lb_port_text(port):
    suffix = "" if port["protocol"] == "tcp" else "/" + port["protocol"]
    return "%d:%d%s" % (port["published"] or port["target"], port["target"], suffix)
