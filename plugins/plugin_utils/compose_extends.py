# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose parser's ``extends``: a service merged over the base service it names, in the same
file or another file of the submission (read through the caller's reader, parsed with the same
limits), as Compose merges them; a cycle or a chain deeper than ``MAX_EXTENDS_DEPTH`` is an error."""
from __future__ import annotations

import copy
import posixpath

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import safe_yaml
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import interpolate_tree
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import Invalid, did_you_mean, kind, nonempty_str, unknown_key


MAX_EXTENDS_DEPTH = 10


# ---------------------------------------------------------------------------------------------
# extends: merge a base service (same file or another file of the submission) under a service

_MERGE_MAPPINGS = ("environment", "labels", "sysctls", "annotations", "extra_hosts")
_MERGE_REPLACE = ("command", "entrypoint")


def _as_mapping(value, list_value=None):
    """list_or_dict -> dict for merging; anything else is returned unchanged (validated later)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        if list_value is not None:
            return {v: copy.deepcopy(list_value) for v in value}
        return {k: (v if sep else None) for k, sep, v in (item.partition("=") for item in value)}
    return value


def _volume_identity(item):
    if isinstance(item, dict):
        return item.get("target")
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _ref_identity(item):
    return item.get("target") or item.get("source") if isinstance(item, dict) else item


def _merge_by(old, new, identity):
    merged = {}
    try:
        for item in old + new:
            merged[str(identity(item))] = item
    except (AttributeError, TypeError):
        return old + new
    return list(merged.values())


def _deep_merge(base, override):
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_MERGE_BY = {"volumes": _volume_identity, "secrets": _ref_identity, "configs": _ref_identity,
             "devices": _ref_identity}


def merge_service(base, override):
    """Compose's merge rules for extends: mappings merge, command/entrypoint replace, mounts and
    secrets merge by target, other lists append, scalars replace."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        old = out.get(key)
        if key not in out or key in _MERGE_REPLACE:
            out[key] = copy.deepcopy(value)
        elif key in _MERGE_MAPPINGS:
            old, value = _as_mapping(old), _as_mapping(value)
            out[key] = dict(old, **value) if isinstance(old, dict) and isinstance(value, dict) else value
        elif key in ("networks", "depends_on"):
            default = {} if key == "networks" else {"condition": "service_started"}
            old, value = _as_mapping(old, default), _as_mapping(value, default)
            out[key] = _deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _deep_merge(old, value)
        elif key in _MERGE_BY and isinstance(old, list) and isinstance(value, list):
            out[key] = _merge_by(old, value, _MERGE_BY[key])
        elif isinstance(old, (list, str)) and isinstance(value, (list, str)) and key not in ("image", "user"):
            old, value = ([old] if isinstance(old, str) else old), ([value] if isinstance(value, str) else value)
            out[key] = old + [v for v in value if v not in old]
        else:
            out[key] = copy.deepcopy(value)
    return out


def rebase(path, directory):
    joined = posixpath.normpath(posixpath.join(directory, path))
    return joined if joined.startswith("..") else "./" + joined


def rebase_paths(raw, directory):
    """Paths in a service of another file are relative to that file: make them submission-relative."""
    if not directory:
        return raw
    for key in ("env_file", "label_file"):
        value = raw.get(key)
        if isinstance(value, str):
            raw[key] = posixpath.normpath(posixpath.join(directory, value))
        elif isinstance(value, list):
            raw[key] = [posixpath.normpath(posixpath.join(directory, v)) if isinstance(v, str)
                        else dict(v, path=posixpath.normpath(posixpath.join(directory, str(v.get("path")))))
                        if isinstance(v, dict) else v for v in value]
    volumes = raw.get("volumes")
    if isinstance(volumes, list):
        raw["volumes"] = [_rebase_volume(v, directory) for v in volumes]
    return raw


def _rebase_volume(item, directory):
    if isinstance(item, str) and item.startswith(".") and ":" in item:
        source, rest = item.split(":", 1)
        return rebase(source, directory) + ":" + rest
    if isinstance(item, dict) and isinstance(item.get("source"), str) and item["source"].startswith("."):
        return dict(item, source=rebase(item["source"], directory))
    return item


def _services_of(st, file, referrer):
    """The interpolated services of a compose file of the submission (cached; None when unusable)."""
    if file in st.files:
        return st.files[file]
    st.files[file] = None
    text = st.read(file, referrer[0], referrer[1], "extends.file")
    if text is None:
        return None
    try:
        data = safe_yaml.load(text, file)
    except SpinError as exc:
        st.diagnostics.extend(exc.diagnostics)
        return None
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict):
        st.error(file, None, "services", "must be a mapping of services (needed by extends in %s)" % referrer[0])
        return None
    services = interpolate_tree(st, file, {"services": services}, (), True)["services"]
    for raw in services.values():
        if isinstance(raw, dict):
            rebase_paths(raw, posixpath.dirname(file))
    st.files[file] = services
    return services


_EXTENDS_SPEC = ("service", "file")


def _extends_target(value, file):
    if isinstance(value, str):
        return file, value
    if not isinstance(value, dict):
        raise Invalid("must be a service name or a mapping with service (and file), not %s" % kind(value))
    unknown = sorted(set(map(str, value)) - set(_EXTENDS_SPEC))
    if unknown:
        raise Invalid(unknown_key(unknown[0], _EXTENDS_SPEC), key="extends." + unknown[0])
    if "service" not in value:
        raise Invalid("needs service: the name of the service to extend")
    service = nonempty_str(value["service"], "a service name")
    if value.get("file") is None:
        return file, service
    path = nonempty_str(value["file"], "a file name")
    if path.startswith("/"):
        return path, service
    return posixpath.normpath(posixpath.join(posixpath.dirname(file), path)), service


def _chain_text(chain, main):
    return " -> ".join(name if file == main else "%s:%s" % (file, name) for file, name in chain)


def resolve(st, file, name, chain=()):
    """The raw service ``name`` of ``file`` with its extends chain merged in (cycles reported)."""
    key = (file, name)
    if key in st.resolved:
        return st.resolved[key]
    raw = st.files[file][name]
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    own = {k: v for k, v in raw.items() if k != "extends"}
    st.resolved[key] = own
    try:
        base_file, base_name = _extends_target(raw["extends"], file)
    except Invalid as exc:
        st.error(file, name, exc.key or "extends", exc.message)
        return own
    path = chain + (key,)
    if (base_file, base_name) in path:
        loop = path[path.index((base_file, base_name)):] + ((base_file, base_name),)
        st.error(file, name, "extends", "extends loop: %s: remove one of the extends"
                 % _chain_text(loop, st.compose_name))
        return own
    if len(chain) >= MAX_EXTENDS_DEPTH:
        st.error(file, name, "extends", "more than %d levels of extends" % MAX_EXTENDS_DEPTH)
        return own
    services = _services_of(st, base_file, key)
    if services is None:
        return own
    if base_name not in services:
        st.error(file, name, "extends", "service '%s' is not in %s%s"
                 % (base_name, base_file, did_you_mean(base_name, services)))
        return own
    base = resolve(st, base_file, base_name, chain + (key,))
    if not isinstance(base, dict):
        st.error(file, name, "extends", "service '%s' of %s is not a mapping" % (base_name, base_file))
        return own
    merged = merge_service(base, own)
    st.resolved[key] = merged
    return merged
