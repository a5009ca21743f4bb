# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker-compose.yml (v2, v3.x, compose-spec) + rancher-compose.yml -> the stack model. Pure.

``parse_stack`` returns ``(model, diagnostics)``: it never stops at the first problem, and the
caller creates nothing while ``has_errors(diagnostics)``. The model's shape is fixed in
docs/design.md; docs/compose-keys.md says what each compose key becomes.

Files other than the compose files (env_file, label_file, secrets/configs ``file:``, ``extends``
with ``file:``) are read through the caller's ``read_file(relpath)`` callback, so this module
does no I/O itself; ``make_dir_reader`` builds that callback for a submission directory.

The work is table-driven: ``SERVICE_KEYS`` maps each supported service key to a handler,
``REFUSED_KEYS`` / ``IGNORED_KEYS`` give the reason for each key that spin.platform refuses or
ignores, and every other key is an error with a did-you-mean suggestion.

The parser is five files: this one (the parse state, the key tables and their handlers, the
top level, load balancers, ``parse_stack``), ``compose_text`` (reading the submission's files,
interpolation, env files), ``compose_values`` (the value checks), ``compose_extends`` (``extends``)
and ``compose_checks`` (checks across services, the start order).
"""
from __future__ import annotations

import base64
import difflib
import posixpath
import re
import shlex

from ansible_collections.spin.platform.plugins.module_utils import build as build_model, capabilities, images, placement
from ansible_collections.spin.platform.plugins.module_utils.diagnostics import diagnostic, messages as diagnostic_messages
from ansible_collections.spin.platform.plugins.plugin_utils import compose_merge, safe_yaml
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (_Invalid, _abs_path, _bool, _bytes,
                                                                                   _container_path, _cpus,
                                                                                   _did_you_mean, _duration, _enum,
                                                                                   _float, _int, _kind, _labels, _list,
                                                                                   _list_or_dict, _mapping, _mode,
                                                                                   _nonempty_str, _restart_policy,
                                                                                   _scalar_text, _show, _str,
                                                                                   _str_list, _unknown_key)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import (MissingFile, _as_bytes, _as_text,
                                                                                 _interpolate_tree, parse_env_file)
from ansible_collections.spin.platform.plugins.plugin_utils.compose_extends import _resolve
from ansible_collections.spin.platform.plugins.plugin_utils.compose_checks import (_check_cycles, _check_lb_rules,
                                                                                   _check_published, _check_references,
                                                                                   _settle_conditions,
                                                                                   _settle_volumes_from)
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
LB_IMAGE = "rancher/lb-service-haproxy"
MAX_SECRET_BYTES = 500 * 1024          # Swarm's limit for secrets and configs
MAX_PORT_RANGE = 100
DEFAULT_NETWORK = "default"


# ---------------------------------------------------------------------------------------------
# diagnostics

# (their home is module_utils/diagnostics.py)

def raise_for_errors(diagnostics, what="the stack"):
    """Raise one SpinError listing every error (warnings ride along in ``diagnostics``)."""
    errors = diagnostic_messages(diagnostics, "error")
    if errors:
        raise SpinError("%s has %d error(s):\n%s" % (what, len(errors), "\n".join(errors)),
                        diagnostics=diagnostics)


# ---------------------------------------------------------------------------------------------
# the parse state

class _State:
    """What the whole parse shares: diagnostics, variables, the reader, loaded files."""

    def __init__(self, compose_name, read_file, env, stat_file=None):
        self.compose_name = compose_name
        self.read_file = read_file
        self.stat_file = stat_file
        self.bind_files = {}     # config name -> {path, content}: files of relative bind mounts
        self.bind_store = {}     # store key -> {source, kind, read_only, mounts}: directories of relative binds
        self.declared_configs = set()
        self.env = dict(env or {})
        self.diagnostics = []
        self.files = {}          # extra compose files for extends: name -> services dict | None
        self.resolved = {}       # (file, service) -> raw service with extends merged
        self.optional = {}       # service -> dependencies given with required: false
        self.inactive = {}       # service -> its profiles, none of them active (not deployed)
        self.key_files = {}      # (service | None, key) -> the file that last set it (override files, include)

    def file_of(self, file, service, key):
        """The file a message about ``key`` names: the one that set it last, when the stack's files
        were merged (``compose_merge``); else ``file``."""
        if file != self.compose_name or not self.key_files or not key:
            return file
        if service is None:
            parts = key.split(".")
            return self.key_files.get((None, ".".join(parts[:2])), file)
        return self.key_files.get((service, re.split(r"[.\[]", key, 1)[0]), file)

    def exists(self, path):
        """Is there a file (or directory) at ``path`` of the submission? (a path that leads outside: no)"""
        try:
            if self.stat_file is not None:
                return self.stat_file(path)["kind"] != "missing"
            if self.read_file is None:
                return False
            self.read_file(path)
            return True
        except (MissingFile, SpinError):
            return False

    def error(self, file, service, key, message):
        self.diagnostics.append(diagnostic("error", self.file_of(file, service, key), service, key, message))

    def warning(self, file, service, key, message):
        self.diagnostics.append(diagnostic("warning", self.file_of(file, service, key), service, key, message))

    def stat(self, path, file, service, key):
        """{"kind": "file" | "dir" | "missing", "mode", "files"} of a submission path, or None (an error
        was recorded: it leads outside, say)."""
        try:
            if self.stat_file is not None:
                return self.stat_file(path)
            if self.read_file is None:
                raise SpinError("'%s' cannot be read: no submission directory was given" % path)
            try:
                self.read_file(path)
            except MissingFile:
                return {"kind": "missing"}
            return {"kind": "file", "mode": 0o644}
        except SpinError as exc:
            self.error(file, service, key, exc.message)
            return None

    def read(self, path, file, service, key):
        """Read a submission file; record an error and return None when it cannot be read."""
        if self.read_file is None:
            self.error(file, service, key, "'%s' cannot be read: no submission directory was given" % path)
            return None
        try:
            return self.read_file(path)
        except SpinError as exc:
            self.error(file, service, key, exc.message)
            return None


def _fields(report, key, value, spec):
    """Check a nested mapping against ``spec`` ({name: None | ('refuse'|'warn', reason)}).

    Reports unknown, refused and ignored sub-keys through ``report(kind, key, message)``;
    returns the supported entries, or None when ``value`` is not a mapping.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        report("error", key, "must be a mapping, not %s" % _kind(value))
        return None
    out = {}
    for name, item in value.items():
        name = str(name)
        if name.startswith("x-"):
            continue
        sub = "%s.%s" % (key, name) if key else name
        if name not in spec:
            report("error", sub, _unknown_key(name, spec))
        elif spec[name] is None:
            out[name] = item
        elif spec[name][0] == "refuse":
            report("error", sub, "not supported on spin.platform: " + spec[name][1])
        else:
            report("warning", sub, "ignored on spin.platform: " + spec[name][1])
    return out


class _Service:
    """Parses one compose service into its model dict."""

    def __init__(self, st, file, name, raw):
        self.st = st
        self.file = file
        self.name = name
        self.raw = raw
        self.model = empty_service()
        self.provenance = {}
        self.env_file_vars = {}
        self.environment = {}
        self.label_file_vars = {}
        self.labels = {}
        self.replicas_set = False
        self.shm_size = None

    def error(self, key, message):
        self.st.error(self.file, self.name, key, message)

    def warning(self, key, message):
        self.st.warning(self.file, self.name, key, message)

    def report(self, severity, key, message):
        (self.error if severity == "error" else self.warning)(key, message)

    def check(self, key, func, *args, **kwargs):
        """Run a value check; on _Invalid report it at ``key`` and return ``kwargs['default']``."""
        default = kwargs.pop("default", None)
        try:
            return func(*args, **kwargs)
        except _Invalid as exc:
            self.error(exc.key or key, exc.message)
            return default

    def fields(self, key, value, spec):
        return _fields(self.report, key, value, spec)

    def assign(self, path, value, key, shown=None):
        """Set model[path] = value, unless another key already set a different value.

        ``shown`` is the value as the tenant wrote it, for the message."""
        shown = value if shown is None else shown
        previous = self.provenance.get(path)
        if previous is not None and previous[2] != value:
            where = "" if previous[0] == self.file else " in %s" % previous[0]
            self.error(key, "%s conflicts with '%s' = %s%s: give the value once"
                       % (_show(shown), previous[1], _show(previous[3]), where))
            return
        self.provenance[path] = (self.file, key, value, shown)
        target = self.model
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value


