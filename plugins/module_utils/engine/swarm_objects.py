# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One network, volume, secret or config, as the reviewable task file declares it
(``spin_network``, ``spin_volume``, ``spin_secret``, ``spin_config``).

The rules are StackReconciler's, so that running the reviewed file and deploying the stack with
``spin_stack`` leave the same objects:

- a network is created with the translated settings; one that exists with other settings is an
  error (``check_network``: Swarm cannot change a network in place);
- a volume, secret or config that exists is kept as it is (spin_stack plans ``none`` for it);
  secrets and configs are immutable, so a change of content must come with a new name (the
  translator puts ``sha256[:10]`` of the content in the name);
- every object is created by ``create_resource``, which spin_stack's reconciler calls too.

This is the single-object layer: ``stack.StackReconciler`` builds on it, never the other way round.

Unlike spin_stack, these modules run without its ownership preflight, so an object that exists
with other ``spin.tenant``/``spin.stack`` labels is an error here (spin_stack refuses the same
stack for the same reason).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets as pysecrets

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

OWNER_LABELS = ("spin.tenant", "spin.stack")
GENERATED_BYTES = 24      # a generated password: 24 random bytes, 32 URL-safe characters

# translate.redacted() writes secret data in the review file as "<redacted: N bytes>"; files written
# by earlier builds carry the content's full sha256 as well, which is still understood (and never written)
REDACTED = re.compile(r"^<redacted: (\d+) bytes(?:, sha256 ([0-9a-f]{64}))?>$")
# translate.data_name(): <stack>_<name>_<sha256[:10] of the content>
NAME_DIGEST = re.compile(r"_([0-9a-f]{10})$")


def network_settings(net):
    """A translated network's settings, as check_network compares them."""
    return {"driver": net.get("driver") or "overlay", "internal": bool(net.get("internal")),
            "attachable": bool(net.get("attachable")), "options": dict(net.get("driver_opts") or {}),
            "labels": dict(net.get("labels") or {})}


def check_network(net, actual):
    """``net`` (a translated network) against ``actual`` (Docker's inspect output). Raises SpinError
    when they differ, since Swarm cannot change a network in place; returns the settings compared.
    Shared by StackReconciler and spin_network."""
    wanted = network_settings(net)
    have = {"driver": actual.get("Driver"), "internal": bool(actual.get("Internal")),
            "attachable": bool(actual.get("Attachable")),
            # Docker adds its own options (the VXLAN ID list); compare only the ones asked for
            "options": {k: v for k, v in (actual.get("Options") or {}).items() if k in wanted["options"]},
            "labels": dict(actual.get("Labels") or {})}
    changed = sorted(k for k in wanted if wanted[k] != have[k])
    if changed:
        raise SpinError(
            "network '%s' exists with other settings (%s); Swarm cannot change a network in place. Remove "
            "the stack (state: absent) and deploy it again, or keep the network's settings as they are"
            % (net["name"], ", ".join("%s: %s -> %s" % (k, have[k], wanted[k]) for k in changed)))
    return have


def create_resource(client, kind, item):
    """Create a network, volume, secret or config from the translator's item (secret and config
    ``data`` in base64). -> its ID (a volume's name). spin_stack and the review file's modules
    (swarm_objects) both create through here, so both leave the same objects."""
    if kind == "network":
        return client.create_network(item["name"], driver=item.get("driver") or "overlay",
                                     options=item.get("driver_opts"), labels=item.get("labels"),
                                     attachable=bool(item.get("attachable")), internal=bool(item.get("internal")))
    if kind == "volume":
        client.create_volume(item["name"], driver=item.get("driver") or "local",
                             driver_opts=item.get("driver_opts"), labels=item.get("labels"))
        return item["name"]
    create = {"secret": client.create_secret, "config": client.create_config}[kind]
    return create(item["name"], resource_data(item), labels=item.get("labels"))


def resource_data(item):
    """The bytes of a secret or config: its ``data`` (base64), or, for a generated secret (a
    database's root password, ``generate: true``), random ones that nobody sees: made once, when
    the secret does not exist yet, and kept by every later deploy."""
    if item.get("data") is None and item.get("generate"):
        return pysecrets.token_urlsafe(GENERATED_BYTES).encode("ascii")
    return base64.b64decode(item["data"])


def parse_redacted(value):
    """(size, full sha256 or None) when ``value`` is the review file's redaction marker, else None."""
    match = REDACTED.match(value or "") if isinstance(value, str) else None
    return (int(match.group(1)), match.group(2)) if match else None


def is_reviewed_content(raw, marker, name):
    """Do the bytes ``raw`` match the review file's ``marker`` for the secret ``name``? The size must
    match, and the start of the content's sha256 that the name carries (or an old marker's digest)."""
    size, digest = marker
    if len(raw) != size:
        return False
    actual = hashlib.sha256(raw).hexdigest()
    if digest:
        return actual == digest
    named = NAME_DIGEST.search(name or "")
    return not named or actual.startswith(named.group(1))


