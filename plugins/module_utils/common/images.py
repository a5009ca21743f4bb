# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references, parsed in one place (``split_reference`` and the views built on it, for the
policy, the service spec comparison, the registry, the edge image and pulls), and images pinned at
deploy: every service runs the image its tag named when the stack was deployed.

A tag moves; a digest does not. ``pin_services`` resolves each service's image once, on the
manager, and the service is created with the result, so that

- every node runs the same bits (a node that pulls later gets what the manager saw),
- a re-deploy with an unchanged tag compares equal and touches nothing,
- an image pushed (or built) anew under the same tag is a new digest: the next deploy updates the
  service, and the diff shows the old and the new digest.

Where an image is resolved, in this order:

1. a reference with a digest (``app@sha256:...``), or an image ID, is already pinned: it stays as written,
   once the local engine or (a digest) its registry has it; one that is nowhere is refused with the other
   missing images, before anything is created;
2. a reference that names a registry (``reg.example.org/app:1``): the registry's manifest digest,
   which the engine asks the registry for (``GET /distribution/<ref>/json``), else the digest the
   local engine recorded when it pulled or pushed that repository;
3. a plain name (``httpd``) when the platform has a registry (``spin_platform.registry``) that holds
   it: ``<registry>/httpd:latest@sha256:...``, which every node can pull;
4. otherwise the local engine's image ID (``sha256:...``): the image exists on this node only,
   which is all a one-node platform has. Swarm never tries a registry for an image ID.

The name the tenant wrote stays on the service as the label ``spin.image``.
"""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

LABEL = "spin.image"
HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def split_reference(ref):
    """``reg:5000/a/b:1@sha256:x`` -> (``reg:5000``, ``a/b``, ``1``, ``sha256:x``); parts missing are None.
    Docker Hub's spellings (``docker.io/library/httpd``) keep their registry part as written."""
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag = None
    if ref.rfind(":") > ref.rfind("/"):
        ref, tag = ref.rsplit(":", 1)
    parts = ref.split("/")
    registry = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, ref = parts[0], "/".join(parts[1:])
    return registry, ref, tag, digest


def repository_of(ref):
    """``reg:5000/a/b:1@sha256:x`` -> ``reg:5000/a/b``: the reference without its tag and digest."""
    registry, repository, dummy, dummy = split_reference(ref)
    return _join(registry, repository, None)


def short_name(ref):
    """-> (registry | None, repository, tag | None), Docker Hub's spellings folded:
    ``docker.io/library/httpd:2`` -> (None, ``httpd``, ``2``)."""
    registry, repository, tag, dummy = split_reference(ref)
    if registry in HUB:
        registry = None
    if registry is None and repository.startswith("library/"):
        repository = repository[len("library/"):]
    return registry, repository, tag


def full_name(ref):
    """-> (full name, tag | None, digest | None), Docker Hub's spellings made explicit:
    ``httpd`` -> (``docker.io/library/httpd``, None, None)."""
    registry, repository, tag, digest = split_reference(ref)
    if registry is None or registry in HUB:
        registry = "docker.io"
    if registry == "docker.io" and "/" not in repository:
        repository = "library/" + repository
    return "%s/%s" % (registry, repository), tag, digest


def same_image(one, other):
    """Whether two references name the same image as Docker reads them (``httpd`` and
    ``docker.io/library/httpd:latest``); digests are not compared."""
    def key(ref):
        registry, repository, tag = short_name(ref)
        return registry, repository, tag or "latest"
    return key(one) == key(other)


def is_image_id(ref):
    return ref.startswith("sha256:") and len(ref) == 71


def _join(registry, repository, tag, digest=None):
    out = "%s/%s" % (registry, repository) if registry else repository
    if tag:
        out += ":" + tag
    if digest:
        out += "@" + digest
    return out


def _repo_digest(image, registry, repository):
    """The digest the engine recorded for ``registry/repository`` (RepoDigests), or None."""
    wanted = _join(registry, repository, None)
    for entry in (image or {}).get("RepoDigests") or []:
        name, dummy, digest = entry.partition("@")
        if name == wanted and digest:
            return digest
    return None


