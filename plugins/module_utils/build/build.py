# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images built from the submission (compose ``build:``). Pure.

A service with ``build:`` runs an image the platform builds from a directory inside the tenant's
submission directory:

- ``normalise(value)``: the compose ``build`` value -> the model's ``build`` (below) + problems;
- ``dockerfile_bases(text, args)``: the images a Dockerfile starts from (``FROM``, ``COPY --from``), read as
  the engine's builder reads it (``dockerfile``, ``dockerfile_sources``);
- ``check(...)``: the policy on what is built from -> violations (base images from allowed names and
  registries, no remote ``ADD``, nothing the builder refuses; ``policy.evaluate`` refuses build-time
  network, secrets and SSH);
- ``image_name(...)``: the tag, ``<registry>/<tenant>/<stack>-<service>:<content hash>``;
- ``IgnoreRules``: ``.dockerignore`` as Docker reads it.

The model's ``build`` (compose ``build: dir`` is ``{context: dir}``)::

    {context: "app", dockerfile: "Dockerfile" | "path/rel/to/context", dockerfile_inline: null | str,
     args: {NAME: value}, target: null | str, labels: {}, network: null | str,
     secrets: [...], ssh: [...]}            # kept only so that policy can refuse them by name

The content hash covers every file sent to the engine (the context after ``.dockerignore``, the
Dockerfile) and the build options, so the same submission gives the same tag on every deploy and
on every controller, and a change to any of them gives a new one.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import re

from ansible_collections.spin.platform.plugins.module_utils.build import dockerfile, dockerfile_sources
from ansible_collections.spin.platform.plugins.module_utils.common.images import short_name as image_short_name

RULE = "build"
LABEL_DIGEST = "spin.build.digest"
LABEL_BASES = "spin.build.bases"
INLINE_DOCKERFILE = ".spin-build.Dockerfile"
# the platform's own images (the base, the edge, the registry: roles/images) are spin/...; the images
# tenants build are <tenant>/<stack>-<service> (image_name). A registry of the policy's registries
# (the platform's own, say) holds both: they are allowed as bases only by a name pattern.
PLATFORM_NAMESPACE = "spin"
# what the engine takes as an image ID when no image has that name: a full ID, or its start (a tagless
# name of hex digits; `FROM 0` built from the edge's image, the one whose ID alone starts with 0)
_IMAGE_ID = re.compile(r"^(sha256:[0-9a-f]{1,64}|[0-9a-f]{1,64})\Z")
# a context the docker CLI or compose would fetch: a URL, a git URL (git@..., github.com/...)
_REMOTE_CONTEXT = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|git@|github\.com/)")

# compose-spec build keys -> None (carried) or (severity, reason)
KEYS = {
    "context": None, "dockerfile": None, "dockerfile_inline": None, "args": None, "target": None,
    "labels": None, "network": None, "secrets": None, "ssh": None,
    "cache_from": ("warning", "the platform's builder uses its own cache"),
    "cache_to": ("warning", "the platform's builder uses its own cache"),
    "no_cache": ("warning", "the platform's builder decides when to build (content hash)"),
    "pull": ("warning", "base images are taken as the build node has them"),
    "tags": ("warning", "the platform names the image <registry>/<tenant>/<stack>-<service>:<content hash>"),
    "platforms": ("warning", "images are built for the build node's platform"),
    "isolation": ("warning", "Windows only"),
    "shm_size": ("warning", "the platform's build containers have the default /dev/shm"),
    "ulimits": ("warning", "the platform's build containers have the default limits"),
    "extra_hosts": ("error", "builds run without network"),
    "additional_contexts": ("error", "a build has one context, inside the submission directory"),
    "privileged": ("error", "builds never run privileged"),
    "entitlements": ("error", "builds get no extra privileges"),
}


def _str_map(value, what):
    """A compose mapping or list of KEY=VALUE -> ({name: str | None}, problems)."""
    if value is None:
        return {}, []
    if isinstance(value, dict):
        return {str(k): (None if v is None else str(v)) for k, v in value.items()}, []
    if isinstance(value, list):
        out = {}
        for item in value:
            name, sep, val = str(item).partition("=")
            out[name] = val if sep else None
        return out, []
    return {}, [("error", what, "must be a mapping or a list of NAME=VALUE")]


