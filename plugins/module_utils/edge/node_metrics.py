# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts a node's platform code reports to monitoring: small files in the Prometheus text format
in ``<directory>/*.prom``, which the monitoring role's node exporter reads (its textfile
collector) on every node. The edge writes whether its last configuration check passed
(``lb_node.sync_edge``); the alert rules of the monitoring role fire on it.

``render`` is pure; ``write`` replaces a file atomically (the exporter never reads half a file).
"""
from __future__ import annotations

import os
import re

# /var/lib/spin/edge is the edge's (spin_lb_config_dir); its sibling holds the node's facts
DEFAULT_DIRECTORY = "/var/lib/spin/metrics"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def directory_for(config_dir):
    """The facts' directory beside the edge's configuration directory."""
    return os.path.join(os.path.dirname(os.path.normpath(config_dir)), "metrics")


def _label_value(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(samples):
    """``[(name, help, {label: value}, number)]`` -> the text format (one HELP and TYPE per name)."""
    lines, described = [], set()
    for name, text, labels, value in samples:
        if not _NAME.match(name):
            raise ValueError("'%s' is not a metric name" % name)
        if name not in described:
            described.add(name)
            lines += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name]
        shown = ",".join('%s="%s"' % (k, _label_value(v)) for k, v in sorted((labels or {}).items()))
        lines.append("%s%s %s" % (name, "{%s}" % shown if shown else "", repr(float(value))))
    return "\n".join(lines) + "\n"


def write(directory, name, samples):
    """``<directory>/<name>.prom`` holds ``samples`` (made 0755 when missing; the file 0644: the
    facts are the node's, not a secret). -> the path."""
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    path = os.path.join(directory, "%s.prom" % name)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as handle:
        handle.write(render(samples))
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)
    return path