def empty_service():
    """A service of the model with every key at its default (see docs/design.md)."""
    return {
        "image": None, "build": None, "command": None, "entrypoint": None, "environment": {}, "ports": [],
        "expose": [], "loopback_ports": [], "volumes": [], "networks": {}, "links": {}, "depends_on": [],
        "depends_on_conditions": {},
        "healthcheck": None, "restart_policy": None, "user": None, "working_dir": None,
        "hostname": None, "container_name": None, "labels": {},
        "deploy": {
            "mode": "replicated", "replicas": 1, "labels": {}, "endpoint_mode": None,
            "resources": {"limits": {"cpus": None, "memory": None, "pids": None},
                          "reservations": {"cpus": None, "memory": None}},
            "placement": {"constraints": [], "preferences": [], "max_replicas_per_node": None},
            "update_config": None, "rollback_config": None,
        },
        "secrets": [], "configs": [], "cap_add": [], "cap_drop": [], "read_only": False,
        "init": False, "stop_grace_period": None, "stop_signal": None, "logging": None,
        "sysctls": {}, "ulimits": {}, "tty": False, "stdin_open": False,
        # carried so that policy can refuse them by name (Swarm cannot run most of them)
        "privileged": False, "devices": [], "network_mode": None, "pid": None, "ipc": None,
        "userns_mode": None, "security_opt": [], "cgroup_parent": None, "volumes_from": [],
        "uts": None, "cgroup": None, "device_cgroup_rules": [], "external_links": [],
        "use_api_socket": False,
        # rancher-compose overlay
        "start_on_create": True, "rancher_health_check": None,
        # x-spin.route: None (the platform's rule), False (no automatic route), True or a port
        "route": None,
        # x-spin.https: None, or {"redirect": bool, "cert": top-level secret name, "key": secret name}
        "https": None,
    }


# ---------------------------------------------------------------------------------------------
# service keys: command line, environment, labels

def _command(value):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise _Invalid("cannot be split like a shell command line (%s): check the quotes" % exc)
    return _str_list(value)


def _k_image(sp, value):
    image = _nonempty_str(value, "an image name")
    if re.search(r"\s", image):
        raise _Invalid("'%s' is not an image name: it contains white space" % image)
    sp.model["image"] = image


def _k_command(sp, value):
    sp.model["command"] = _command(value)


def _k_entrypoint(sp, value):
    sp.model["entrypoint"] = _command(value)


def _k_environment(sp, value):
    sp.environment = _list_or_dict(value)


def _file_entries(value, key):
    """env_file / label_file: 'a.env' | ['a.env', {path, required, format}] -> [(path, required, raw)]."""
    if isinstance(value, str):
        return [(value, True, False)]
    entries = []
    for i, item in enumerate(_list(value, "a file name or a list of them")):
        if isinstance(item, dict) and key == "env_file":
            unknown = set(item) - {"path", "required", "format"}
            if unknown:
                raise _Invalid(_unknown_key(sorted(unknown)[0], ("path", "required", "format")),
                               key="%s[%d].%s" % (key, i, sorted(unknown)[0]))
            if "path" not in item:
                raise _Invalid("needs a path", key="%s[%d]" % (key, i))
            required = _bool(item.get("required", True))
            raw = _enum(item["format"], ("raw",)) == "raw" if item.get("format") is not None else False
            entries.append((_nonempty_str(item["path"]), required, raw))
        else:
            entries.append((_nonempty_str(item, "a file name"), True, False))
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
            values = dict(line.split("=", 1) for line in _as_text(text).splitlines() if "=" in line)
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


def _k_env_file(sp, value):
    sp.env_file_vars = _read_var_file(sp, "env_file", value)


def _k_label_file(sp, value):
    labels = _read_var_file(sp, "label_file", value)
    sp.label_file_vars = _labels(labels)


# labels that placed containers on Rancher 1.x and classic Swarm: on Swarm mode they are only labels
_SCHEDULER_LABELS = ("io.rancher.scheduler.", "com.docker.swarm.constraints", "com.docker.swarm.affinities")


def _k_labels(sp, value):
    sp.labels = _labels(value)
    for name in sp.labels:
        if name.startswith(_SCHEDULER_LABELS):
            sp.warning("labels.%s" % name, "a scheduler label of Rancher or classic Swarm places nothing here (the "
                       "platform chooses the nodes): narrow where the service runs with deploy.placement.constraints "
                       "on node.labels.<name>, or remove the label")


def _k_user(sp, value):
    sp.model["user"] = _nonempty_str(value)


def _k_working_dir(sp, value):
    sp.model["working_dir"] = _abs_path(value)


def _k_container_name(sp, value):
    """Compose's containers answer to their container_name: it becomes a network alias."""
    sp.model["container_name"] = _alias(_nonempty_str(value, "a container name"))


# Swarm's placeholders a host name may use (docker service create --hostname); not .Service.Labels, nor
# any other template: '{{"tasks.x"}}' or a label would give a host name the checks below never saw
_HOSTNAME_PLACEHOLDER = re.compile(r"\{\{\s*\.(?:Service\.(?:ID|Name)|Node\.(?:ID|Hostname)|Task\.(?:ID|Name|Slot))\s*\}\}")


def _k_hostname(sp, value):
    hostname = _nonempty_str(value, "a host name")
    literal = _HOSTNAME_PLACEHOLDER.sub("x", hostname)
    if "{{" in literal or "}}" in literal:
        raise _Invalid("'%s' is not a host name: a template may use only {{.Service.Name}}, {{.Service.ID}}, "
                       "{{.Node.Hostname}}, {{.Node.ID}}, {{.Task.Name}}, {{.Task.ID}} and {{.Task.Slot}}" % hostname)
    if not re.match(r"^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$", literal):
        raise _Invalid("'%s' is not a host name: use letters, digits, '-' and '.'" % hostname)
    # Docker registers a task's host name on every network of its container, the stack's load balancer
    # network too, where the edge resolves tasks.<the platform's alias> (haproxy.backend_alias)
    if hostname.lower().startswith("tasks."):
        raise _Invalid("'%s' is in Swarm's DNS names for a service's tasks (tasks.<name>): choose a host name that "
                       "does not start with 'tasks.'" % hostname)
    sp.model["hostname"] = hostname


def _k_stop_grace_period(sp, value):
    sp.model["stop_grace_period"] = _duration(value)


def _k_stop_signal(sp, value):
    sp.model["stop_signal"] = _nonempty_str(value, "a signal name like SIGTERM")


def _k_sysctls(sp, value):
    sysctls = _list_or_dict(value)
    for name, text in sysctls.items():
        if text is None:
            raise _Invalid("has no value: write %s=VALUE" % name, key="sysctls.%s" % name)
    sp.model["sysctls"] = sysctls


def _k_cap_add(sp, value):
    sp.model["cap_add"] = [capabilities.short_name(c) for c in _str_list(value)]


def _k_cap_drop(sp, value):
    sp.model["cap_drop"] = [capabilities.short_name(c) for c in _str_list(value)]


def _k_read_only(sp, value):
    sp.model["read_only"] = _bool(value)


def _k_init(sp, value):
    sp.model["init"] = _bool(value)


def _k_tty(sp, value):
    sp.model["tty"] = _bool(value)


def _k_stdin_open(sp, value):
    sp.model["stdin_open"] = _bool(value)


ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
           "rtprio", "rttime", "sigpending", "stack")


def _ulimit(name, value):
    """``65535`` (soft = hard) or ``{soft, hard}`` -> {soft, hard}; -1 is unlimited."""
    if isinstance(value, dict):
        unknown = sorted(set(map(str, value)) - {"soft", "hard"})
        if unknown:
            raise _Invalid(_unknown_key(unknown[0], ("soft", "hard")), key="ulimits.%s.%s" % (name, unknown[0]))
        if "soft" not in value or "hard" not in value:
            raise _Invalid("give both soft and hard, like {soft: 20000, hard: 40000}", key="ulimits." + name)
        soft, hard = _int(value["soft"], minimum=-1), _int(value["hard"], minimum=-1)
    else:
        soft = hard = _int(value, minimum=-1, what="a number or {soft, hard}")
    if hard != -1 and (soft == -1 or soft > hard):
        raise _Invalid("the soft limit %d is above the hard limit %d" % (soft, hard), key="ulimits." + name)
    return {"soft": soft, "hard": hard}


def _k_ulimits(sp, value):
    out = {}
    for name, item in _mapping(value).items():
        name = str(name)
        if name not in ULIMITS:
            sp.error("ulimits." + name, "'%s' is not a ulimit%s" % (name, _did_you_mean(name, ULIMITS)))
            continue
        limit = sp.check("ulimits." + name, _ulimit, name, item)
        if limit:
            out[name] = limit
    sp.model["ulimits"] = out


def _k_scale(sp, value):
    sp.assign(("deploy", "replicas"), _int(value, what="a number of replicas"), "scale")
    sp.replicas_set = True


def _k_ignore(sp, value):
    """Keys consumed elsewhere (extends is resolved before the service is parsed)."""


def _k_build(sp, value):
    """build: the platform builds the image from the submission (build.py normalises and judges it)."""
    model, problems = build_model.normalise(value, sp.st.env)
    for severity, key, message in problems:
        sp.report(severity, key, message)
    sp.model["build"] = model


# ---------------------------------------------------------------------------------------------
# service keys: ports, expose

def _port_number(text, what="port"):
    number = _int(text, minimum=1, maximum=65535, what="a %s number" % what)
    return number


