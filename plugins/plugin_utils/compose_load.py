# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading the files: one compose file (``load_compose``: YAML, top-level keys, version,
interpolation), the rancher-compose file (``load_rancher``), the empty model, and profiles. Pure."""
from __future__ import annotations

import difflib
import re

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import safe_yaml
from ansible_collections.spin.platform.plugins.plugin_utils.compose_text import interpolate_tree
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import Invalid, kind, str_list, unknown_key


# ---------------------------------------------------------------------------------------------
# the files, and parse_stack

TOP_KEYS = ("version", "services", "networks", "volumes", "secrets", "configs", "include")
TOP_IGNORED = {"name": "the stack's name comes from the submission"}
TOP_REFUSED = {"models": "AI models are not supported"}
RANCHER_TOP_KEYS = ("version", "services")


def empty_model():
    return {"services": {}, "networks": {}, "volumes": {}, "secrets": {}, "configs": {}, "load_balancers": {},
            "inactive": {}, "bind_store": {}}


def default_network():
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
            st.error(file, None, key, unknown_key(key, tuple(allowed) + tuple(refused) + tuple(ignored)))


NOT_COMPOSE = ("is not a compose file: a compose file is a YAML mapping with services: (its content is not "
               "shown); name the tenant's docker-compose.yml")


def load_compose(st, text, file, override=False):
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
                 "must be a mapping with services:, not %s" % kind(data))
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
        st.error(file, None, "services", "must be a mapping of services, not %s" % kind(data.get("services")))
        return None
    return interpolate_tree(st, file, data, (), True)


def load_rancher(st, text, file):
    if text is None:
        return {}
    data = _load(st, text, file)
    if data is None:
        return {}
    if not isinstance(data, dict):
        st.error(file, None, None, "must be a mapping with services:, not %s" % kind(data))
        return {}
    _top_keys(st, file, data, RANCHER_TOP_KEYS, {}, {".catalog": "catalog entries are not used"})
    if "version" in data:
        _check_version(st, file, data["version"])
    services = data.get("services")
    if not isinstance(services, dict):
        st.error(file, None, "services", "must be a mapping of services, not %s" % kind(services))
        return {}
    services = interpolate_tree(st, file, {"services": services}, (), True)["services"]
    out = {}
    for name, entry in services.items():
        if entry is None or isinstance(entry, dict):
            out[str(name)] = entry or {}
        else:
            st.error(file, str(name), None, "must be a mapping, not %s" % kind(entry))
    return out


def active_profiles(profiles, env):
    """The profiles to deploy: ``profiles`` when given, else COMPOSE_PROFILES of the variables
    (comma separated), as Compose takes it from the environment or ``.env``."""
    if profiles is None:
        profiles = [p.strip() for p in str((env or {}).get("COMPOSE_PROFILES") or "").split(",")]
    return [str(p) for p in profiles if str(p).strip()]


_PROFILE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def profiles_of(st, file, name, raw, active):
    """The service's profiles when none of them is active (it is not deployed), else None."""
    if "profiles" not in raw:
        return None
    try:
        profiles = str_list(raw["profiles"])
        for profile in profiles:
            if not _PROFILE_RE.match(profile):
                raise Invalid("'%s' is not a profile name: letters, digits, '_', '.' and '-'" % profile)
    except Invalid as exc:
        st.error(file, name, "profiles", exc.message)
        return None
    if not profiles or "*" in active or set(profiles) & set(active):
        return None
    return profiles