def normalise(value, env=None):
    """compose ``build`` -> (model build or None, [(severity, key, message)]).

    ``key`` is relative to the service (``build.context``). An arg without a value takes the
    stack's variable of that name, as Compose takes it from the environment, or is left out.
    """
    problems = []
    if isinstance(value, str):
        value = {"context": value}
    if not isinstance(value, dict):
        return None, [("error", "build", "must be a directory name or a mapping with context, dockerfile, args "
                                         "and target")]
    out = {"context": ".", "dockerfile": None, "dockerfile_inline": None, "args": {}, "target": None,
           "labels": {}, "network": None, "secrets": [], "ssh": []}
    for key, item in value.items():
        key = str(key)
        where = "build." + key
        if key.startswith("x-"):
            continue
        if key not in KEYS:
            close = ", ".join(sorted(KEYS))
            problems.append(("error", where, "unknown key (build knows %s)" % close))
            continue
        if KEYS[key] is not None:
            severity, reason = KEYS[key]
            problems.append((severity, where, ("ignored on spin.platform: " if severity == "warning"
                                               else "not supported on spin.platform: ") + reason))
            continue
        if key in ("args", "labels"):
            mapping, more = _str_map(item, where)
            problems.extend(more)
            if key == "args":
                env = env or {}
                mapping = {k: (v if v is not None else env.get(k)) for k, v in mapping.items()}
                mapping = {k: v for k, v in mapping.items() if v is not None}
            out[key] = mapping
        elif key in ("secrets", "ssh"):
            out[key] = item if isinstance(item, list) else [item]
        elif not isinstance(item, str) or (key != "dockerfile_inline" and not item.strip()):
            problems.append(("error", where, "must be a string"))
        else:
            out[key] = item
    context = out["context"]
    if _REMOTE_CONTEXT.match(context):
        problems.append(("error", "build.context", "'%s' is a remote context: the platform builds only from the "
                                                   "submission directory and fetches nothing; download it into the "
                                                   "submission directory and give that directory as build.context"
                         % context))
    elif context.startswith("/") or _escapes(context):
        problems.append(("error", "build.context", "'%s' is outside the submission directory: give a directory "
                                                   "relative to the compose file, inside it" % context))
    else:
        out["context"] = posixpath.normpath(context)
    if any(key == "build.context" for _severity, key, _message in problems):
        return None, problems  # nothing to read: one message, not another from the reader of the context
    if out["dockerfile"] and out["dockerfile_inline"] is not None:
        problems.append(("error", "build.dockerfile_inline", "give dockerfile or dockerfile_inline, not both"))
    if out["dockerfile"] and out["dockerfile"].startswith("/"):
        problems.append(("error", "build.dockerfile", "'%s' is absolute: give it relative to the context"
                         % out["dockerfile"]))
    if out["dockerfile"] is None and out["dockerfile_inline"] is None:
        out["dockerfile"] = "Dockerfile"
    return out, problems


def _escapes(relpath):
    norm = posixpath.normpath(relpath)
    return norm == ".." or norm.startswith("../")


def dockerfile_path(build):
    """The Dockerfile relative to the submission directory (None for dockerfile_inline)."""
    if build.get("dockerfile_inline") is not None:
        return None
    return posixpath.normpath(posixpath.join(build["context"], build["dockerfile"]))


# ---- Dockerfiles --------------------------------------------------------------------------------

def dockerfile_bases(text, args=None):
    """The images a Dockerfile needs, read as the platform's builder reads it (``dockerfile_sources``):
    ``{"bases": [{line, image, stage}], "problems": [{line, message}]}``, a base for each ``FROM`` (image
    None for ``scratch`` or an earlier stage) and each ``COPY --from`` of an image."""
    found = dockerfile_sources.read(text, args)
    bases = []
    for ref in found["references"]:
        if ref.get("image"):
            bases.append({"line": ref["line"], "image": ref["image"], "stage": None})
        elif ref["how"] == "FROM":
            bases.append({"line": ref["line"], "image": None, "stage": ref.get("stage", "scratch")})
    return {"bases": bases, "problems": found["problems"]}