def _port_range(text):
    """'80' -> (80, 80); '8000-8010' -> (8000, 8010); '' -> None."""
    text = text.strip()
    if not text:
        return None
    low, sep, high = text.partition("-")
    low = _port_number(low)
    high = _port_number(high) if sep else low
    if high < low:
        raise _Invalid("port range '%s' runs backwards" % text)
    if high - low >= MAX_PORT_RANGE:
        raise _Invalid("port range '%s' has more than %d ports" % (text, MAX_PORT_RANGE))
    return low, high


def _split_short_port(text):
    """'127.0.0.1:8080:80/udp' -> (host_ip, published, target, protocol) as strings."""
    body, dummy, protocol = text.strip().partition("/")
    host_ip = None
    if body.startswith("["):
        end = body.find("]")
        if end < 0 or body[end + 1:end + 2] != ":":
            raise ValueError
        host_ip, parts = body[1:end], body[end + 2:].split(":")
        if len(parts) != 2:
            raise ValueError
    else:
        parts = body.split(":")
        if len(parts) == 3:
            host_ip = parts.pop(0)
        if len(parts) > 2:
            raise ValueError
    published, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    return host_ip, published, target, protocol or "tcp"


_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|::1|localhost)$")
_ANY_ADDRESS = ("0.0.0.0", "::", "")


def _host_ip(sp, key, host_ip, targets):
    """-> True when the port stays on the host's loopback (so it is not published at all)."""
    if host_ip is None or host_ip.strip() in _ANY_ADDRESS:
        return False
    if _LOOPBACK.match(host_ip.strip()):
        sp.model["loopback_ports"].extend(t for t in targets if t not in sp.model["loopback_ports"])
        sp.warning(key, "bound to %s: in Compose only the host itself reaches it, so spin.platform publishes "
                   "nothing for it (the stack's services reach '%s' on port %s by name)"
                   % (host_ip, sp.name, ", ".join(str(t) for t in targets)))
        return True
    sp.warning(key, "host IP '%s' is ignored: the platform load balancer publishes the port" % host_ip)
    return False


def _expand_ports(text, targets, publics, protocol, mode):
    count = targets[1] - targets[0] + 1
    if publics is not None and publics[1] - publics[0] + 1 != count:
        raise _Invalid("'%s': the published and container port ranges must have the same length" % text)
    return [{"target": targets[0] + i, "published": None if publics is None else publics[0] + i,
             "protocol": protocol, "mode": mode} for i in range(count)]


def _short_port(sp, key, item):
    text = _str(item, "a port like 8080:80 or a mapping")
    try:
        host_ip, published, target, protocol = _split_short_port(text)
        if not re.match(r"^[0-9-]*$", published + target):
            raise ValueError
    except ValueError:
        raise _Invalid("'%s' is not a port mapping: write it like 8080:80, 80 or 127.0.0.1:8080:80/udp" % text)
    protocol = _enum(protocol, ("tcp", "udp", "sctp"))
    targets = _port_range(target)
    if targets is None:
        raise _Invalid("'%s' has no container port" % text)
    ports = _expand_ports(text, targets, _port_range(published), protocol, "ingress")
    if _host_ip(sp, key, host_ip, [p["target"] for p in ports]):
        return []
    return ports


_LONG_PORT_SPEC = {"target": None, "published": None, "protocol": None, "mode": None, "host_ip": None,
                   "name": ("warn", "port names have no meaning on Swarm"),
                   "app_protocol": ("warn", "the load balancer's protocol comes from rancher-compose lb_config")}


def _long_port(sp, key, item):
    fields = sp.fields(key, item, _LONG_PORT_SPEC)
    if "target" not in fields:
        raise _Invalid("needs a target (the container port)")
    targets = sp.check(key + ".target", _port_range, _str(fields["target"], "a port or a range like 8000-8001"))
    publics = None
    if fields.get("published") is not None:
        publics = sp.check(key + ".published", _port_range, _str(fields["published"], "a port or a range"))
    protocol = sp.check(key + ".protocol", _enum, fields.get("protocol") or "tcp", ("tcp", "udp", "sctp"))
    mode = sp.check(key + ".mode", _enum, fields.get("mode") or "ingress", ("ingress", "host"))
    if targets is None:
        return []
    text = "%s:%s" % (fields.get("published"), fields["target"])
    ports = _expand_ports(text, targets, publics, protocol or "tcp", mode or "ingress")
    host_ip = fields.get("host_ip")
    if host_ip is not None and _host_ip(sp, key + ".host_ip", _str(host_ip), [p["target"] for p in ports]):
        return []
    return ports


def _k_ports(sp, value):
    for i, item in enumerate(_list(value)):
        key = "ports[%d]" % i
        parse = _long_port if isinstance(item, dict) else _short_port
        sp.model["ports"].extend(sp.check(key, parse, sp, key, item, default=[]))


def _expose_item(item):
    text = _str(item, "a port number")
    port, dummy, protocol = text.partition("/")
    if protocol:
        _enum(protocol, ("tcp", "udp", "sctp"))
    low, high = _port_range(port) or (None, None)
    if low is None:
        raise _Invalid("'%s' is not a port" % text)
    return list(range(low, high + 1))


def _k_expose(sp, value):
    for i, item in enumerate(_list(value)):
        for port in sp.check("expose[%d]" % i, _expose_item, item, default=[]):
            if port not in sp.model["expose"]:
                sp.model["expose"].append(port)


# ---------------------------------------------------------------------------------------------
# service keys: volumes, tmpfs

_IGNORED_VOLUME_OPTIONS = ("z", "Z", "consistent", "cached", "delegated",
                           "rprivate", "private", "rshared", "shared", "rslave", "slave")
MAX_LISTED_FILES = 5


def _volume_entry(vtype, source, target, read_only=False, size=None, mode=None, nocopy=False):
    return {"type": vtype, "source": source, "target": target, "read_only": read_only,
            "tmpfs_size": size, "tmpfs_mode": mode, "nocopy": nocopy}


def _is_host_path(text):
    return text.startswith(("/", ".", "~"))


def _bind_source(text):
    """An absolute host path; a home path is refused (relative ones are files of the submission)."""
    if text.startswith("~"):
        raise _Invalid("bind mount of '%s' (a home directory) is not supported: the service may run on "
                       "any node; use a named volume, or a file of the submission directory (./file) for a "
                       "configuration file" % text)
    return text


def _relative(text):
    norm = posixpath.normpath(text)
    return norm if norm.startswith("..") or norm == "." else "./" + norm


def _config_key(st, path):
    """A name for the config made from a submission file, unique in the stack."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", posixpath.basename(path)).lstrip("._-") or "file"
    key, n = base[-40:], 1
    while key in st.declared_configs or (key in st.bind_files and st.bind_files[key]["path"] != path):
        n += 1
        key = "%s-%d" % (base[-36:], n)
    return key


def _store_key(st, path):
    """A name for a submission path in the stack's bind store, unique in the stack: './frontend/src' ->
    'frontend-src', '.' -> 'submission'."""
    norm = posixpath.normpath(path)
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", norm).strip("._-")[-48:].strip("._-") or "submission"
    key, n = base, 1
    while key in st.bind_store and st.bind_store[key]["source"] != path:
        n += 1
        key = "%s-%d" % (base[-44:], n)
    return key


def _bind_store(sp, key, path, target, read_only, kind):
    """A relative bind mount of a directory (or of a file too large for a config) -> an entry of the
    stack's bind store (``bind_store``): its content is synced to a directory of the platform's that
    every node running the service sees, and bind-mounted from there, read-only or read-write as the
    file says (docs/compose-keys.md)."""
    store = _store_key(sp.st, path)
    entry = sp.st.bind_store.setdefault(store, {"source": path, "kind": kind, "read_only": True, "mounts": []})
    entry["read_only"] = entry["read_only"] and read_only
    entry["mounts"].append({"service": sp.name, "key": key, "file": sp.file, "target": target,
                            "read_only": read_only})
    sp.model["volumes"].append(_volume_entry("store", store, target, read_only))


def _bind_file(sp, key, source, target, read_only):
    """A relative bind mount (``./nginx.conf:/etc/nginx/nginx.conf``): a file becomes a Swarm config
    made from the submission's file, mounted read-only at the target (the task may run on any node,
    where the submission directory does not exist); a directory, a path that does not exist (Compose
    makes an empty directory) and a file larger than a config goes to the stack's bind store."""
    path = _relative(source)
    found = sp.st.stat(path, sp.file, sp.name, key)
    if found is None:
        return
    if found["kind"] == "missing":
        if _store_key(sp.st, path) not in sp.st.bind_store:
            sp.warning(key, "'%s' does not exist in the submission directory: the service gets an empty directory "
                       "there (as Compose makes one on the host), in the stack's bind store, and what it writes there "
                       "is kept across deploys%s" % (source, "" if read_only else "; data only this service uses is "
                                                     "faster in a named volume: write '%s:%s' and declare it under the "
                                                     "top-level volumes" % (_volume_name(source), target)))
        _bind_store(sp, key, path, target, read_only, "missing")
        return
    if found["kind"] == "dir":
        _bind_store(sp, key, path, target, read_only, "dir")
        return
    size = found.get("size")
    if size is not None and size > MAX_SECRET_BYTES:
        _bind_store(sp, key, path, target, read_only, "file")
        return
    text = sp.st.read(path, sp.file, sp.name, key)
    if text is None:
        return
    raw = _as_bytes(text)
    if len(raw) > MAX_SECRET_BYTES:
        _bind_store(sp, key, path, target, read_only, "file")
        return
    if not read_only:
        sp.warning(key, "'%s' becomes a Swarm config, mounted read-only: the service cannot change the file "
                   "(append ':ro' to say so)" % source)
    config = _config_key(sp.st, path)
    sp.st.bind_files[config] = {"path": path, "content": base64.b64encode(raw).decode("ascii")}
    mode = 0o555 if found.get("mode", 0) & 0o111 else 0o444
    sp.model["configs"].append({"source": config, "target": target, "uid": "0", "gid": "0", "mode": mode})


