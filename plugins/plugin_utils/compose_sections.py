# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose file's top-level sections: networks, volumes, secrets, configs (``parse_section``).
Pure: secret and config files are read through the parse state's reader."""
from __future__ import annotations

import base64

from ansible_collections.spin.platform.plugins.plugin_utils.compose_state import MAX_SECRET_BYTES, NAME_RE, Service
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import as_bytes
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import (
    Invalid, as_bool, as_str, label_map, mapping, nonempty_str, scalar_text, unknown_key)


# ---------------------------------------------------------------------------------------------
# top level: networks, volumes, secrets, configs

def _external(value):
    """external: true | 'true' | {name: x} -> (external, name)."""
    if isinstance(value, dict):
        unknown = set(value) - {"name"}
        if unknown:
            raise Invalid(unknown_key(sorted(unknown)[0], ("name",)))
        return True, nonempty_str(value["name"]) if value.get("name") is not None else None
    return as_bool(value), None


def _options(value):
    return {str(k): scalar_text(v) for k, v in mapping(value).items()}


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
        name = top.check(key + ".name", nonempty_str, name)
        if not external:
            top.warning(key + ".name", "ignored: the platform names the stack's %s <stack>_<name>" % kind)
            name = None
    return {"external": external, "name": external_name or name,
            "labels": top.check(key + ".labels", label_map, fields.get("labels") or {}, default={})}


def _top_network(top, key, fields):
    entry = _common(top, key, fields, "networks")
    driver = top.check(key + ".driver", nonempty_str, fields.get("driver") or "overlay", default="overlay")
    if driver == "bridge":
        top.warning(key + ".driver", "'bridge' becomes 'overlay': Swarm services need overlay networks")
        driver = "overlay"
    entry.update({
        "driver": driver,
        "internal": top.check(key + ".internal", as_bool, fields.get("internal", False), default=False),
        "attachable": top.check(key + ".attachable", as_bool, fields.get("attachable", False), default=False),
        "driver_opts": top.check(key + ".driver_opts", _options, fields.get("driver_opts") or {}, default={}),
    })
    return _ordered(entry, ("driver", "internal", "attachable", "driver_opts", "labels", "external", "name"))


def _top_volume(top, key, fields):
    entry = _common(top, key, fields, "volumes")
    entry["driver"] = top.check(key + ".driver", nonempty_str, fields.get("driver") or "local", default="local")
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
        path = top.check(key + ".file", nonempty_str, fields["file"])
        data = top.st.read(path, top.file, None, key + ".file") if path else None
    elif sources[0] == "environment":
        variable = top.check(key + ".environment", nonempty_str, fields["environment"])
        data = top.st.env.get(variable) if variable else None
        if variable and data is None:
            top.error(key + ".environment", "variable '%s' is not set: give it a value in the stack's variables"
                      % variable)
    else:
        data = top.check(key + ".content", as_str, fields["content"])
    content = None
    if data is not None:
        raw = as_bytes(str(data) if not isinstance(data, (str, bytes)) else data)
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


def parse_section(st, file, section, value):
    top = Service(st, file, None, {})
    spec, build = _TOP_SECTIONS[section]
    items = top.check(section, mapping, value if value is not None else {}, default={})
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