def pin_image(ref, engine, registry=None):
    """-> ``{"image": <pinned reference>, "source": registry | local | given, "warning": str | None}``.

    ``engine`` answers ``distribution_digest(ref)`` (the registry's manifest digest, or None) and
    ``inspect_image(ref)`` (the local image, or None). Raises SpinError when the image is nowhere.
    """
    reg, repository, tag, digest = split_reference(ref)
    if is_image_id(ref) or digest:
        return _pinned_already(ref, reg, engine)
    tag = tag or "latest"
    tried = []
    candidates = [(reg, repository)] if reg else []
    if not reg and registry:
        candidates.append((registry, repository))
    for cand_registry, cand_repository in candidates:
        full = _join(cand_registry, cand_repository, tag)
        tried.append("registry %s" % cand_registry)
        found = engine.distribution_digest(full)
        if not found:
            found = _repo_digest(engine.inspect_image(full), cand_registry, cand_repository)
        if found:
            return {"image": _join(cand_registry, cand_repository, tag, found), "source": "registry",
                    "warning": None}
    local = engine.inspect_image(_join(reg, repository, tag))
    tried.append("this node's engine")
    if local is not None:
        warning = None
        if registry:
            warning = ("image '%s' is not in the platform registry %s, only on this node's engine: nodes without it "
                       "cannot run the service; push it as %s" % (ref, registry, _join(registry, repository, tag)))
        return {"image": local["Id"], "source": "local", "warning": warning}
    if len(tried) == 1:
        raise SpinError("image '%s' was not found in %s" % (ref, tried[0]))
    raise SpinError("image '%s' was found neither in %s" % (ref, " nor in ".join(tried)))


def _pinned_already(ref, reg, engine):
    """A reference with a digest, or an image ID, names its bits already: it stays as written, once the engine has
    them or (a digest) its registry has them. A service created with one that is nowhere would fail only after
    it was created; this refuses it before anything is."""
    if engine.inspect_image(ref) is not None:
        return {"image": ref, "source": "given", "warning": None}
    if is_image_id(ref):
        raise SpinError("image '%s' was not found in this node's engine (an image ID names a local image)" % ref)
    if engine.distribution_digest(ref):
        return {"image": ref, "source": "given", "warning": None}
    raise SpinError("image '%s' was found neither in this node's engine nor in registry %s" % (ref, reg or "docker.io"))


def pin_services(engine, services, registry=None, built=(), check_mode=False, pinned_from=None):
    """Pin the image of every service params dict (translate.stack_to_tasks ``services``) in place.

    Each service keeps the name its tenant wrote as the label ``spin.image``. Returns
    ``(pins, warnings)``, pins being ``{service name: {"image": written, "pinned": ..., "source": ...}}``.
    Every service whose image is nowhere is named in one SpinError. ``built`` names the images the
    platform builds from the submission (``build:``): in check mode one not built yet stays as its
    tag (source ``build``), since the deploy builds it first. ``pinned_from``: {service name: the
    ``spin.image`` label of the running service}; where the written name is the same image spelled
    otherwise (``httpd``, ``docker.io/library/httpd:latest``) that label stays, so it is no change.
    """
    pins, warnings, problems, pinned = {}, [], [], []
    built = set(built or ())
    for params in services:
        written = params.get("image")
        if not written:
            continue
        written = (params.get("labels") or {}).get(LABEL) or written
        running = (pinned_from or {}).get(params["name"])
        if running and running != written and same_image(running, written):
            written = running
        try:
            found = pin_image(written, engine, registry)
        except SpinError as exc:
            service = (params.get("labels") or {}).get("spin.service") or params["name"]
            if written in built and check_mode:
                found = {"image": written, "source": "build", "warning": None}
            elif written in built:
                problems.append("service '%s': its image is built from the submission (build:) and %s is not built "
                                "yet; playbooks/deploy.yml builds it (spin.platform.spin_build) before the deploy"
                                % (service, written))
                continue
            else:
                problems.append("service '%s': %s" % (service, exc.message))
                continue
        pinned.append((params, written, found))
    if problems:
        raise SpinError("cannot pin the stack's images, nothing was changed: %s. Build or push the image first "
                        "(the images role builds the platform's images)" % "; ".join(problems))
    for params, written, found in pinned:
        params["image"] = found["image"]
        params["labels"] = dict(params.get("labels") or {}, **{LABEL: written})
        pins[params["name"]] = {"image": written, "pinned": found["image"], "source": found["source"]}
        if found["warning"]:
            warnings.append("service %s: %s" % (params["name"], found["warning"]))
    return pins, warnings