def _volume_name(source):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", posixpath.basename(posixpath.normpath(source))).strip("._-") or "data"


def _named_volume(text):
    if not NAME_RE.match(text):
        raise _Invalid("'%s' is not a volume name: use letters, digits, '_', '.' and '-'" % text)
    return text


def _short_volume(sp, key, item):
    text = _nonempty_str(item, "a volume like data:/path or a mapping")
    parts = text.split(":")
    if len(parts) > 3:
        raise _Invalid("'%s' is not a volume: write it like data:/var/lib/data or /host/path:/path:ro" % text)
    source, target, options = (None, parts[0], "") if len(parts) == 1 else (parts + [""])[:3]
    read_only = nocopy = False
    for option in [o for o in options.split(",") if o]:
        if option in ("ro", "rw"):
            read_only = option == "ro"
        elif option == "nocopy":
            nocopy = True
        elif option in _IGNORED_VOLUME_OPTIONS:
            sp.warning(key, "volume option '%s' is ignored on spin.platform" % option)
        else:
            raise _Invalid("'%s': unknown volume option '%s' (use ro or rw)" % (text, option))
    target = _container_path(target)
    if source is None:
        return _volume_entry("volume", None, target, read_only, nocopy=nocopy)
    if source.startswith("."):
        _bind_file(sp, key, source, target, read_only)
        return None
    if _is_host_path(source):
        return _volume_entry("bind", _bind_source(source), target, read_only)
    return _volume_entry("volume", _named_volume(source), target, read_only, nocopy=nocopy)


_LONG_VOLUME_SPEC = {
    "type": None, "source": None, "target": None, "read_only": None, "bind": None, "volume": None,
    "tmpfs": None, "consistency": ("warn", "consistency applies to Docker Desktop only"),
    "image": ("refuse", "image mounts need Docker 28"),
}
_BIND_SPEC = {"propagation": ("warn", "mounts use the default propagation (rprivate)"),
              "create_host_path": ("warn", "host paths are never created by spin.platform"),
              "selinux": ("warn", "SELinux relabelling is not done on spin.platform"),
              "recursive": ("warn", "recursive read-only needs a newer engine")}
_VOLUME_SPEC = {"nocopy": None,
                "subpath": ("refuse", "volume subpaths need a newer engine; mount the volume and use a "
                                      "subdirectory"),
                "labels": ("warn", "the platform labels the volumes it creates")}
_TMPFS_SPEC = {"size": None, "mode": None}


def _long_volume(sp, key, item):
    fields = sp.fields(key, item, _LONG_VOLUME_SPEC)
    vtype = fields.get("type")
    if vtype in ("npipe", "cluster", "image"):
        raise _Invalid("type '%s' is not supported on spin.platform: use volume, bind or tmpfs" % vtype,
                       key=key + ".type")
    if vtype is None:
        raise _Invalid("needs a type: volume, bind or tmpfs")
    vtype = _enum(vtype, ("volume", "bind", "tmpfs"))
    target = sp.check(key + ".target", _container_path, fields.get("target"))
    read_only = sp.check(key + ".read_only", _bool, fields.get("read_only", False), default=False)
    source = fields.get("source")
    nocopy = False
    for sub, spec in (("bind", _BIND_SPEC), ("volume", _VOLUME_SPEC), ("tmpfs", _TMPFS_SPEC)):
        if sub in fields and sub != vtype:
            sp.error("%s.%s" % (key, sub), "only applies to type %s, and this volume is type %s" % (sub, vtype))
        elif sub in fields:
            options = sp.fields("%s.%s" % (key, sub), fields[sub], spec) or {}
            if sub == "volume" and "nocopy" in options:
                nocopy = sp.check(key + ".volume.nocopy", _bool, options["nocopy"], default=False)
    if vtype == "tmpfs":
        if source is not None:
            sp.error(key + ".source", "a tmpfs mount has no source")
        options = fields.get("tmpfs") if isinstance(fields.get("tmpfs"), dict) else {}
        size = sp.check(key + ".tmpfs.size", _bytes, options.get("size"))
        mode = sp.check(key + ".tmpfs.mode", _mode, options["mode"]) if "mode" in options else None
        return _volume_entry("tmpfs", None, target, read_only, size, mode) if target else None
    if vtype == "bind":
        if source is None:
            raise _Invalid("a bind mount needs a source (an absolute host path, or a file of the submission "
                           "like ./nginx.conf)", key=key + ".source")
        source = _nonempty_str(source)
        if not source.startswith(("/", "~")):
            if target:
                _bind_file(sp, key, source, target, read_only)
            return None
        source = sp.check(key + ".source", _bind_source, source)
    elif source is not None:
        source = sp.check(key + ".source", _named_volume, _nonempty_str(source))
    if target is None or (source is None and vtype == "bind"):
        return None
    return _volume_entry(vtype, source, target, read_only, nocopy=nocopy)


def _k_volumes(sp, value):
    for i, item in enumerate(_list(value)):
        key = "volumes[%d]" % i
        parse = _long_volume if isinstance(item, dict) else _short_volume
        entry = sp.check(key, parse, sp, key, item)
        if entry:
            sp.model["volumes"].append(entry)


def _tmpfs_item(sp, key, text):
    path, dummy, options = text.partition(":")
    size = mode = None
    for option in [o for o in options.split(",") if o]:
        name, dummy, setting = option.partition("=")
        if name == "size":
            size = _bytes(setting)
        elif name == "mode":
            mode = _mode(setting)
        else:
            sp.warning(key, "tmpfs option '%s' is ignored on spin.platform (only size and mode apply)" % option)
    return _volume_entry("tmpfs", None, _container_path(path), False, size, mode)


def _k_shm_size(sp, value):
    """shm_size: Swarm has no such setting, so /dev/shm becomes a tmpfs mount of that size (mode 1777,
    as Docker makes /dev/shm)."""
    sp.shm_size = _bytes(value)


def _shm_mount(sp):
    if sp.shm_size is None:
        return
    if any(v["target"].rstrip("/") == "/dev/shm" for v in sp.model["volumes"]):
        sp.error("shm_size", "a mount on /dev/shm is given too: give shm_size or the mount, not both")
        return
    sp.model["volumes"].append(_volume_entry("tmpfs", None, "/dev/shm", False, sp.shm_size, 0o1777))


def _k_tmpfs(sp, value):
    for i, text in enumerate(_str_list(value, allow_string=True)):
        key = "tmpfs[%d]" % i
        entry = sp.check(key, _tmpfs_item, sp, key, text)
        if entry:
            sp.model["volumes"].append(entry)


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


def _alias(text):
    if not NAME_RE.match(text):
        raise _Invalid("'%s' is not a network alias: use letters, digits, '_', '.' and '-'" % text)
    return text


def _k_networks(sp, value):
    entries = {name: None for name in _str_list(value)} if isinstance(value, list) else _mapping(
        value, "a list of network names or a mapping")
    for name, config in entries.items():
        key = "networks.%s" % name
        fields = sp.fields(key, config, _SERVICE_NETWORK_SPEC)
        if fields is None:
            continue
        aliases = sp.check(key + ".aliases", _str_list, fields.get("aliases", []), default=[])
        aliases = [a for a in (sp.check(key + ".aliases", _alias, a) for a in aliases) if a]
        sp.model["networks"][str(name)] = {"aliases": aliases}


def _k_links(sp, value):
    """``[db, db:database]`` -> {db: [db, database]}: every name reaches the target service."""
    for text in _str_list(value):
        target, dummy, alias = text.partition(":")
        aliases = sp.model["links"].setdefault(target, [])
        alias = _alias(alias or target)
        if alias not in aliases:
            aliases.append(alias)


_DEPENDS_SPEC = {"condition": None, "required": None,
                 "restart": ("warn", "Swarm restarts services on its own")}
_CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
DEPLOY_MODES = ("replicated", "global", "replicated-job", "global-job")


