# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several compose files as one, as ``docker compose`` makes them one (issue 18). Pure (reads
through the parse state's reader).

- **Override files** (``docker compose -f a.yml -f b.yml``, or the override file compose reads
  beside the one it finds): each file is read and interpolated on its own, then merged over the
  ones before it with compose's merge rules (compose-spec *Merge*: mappings merge, ``command``,
  ``entrypoint`` and ``healthcheck.test`` are replaced, ``volumes``, ``secrets`` and ``configs``
  merge by target, other sequences append what they do not hold yet; ``!reset`` drops what the
  files before set, ``!override`` replaces it whole). Relative paths in every file stay relative
  to the first file's directory, the project directory, as in compose.
- **include**: each entry is loaded as a project of its own (its files merged, its relative paths
  resolved against its own directory, its variables from its own ``.env`` or ``env_file``, which
  the including stack's variables override), and its services, networks, volumes, secrets and
  configs are added to the stack's. A name the stack already defines otherwise is an error (compose
  does not merge them either); includes may nest, a loop is an error.

Every file is a file of the submission: read through the confined reader, so the same checks
(inside the submission directory, the tenant's own) hold for each.
"""
from __future__ import annotations

import copy
import posixpath

from ansible_collections.spin.platform.plugins.plugin_utils.compose_extends import rebase, rebase_paths, merge_service
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import parse_env_file
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import kind, unknown_key
from ansible_collections.spin.platform.plugins.plugin_utils.safe_yaml import Tagged

SECTIONS = ("networks", "volumes", "secrets", "configs")
MAX_INCLUDE_DEPTH = 10
_INCLUDE_SPEC = ("path", "project_directory", "env_file")


# ---------------------------------------------------------------------------------------------
# !reset and !override

def resolve_tags(value):
    """``value`` with compose's merge tags settled: a ``!reset`` entry is gone, an ``!override`` is its
    value. (In the first file they mean the same: nothing came before.)"""
    if isinstance(value, Tagged):
        return None if value.tag == "!reset" else resolve_tags(value.value)
    if isinstance(value, dict):
        return {key: resolve_tags(item) for key, item in value.items()
                if not (isinstance(item, Tagged) and item.tag == "!reset")}
    if isinstance(value, list):
        return [resolve_tags(item) for item in value if not (isinstance(item, Tagged) and item.tag == "!reset")]
    return value


# ---------------------------------------------------------------------------------------------
# docker compose -f a -f b

def _merge_entry(base, override):
    """One top-level network/volume/secret/config: mappings merge (an empty entry adds nothing)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(base if override is None else override)
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge_entry(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_files(base, override):
    """Two interpolated compose files -> one, ``override`` merged over ``base`` (tags unsettled)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key == "services" and isinstance(out.get(key), dict) and isinstance(value, dict):
            services = out[key]
            for name, service in value.items():
                old = services.get(name)
                if isinstance(old, dict) and isinstance(service, dict):
                    services[name] = merge_service(old, service)
                elif service is not None or name not in services:
                    services[name] = copy.deepcopy(service if service is not None else {})
        elif key in SECTIONS and isinstance(out.get(key), dict) and isinstance(value, dict):
            for name, entry in value.items():
                out[key][name] = _merge_entry(out[key].get(name), entry)
        elif key == "include" and isinstance(out.get(key), list) and isinstance(value, list):
            out[key] = out[key] + copy.deepcopy(value)
        elif isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge_entry(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def record_keys(st, file, data):
    """Which file last set each service key and top-level entry: the file a message names."""
    for name, service in (data.get("services") or {}).items() if isinstance(data.get("services"), dict) else ():
        for key in service if isinstance(service, dict) else ():
            st.key_files[(str(name), str(key))] = file
    for section in SECTIONS:
        entries = data.get(section)
        for name in entries if isinstance(entries, dict) else ():
            st.key_files[(None, "%s.%s" % (section, name))] = file


def load_files(st, first, names, load):
    """The first file's data (already loaded) with every file of ``names`` merged over it, in order.
    ``load(text, name, override=True)`` reads and interpolates one file (compose_load.load_compose)."""
    data = first
    for name in names:
        text = st.read(name, name, None, None)
        if text is None:
            continue
        other = load(text, name, override=True)
        if other is None:
            continue
        record_keys(st, name, other)
        data = merge_files(data, other)
    return data


# ---------------------------------------------------------------------------------------------
# include

def _rebase_file_paths(data, directory):
    """An included file's relative paths, made relative to the submission directory."""
    if not directory or directory == ".":
        return data
    for raw in (data.get("services") or {}).values() if isinstance(data.get("services"), dict) else ():
        if not isinstance(raw, dict):
            continue
        rebase_paths(raw, directory)
        build = raw.get("build")
        if isinstance(build, str):
            raw["build"] = rebase(build, directory)
        elif isinstance(build, dict) and isinstance(build.get("context", "."), str):
            build["context"] = rebase(build.get("context", "."), directory)
        extends = raw.get("extends")
        if isinstance(extends, dict) and isinstance(extends.get("file"), str):
            extends["file"] = posixpath.normpath(posixpath.join(directory, extends["file"]))
    for section in ("secrets", "configs"):
        for entry in (data.get(section) or {}).values() if isinstance(data.get(section), dict) else ():
            if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                entry["file"] = rebase(entry["file"], directory)
    return data


def _strings(value, what):
    if isinstance(value, str) and value.strip():
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return list(value)
    raise ValueError("%s must be a path or a list of paths, not %s" % (what, kind(value)))


def _include_entry(item):
    """-> (paths, project_directory or None, env files or None); ValueError with the message."""
    if isinstance(item, str):
        return _strings(item, "an include"), None, None
    if not isinstance(item, dict):
        raise ValueError("must be a path or a mapping with path, not %s" % kind(item))
    unknown = sorted(set(map(str, item)) - set(_INCLUDE_SPEC))
    if unknown:
        raise ValueError(unknown_key(unknown[0], _INCLUDE_SPEC))
    if "path" not in item:
        raise ValueError("needs path: the compose file(s) to include")
    project = item.get("project_directory")
    if project is not None and not (isinstance(project, str) and project.strip()):
        raise ValueError("project_directory must be a path")
    env_files = _strings(item["env_file"], "env_file") if item.get("env_file") is not None else None
    return _strings(item["path"], "path"), project, env_files


def _join(directory, path):
    return posixpath.normpath(posixpath.join(directory, path)) if not path.startswith("/") else path


def _included_env(st, file, key, project, env_files, outer_env):
    """The variables an included project is interpolated with: its own ``.env`` (or ``env_file``),
    overridden by the including stack's."""
    names = env_files if env_files is not None else [posixpath.join(project, ".env")]
    values = {}
    for name in names:
        if env_files is None and not st.exists(name):
            continue
        text = st.read(name, file, None, key)
        if text is None:
            continue
        found, problems, _unresolved = parse_env_file(text, dict(values))
        for problem in problems:
            st.error(name, None, None, problem)
        values.update(found)
    return dict(values, **outer_env)


def include(st, data, file, load, chain=()):
    """``data`` (one file's, or the merged files') with its ``include`` entries loaded and added.
    ``load(text, name, override)`` reads one file; ``file`` names the including file."""
    entries = data.pop("include", None)
    if entries is None:
        return data
    if not isinstance(entries, list):
        st.error(file, None, "include", "must be a list of compose files to include, not %s" % kind(entries))
        return data
    directory = posixpath.dirname(file)
    for i, item in enumerate(entries):
        key = "include[%d]" % i
        try:
            paths, project, env_files = _include_entry(item)
        except ValueError as exc:
            st.error(file, None, key, str(exc))
            continue
        paths = [_join(directory, p) for p in paths]
        if paths[0] in chain or paths[0] == file:
            st.error(file, None, key, "include loop: %s: remove one of the includes"
                     % " -> ".join(list(chain) + [file, paths[0]]))
            continue
        if len(chain) >= MAX_INCLUDE_DEPTH:
            st.error(file, None, key, "more than %d levels of include" % MAX_INCLUDE_DEPTH)
            continue
        project = _join(directory, project) if project is not None else posixpath.dirname(paths[0])
        env_files = [_join(directory, e) for e in env_files] if env_files is not None else None
        outer = st.env
        st.env = _included_env(st, file, key, project, env_files, outer)
        try:
            loaded = _load_included(st, paths, file, key, project, load, chain + (file,))
        finally:
            st.env = outer
        if loaded is not None:
            _import(st, data, loaded, paths[0], file, key)
    return data


def _load_included(st, paths, file, key, project, load, chain):
    """One include entry as a project of its own: its files merged, its paths made relative to the
    submission directory, its own includes added."""
    text = st.read(paths[0], file, None, key)
    if text is None:
        return None
    loaded = load(text, paths[0], override=True)
    if loaded is None:
        return None
    record_keys(st, paths[0], loaded)
    loaded = _rebase_file_paths(resolve_tags(load_files(st, loaded, paths[1:], load)), project)
    return include(st, loaded, paths[0], load, chain)


def _import(st, data, loaded, name, file, key):
    """The included project's resources added to the stack's; the same name defined twice differently
    is an error, as in compose."""
    for section in ("services",) + SECTIONS:
        entries = loaded.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            st.error(name, None, section, "must be a mapping, not %s" % kind(entries))
            continue
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            continue
        for entry_name, entry in entries.items():
            if entry_name in target and target[entry_name] != entry:
                what = section[:-1] if section != "services" else "service"
                st.error(file, None, key, "%s '%s' of %s is defined differently in the stack already: compose does "
                         "not merge what it includes; rename one, or change it with extends or an override file"
                         % (what, entry_name, name))
                continue
            target[entry_name] = entry
            if section == "services":
                for service_key in entry if isinstance(entry, dict) else ():
                    st.key_files[(str(entry_name), str(service_key))] = name
            else:
                st.key_files[(None, "%s.%s" % (section, entry_name))] = name
