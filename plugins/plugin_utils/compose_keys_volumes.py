# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service key handlers: volumes (named volumes, relative binds as configs or through the bind
store), tmpfs and shm_size. Pure: files are looked at through the parse state's reader."""
from __future__ import annotations

import base64
import posixpath
import re

from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import MAX_SECRET_BYTES, NAME_RE
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import as_bytes
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, as_bool, as_list, byte_size, container_path, enum, file_mode, nonempty_str, str_list)


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
        raise Invalid("bind mount of '%s' (a home directory) is not supported: the service may run on "
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
    raw = as_bytes(text)
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
        raise Invalid("'%s' is not a volume name: use letters, digits, '_', '.' and '-'" % text)
    return text


def _short_volume(sp, key, item):
    text = nonempty_str(item, "a volume like data:/path or a mapping")
    parts = text.split(":")
    if len(parts) > 3:
        raise Invalid("'%s' is not a volume: write it like data:/var/lib/data or /host/path:/path:ro" % text)
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
            raise Invalid("'%s': unknown volume option '%s' (use ro or rw)" % (text, option))
    target = container_path(target)
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
        raise Invalid("type '%s' is not supported on spin.platform: use volume, bind or tmpfs" % vtype,
                      key=key + ".type")
    if vtype is None:
        raise Invalid("needs a type: volume, bind or tmpfs")
    vtype = enum(vtype, ("volume", "bind", "tmpfs"))
    target = sp.check(key + ".target", container_path, fields.get("target"))
    read_only = sp.check(key + ".read_only", as_bool, fields.get("read_only", False), default=False)
    source = fields.get("source")
    nocopy = False
    for sub, spec in (("bind", _BIND_SPEC), ("volume", _VOLUME_SPEC), ("tmpfs", _TMPFS_SPEC)):
        if sub in fields and sub != vtype:
            sp.error("%s.%s" % (key, sub), "only applies to type %s, and this volume is type %s" % (sub, vtype))
        elif sub in fields:
            options = sp.fields("%s.%s" % (key, sub), fields[sub], spec) or {}
            if sub == "volume" and "nocopy" in options:
                nocopy = sp.check(key + ".volume.nocopy", as_bool, options["nocopy"], default=False)
    if vtype == "tmpfs":
        if source is not None:
            sp.error(key + ".source", "a tmpfs mount has no source")
        options = fields.get("tmpfs") if isinstance(fields.get("tmpfs"), dict) else {}
        size = sp.check(key + ".tmpfs.size", byte_size, options.get("size"))
        mode = sp.check(key + ".tmpfs.mode", file_mode, options["mode"]) if "mode" in options else None
        return _volume_entry("tmpfs", None, target, read_only, size, mode) if target else None
    if vtype == "bind":
        if source is None:
            raise Invalid("a bind mount needs a source (an absolute host path, or a file of the submission "
                          "like ./nginx.conf)", key=key + ".source")
        source = nonempty_str(source)
        if not source.startswith(("/", "~")):
            if target:
                _bind_file(sp, key, source, target, read_only)
            return None
        source = sp.check(key + ".source", _bind_source, source)
    elif source is not None:
        source = sp.check(key + ".source", _named_volume, nonempty_str(source))
    if target is None or (source is None and vtype == "bind"):
        return None
    return _volume_entry(vtype, source, target, read_only, nocopy=nocopy)


def k_volumes(sp, value):
    for i, item in enumerate(as_list(value)):
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
            size = byte_size(setting)
        elif name == "mode":
            mode = file_mode(setting)
        else:
            sp.warning(key, "tmpfs option '%s' is ignored on spin.platform (only size and mode apply)" % option)
    return _volume_entry("tmpfs", None, container_path(path), False, size, mode)


def k_shm_size(sp, value):
    """shm_size: Swarm has no such setting, so /dev/shm becomes a tmpfs mount of that size (mode 1777,
    as Docker makes /dev/shm)."""
    sp.shm_size = byte_size(value)


def shm_mount(sp):
    if sp.shm_size is None:
        return
    if any(v["target"].rstrip("/") == "/dev/shm" for v in sp.model["volumes"]):
        sp.error("shm_size", "a mount on /dev/shm is given too: give shm_size or the mount, not both")
        return
    sp.model["volumes"].append(_volume_entry("tmpfs", None, "/dev/shm", False, sp.shm_size, 0o1777))


def k_tmpfs(sp, value):
    for i, text in enumerate(str_list(value, allow_string=True)):
        key = "tmpfs[%d]" % i
        entry = sp.check(key, _tmpfs_item, sp, key, text)
        if entry:
            sp.model["volumes"].append(entry)