def data_from_file(raw, data, name, path):
    """``raw`` (bytes of ``data_file``) -> the base64 ``data`` to pass on.

    ``data`` may be the review file's redaction marker: then the file must hold exactly the bytes
    that were reviewed. Any other ``data`` together with a file is ambiguous.
    """
    marker = parse_redacted(data)
    if data is not None and marker is None:
        raise SpinError("secret '%s': give either data or data_file, not both (data_file %s would replace data)"
                        % (name, path))
    if marker is not None and not is_reviewed_content(raw, marker, name):
        raise SpinError(
            "secret '%s': data_file %s (%d bytes) is not the content that was reviewed (%d bytes, the content the "
            "secret's name was made from): use the tenant's file the stack was translated from, or translate the "
            "stack again and review the new file" % (name, path, len(raw), marker[0]))
    return base64.b64encode(raw).decode("ascii")


def _decode(kind, name, data):
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise SpinError("%s '%s': data is not base64 (%s). Give the content base64-encoded, as the translator writes "
                        "it, e.g. \"{{ lookup('ansible.builtin.file', 'x.txt') | b64encode }}\"%s"
                        % (kind, name, exc, ", or give data_file" if kind == "secret" else ""))


def _check_owner(kind, name, have, want):
    """An object of another tenant or stack (or of none: made outside the platform) is not ours to use."""
    wanted = {k: want.get(k) for k in OWNER_LABELS if k in (want or {})}
    found = {k: (have or {}).get(k) for k in wanted}
    if found != wanted:
        raise SpinError(
            "%s '%s' exists but is not this stack's: it has %s, this task asks for %s. Objects are never shared "
            "between stacks or tenants: choose another stack name, or ask the platform staff to remove the %s"
            % (kind, name, ", ".join("%s=%s" % (k, found[k]) for k in sorted(found)),
               ", ".join("%s=%s" % (k, wanted[k]) for k in sorted(wanted)), kind))


def _kept(kind, name, have, want):
    """spin_stack keeps an existing volume, secret or config as it is: say when it differs."""
    changed = sorted(k for k in want if want[k] != have.get(k))
    if not changed:
        return []
    return ["%s '%s' exists with other settings (%s) and is kept as it is, as spin_stack keeps it; remove it (or "
            "the stack, with its volumes) to create it again" % (
                kind, name, ", ".join("%s: %s -> %s" % (k, have.get(k), want[k]) for k in changed))]


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def normalised(params):
    """Docker keeps labels and driver options as text: ``mtu: 1400`` is ``'1400'`` (the translator
    writes text already, so its tasks pass unchanged)."""
    params = dict(params)
    for key in ("labels", "driver_opts"):
        if params.get(key) is not None:
            params[key] = {str(k): _text(v) for k, v in params[key].items()}
    return params


def _result(changed, name, object_id, before, after, warnings=None):
    return {"changed": changed, "name": name, "id": object_id, "diff": {"before": before, "after": after},
            "warnings": list(warnings or [])}


# ---- networks --------------------------------------------------------------------------------

def ensure_network(client, params, check_mode=False):
    params = normalised(params)
    name = params["name"]
    found = client.find_network(name)
    actual = (client.inspect_network(found["Id"]) or found) if found else None
    if params["state"] == "absent":
        return _remove(client.remove_network, "network", name, found and found["Id"], actual, params, check_mode,
                       lambda a: dict(_network_have(a), name=name))
    wanted = dict(network_settings(params), name=name)
    if actual is not None:
        _check_owner("network", name, actual.get("Labels"), params.get("labels"))
        have = dict(check_network(params, actual), name=name)
        return _result(False, name, found["Id"], have, have)
    network_id = None if check_mode else create_resource(client, "network", params)
    return _result(True, name, network_id, {}, wanted)


def _network_have(actual):
    return {"driver": actual.get("Driver"), "internal": bool(actual.get("Internal")),
            "attachable": bool(actual.get("Attachable")), "labels": dict(actual.get("Labels") or {})}


# ---- volumes ---------------------------------------------------------------------------------

def _volume_settings(params):
    return {"driver": params.get("driver") or "local", "driver_opts": dict(params.get("driver_opts") or {}),
            "labels": dict(params.get("labels") or {})}


def _volume_have(actual):
    return {"driver": actual.get("Driver"), "driver_opts": dict(actual.get("Options") or {}),
            "labels": dict(actual.get("Labels") or {})}


def ensure_volume(client, params, check_mode=False):
    params = normalised(params)
    name = params["name"]
    actual = client.find_volume(name)
    if params["state"] == "absent":
        return _remove(client.remove_volume, "volume", name, name if actual else None, actual, params, check_mode,
                       lambda a: dict(_volume_have(a), name=name))
    wanted = _volume_settings(params)
    if actual is not None:
        _check_owner("volume", name, actual.get("Labels"), params.get("labels"))
        have = _volume_have(actual)
        return _result(False, name, name, dict(have, name=name), dict(have, name=name),
                       _kept("volume", name, have, wanted))
    volume_id = None if check_mode else create_resource(client, "volume", params)
    return _result(True, name, volume_id, {}, dict(wanted, name=name))


