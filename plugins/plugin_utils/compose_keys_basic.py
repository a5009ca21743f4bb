# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service key handlers: command line, environment, labels, user, hostname, capabilities, ulimits,
build, the compose v2 resources and the keys carried for policy. Each ``k_<key>(sp, value)`` fills
``sp.model`` through ``sp.assign``/``sp.check``; ``compose.SERVICE_KEYS`` maps the keys to them. Pure."""
from __future__ import annotations

import re
import shlex

from ansible_collections.spin.platform.plugins.module_utils.build import build as build_model
from ansible_collections.spin.platform.plugins.module_utils.common import capabilities
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.compose_keys_refs import network_alias
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import MissingFile, as_text, parse_env_file
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, abs_path, as_bool, as_int, as_list, as_str, byte_size, cpus, did_you_mean, duration, enum, label_map,
    list_or_dict, mapping, nonempty_str, str_list, unknown_key)


# ---------------------------------------------------------------------------------------------
# service keys: command line, environment, labels

def _command(value):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise Invalid("cannot be split like a shell command line (%s): check the quotes" % exc)
    return str_list(value)


def k_image(sp, value):
    image = nonempty_str(value, "an image name")
    if re.search(r"\s", image):
        raise Invalid("'%s' is not an image name: it contains white space" % image)
    sp.model["image"] = image


def k_command(sp, value):
    sp.model["command"] = _command(value)


def k_entrypoint(sp, value):
    sp.model["entrypoint"] = _command(value)


def k_environment(sp, value):
    sp.environment = list_or_dict(value)


def _file_entries(value, key):
    """env_file / label_file: 'a.env' | ['a.env', {path, required, format}] -> [(path, required, raw)]."""
    if isinstance(value, str):
        return [(value, True, False)]
    entries = []
    for i, item in enumerate(as_list(value, "a file name or a list of them")):
        if isinstance(item, dict) and key == "env_file":
            unknown = set(item) - {"path", "required", "format"}
            if unknown:
                raise Invalid(unknown_key(sorted(unknown)[0], ("path", "required", "format")),
                              key="%s[%d].%s" % (key, i, sorted(unknown)[0]))
            if "path" not in item:
                raise Invalid("needs a path", key="%s[%d]" % (key, i))
            required = as_bool(item.get("required", True))
            raw = enum(item["format"], ("raw",)) == "raw" if item.get("format") is not None else False
            entries.append((nonempty_str(item["path"]), required, raw))
        else:
            entries.append((nonempty_str(item, "a file name"), True, False))
    return entries


def _read_var_file(sp, key, value):
    """Read env_file / label_file entries -> merged {name: value} (later files win)."""
    merged = {}
    for path, required, raw in _file_entries(value, key):
        if not required:
            # skipped only when it does not exist; outside the submission, or no file, it is refused (as Compose)
            try:
                text = sp.st.read_file(path) if sp.st.read_file else None
            except MissingFile:
                text = None
            except SpinError as exc:
                sp.st.error(sp.file, sp.name, key, exc.message)
                text = None
            if text is None:
                continue
        else:
            text = sp.st.read(path, sp.file, sp.name, key)
            if text is None:
                continue
        if raw:
            values = dict(line.split("=", 1) for line in as_text(text).splitlines() if "=" in line)
            problems, unresolved = [], []
        else:
            values, problems, unresolved = parse_env_file(text, sp.st.env)
        for problem in problems:
            sp.st.error(path, sp.name, None, problem)
        for name in unresolved:
            sp.st.warning(path, sp.name, None, "'%s' has no value and the stack's variables do not set it: "
                          "dropped" % name)
        merged.update(values)
    return merged


def k_env_file(sp, value):
    sp.env_file_vars = _read_var_file(sp, "env_file", value)


def k_label_file(sp, value):
    labels = _read_var_file(sp, "label_file", value)
    sp.label_file_vars = label_map(labels)


# labels that placed containers on Rancher 1.x and classic Swarm: on Swarm mode they are only labels
_SCHEDULER_LABELS = ("io.rancher.scheduler.", "com.docker.swarm.constraints", "com.docker.swarm.affinities")


def k_labels(sp, value):
    sp.labels = label_map(value)
    for name in sp.labels:
        if name.startswith(_SCHEDULER_LABELS):
            sp.warning("labels.%s" % name, "a scheduler label of Rancher or classic Swarm places nothing here (the "
                       "platform chooses the nodes): narrow where the service runs with deploy.placement.constraints "
                       "on node.labels.<name>, or remove the label")


def k_user(sp, value):
    sp.model["user"] = nonempty_str(value)


def k_working_dir(sp, value):
    sp.model["working_dir"] = abs_path(value)


def k_container_name(sp, value):
    """Compose's containers answer to their container_name: it becomes a network alias."""
    sp.model["container_name"] = network_alias(nonempty_str(value, "a container name"))


# Swarm's placeholders a host name may use (docker service create --hostname); not .Service.Labels, nor
# any other template: '{{"tasks.x"}}' or a label would give a host name the checks below never saw
_HOSTNAME_PLACEHOLDER = re.compile(r"\{\{\s*\.(?:Service\.(?:ID|Name)|Node\.(?:ID|Hostname)|Task\.(?:ID|Name|Slot))\s*\}\}")


