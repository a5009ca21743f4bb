# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What counts as secret in a stack, and how it travels without being logged. Pure.

- ``is_secret_env(name, value)``: an environment variable that holds a password, token or key
  (``MYSQL_PASSWORD``, ``API_TOKEN``, ``AWS_SECRET_ACCESS_KEY``), as opposed to a path to one
  (``*_FILE``) or a switch (``MYSQL_RANDOM_ROOT_PASSWORD: "yes"``).
- ``plain_password_warnings(model, compose_file)``: one warning per such variable, saying how to
  use a Swarm secret instead.
- ``split_env(env)``: ``(plain, secret)``; the translator gives spin_service the second half as
  ``secret_env``, an option that is never logged.
- ``detach(tasks)`` / ``attach(tasks, sensitive)``: spin_stack's action plugin takes every secret
  value (secret contents, ``secret_env``) out of the task list it sends to the manager and sends
  them in one argument that the module declares ``no_log``; the module puts them back. Ansible
  then neither logs them ("Invoked with ...") nor shows them in any result: it masks every
  occurrence of a ``no_log`` value in the output.
- ``redact_env(view, names)``: the diff's view of a service with those variables' values hidden.
"""
from __future__ import annotations

import copy
import re

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag

REDACTED = "<redacted>"
DETACHED = "<sent separately>"

_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|APIKEY|API_KEY|PRIVATE_KEY|ACCESS_KEY"
                          r"|CREDENTIAL|(^|_)PASS$|(^|_)PWD$)", re.I)
# values that switch a feature rather than hold a secret (MYSQL_ALLOW_EMPTY_PASSWORD=yes)
_SWITCH = re.compile(r"^(yes|no|true|false|on|off|0|1|y|n)$", re.I)


def is_secret_env(name, value):
    name = str(name)
    if not _SECRET_NAME.search(name) or name.upper().endswith("_FILE"):
        return False
    text = "" if value is None else str(value)
    return bool(text) and not _SWITCH.match(text)


def split_env(env):
    """-> (plain variables, secret variables), both dicts."""
    plain, secret = {}, {}
    for name, value in (env or {}).items():
        (secret if is_secret_env(name, value) else plain)[name] = value
    return plain, secret


def plain_password_warnings(model, compose_file="docker-compose.yml"):
    """Warnings (compose diagnostics) for passwords written in ``environment``."""
    out = []
    for service, svc in sorted((model.get("services") or {}).items()):
        for name, value in sorted((svc.get("environment") or {}).items()):
            if not is_secret_env(name, value):
                continue
            secret = "%s_%s" % (service, name.lower())
            out.append(diag.warning(
                compose_file, service, "environment.%s" % name,
                "a password in plain text: anyone who may inspect the service reads it. Keep it in a "
                "secret instead: put the value in a file beside %s (say %s.txt), declare it under the "
                "top-level secrets (%s: {file: ./%s.txt}), give the service secrets: [%s] and, for "
                "images that read *_FILE variables (mysql, mariadb, postgres), replace %s with "
                "%s_FILE: /run/secrets/%s" % (compose_file, secret, secret, secret, secret, name, name, secret)))
    return out


def detach(tasks):
    """-> (tasks without secret values, the secret values). Neither argument is changed."""
    tasks = copy.deepcopy(tasks)
    sensitive = {"secrets": {}, "secret_env": {}}
    for item in tasks.get("secrets") or []:
        if item.get("data") is not None:
            sensitive["secrets"][item["name"]] = item["data"]
            item["data"] = DETACHED
    for service in tasks.get("services") or []:
        if service.get("secret_env"):
            sensitive["secret_env"][service["name"]] = dict(service["secret_env"])
            service["secret_env"] = dict.fromkeys(service["secret_env"], DETACHED)
    return tasks, sensitive


def attach(tasks, sensitive):
    """The inverse of ``detach``."""
    tasks = copy.deepcopy(tasks)
    sensitive = sensitive or {}
    secrets, env = sensitive.get("secrets") or {}, sensitive.get("secret_env") or {}
    for item in tasks.get("secrets") or []:
        if item.get("data") == DETACHED:
            item["data"] = secrets[item["name"]]
    for service in tasks.get("services") or []:
        if service["name"] in env:
            service["secret_env"] = dict(env[service["name"]])
    return tasks


def redact_env(view, names):
    """A service's diff view (describe_service_spec) with the values of ``names`` and of every
    secret-looking variable hidden; other keys untouched."""
    env = (view or {}).get("env")
    if not isinstance(env, dict):
        return view
    hidden = {k: (REDACTED if k in names or is_secret_env(k, v) else v) for k, v in env.items()}
    return dict(view, env=hidden)