def _k_depends_on(sp, value):
    """depends_on -> the start order, plus the conditions the deploy waits for before it starts this
    service (``depends_on_conditions``); ``required: false`` dependencies may be missing."""
    conditions = {}
    if isinstance(value, list):
        names = _str_list(value)
    else:
        names = []
        for name, config in _mapping(value, "a list of service names or a mapping").items():
            key = "depends_on.%s" % name
            fields = sp.fields(key, config, _DEPENDS_SPEC) or {}
            condition = sp.check(key + ".condition", _enum, fields.get("condition", "service_started"),
                                 _CONDITIONS)
            if condition in ("service_healthy", "service_completed_successfully"):
                conditions[str(name)] = condition
            if "required" in fields and sp.check(key + ".required", _bool, fields["required"]) is False:
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
            raise _Invalid("must not be empty")
        return ["CMD-SHELL", value]
    test = _str_list(value)
    if not test or test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        raise _Invalid("a list must start with CMD, CMD-SHELL or NONE, like [CMD, curl, -f, http://localhost]")
    if test[0] != "NONE" and len(test) < 2:
        raise _Invalid("%s needs a command after it" % test[0])
    return test


def _k_healthcheck(sp, value):
    fields = sp.fields("healthcheck", value, _HEALTHCHECK_SPEC)
    if fields is None:
        return
    if sp.check("healthcheck.disable", _bool, fields.get("disable", False)):
        sp.model["healthcheck"] = {"disable": True}
        return
    # without test: the image's own HEALTHCHECK, with the settings given here (as Compose does)
    test = sp.check("healthcheck.test", _healthcheck_test, fields["test"]) if "test" in fields else None
    if test == ["NONE"]:
        sp.model["healthcheck"] = {"disable": True}
        return
    check = {"test": test}
    for name in ("interval", "timeout", "start_period"):
        check[name] = sp.check("healthcheck." + name, _duration, fields.get(name))
    retries = fields.get("retries")
    check["retries"] = None if retries is None else sp.check("healthcheck.retries", _int, retries)
    sp.model["healthcheck"] = check


def _k_restart(sp, value):
    text = "no" if value is False else _str(value)
    deploy = sp.raw.get("deploy")
    if isinstance(deploy, dict) and "restart_policy" in deploy:
        sp.warning("restart", "ignored because deploy.restart_policy is given")
        return
    name, dummy, count = text.partition(":")
    if name == "on-failure":
        attempts = _int(count, what="a number of attempts") if count else None
        sp.model["restart_policy"] = _restart_policy("on-failure", attempts)
    elif name in ("no", "always", "unless-stopped") and not count:
        sp.model["restart_policy"] = _restart_policy("none" if name == "no" else "any")
    else:
        raise _Invalid("must be no, always, on-failure[:N] or unless-stopped, not '%s'" % text
                       + _did_you_mean(name, ("no", "always", "on-failure", "unless-stopped")))


_LOGGING_SPEC = {"driver": None, "options": None}


def _log_options(value):
    return {str(k): _scalar_text(v) for k, v in _mapping(value).items() if v is not None}


def _k_logging(sp, value):
    fields = sp.fields("logging", value, _LOGGING_SPEC)
    if fields is None:
        return
    driver = sp.check("logging.driver", _nonempty_str, fields.get("driver")) if "driver" in fields else None
    options = sp.check("logging.options", _log_options, fields.get("options") or {}, default={})
    if driver is None and options:
        sp.error("logging.options", "needs logging.driver: name the driver the options are for (e.g. json-file)")
    sp.model["logging"] = {"driver": driver, "options": options} if driver else None


def _k_log_driver(sp, value):
    if "logging" in sp.raw:
        raise _Invalid("cannot be combined with logging: use logging.driver")
    driver = _nonempty_str(value)
    options = (sp.model["logging"] or {}).get("options", {})
    sp.model["logging"] = {"driver": driver, "options": options}


def _k_log_opt(sp, value):
    if "logging" in sp.raw:
        raise _Invalid("cannot be combined with logging: use logging.options")
    if "log_driver" not in sp.raw:
        raise _Invalid("needs log_driver: name the driver the options are for")
    options = _log_options(value)
    logging = sp.model["logging"] or {"driver": None, "options": {}}
    logging["options"] = options
    sp.model["logging"] = logging


_REF_SPEC = {"source": None, "target": None, "uid": None, "gid": None, "mode": None}


def _refs(sp, key, value, default_target):
    out = []
    for i, item in enumerate(_list(value)):
        sub = "%s[%d]" % (key, i)
        if not isinstance(item, dict):
            source = sp.check(sub, _nonempty_str, item, "a name")
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
            "target": sp.check(sub + ".target", _nonempty_str, fields.get("target") or default_target(source)),
            "uid": sp.check(sub + ".uid", _str, fields.get("uid", "0"), default="0"),
            "gid": sp.check(sub + ".gid", _str, fields.get("gid", "0"), default="0"),
            "mode": sp.check(sub + ".mode", _mode, fields.get("mode", 0o444), default=0o444),
        })
    return out


def _k_secrets(sp, value):
    sp.model["secrets"] = _refs(sp, "secrets", value, lambda source: source)


def _k_configs(sp, value):
    sp.model["configs"] = _refs(sp, "configs", value, lambda source: "/" + source)


# ---------------------------------------------------------------------------------------------
# service keys: compose v2 resources (they meet deploy.resources through sp.assign)

def _k_mem_limit(sp, value):
    sp.assign(("deploy", "resources", "limits", "memory"), _bytes(value), "mem_limit", value)


def _k_mem_reservation(sp, value):
    sp.assign(("deploy", "resources", "reservations", "memory"), _bytes(value), "mem_reservation", value)


def _k_cpus(sp, value):
    sp.assign(("deploy", "resources", "limits", "cpus"), _cpus(value), "cpus", value)


def _k_pids_limit(sp, value):
    sp.assign(("deploy", "resources", "limits", "pids"), _int(value, minimum=-1), "pids_limit")


# ---------------------------------------------------------------------------------------------
# service keys carried for policy (issue 5): parsed, never refused here

def _k_privileged(sp, value):
    sp.model["privileged"] = _bool(value)


def _k_use_api_socket(sp, value):
    sp.model["use_api_socket"] = _bool(value)


def _carried_string(name):
    def handler(sp, value):
        sp.model[name] = None if value is None else _nonempty_str(value)
    return handler


def _carried_list(name):
    def handler(sp, value):
        sp.model[name] = _str_list(value)
    return handler


def _device(item):
    if isinstance(item, dict):
        unknown = set(item) - {"source", "target", "permissions"}
        if unknown or "source" not in item:
            raise _Invalid("a device mapping has source, target and permissions")
        source, target, permissions = item["source"], item.get("target"), item.get("permissions")
    else:
        parts = _nonempty_str(item, "a device like /dev/x:/dev/x:rwm").split(":")
        source, target, permissions = (parts + [None, None])[:3]
    source = _str(source)
    return {"source": source, "target": _str(target) if target else source,
            "permissions": _str(permissions) if permissions else "rwm"}


def _k_devices(sp, value):
    sp.model["devices"] = [_device(item) for item in _list(value)]


# ---------------------------------------------------------------------------------------------
# service key: deploy

def _k_deploy(sp, value):
    fields = sp.fields("deploy", value, {name: None for name in _DEPLOY_KEYS})
    for name, item in (fields or {}).items():
        try:
            _DEPLOY_KEYS[name](sp, "deploy." + name, item)
        except _Invalid as exc:
            sp.error(exc.key or "deploy." + name, exc.message)


def _d_mode(sp, key, value):
    sp.model["deploy"]["mode"] = _enum(_str(value), DEPLOY_MODES)


def _d_replicas(sp, key, value):
    sp.assign(("deploy", "replicas"), _int(value, what="a number of replicas"), key)
    sp.replicas_set = True


def _d_labels(sp, key, value):
    sp.model["deploy"]["labels"] = _labels(value)


def _d_endpoint_mode(sp, key, value):
    sp.model["deploy"]["endpoint_mode"] = _enum(value, ("vip", "dnsrr"))


_LIMITS_SPEC = {"cpus": None, "memory": None, "pids": None}
_RESERVATIONS_SPEC = {"cpus": None, "memory": None,
                      "generic_resources": ("refuse", "the platform has no generic resources"),
                      "devices": ("refuse", "the platform has no devices to reserve (GPUs)")}
_RESOURCE_CHECKS = {"cpus": _cpus, "memory": _bytes, "pids": lambda v: _int(v, minimum=-1)}


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
        raise _Invalid("'%s' is not a constraint Swarm reads: write it like node.labels.zone == a (a key, == or "
                       "!=, a value of letters, digits and - _ . : /)" % text)
    return text.strip()


def _preference(item):
    if not isinstance(item, dict) or set(item) != {"spread"}:
        raise _Invalid("each preference is a mapping like {spread: node.labels.zone}")
    return {"spread": _nonempty_str(item["spread"])}


def _d_placement(sp, key, value):
    fields = sp.fields(key, value, _PLACEMENT_SPEC) or {}
    spec = sp.model["deploy"]["placement"]
    if "constraints" in fields:
        texts = sp.check(key + ".constraints", _str_list, fields["constraints"], default=[])
        spec["constraints"] = [c for c in (sp.check(key + ".constraints", _constraint, t) for t in texts) if c]
    if "preferences" in fields:
        items = sp.check(key + ".preferences", _list, fields["preferences"], default=[])
        spec["preferences"] = [p for p in (sp.check(key + ".preferences", _preference, i) for i in items) if p]
    if fields.get("max_replicas_per_node") is not None:
        spec["max_replicas_per_node"] = sp.check(key + ".max_replicas_per_node", _int, fields["max_replicas_per_node"])


