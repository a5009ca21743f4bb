# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant's submission, named by staff with one path, read as data.

Staff give the submission directory ``<root>/<tenant>/<stack>/`` or the vars file in it
(``vars.yml``); the platform finds the tenant from where it lies (``submission_tree``) and reads
the vars file with the project's safe YAML loader. Its keys are the tenant's only, each typed, and
never templated nor turned into Ansible variables: a ``{{`` stays text. Without a vars file the
compose file is found as ``docker compose`` finds it and ``rancher-compose.yml`` is taken when it
is there; the stack is named after the directory.

``resolve`` is the one entry: it returns the task options the submission stands for, plus
``_submission`` (path, tenant and owner) for the audit trail.
"""
from __future__ import annotations

import difflib
import os

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import safe_yaml, submission_tree

VARS_FILE = "vars.yml"
# docker compose's own order when no file is named (compose-go's DefaultFileNames: compose.yaml is preferred),
# and the override file it then merges over the one it found (DefaultOverrideFileNames)
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")
RANCHER_FILE = "rancher-compose.yml"
MAX_BYTES = 64 * 1024
# key of the vars file -> (task option, what it holds)
KEYS = {
    "spin_tenant": ("tenant", "the tenant's name; optional, and it must be the tenant whose directory holds the "
                              "submission"),
    "spin_stack": ("stack", "the stack's name (default: the submission directory's name)"),
    "spin_compose_file": ("compose_file", "the compose file, or a list of them merged in order as docker compose -f "
                                          "merges them, relative to the submission directory"),
    "spin_rancher_compose_file": ("rancher_compose_file",
                                  "the rancher-compose file, relative to the submission directory"),
    "spin_compose_variables": ("variables", "values for ${VAR} in the compose files, over .env"),
    "spin_compose_profiles": ("profiles", "the active compose profiles"),
}
# task options that a submission path stands for: a task gives either the path or these
OPTIONS = tuple(option for option, meaning in KEYS.values()) + ("compose_override_files",)


def resolve(path, roots, tenants, need_files=True):
    """Staff's ``path`` (a submission directory or the vars file in it) -> the task options it
    stands for: ``{tenant, stack, compose_file, compose_override_files, rancher_compose_file, variables,
    profiles, _submission: {path, directory, vars_file, tenant, uid}}``. ``compose_override_files`` are
    the files merged over ``compose_file``, in order: the rest of a ``spin_compose_file`` list, or, when
    the vars file names none, the override file ``docker compose`` reads beside the one it finds. SpinError (every problem of the vars
    file at once) when anything is wrong. With ``need_files=False`` (a removal) a submission that
    no longer exists still names its tenant and stack by its path."""
    path = os.path.abspath(os.path.expanduser(str(path)))
    tree = submission_tree.locate(path, roots, tenants)
    if not os.path.lexists(path):
        if need_files:
            raise SpinError("submission %s does not exist: give the submission directory <root>/<tenant>/<stack>/ "
                            "or its %s" % (path, VARS_FILE))
        directory, vars_path = path, None
    elif os.path.isdir(path):
        directory, vars_path = path, os.path.join(path, VARS_FILE)
        if not os.path.lexists(vars_path):
            vars_path = None
    else:
        directory, vars_path = os.path.dirname(path), path
    if directory == tree.directory:
        raise SpinError("submission %s is tenant '%s''s own directory, not a stack's: give <root>/<tenant>/<stack>/"
                        % (path, tree.tenant))
    if os.path.lexists(directory):
        tree.check_dir(os.path.realpath(directory))
    data, name = {}, VARS_FILE
    if vars_path is not None:
        name = os.path.relpath(vars_path, directory)
        data = safe_yaml.load(tree.read(os.path.realpath(vars_path), MAX_BYTES), name) or {}
    options, problems = _options(data, name)
    if options.get("tenant") not in (None, tree.tenant):
        problems.append(diag.error(name, None, "spin_tenant", "says '%s', but the submission lies in tenant '%s''s "
                                   "directory %s: the platform knows the tenant from where the files are. Remove "
                                   "spin_tenant, or submit from %s's own directory"
                                   % (options["tenant"], tree.tenant, tree.directory, options["tenant"])))
    if problems:
        raise SpinError("submission %s is refused (%d problem(s)):\n%s"
                        % (path, len(problems), "\n".join(diag.format_diagnostic(p) for p in problems)),
                        diagnostics=problems)
    options["tenant"] = tree.tenant
    options.setdefault("stack", os.path.basename(directory))
    if need_files:
        named = options.get("compose_file")
        files = ([named] if isinstance(named, str) else named) or _default_compose(directory)
        options["compose_file"] = _inside(directory, files[0], name, "spin_compose_file")
        options["compose_override_files"] = [_inside(directory, item, name, "spin_compose_file") for item in files[1:]]
        rancher = options.get("rancher_compose_file")
        if rancher is None and os.path.isfile(os.path.join(directory, RANCHER_FILE)):
            rancher = RANCHER_FILE
        options["rancher_compose_file"] = _inside(directory, rancher, name, "spin_rancher_compose_file") \
            if rancher else None
    options["_submission"] = dict(tree.owner(), path=path, directory=directory, vars_file=vars_path)
    return options


def target(path, roots, tenants):
    """What a status names by a path: the tenant's own directory ``<root>/<tenant>/`` -> (tenant,
    None), every stack of it; a submission ``<root>/<tenant>/<stack>/`` (or its vars file) -> (tenant,
    stack), as a deploy reads it (the stack may be gone). The tenant is the directory's, never
    what a file says."""
    path = os.path.abspath(os.path.expanduser(str(path)))
    tree = submission_tree.locate(path, roots, tenants)
    if os.path.realpath(path) == tree.directory:
        tree.check_dir(tree.directory)
        return tree.tenant, None
    resolved = resolve(path, roots, tenants, need_files=False)
    return resolved["tenant"], resolved["stack"]


def _options(data, name):
    """The vars file's keys, typed -> (task options, problems)."""
    if not isinstance(data, dict):
        return {}, [diag.error(name, None, None, "must be a mapping of keys (%s), not %s"
                               % (", ".join(KEYS), type(data).__name__))]
    options, problems = {}, []
    for key, value in data.items():
        key = str(key)
        if key not in KEYS:
            problems.append(diag.error(name, None, key, _unknown(key)))
            continue
        option = KEYS[key][0]
        if option in ("variables", "profiles", "compose_file"):
            checked = _typed(option, value)
            if isinstance(checked, _Problem):
                problems.append(diag.error(name, None, key, checked))
            else:
                options[option] = checked
        elif not _is_text(value):
            problems.append(diag.error(name, None, key, "must be a string (%s), not %s"
                                       % (KEYS[key][1], type(value).__name__)))
        else:
            options[option] = value
    return options, problems


def _is_text(value):
    return isinstance(value, str) and value.strip() != ""


class _Problem(str):
    """What is wrong with a value of the vars file (a value itself may be a string)."""


def _typed(option, value):
    """``variables``, ``profiles`` or ``compose_file`` in their task shape, or a message (str) saying
    what is wrong."""
    if option == "compose_file":
        if _is_text(value):
            return value
        if isinstance(value, list) and value and all(_is_text(item) for item in value):
            if len(set(value)) != len(value):
                return _Problem("names a file twice: give each compose file once")
            return list(value)
        return _Problem("must be a file name or a list of file names (merged in that order, as docker compose -f a "
                        "-f b merges them), not %s" % ("an empty list" if value == [] else type(value).__name__))
    if option == "variables":
        if not isinstance(value, dict):
            return _Problem("must be a mapping of NAME: value, not %s" % type(value).__name__)
        out = {}
        for key, item in value.items():
            if isinstance(item, bool):
                item = "true" if item else "false"
            if not isinstance(item, (str, int, float)) or not isinstance(key, str):
                return _Problem("%s: each value must be a string or a number, not %s" % (key, type(item).__name__))
            out[key] = str(item)
        return out
    if not isinstance(value, list) or not all(_is_text(item) for item in value):
        return _Problem("must be a list of profile names")
    return list(value)


def _unknown(key):
    whose = "Ansible's and the playbooks' settings are infra staff's" if key.startswith("ansible_") or \
        not key.startswith("spin_") else "the platform's settings are infra staff's"
    close = difflib.get_close_matches(key, list(KEYS), n=1, cutoff=0.75)
    hint = "did you mean '%s'?" % close[0] if close else "a vars file holds only %s" % ", ".join(KEYS)
    return "not a key of a submission (%s): remove it; %s" % (whose, hint)


def _default_compose(directory):
    """The files ``docker compose`` reads in ``directory`` when none is named: the first of
    ``COMPOSE_FILES``, then the first of ``OVERRIDE_FILES`` when there is one."""
    for candidate in COMPOSE_FILES:
        if os.path.isfile(os.path.join(directory, candidate)):
            override = next((o for o in OVERRIDE_FILES if os.path.isfile(os.path.join(directory, o))), None)
            return [candidate] + ([override] if override else [])
    raise SpinError("submission %s has no compose file: put one of %s in it, or name yours with spin_compose_file "
                    "in %s" % (directory, ", ".join(COMPOSE_FILES), VARS_FILE))


def _inside(directory, relpath, name, key):
    """``relpath`` of the vars file as an absolute path inside the submission directory."""
    full = os.path.normpath(os.path.join(directory, os.path.expanduser(relpath)))
    if full != directory and os.path.commonpath([directory, full]) == directory:
        return full
    raise SpinError(diag.format_diagnostic(diag.error(
        name, None, key, "'%s' is outside the submission directory %s: keep the file in it and give its path "
                         "relative to it" % (relpath, directory))))
