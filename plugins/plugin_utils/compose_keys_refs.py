# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service key handlers for what refers to something else: networks, links, depends_on, and
healthcheck, restart, logging, secrets/configs. Pure."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import NAME_RE
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, as_bool, as_int, as_list, as_str, did_you_mean, duration, enum, file_mode, mapping, nonempty_str,
    restart_policy, scalar_text, str_list)


# ---------------------------------------------------------------------------------------------
# service keys: networks, links, depends_on

_SERVICE_NETWORK_SPEC = {
    "aliases": None,
    "ipv4_address": ("refuse", "Swarm assigns the addresses; reach the service by its name"),
    "ipv6_address": ("refuse", "Swarm assigns the addresses; reach the service by its name"),
    "link_local_ips": ("refuse", "Swarm assigns the addresses"),
    "mac_address": ("refuse", "Swarm assigns MAC addresses"),
    "interface_name": ("refuse", "Swarm names the interfaces"),
    "driver_opts": ("refuse", "per-endpoint driver options are not supported"),
    "priority": ("warn", "Swarm attaches the networks in its own order"),
    "gw_priority": ("warn", "Swarm chooses the default gateway"),
}


def network_alias(text):
    if not NAME_RE.match(text):
        raise Invalid("'%s' is not a network alias: use letters, digits, '_', '.' and '-'" % text)
    return text


def k_networks(sp, value):
    entries = {name: None for name in str_list(value)} if isinstance(value, list) else mapping(
        value, "a list of network names or a mapping")
    for name, config in entries.items():
        key = "networks.%s" % name
        fields = sp.fields(key, config, _SERVICE_NETWORK_SPEC)
        if fields is None:
            continue
        aliases = sp.check(key + ".aliases", str_list, fields.get("aliases", []), default=[])
        aliases = [a for a in (sp.check(key + ".aliases", network_alias, a) for a in aliases) if a]
        sp.model["networks"][str(name)] = {"aliases": aliases}


def k_links(sp, value):
    """``[db, db:database]`` -> {db: [db, database]}: every name reaches the target service."""
    for text in str_list(value):
        target, dummy, alias = text.partition(":")
        aliases = sp.model["links"].setdefault(target, [])
        alias = network_alias(alias or target)
        if alias not in aliases:
            aliases.append(alias)


_DEPENDS_SPEC = {"condition": None, "required": None,
                 "restart": ("warn", "Swarm restarts services on its own")}
_CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")


def k_depends_on(sp, value):
    """depends_on -> the start order, plus the conditions the deploy waits for before it starts this
    service (``depends_on_conditions``); ``required: false`` dependencies may be missing."""
    conditions = {}
    if isinstance(value, list):
        names = str_list(value)
    else:
        names = []
        for name, config in mapping(value, "a list of service names or a mapping").items():
            key = "depends_on.%s" % name
            fields = sp.fields(key, config, _DEPENDS_SPEC) or {}
            condition = sp.check(key + ".condition", enum, fields.get("condition", "service_started"),
                                 _CONDITIONS)
            if condition in ("service_healthy", "service_completed_successfully"):
                conditions[str(name)] = condition
            if "required" in fields and sp.check(key + ".required", as_bool, fields["required"]) is False:
                sp.st.optional.setdefault(sp.name, set()).add(str(name))
            names.append(str(name))
    sp.model["depends_on"] = list(dict.fromkeys(names))
    sp.model["depends_on_conditions"] = conditions


# ---------------------------------------------------------------------------------------------
# service keys: healthcheck, restart, logging, secrets/configs

_HEALTHCHECK_SPEC = {"test": None, "interval": None, "timeout": None, "retries": None,
                     "start_period": None, "disable": None,
                     "start_interval": ("warn", "needs a newer engine than the platform runs")}


def _healthcheck_test(value):
    if isinstance(value, str):
        if not value.strip():
            raise Invalid("must not be empty")
        return ["CMD-SHELL", value]
    test = str_list(value)
    if not test or test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        raise Invalid("a list must start with CMD, CMD-SHELL or NONE, like [CMD, curl, -f, http://localhost]")
    if test[0] != "NONE" and len(test) < 2:
        raise Invalid("%s needs a command after it" % test[0])
    return test