_UPDATE_FIELDS = ("parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order")
_UPDATE_CHECKS = {
    "parallelism": _int, "delay": _duration, "monitor": _duration,
    "max_failure_ratio": lambda v: _float(v, 0, 1),
    "order": lambda v: _enum(v, ("start-first", "stop-first")),
}


def _ensure_update_config(sp, which):
    if sp.model["deploy"][which] is None:
        sp.model["deploy"][which] = {name: None for name in _UPDATE_FIELDS}


def _update_config(which, actions):
    def handler(sp, key, value):
        fields = sp.fields(key, value, {name: None for name in _UPDATE_FIELDS})
        if fields is None:
            return
        _ensure_update_config(sp, which)
        for name, item in fields.items():
            check = _UPDATE_CHECKS.get(name) or (lambda v: _enum(v, actions))
            result = sp.check("%s.%s" % (key, name), check, item)
            if result is not None:
                sp.assign(("deploy", which, name), result, "%s.%s" % (key, name), item)
    return handler


_RESTART_SPEC = {"condition": None, "delay": None, "max_attempts": None, "window": None}


def _d_restart_policy(sp, key, value):
    fields = sp.fields(key, value, _RESTART_SPEC)
    if fields is None:
        return
    condition = sp.check(key + ".condition", _enum, fields.get("condition", "any"), ("none", "on-failure", "any"))
    attempts = fields.get("max_attempts")
    sp.model["restart_policy"] = _restart_policy(
        condition or "any",
        None if attempts is None else sp.check(key + ".max_attempts", _int, attempts),
        sp.check(key + ".delay", _duration, fields.get("delay")),
        sp.check(key + ".window", _duration, fields.get("window")))


_DEPLOY_KEYS = {
    "mode": _d_mode, "replicas": _d_replicas, "labels": _d_labels, "endpoint_mode": _d_endpoint_mode,
    "resources": _d_resources, "placement": _d_placement, "restart_policy": _d_restart_policy,
    "update_config": _update_config("update_config", ("continue", "rollback", "pause")),
    "rollback_config": _update_config("rollback_config", ("continue", "pause")),
}


# ---------------------------------------------------------------------------------------------
# the tables: every service key the compose schemas know is here, or an error names it unknown