# ---- policy -------------------------------------------------------------------------------------

def _reserved(ref, pol):
    """Is ``ref`` in the platform's namespace or a tenant's (see PLATFORM_NAMESPACE)?"""
    dummy, name, dummy = image_short_name(ref)
    owner = name.split("/", 1)[0] if "/" in name else None
    return owner is not None and (owner == PLATFORM_NAMESPACE or owner in (pol.get("tenants") or {}))


def foreign_owner(ref, tenant, pol, patterns):
    """The other tenant whose namespace ``ref`` is in (``<tenant>/...``, what its builds are tagged),
    or None: a stack runs or builds from another tenant's image only where one of ``patterns`` names
    that tenant's namespace itself (``cory/*``), never through a wildcard (``*``) or a registry."""
    dummy, name, dummy = image_short_name(ref)
    owner = name.split("/", 1)[0] if "/" in name else None
    if owner is None or owner == tenant or owner not in (pol.get("tenants") or {}):
        return None
    named = any(image_short_name(p)[1].split("/", 1)[0] == owner for p in patterns)
    return None if named else owner


def foreign_message(what, ref, owner):
    return ("%s '%s' is tenant '%s''s image (its builds are tagged %s/...): a stack runs and builds from the "
            "platform's allowed images and its own tenant's only" % (what, ref, owner, owner))


def base_allowed(ref, allowed_bases, image_allowed):
    """May a build start from (or copy from) ``ref``? Images of the platform and of tenants only by a
    name pattern of ``images``/``build_base_images``, never through a registry of ``registries``."""
    if _reserved(ref, allowed_bases):
        return image_allowed(ref, dict(allowed_bases, registries=[]))
    return image_allowed(ref, allowed_bases)


def _image_message(ref, found, names, reserved):
    """The refusal of one image reference, with what the builder reads when the text differs."""
    what = "base image" if ref["how"] == "FROM" else "%s image" % ref["how"]
    text = "%s '%s'" % (what, ref["image"])
    if ref["text"] != ref["image"]:
        text += " (%s %s)" % (ref["how"].split(" --")[0], ref["text"])
    text += " is not among the images a build may start from (%s)" % names
    if reserved:
        text += "; images of the platform (%s/...) and of tenants are allowed by name only" % PLATFORM_NAMESPACE
    stages = [stage["name"] for stage in found["stages"] if stage["name"]]
    if ref["how"] != "FROM" and dockerfile.go_lower(ref["image"]) in stages:
        text += "; '%s' is a stage of this Dockerfile, but COPY --from names only the stages before it" % ref["image"]
    return text