def k_healthcheck(sp, value):
    fields = sp.fields("healthcheck", value, _HEALTHCHECK_SPEC)
    if fields is None:
        return
    if sp.check("healthcheck.disable", as_bool, fields.get("disable", False)):
        sp.model["healthcheck"] = {"disable": True}
        return
    # without test: the image's own HEALTHCHECK, with the settings given here (as Compose does)
    test = sp.check("healthcheck.test", _healthcheck_test, fields["test"]) if "test" in fields else None
    if test == ["NONE"]:
        sp.model["healthcheck"] = {"disable": True}
        return
    check = {"test": test}
    for name in ("interval", "timeout", "start_period"):
        check[name] = sp.check("healthcheck." + name, duration, fields.get(name))
    retries = fields.get("retries")
    check["retries"] = None if retries is None else sp.check("healthcheck.retries", as_int, retries)
    sp.model["healthcheck"] = check


def k_restart(sp, value):
    text = "no" if value is False else as_str(value)
    deploy = sp.raw.get("deploy")
    if isinstance(deploy, dict) and "restart_policy" in deploy:
        sp.warning("restart", "ignored because deploy.restart_policy is given")
        return
    name, dummy, count = text.partition(":")
    if name == "on-failure":
        attempts = as_int(count, what="a number of attempts") if count else None
        sp.model["restart_policy"] = restart_policy("on-failure", attempts)
    elif name in ("no", "always", "unless-stopped") and not count:
        sp.model["restart_policy"] = restart_policy("none" if name == "no" else "any")
    else:
        raise Invalid("must be no, always, on-failure[:N] or unless-stopped, not '%s'" % text
                      + did_you_mean(name, ("no", "always", "on-failure", "unless-stopped")))


_LOGGING_SPEC = {"driver": None, "options": None}


def _log_options(value):
    return {str(k): scalar_text(v) for k, v in mapping(value).items() if v is not None}


def k_logging(sp, value):
    fields = sp.fields("logging", value, _LOGGING_SPEC)
    if fields is None:
        return
    driver = sp.check("logging.driver", nonempty_str, fields.get("driver")) if "driver" in fields else None
    options = sp.check("logging.options", _log_options, fields.get("options") or {}, default={})
    if driver is None and options:
        sp.error("logging.options", "needs logging.driver: name the driver the options are for (e.g. json-file)")
    sp.model["logging"] = {"driver": driver, "options": options} if driver else None


def k_log_driver(sp, value):
    if "logging" in sp.raw:
        raise Invalid("cannot be combined with logging: use logging.driver")
    driver = nonempty_str(value)
    options = (sp.model["logging"] or {}).get("options", {})
    sp.model["logging"] = {"driver": driver, "options": options}


def k_log_opt(sp, value):
    if "logging" in sp.raw:
        raise Invalid("cannot be combined with logging: use logging.options")
    if "log_driver" not in sp.raw:
        raise Invalid("needs log_driver: name the driver the options are for")
    options = _log_options(value)
    logging = sp.model["logging"] or {"driver": None, "options": {}}
    logging["options"] = options
    sp.model["logging"] = logging


_REF_SPEC = {"source": None, "target": None, "uid": None, "gid": None, "mode": None}


def _refs(sp, key, value, default_target):
    out = []
    for i, item in enumerate(as_list(value)):
        sub = "%s[%d]" % (key, i)
        if not isinstance(item, dict):
            source = sp.check(sub, nonempty_str, item, "a name")
            fields = {"source": source} if source else None
        else:
            fields = sp.fields(sub, item, _REF_SPEC)
        if not fields or not fields.get("source"):
            if fields is not None:
                sp.error(sub, "needs a source (the name under the top-level %s)" % key)
            continue
        source = str(fields["source"])
        out.append({
            "source": source,
            "target": sp.check(sub + ".target", nonempty_str, fields.get("target") or default_target(source)),
            "uid": sp.check(sub + ".uid", as_str, fields.get("uid", "0"), default="0"),
            "gid": sp.check(sub + ".gid", as_str, fields.get("gid", "0"), default="0"),
            "mode": sp.check(sub + ".mode", file_mode, fields.get("mode", 0o444), default=0o444),
        })
    return out


def k_secrets(sp, value):
    sp.model["secrets"] = _refs(sp, "secrets", value, lambda source: source)


def k_configs(sp, value):
    sp.model["configs"] = _refs(sp, "configs", value, lambda source: "/" + source)
