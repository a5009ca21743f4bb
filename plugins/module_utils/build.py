# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images built from the submission (compose ``build:``). Pure.

A service with ``build:`` runs an image the platform builds from a directory inside the tenant's
submission directory:

- ``normalise(value)``: the compose ``build`` value -> the model's ``build`` (below) + problems;
- ``dockerfile_bases(text, args)``: the images a Dockerfile starts from (``FROM``, ``COPY --from``);
- ``check(...)``: the policy on what is built from -> violations (base images from allowed names and
  registries; ``policy.evaluate`` refuses build-time network, secrets and SSH);
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

RULE = "build"
LABEL_DIGEST = "spin.build.digest"
LABEL_BASES = "spin.build.bases"
INLINE_DOCKERFILE = ".spin-build.Dockerfile"

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
    if re.match(r"^[a-z][a-z0-9+.-]*://", context) or context.startswith("git@"):
        problems.append(("error", "build.context", "'%s' is a remote context: the platform builds only from the "
                                                   "submission directory; put the sources next to the compose file"
                         % context))
    elif context.startswith("/") or _escapes(context):
        problems.append(("error", "build.context", "'%s' is outside the submission directory: give a directory "
                                                   "relative to the compose file, inside it" % context))
    else:
        out["context"] = posixpath.normpath(context)
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

_ARG_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


def logical_lines(text):
    """Dockerfile text -> [(first line number, instruction text)], continuations joined, comments out."""
    out, current, start = [], [], None
    escape = "\\"
    for number, line in enumerate(text.splitlines(), 1):
        directive = re.match(r"^#\s*escape\s*=\s*(\S)\s*$", line)
        if directive and not out and not current:
            escape = directive.group(1)
            continue
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if start is None:
            start = number
        if stripped.endswith(escape):
            current.append(stripped[:-1])
            continue
        current.append(stripped)
        out.append((start, " ".join(part for part in current if part)))
        current, start = [], None
    if current:
        out.append((start, " ".join(current)))
    return out


def _substitute(text, values):
    """``${NAME}``/``$NAME`` (with ``:-default``) from ``values``; -> (text, names left unresolved)."""
    missing = []

    def repl(match):
        name = match.group(1) or match.group(2)
        whole = match.group(0)
        default = re.match(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?-(.*)\}$", whole)
        if values.get(name):
            return values[name]
        if default:
            return default.group(1)
        missing.append(name)
        return ""
    return _ARG_REF.sub(repl, text), missing


def dockerfile_bases(text, args=None):
    """The images a Dockerfile needs: ``[{line, image, stage}]`` for each ``FROM`` (image None for
    ``scratch`` or an earlier stage) and each ``COPY --from=<image>`` that is not a stage, plus
    ``unresolved``: ``[{line, text}]`` where an ``ARG`` left the image name open.

    ``ARG`` values before the first ``FROM`` are defaults the build args override, as Docker does.
    """
    args = dict(args or {})
    global_args, stages, found, unresolved = {}, set(), [], []
    seen_from, stage_count = False, 0
    for line, instruction in logical_lines(text):
        parts = instruction.split(None, 1)
        word = parts[0].upper()
        rest = parts[1] if len(parts) > 1 else ""
        if word == "ARG" and not seen_from:
            for item in rest.split():
                name, sep, default = item.partition("=")
                global_args[name] = args.get(name, default.strip("\"'") if sep else None)
        elif word == "FROM":
            seen_from = True
            tokens = [t for t in rest.split() if not t.startswith("--")]
            stage_count += 1
            if not tokens:
                unresolved.append({"line": line, "text": instruction})
                continue
            values = {k: v for k, v in global_args.items() if v is not None}
            image, missing = _substitute(tokens[0], values)
            if missing or not image:
                unresolved.append({"line": line, "text": instruction})
            elif image.lower() == "scratch" or image in stages:
                found.append({"line": line, "image": None, "stage": image})
            else:
                found.append({"line": line, "image": image, "stage": None})
            if len(tokens) >= 3 and tokens[1].upper() == "AS":
                stages.add(tokens[2])
            stages.add(str(stage_count - 1))  # COPY --from=0 names the first stage
        elif word == "COPY":
            match = re.search(r"--from=(\S+)", rest)
            if match:
                source = match.group(1)
                if source in stages:
                    continue
                image, missing = _substitute(source, {k: v for k, v in global_args.items() if v is not None})
                if missing:
                    unresolved.append({"line": line, "text": instruction})
                else:
                    found.append({"line": line, "image": image, "stage": None})
    return {"bases": found, "unresolved": unresolved}


# ---- policy -------------------------------------------------------------------------------------

def check(service, build, dockerfile_text, pol, file, image_allowed, violation):
    """Violations of what a service's Dockerfile starts from (the build's options are judged with the
    rest of the service by ``policy.evaluate``).

    ``image_allowed(ref, pol)`` and ``violation(rule, file, service, key, message, fix)`` come from
    the policy module (this module stays free of it); ``file`` is the compose file's name."""
    out = []
    where = "Dockerfile" if build.get("dockerfile_inline") is None else "build.dockerfile_inline"
    allowed_bases = dict(pol, images=list(pol["images"]) + list(pol.get("build_base_images") or []))
    if dockerfile_text is not None:
        found = dockerfile_bases(dockerfile_text, build.get("args"))
        for item in found["unresolved"]:
            out.append(violation(RULE, file, service, "build", "%s line %d: '%s' names its base image through an "
                                 "ARG without a value" % (where, item["line"], item["text"]),
                                 "give the ARG a default, or the value in build.args"))
        for item in found["bases"]:
            if item["image"] and not image_allowed(item["image"], allowed_bases):
                names = ", ".join(allowed_bases["images"] + ["%s/*" % r for r in pol["registries"]])
                out.append(violation(RULE, file, service, "build", "%s line %d: base image '%s' is not among the "
                                     "images a build may start from (%s)" % (where, item["line"], item["image"], names),
                                     "start FROM one of them, or ask the platform staff to allow yours"))
        if not found["bases"] and not found["unresolved"]:
            out.append(violation(RULE, file, service, "build", "%s has no FROM line" % where,
                                 "start the Dockerfile with FROM <an allowed image>"))
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
