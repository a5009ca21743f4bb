# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose parser's shared state: ``State`` (diagnostics, variables, the reader, what the
whole parse shares), ``Service`` (one service being parsed: report, check, assign), ``empty_service``
(the model's service with every key at its default) and the names every part uses. Pure."""
from __future__ import annotations

import re

from ansible_collections.spin.platform.plugins.module_utils.common.diagnostics import (
    diagnostic, messages as diagnostic_messages)
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import MissingFile
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import Invalid, kind, show, unknown_key


NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
LB_IMAGE = "rancher/lb-service-haproxy"
MAX_SECRET_BYTES = 500 * 1024          # Swarm's limit for secrets and configs
MAX_PORT_RANGE = 100
DEFAULT_NETWORK = "default"


# ---------------------------------------------------------------------------------------------
# diagnostics

# (their home is module_utils/common/diagnostics.py)

def raise_for_errors(diagnostics, what="the stack"):
    """Raise one SpinError listing every error (warnings ride along in ``diagnostics``)."""
    errors = diagnostic_messages(diagnostics, "error")
    if errors:
        raise SpinError("%s has %d error(s):\n%s" % (what, len(errors), "\n".join(errors)),
                        diagnostics=diagnostics)


# ---------------------------------------------------------------------------------------------
# the parse state

class State:
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
        report("error", key, "must be a mapping, not %s" % kind(value))
        return None
    out = {}
    for name, item in value.items():
        name = str(name)
        if name.startswith("x-"):
            continue
        sub = "%s.%s" % (key, name) if key else name
        if name not in spec:
            report("error", sub, unknown_key(name, spec))
        elif spec[name] is None:
            out[name] = item
        elif spec[name][0] == "refuse":
            report("error", sub, "not supported on spin.platform: " + spec[name][1])
        else:
            report("warning", sub, "ignored on spin.platform: " + spec[name][1])
    return out


class Service:
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
        """Run a value check; on Invalid report it at ``key`` and return ``kwargs['default']``."""
        default = kwargs.pop("default", None)
        try:
            return func(*args, **kwargs)
        except Invalid as exc:
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
                       % (show(shown), previous[1], show(previous[3]), where))
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
        # x-spin.schedule: None, or {"cron": the schedule as written, "timezone": IANA name} (docs/jobs.md)
        "schedule": None,
        # x-spin.https: None, or {"redirect": bool, "cert": top-level secret name, "key": secret name}
        "https": None,
    }