# ---- secrets and configs -------------------------------------------------------------------

def _data_view(kind, labels, raw=None):
    """A secret's or config's view for the diff: a secret's shows its size only (a digest would confirm
    guesses at its content)."""
    view = {"labels": dict(labels or {})}
    if raw is not None:
        view["bytes"] = len(raw)
        if kind == "config":
            view["sha256"] = hashlib.sha256(raw).hexdigest()
    return view


def ensure_data(client, kind, params, check_mode=False):
    """``kind``: secret or config. ``params["data"]``: base64, or (secrets) the review file's marker."""
    params = normalised(params)
    name = params["name"]
    finder = {"secret": client.find_secret, "config": client.find_config}[kind]
    found = finder(name)
    if params["state"] == "absent":
        remover = {"secret": client.remove_secret, "config": client.remove_config}[kind]
        return _remove(remover, kind, name, found and found["ID"], found, params, check_mode,
                       lambda a: dict(_data_view(kind, a["Spec"].get("Labels")), name=name))
    data = params.get("data")
    if params.get("generate") and kind == "secret":
        return _ensure_generated(client, name, found, params, check_mode)
    if data is None:
        raise SpinError("%s '%s': state=present needs data%s"
                        % (kind, name, " or data_file" if kind == "secret" else ""))
    marker = parse_redacted(data) if kind == "secret" else None
    raw = None if marker else _decode(kind, name, data)
    named = NAME_DIGEST.search(name)
    digest = marker[1] if marker else hashlib.sha256(raw).hexdigest()   # an old marker's digest, or None
    if named and digest and not digest.startswith(named.group(1)):
        raise SpinError(
            "%s '%s' is named for content whose sha256 starts %s, but data has other content. Swarm %ss are "
            "immutable, so new content gets a new name: translate the stack again and use the file it writes"
            % (kind, name, named.group(1), kind))
    labels = dict(params.get("labels") or {})
    after = dict(_data_view(kind, labels, raw), name=name)
    if found is not None:
        spec = found.get("Spec") or {}
        _check_owner(kind, name, spec.get("Labels"), labels)
        # Docker shows a config's data, never a secret's
        if kind == "config" and spec.get("Data") is not None and base64.b64decode(spec["Data"]) != raw:
            stored = base64.b64decode(spec["Data"])
            raise SpinError(
                "config '%s' exists with other content (%d bytes, sha256 %s; asked for %d bytes, sha256 %s). Swarm "
                "configs are immutable: give the new content a new name (the translator names configs "
                "<stack>_<name>_<sha256[:10]>), or remove the config once no service uses it"
                % (name, len(stored), hashlib.sha256(stored).hexdigest(), len(raw), hashlib.sha256(raw).hexdigest()))
        before = dict(_data_view(kind, spec.get("Labels"),
                                 base64.b64decode(spec["Data"]) if spec.get("Data") else None), name=name)
        return _result(False, name, found["ID"], before, before,
                       _kept(kind, name, {"labels": dict(spec.get("Labels") or {})}, {"labels": labels}))
    if marker:
        raise SpinError(
            "secret '%s' does not exist yet, and its content is redacted in this task (%d bytes). Add "
            "data_file: <the tenant's secret file> to the task (read on the controller and checked against the "
            "reviewed content), or deploy the stack with playbooks/deploy.yml" % (name, marker[0]))
    object_id = None if check_mode else create_resource(client, kind, params)
    return _result(True, name, object_id, {}, after)


def _ensure_generated(client, name, found, params, check_mode):
    """A generated secret (a database's root password): made with random content when it is
    missing, and kept as it is when it exists (its content is nobody's to compare)."""
    if params.get("data") is not None:
        raise SpinError("secret '%s': give data or generate, not both" % name)
    labels = dict(params.get("labels") or {})
    if found is not None:
        spec = found.get("Spec") or {}
        _check_owner("secret", name, spec.get("Labels"), labels)
        before = dict(_data_view(spec.get("Labels")), name=name)
        return _result(False, name, found["ID"], before, before,
                       _kept("secret", name, {"labels": dict(spec.get("Labels") or {})}, {"labels": labels}))
    object_id = None if check_mode else create_resource(client, "secret", dict(params, data=None))
    return _result(True, name, object_id, {}, dict(_data_view(labels), name=name))


# ---- removal -------------------------------------------------------------------------------

def _remove(remover, kind, name, object_id, actual, params, check_mode, view):
    if object_id is None:
        return _result(False, name, None, {}, {})
    labels = _labels_of(actual)
    if params.get("labels"):
        _check_owner(kind, name, labels, params["labels"])
    if not check_mode:
        remover(object_id)
    return _result(True, name, object_id, view(actual), {})


def _labels_of(actual):
    if "Spec" in actual:
        return actual["Spec"].get("Labels") or {}
    return actual.get("Labels") or {}