SERVICE_KEYS = {
    "image": _k_image, "build": _k_build, "extends": _k_ignore, "profiles": _k_ignore,
    "command": _k_command, "entrypoint": _k_entrypoint,
    "environment": _k_environment, "env_file": _k_env_file,
    "labels": _k_labels, "label_file": _k_label_file,
    "ports": _k_ports, "expose": _k_expose, "volumes": _k_volumes, "tmpfs": _k_tmpfs,
    "networks": _k_networks, "links": _k_links, "depends_on": _k_depends_on,
    "healthcheck": _k_healthcheck, "restart": _k_restart, "deploy": _k_deploy, "scale": _k_scale,
    "user": _k_user, "working_dir": _k_working_dir, "hostname": _k_hostname, "container_name": _k_container_name,
    "secrets": _k_secrets, "configs": _k_configs,
    "cap_add": _k_cap_add, "cap_drop": _k_cap_drop, "read_only": _k_read_only, "init": _k_init,
    "tty": _k_tty, "stdin_open": _k_stdin_open, "ulimits": _k_ulimits,
    "stop_grace_period": _k_stop_grace_period, "stop_signal": _k_stop_signal,
    "logging": _k_logging, "log_driver": _k_log_driver, "log_opt": _k_log_opt, "sysctls": _k_sysctls,
    "mem_limit": _k_mem_limit, "mem_reservation": _k_mem_reservation, "cpus": _k_cpus,
    "pids_limit": _k_pids_limit,
    # carried for policy
    "privileged": _k_privileged, "devices": _k_devices, "use_api_socket": _k_use_api_socket,
    "network_mode": _carried_string("network_mode"), "pid": _carried_string("pid"),
    "ipc": _carried_string("ipc"), "userns_mode": _carried_string("userns_mode"),
    "cgroup_parent": _carried_string("cgroup_parent"), "uts": _carried_string("uts"),
    "cgroup": _carried_string("cgroup"), "security_opt": _carried_list("security_opt"),
    "volumes_from": _carried_list("volumes_from"), "external_links": _carried_list("external_links"),
    "shm_size": _k_shm_size,
    "device_cgroup_rules": _carried_list("device_cgroup_rules"),
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


def _x_spin(sp, value):
    """The platform's own compose extension: ``x-spin: {route: false | true | <port>}`` turns a
    service's automatic route off, or asks for it on a port (docs/load-balancer.md)."""
    fields = sp.fields("x-spin", value, {"route": None, "https": None}) or {}
    if "https" in fields:
        _x_spin_https(sp, fields["https"])
    if "route" in fields:
        route = fields["route"]
        if isinstance(route, bool):
            sp.model["route"] = route
        else:
            sp.model["route"] = sp.check("x-spin.route", _port_number, route)


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
            out[key] = sp.check("x-spin.https." + key, _nonempty_str, fields[key])
    if bool(out["cert"]) != bool(out["key"]):
        sp.error("x-spin.https", "give both cert and key (each the name of a top-level secret), or neither")
    sp.model["https"] = out


def _parse_service(st, file, name, raw):
    sp = _Service(st, file, name, raw)
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
            except _Invalid as exc:
                sp.error(exc.key or key, exc.message)
        elif key in REFUSED_KEYS:
            sp.error(key, "not supported on spin.platform: " + REFUSED_KEYS[key])
        elif key in IGNORED_KEYS:
            sp.warning(key, "ignored on spin.platform: " + IGNORED_KEYS[key])
        else:
            sp.error(key, _unknown_key(key, ALL_SERVICE_KEYS))
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
    _shm_mount(sp)
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
    return model


# ---------------------------------------------------------------------------------------------
# rancher-compose.yml: per-service overlay (durations there are in milliseconds)

def _millis(value):
    return _int(value, what="a number of milliseconds") * 10**6


_RANCHER_HC_SPEC = {
    "port": None, "interval": None, "healthy_threshold": None, "unhealthy_threshold": None,
    "response_timeout": None, "request_line": None, "strategy": None, "initializing_timeout": None,
    "reinitializing_timeout": ("warn", "only initializing_timeout is used"),
    "recreate_on_quorum_strategy_config": ("warn", "Swarm replaces unhealthy tasks one by one"),
}
_RANCHER_HC_CHECKS = {
    "port": _port_number, "interval": _millis, "healthy_threshold": lambda v: _int(v, 1),
    "unhealthy_threshold": lambda v: _int(v, 1), "response_timeout": _millis,
    "request_line": _nonempty_str, "initializing_timeout": _millis,
    "strategy": lambda v: _enum(v, ("none", "recreate", "recreateOnQuorum")),
}


def _rancher_health_check(sp, key, value):
    fields = sp.fields(key, value, _RANCHER_HC_SPEC)
    if fields is None:
        return None
    check = {name: None for name in _RANCHER_HC_CHECKS}
    for name, item in fields.items():
        check[name] = sp.check("%s.%s" % (key, name), _RANCHER_HC_CHECKS[name], item)
    if "port" not in fields:
        sp.error(key, "needs a port (the container port to check)")
    return check


def _r_scale(sp, value):
    sp.assign(("deploy", "replicas"), _int(value, what="a number of replicas"), "scale")
    sp.replicas_set = True


def _r_start_on_create(sp, value):
    sp.model["start_on_create"] = _bool(value)


def _r_health_check(sp, value):
    sp.model["rancher_health_check"] = _rancher_health_check(sp, "health_check", value)


_UPGRADE_SPEC = {"start_first": None, "batch_size": None, "interval_millis": None}


def _r_upgrade_strategy(sp, value):
    fields = sp.fields("upgrade_strategy", value, _UPGRADE_SPEC)
    if not fields:
        return
    _ensure_update_config(sp, "update_config")
    for name, field, convert in (
            ("start_first", "order", lambda v: "start-first" if _bool(v) else "stop-first"),
            ("batch_size", "parallelism", lambda v: _int(v, 1)),
            ("interval_millis", "delay", _millis)):
        if name in fields:
            result = sp.check("upgrade_strategy." + name, convert, fields[name])
            if result is not None:
                sp.assign(("deploy", "update_config", field), result, "upgrade_strategy." + name, fields[name])


# lb_config is not here: it makes the service a load balancer (_is_lb, _parse_lb)
RANCHER_KEYS = {"scale": _r_scale, "start_on_create": _r_start_on_create, "health_check": _r_health_check,
                "upgrade_strategy": _r_upgrade_strategy}
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
        if key.startswith("x-"):
            continue
        if key in RANCHER_KEYS and (keys is None or key in keys):
            try:
                RANCHER_KEYS[key](sp, value)
            except _Invalid as exc:
                sp.error(exc.key or key, exc.message)
        elif key in RANCHER_KEYS:
            sp.warning(key, "ignored on a load balancer: spin.platform runs the load balancer itself")
        elif key in RANCHER_REFUSED:
            sp.error(key, "not supported on spin.platform: " + RANCHER_REFUSED[key])
        elif key in RANCHER_IGNORED:
            sp.warning(key, "ignored on spin.platform: " + RANCHER_IGNORED[key])
        else:
            sp.error(key, _unknown_key(key, ALL_RANCHER_KEYS))
    sp.file = compose_file


# ---------------------------------------------------------------------------------------------
# load balancers: a compose service with rancher lb_config, or the Rancher LB image

def _is_lb(raw, rancher_entry):
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
    name = _nonempty_str(text, "a service name")
    if "/" in name:
        raise _Invalid("'%s' names a service of another stack: a load balancer forwards only to services "
                       "of its own stack" % name)
    return name


def _port_rule(sp, key, item):
    fields = sp.fields(key, item, _PORT_RULE_SPEC)
    if fields is None:
        return None
    rule = {"source_port": None, "target_port": None, "service": None, "hostname": None, "path": None,
            "priority": None, "protocol": "http"}
    checks = {"source_port": _port_number, "target_port": _port_number, "service": _lb_service_name,
              "hostname": _str, "path": _str, "priority": _int,
              "protocol": lambda v: _enum(v, _LB_PROTOCOLS)}
    for name, item_value in fields.items():
        if item_value is not None and item_value != "":
            rule[name] = sp.check("%s.%s" % (key, name), checks[name], item_value)
    for required in ("source_port", "target_port", "service"):
        if required not in fields:
            sp.error(key, "needs %s" % required)
    return rule


def _lb_config(sp, lb, value):
    fields = sp.fields("lb_config", value, _LB_CONFIG_SPEC) or {}
    rules = sp.check("lb_config.port_rules", _list, fields.get("port_rules") or [], default=[])
    for i, item in enumerate(rules):
        rule = _port_rule(sp, "lb_config.port_rules[%d]" % i, item)
        if rule:
            lb["port_rules"].append(rule)
    if "certs" in fields:
        lb["certs"] = sp.check("lb_config.certs", _str_list, fields["certs"] or [], default=[])
    if fields.get("default_cert") is not None:
        lb["default_cert"] = sp.check("lb_config.default_cert", _nonempty_str, fields["default_cert"])
    if fields.get("stickiness_policy") is not None:
        sticky = sp.fields("lb_config.stickiness_policy", fields["stickiness_policy"], _STICKINESS_SPEC)
        if sticky is not None:
            lb["stickiness"] = {name: (None if sticky.get(name) is None
                                       else sp.check("lb_config.stickiness_policy." + name, _scalar_text,
                                                     sticky[name]))
                                for name in _STICKINESS_SPEC}


def _lb_port_text(port):
    suffix = "" if port["protocol"] == "tcp" else "/" + port["protocol"]
    return "%d:%d%s" % (port["published"] or port["target"], port["target"], suffix)


def _parse_lb(st, file, name, raw, entry, rancher_name):
    """A load balancer declaration -> model load_balancers[name] (issue 4 turns it into HAProxy)."""
    sp = _Service(st, file, name, raw)
    lb = {"ports": [], "port_rules": [], "stickiness": None, "certs": [], "default_cert": None,
          "health_check": None}
    for key, value in raw.items():
        key = str(key)
        if key == "ports":
            sp.check("ports", _k_ports, sp, value)
        elif key in ("image", "labels") or key.startswith("x-"):
            continue
        elif key in ALL_SERVICE_KEYS:
            sp.warning(key, "ignored on a load balancer: spin.platform runs the load balancer itself")
        else:
            sp.error(key, _unknown_key(key, ALL_SERVICE_KEYS))
    lb["ports"] = [_lb_port_text(p) for p in sp.model["ports"]]
    sp.file = rancher_name
    if "lb_config" in entry:
        _lb_config(sp, lb, entry["lb_config"])
    else:
        st.warning(file, name, None, "a load balancer without lb_config in %s forwards nothing: add port_rules"
                   % rancher_name)
    if "health_check" in entry:
        lb["health_check"] = _rancher_health_check(sp, "health_check", entry["health_check"])
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
# top level: networks, volumes, secrets, configs

def _external(value):
    """external: true | 'true' | {name: x} -> (external, name)."""
    if isinstance(value, dict):
        unknown = set(value) - {"name"}
        if unknown:
            raise _Invalid(_unknown_key(sorted(unknown)[0], ("name",)))
        return True, _nonempty_str(value["name"]) if value.get("name") is not None else None
    return _bool(value), None


def _options(value):
    return {str(k): _scalar_text(v) for k, v in _mapping(value).items()}


_NETWORK_SPEC = {
    "driver": None, "driver_opts": None, "external": None, "internal": None, "attachable": None,
    "labels": None, "name": None,
    "ipam": ("refuse", "the platform allocates subnets"),
    "enable_ipv6": ("refuse", "the platform's networks carry IPv4 only"),
    "enable_ipv4": ("warn", "networks always carry IPv4"),
}
_VOLUME_TOP_SPEC = {"driver": None, "driver_opts": None, "external": None, "labels": None, "name": None}
_SECRET_SPEC = {"file": None, "environment": None, "external": None, "name": None, "labels": None,
                "driver": ("refuse", "secrets are stored by Swarm"),
                "driver_opts": ("refuse", "secrets are stored by Swarm"),
                "template_driver": ("refuse", "templated secrets are not supported")}
_CONFIG_SPEC = {"file": None, "environment": None, "external": None, "name": None, "labels": None,
                "content": None, "template_driver": ("refuse", "templated configs are not supported")}


def _common(top, key, fields, kind):
    """external / name / labels / driver_opts shared by the top-level sections."""
    external, external_name = top.check(key + ".external", _external, fields.get("external", False),
                                        default=(False, None))
    name = fields.get("name")
    if name is not None:
        name = top.check(key + ".name", _nonempty_str, name)
        if not external:
            top.warning(key + ".name", "ignored: the platform names the stack's %s <stack>_<name>" % kind)
            name = None
    return {"external": external, "name": external_name or name,
            "labels": top.check(key + ".labels", _labels, fields.get("labels") or {}, default={})}


def _top_network(top, key, fields):
    entry = _common(top, key, fields, "networks")
    driver = top.check(key + ".driver", _nonempty_str, fields.get("driver") or "overlay", default="overlay")
    if driver == "bridge":
        top.warning(key + ".driver", "'bridge' becomes 'overlay': Swarm services need overlay networks")
        driver = "overlay"
    entry.update({
        "driver": driver,
        "internal": top.check(key + ".internal", _bool, fields.get("internal", False), default=False),
        "attachable": top.check(key + ".attachable", _bool, fields.get("attachable", False), default=False),
        "driver_opts": top.check(key + ".driver_opts", _options, fields.get("driver_opts") or {}, default={}),
    })
    return _ordered(entry, ("driver", "internal", "attachable", "driver_opts", "labels", "external", "name"))


def _top_volume(top, key, fields):
    entry = _common(top, key, fields, "volumes")
    entry["driver"] = top.check(key + ".driver", _nonempty_str, fields.get("driver") or "local", default="local")
    entry["driver_opts"] = top.check(key + ".driver_opts", _options, fields.get("driver_opts") or {}, default={})
    return _ordered(entry, ("driver", "driver_opts", "labels", "external", "name"))


def _top_data(top, key, fields, kind):
    entry = _common(top, key, fields, kind)
    sources = [s for s in ("file", "environment", "content") if fields.get(s) is not None]
    data = None
    if entry["external"]:
        if sources:
            top.error(key, "an external %s has no %s: remove it, or remove external" % (kind[:-1], sources[0]))
    elif len(sources) != 1:
        top.error(key, "needs exactly one of file:, environment:%s or external: true"
                  % (", content:" if kind == "configs" else ""))
    elif sources[0] == "file":
        path = top.check(key + ".file", _nonempty_str, fields["file"])
        data = top.st.read(path, top.file, None, key + ".file") if path else None
    elif sources[0] == "environment":
        variable = top.check(key + ".environment", _nonempty_str, fields["environment"])
        data = top.st.env.get(variable) if variable else None
        if variable and data is None:
            top.error(key + ".environment", "variable '%s' is not set: give it a value in the stack's variables"
                      % variable)
    else:
        data = top.check(key + ".content", _str, fields["content"])
    content = None
    if data is not None:
        raw = _as_bytes(str(data) if not isinstance(data, (str, bytes)) else data)
        if len(raw) > MAX_SECRET_BYTES:
            top.error(key, "is %d bytes, more than Swarm's limit of %d" % (len(raw), MAX_SECRET_BYTES))
        content = base64.b64encode(raw).decode("ascii")
    entry["content"] = content
    return _ordered(entry, ("content", "external", "name", "labels"))


def _ordered(entry, keys):
    return {key: entry[key] for key in keys}


_TOP_SECTIONS = {
    "networks": (_NETWORK_SPEC, _top_network),
    "volumes": (_VOLUME_TOP_SPEC, _top_volume),
    "secrets": (_SECRET_SPEC, lambda top, key, fields: _top_data(top, key, fields, "secrets")),
    "configs": (_CONFIG_SPEC, lambda top, key, fields: _top_data(top, key, fields, "configs")),
}


def _parse_section(st, file, section, value):
    top = _Service(st, file, None, {})
    spec, build = _TOP_SECTIONS[section]
    items = top.check(section, _mapping, value if value is not None else {}, default={})
    out = {}
    for name, config in items.items():
        key = "%s.%s" % (section, name)
        if not NAME_RE.match(str(name)):
            top.error(key, "'%s' is not a valid name: use letters, digits, '_', '.' and '-'" % name)
            continue
        if config is None and section in ("secrets", "configs"):
            top.error(key, "needs file:, environment: or external: true")
            continue
        fields = top.fields(key, config, spec)
        if fields is not None:
            out[str(name)] = build(top, key, fields)
    return out


# ---------------------------------------------------------------------------------------------
# the files, and parse_stack

TOP_KEYS = ("version", "services", "networks", "volumes", "secrets", "configs", "include")
TOP_IGNORED = {"name": "the stack's name comes from the submission"}
TOP_REFUSED = {"models": "AI models are not supported"}
RANCHER_TOP_KEYS = ("version", "services")


def empty_model():
    return {"services": {}, "networks": {}, "volumes": {}, "secrets": {}, "configs": {}, "load_balancers": {},
            "inactive": {}, "bind_store": {}}


def _default_network():
    return {"driver": "overlay", "internal": False, "attachable": False, "driver_opts": {}, "labels": {},
            "external": False, "name": None}


def _load(st, text, file):
    try:
        return safe_yaml.load(text, file)
    except SpinError as exc:
        st.diagnostics.extend(exc.diagnostics)
        return None


def _check_version(st, file, value):
    text = str(value).strip()
    if re.match(r"^[23](\.\d+)?$", text):
        return
    if text in ("1", "1.0"):
        st.error(file, None, "version", "version 1 files are not supported: put the services under "
                 "'services:' and write version: '2'")
    else:
        st.error(file, None, "version", "'%s' is not a compose version: write '2', '2.x', '3.x' or leave it out"
                 % text)


def _top_keys(st, file, data, allowed, refused, ignored):
    for key in data:
        key = str(key)
        if key.startswith("x-") or key in allowed:
            continue
        if key in refused:
            st.error(file, None, key, "not supported on spin.platform: " + refused[key])
        elif key in ignored:
            st.warning(file, None, key, "ignored on spin.platform: " + ignored[key])
        else:
            st.error(file, None, key, _unknown_key(key, tuple(allowed) + tuple(refused) + tuple(ignored)))


NOT_COMPOSE = ("is not a compose file: a compose file is a YAML mapping with services: (its content is not "
               "shown); name the tenant's docker-compose.yml")


def _load_compose(st, text, file, override=False):
    """One compose file, checked and interpolated; None when unusable. An ``override`` file (one merged
    over another, or included) needs no services of its own."""
    if "\x00" in text or "\udc80" <= min(text or "a") or any("\udc80" <= c <= "\udcff" for c in text[:4096]):
        # binary, or not UTF-8: say so without quoting any of it
        st.error(file, None, None, NOT_COMPOSE)
        return None
    before = len(st.diagnostics)
    data = _load(st, text, file)
    if data is None and len(st.diagnostics) == before:
        st.error(file, None, None, "the file is empty: it needs services:")
    if data is None:
        return None
    if not isinstance(data, dict):
        st.error(file, None, None, NOT_COMPOSE if not isinstance(data, list) or not data else
                 "must be a mapping with services:, not %s" % _kind(data))
        return None
    if "services" not in data and "version" not in data and any(
            isinstance(v, dict) and "image" in v for v in data.values()):
        st.error(file, None, None, "version 1 files are not supported: put the services under 'services:' "
                 "and write version: '2'")
        return None
    known = list(TOP_KEYS) + list(TOP_IGNORED) + list(TOP_REFUSED)
    if not any(str(key) in known or str(key).startswith("x-") or difflib.get_close_matches(str(key), known, 1, 0.8)
               for key in data):
        # some other file (a password file, say): its keys are its content, never echo them
        st.error(file, None, None, NOT_COMPOSE)
        return None
    _top_keys(st, file, data, TOP_KEYS, TOP_REFUSED, TOP_IGNORED)
    if "version" in data:
        _check_version(st, file, data["version"])
    if override and data.get("services") is None:
        data["services"] = {}
    if not isinstance(data.get("services"), dict):
        st.error(file, None, "services", "must be a mapping of services, not %s" % _kind(data.get("services")))
        return None
    return _interpolate_tree(st, file, data, (), True)


def _load_rancher(st, text, file):
    if text is None:
        return {}
    data = _load(st, text, file)
    if data is None:
        return {}
    if not isinstance(data, dict):
        st.error(file, None, None, "must be a mapping with services:, not %s" % _kind(data))
        return {}
    _top_keys(st, file, data, RANCHER_TOP_KEYS, {}, {".catalog": "catalog entries are not used"})
    if "version" in data:
        _check_version(st, file, data["version"])
    services = data.get("services")
    if not isinstance(services, dict):
        st.error(file, None, "services", "must be a mapping of services, not %s" % _kind(services))
        return {}
    services = _interpolate_tree(st, file, {"services": services}, (), True)["services"]
    out = {}
    for name, entry in services.items():
        if entry is None or isinstance(entry, dict):
            out[str(name)] = entry or {}
        else:
            st.error(file, str(name), None, "must be a mapping, not %s" % _kind(entry))
    return out


def active_profiles(profiles, env):
    """The profiles to deploy: ``profiles`` when given, else COMPOSE_PROFILES of the variables
    (comma separated), as Compose takes it from the environment or ``.env``."""
    if profiles is None:
        profiles = [p.strip() for p in str((env or {}).get("COMPOSE_PROFILES") or "").split(",")]
    return [str(p) for p in profiles if str(p).strip()]


_PROFILE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def _profiles_of(st, file, name, raw, active):
    """The service's profiles when none of them is active (it is not deployed), else None."""
    if "profiles" not in raw:
        return None
    try:
        profiles = _str_list(raw["profiles"])
        for profile in profiles:
            if not _PROFILE_RE.match(profile):
                raise _Invalid("'%s' is not a profile name: letters, digits, '_', '.' and '-'" % profile)
    except _Invalid as exc:
        st.error(file, name, "profiles", exc.message)
        return None
    if not profiles or "*" in active or set(profiles) & set(active):
        return None
    return profiles


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
    st = _State(compose_name, read_file, env, stat_file)
    active = active_profiles(profiles, env)
    model = empty_model()
    data = _load_compose(st, compose_text, compose_name)
    rancher = _load_rancher(st, rancher_text, rancher_name)
    if data is None:
        return model, st.diagnostics
    data = compose_merge.load_files(st, data, override_names, lambda text, name, override: _load_compose(
        st, text, name, override))
    data = compose_merge.resolve_tags(compose_merge.include(st, data, compose_name, lambda text, name, override:
                                                            _load_compose(st, text, name, override)))
    for section in ("networks", "volumes", "secrets", "configs"):
        model[section] = _parse_section(st, compose_name, section, data.get(section))
    st.declared_configs = set(model["configs"])
    services = data["services"]
    st.files[compose_name] = services
    for name in services:
        name = str(name)
        if not NAME_RE.match(name):
            st.error(compose_name, name, None, "'%s' is not a valid service name: use letters, digits, '_', '.' "
                     "and '-', starting with a letter or digit" % name)
            continue
        raw = _resolve(st, compose_name, name)
        if not isinstance(raw, dict):
            st.error(compose_name, name, None, "must be a mapping of keys, not %s" % _kind(raw))
            continue
        inactive = _profiles_of(st, compose_name, name, raw, active)
        if inactive:
            st.inactive[name] = inactive
            continue
        entry = rancher.get(name, {})
        if _is_lb(raw, entry):
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
                                                                             _did_you_mean(name, services)))
    for name, entry in sorted(st.bind_files.items()):
        model["configs"][name] = {"content": entry["content"], "external": False, "name": None, "labels": {},
                                  "source_file": entry["path"]}
    model["bind_store"] = {key: dict(entry, mounts=[dict(m) for m in entry["mounts"]])
                           for key, entry in sorted(st.bind_store.items())
                           if any(m["service"] in model["services"] for m in entry["mounts"])}
    if any(DEFAULT_NETWORK in s["networks"] for s in model["services"].values()):
        model["networks"].setdefault(DEFAULT_NETWORK, _default_network())
    _settle_volumes_from(st, compose_name, model)
    _check_references(st, compose_name, model, set(model["load_balancers"]))
    _settle_conditions(st, compose_name, model)
    _check_published(st, compose_name, model)
    _check_lb_rules(st, rancher_name, model)
    _check_cycles(st, compose_name, model)
    model["inactive"] = dict(st.inactive)
    return model, st.diagnostics
