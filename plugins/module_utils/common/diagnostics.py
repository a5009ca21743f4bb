# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diagnostics: what the tenant must fix (or should know), each tied to a file, service and key.

The one shape and the one wording, for every check that reports on a tenant's files: the compose
parser and the translation (controller), the load balancer's rules and the stack defaults (both
sides), the plain-text password warnings. A diagnostic is plain data, so it travels from the
controller to the module and back in results::

    {"severity": "error" | "warning", "file": ..., "service": ... | None, "key": ... | None, "message": ...}
"""
from __future__ import annotations


def diagnostic(severity, file, service, key, message):
    return {"severity": severity, "file": file, "service": service, "key": key, "message": message}


def error(file, service, key, message):
    return diagnostic("error", file, service, key, message)


def warning(file, service, key, message):
    return diagnostic("warning", file, service, key, message)


def format_diagnostic(d):
    """``docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)``"""
    parts = [d.get("file") or "stack"]
    if d.get("service"):
        parts.append("service '%s'" % d["service"])
    if d.get("key"):
        parts.append("key '%s'" % d["key"])
    if d.get("severity") == "warning":
        parts.append("warning")
    return ": ".join(parts) + ": " + d["message"]


def messages(diagnostics, severity):
    """The diagnostics of one severity, one line each."""
    return [format_diagnostic(d) for d in diagnostics if d["severity"] == severity]


def has_errors(diagnostics):
    return any(d["severity"] == "error" for d in diagnostics)