def k_hostname(sp, value):
    hostname = nonempty_str(value, "a host name")
    literal = _HOSTNAME_PLACEHOLDER.sub("x", hostname)
    if "{{" in literal or "}}" in literal:
        raise Invalid("'%s' is not a host name: a template may use only {{.Service.Name}}, {{.Service.ID}}, "
                      "{{.Node.Hostname}}, {{.Node.ID}}, {{.Task.Name}}, {{.Task.ID}} and {{.Task.Slot}}" % hostname)
    if not re.match(r"^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$", literal):
        raise Invalid("'%s' is not a host name: use letters, digits, '-' and '.'" % hostname)
    # Docker registers a task's host name on every network of its container, the stack's load balancer
    # network too, where the edge resolves tasks.<the platform's alias> (haproxy.backend_alias)
    if hostname.lower().startswith("tasks."):
        raise Invalid("'%s' is in Swarm's DNS names for a service's tasks (tasks.<name>): choose a host name that "
                      "does not start with 'tasks.'" % hostname)
    sp.model["hostname"] = hostname


def k_stop_grace_period(sp, value):
    sp.model["stop_grace_period"] = duration(value)


def k_stop_signal(sp, value):
    sp.model["stop_signal"] = nonempty_str(value, "a signal name like SIGTERM")


def k_sysctls(sp, value):
    sysctls = list_or_dict(value)
    for name, text in sysctls.items():
        if text is None:
            raise Invalid("has no value: write %s=VALUE" % name, key="sysctls.%s" % name)
    sp.model["sysctls"] = sysctls


def k_cap_add(sp, value):
    sp.model["cap_add"] = [capabilities.short_name(c) for c in str_list(value)]


def k_cap_drop(sp, value):
    sp.model["cap_drop"] = [capabilities.short_name(c) for c in str_list(value)]


def k_read_only(sp, value):
    sp.model["read_only"] = as_bool(value)


def k_init(sp, value):
    sp.model["init"] = as_bool(value)


def k_tty(sp, value):
    sp.model["tty"] = as_bool(value)


def k_stdin_open(sp, value):
    sp.model["stdin_open"] = as_bool(value)


ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
           "rtprio", "rttime", "sigpending", "stack")


def _ulimit(name, value):
    """``65535`` (soft = hard) or ``{soft, hard}`` -> {soft, hard}; -1 is unlimited."""
    if isinstance(value, dict):
        unknown = sorted(set(map(str, value)) - {"soft", "hard"})
        if unknown:
            raise Invalid(unknown_key(unknown[0], ("soft", "hard")), key="ulimits.%s.%s" % (name, unknown[0]))
        if "soft" not in value or "hard" not in value:
            raise Invalid("give both soft and hard, like {soft: 20000, hard: 40000}", key="ulimits." + name)
        soft, hard = as_int(value["soft"], minimum=-1), as_int(value["hard"], minimum=-1)
    else:
        soft = hard = as_int(value, minimum=-1, what="a number or {soft, hard}")
    if hard != -1 and (soft == -1 or soft > hard):
        raise Invalid("the soft limit %d is above the hard limit %d" % (soft, hard), key="ulimits." + name)
    return {"soft": soft, "hard": hard}


def k_ulimits(sp, value):
    out = {}
    for name, item in mapping(value).items():
        name = str(name)
        if name not in ULIMITS:
            sp.error("ulimits." + name, "'%s' is not a ulimit%s" % (name, did_you_mean(name, ULIMITS)))
            continue
        limit = sp.check("ulimits." + name, _ulimit, name, item)
        if limit:
            out[name] = limit
    sp.model["ulimits"] = out


def k_scale(sp, value):
    sp.assign(("deploy", "replicas"), as_int(value, what="a number of replicas"), "scale")
    sp.replicas_set = True


def k_ignore(sp, value):
    """Keys consumed elsewhere (extends is resolved before the service is parsed)."""


def k_build(sp, value):
    """build: the platform builds the image from the submission (build.py normalises and judges it)."""
    model, problems = build_model.normalise(value, sp.st.env)
    for severity, key, message in problems:
        sp.report(severity, key, message)
    sp.model["build"] = model


# ---------------------------------------------------------------------------------------------
# service keys: compose v2 resources (they meet deploy.resources through sp.assign)

def k_mem_limit(sp, value):
    sp.assign(("deploy", "resources", "limits", "memory"), byte_size(value), "mem_limit", value)


def k_mem_reservation(sp, value):
    sp.assign(("deploy", "resources", "reservations", "memory"), byte_size(value), "mem_reservation", value)


def k_cpus(sp, value):
    sp.assign(("deploy", "resources", "limits", "cpus"), cpus(value), "cpus", value)


def k_pids_limit(sp, value):
    sp.assign(("deploy", "resources", "limits", "pids"), as_int(value, minimum=-1), "pids_limit")


# ---------------------------------------------------------------------------------------------
# service keys carried for policy (issue 5): parsed, never refused here

def k_privileged(sp, value):
    sp.model["privileged"] = as_bool(value)


def k_use_api_socket(sp, value):
    sp.model["use_api_socket"] = as_bool(value)


def carried_string(name):
    def handler(sp, value):
        sp.model[name] = None if value is None else nonempty_str(value)
    return handler


def carried_list(name):
    def handler(sp, value):
        sp.model[name] = str_list(value)
    return handler


def _device(item):
    if isinstance(item, dict):
        unknown = set(item) - {"source", "target", "permissions"}
        if unknown or "source" not in item:
            raise Invalid("a device mapping has source, target and permissions")
        source, target, permissions = item["source"], item.get("target"), item.get("permissions")
    else:
        parts = nonempty_str(item, "a device like /dev/x:/dev/x:rwm").split(":")
        source, target, permissions = (parts + [None, None])[:3]
    source = as_str(source)
    return {"source": source, "target": as_str(target) if target else source,
            "permissions": as_str(permissions) if permissions else "rwm"}


def k_devices(sp, value):
    sp.model["devices"] = [_device(item) for item in as_list(value)]