def check(service, build, dockerfile_text, pol, file, image_allowed, violation, tenant=None):
    """Violations of what a service's Dockerfile starts from, copies from and fetches, read as the
    platform's builder reads it (``dockerfile_sources``); the build's options are judged with the rest of
    the service by ``policy.evaluate``.

    ``dockerfile_text`` is what the engine gets (bytes, or text: encoded as UTF-8). ``image_allowed(ref,
    pol)`` and ``violation(rule, file, service, key, message, fix)`` come from the policy module (this
    module stays free of it); ``file`` is the compose file's name, which names an inline Dockerfile; a
    Dockerfile of its own is named by its path in the submission."""
    out = []
    if dockerfile_text is None:
        return out
    inline = build.get("dockerfile_inline") is not None
    where = file if inline else dockerfile_path(build)
    key = "build.dockerfile_inline" if inline else "build"
    allowed_bases = dict(pol, images=list(pol["images"]) + list(pol.get("build_base_images") or []))
    names = ", ".join(allowed_bases["images"] + ["%s/*" % r for r in pol["registries"]])
    found = dockerfile_sources.read(dockerfile_text, build.get("args"))

    def refuse(line, message, fix):
        out.append(violation(RULE, where, service, key, "line %d: %s" % (line, message) if line else message, fix))

    for problem in found["problems"]:
        refuse(problem["line"], "%s (the platform builds with Docker 20.10's classic builder, which refuses it)"
               % problem["message"], "correct the Dockerfile: the build would fail there")
    for ref in found["references"]:
        if ref.get("image") and _IMAGE_ID.match(ref["image"]):
            refuse(ref["line"], "%s '%s' can name an image by its ID (or the start of one), whichever image the "
                   "build node holds" % ("base image" if ref["how"] == "FROM" else "%s image" % ref["how"],
                                         ref["image"]), "name the image (repository:tag)")
        elif ref.get("image") and foreign_owner(ref["image"], tenant, pol, allowed_bases["images"]):
            what = "base image" if ref["how"] == "FROM" else "%s image" % ref["how"]
            refuse(ref["line"], foreign_message(what, ref["image"], foreign_owner(ref["image"], tenant, pol,
                                                                                  allowed_bases["images"])),
                   "start FROM one of the platform's allowed images, or one of your own")
        elif ref.get("image") and not base_allowed(ref["image"], allowed_bases, image_allowed):
            refuse(ref["line"], _image_message(ref, found, names, _reserved(ref["image"], pol)),
                   "start FROM one of them, or ask the platform staff to allow yours" if ref["how"] == "FROM" else
                   "copy from an earlier stage or one of them, or ask the platform staff to allow yours")
    for item in found["remote"]:
        refuse(item["line"], "%s %s: the engine would fetch it on the build node's network, which builds do not "
               "have" % (item["how"], item["source"]), "download it into the build context and COPY it")
    if not found["stages"] and not found["problems"]:
        refuse(None, "the Dockerfile has no FROM line", "start the Dockerfile with FROM <an allowed image>")
    return out


# ---- names and hashes ---------------------------------------------------------------------------

def content_digest(archive_sha256, build):
    """The build's content hash: the archive sent to the engine plus every option that shapes the
    image. ``archive_sha256`` is the hex SHA-256 of that (deterministic) archive."""
    options = {"archive": archive_sha256, "dockerfile": build.get("dockerfile"),
               "inline": build.get("dockerfile_inline") is not None, "args": build.get("args") or {},
               "target": build.get("target"), "labels": build.get("labels") or {},
               "network": build.get("network")}
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode("utf-8")).hexdigest()


def image_name(registry, tenant, stack, service, digest):
    """``<registry>/<tenant>/<stack>-<service>:<first 16 hex of the content hash>``; without a platform
    registry (a one-node platform) the same without the registry part."""
    repository = "%s/%s-%s" % (tenant, stack, service.replace("_", "-"))
    if registry:
        repository = "%s/%s" % (registry, repository)
    return "%s:%s" % (repository.lower(), digest[:16])


# ---- .dockerignore ------------------------------------------------------------------------------

def _pattern_regex(pattern):
    """A .dockerignore pattern (Go filepath.Match plus ``**``) -> compiled regex over a relative path."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append(fnmatch.translate("[" + body + "]")[4:-3])
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$")


class IgnoreRules(object):
    """``.dockerignore`` as Docker applies it: the last matching pattern decides, ``!`` re-includes,
    a pattern that matches a directory excludes everything under it."""

    def __init__(self, text):
        self.rules = []
        for line in (text or "").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:].strip()
            line = posixpath.normpath(line.lstrip("/")) if line.strip("/") else "."
            self.rules.append((negate, _pattern_regex(line)))

    def excluded(self, relpath):
        """Is ``relpath`` (relative to the context, '/'-separated) left out of the build?"""
        parts = relpath.split("/")
        result = False
        for negate, regex in self.rules:
            for depth in range(1, len(parts) + 1):
                if regex.match("/".join(parts[:depth])):
                    result = not negate
                    break
        return result

    def may_hold_included(self, reldir):
        """Could a path under the excluded directory ``reldir`` be re-included by a ``!`` pattern?"""
        return any(negate for negate, _regex in self.rules)
