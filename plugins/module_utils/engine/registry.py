# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform registry's images: push a local image, or bring one from the registry to a node,
only when the registry or the node does not have those bits yet.

``push`` and ``pull`` plan first (read-only, also in check mode) and say what they did or would do.
The client is a SwarmClient (``inspect_image``, ``distribution_digest``, ``tag_image``, ``push_image``,
``pull_image``).
"""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.images import repository_of


def registry_reference(registry, name):
    """``httpd`` -> ``reg:5000/httpd:latest``; ``spin/haproxy:2.6`` -> ``reg:5000/spin/haproxy:2.6``."""
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return "%s/%s" % (registry.rstrip("/"), name)


def _recorded_digest(image, reference):
    """The digest the engine recorded for ``reference``'s repository (RepoDigests), or None."""
    repo = repository_of(reference)
    for entry in (image or {}).get("RepoDigests") or []:
        name, dummy, digest = entry.partition("@")
        if name == repo:
            return digest
    return None


def push(client, name, registry, check_mode=False):
    """Push the local image ``name`` as ``<registry>/<name>``. Unchanged when the registry's digest for
    that tag is the one this engine pushed for this very image."""
    target = registry_reference(registry, name)
    local = client.inspect_image(name)
    if local is None:
        raise SpinError("image '%s' is not on this node, so it cannot be pushed to %s: build it first (the images "
                        "role)" % (name, registry))
    tagged = client.inspect_image(target)
    recorded = _recorded_digest(tagged, target) if tagged and tagged["Id"] == local["Id"] else None
    remote = client.distribution_digest(target)
    result = {"image": name, "target": target, "id": local["Id"], "before": remote, "digest": remote,
              "changed": False}
    if recorded and remote == recorded:
        return result
    result["changed"] = True
    if not check_mode:
        client.tag_image(local["Id"], target)
        result["digest"] = client.push_image(target) or client.distribution_digest(target)
    return result


def pull(client, name, registry, check_mode=False, tag_as=None):
    """Bring ``<registry>/<name>`` to this node, and tag it ``tag_as`` (default ``name``) too. Unchanged
    when the node already has the registry's current image under both names."""
    target = registry_reference(registry, name)
    local_name = tag_as or name
    remote = client.distribution_digest(target)
    if remote is None:
        raise SpinError("the registry %s has no image %s (or cannot be reached from this node): push it first"
                        % (registry, target))
    have = client.inspect_image(target)
    have_local = client.inspect_image(local_name)
    result = {"image": local_name, "source": target, "digest": remote, "before": _recorded_digest(have, target),
              "changed": False}
    if have and result["before"] == remote and have_local and have_local["Id"] == have["Id"]:
        return result
    result["changed"] = True
    if not check_mode:
        if not (have and result["before"] == remote):
            client.pull_image("%s@%s" % (repository_of(target), remote))
            client.tag_image("%s@%s" % (repository_of(target), remote), target)
        client.tag_image(target, local_name)
    return result
