# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Dockerfile builds from, resolved as the platform's builder (the engine's classic builder,
Docker 20.10: moby ``builder/dockerfile``) resolves it. Pure.

``read(data, build_args)`` -> ``{"stages", "references", "remote", "problems"}``:

- ``stages``: ``[{"line", "name", "base"}]``, ``base`` being one of ``references``;
- ``references``: every image or stage a build starts from or copies from, in order:
  ``{"line", "how", "text", "image" | "stage" | "scratch"}``, ``how`` one of ``FROM``,
  ``COPY --from``, ``ONBUILD COPY --from`` (a trigger runs when a later stage starts FROM its stage);
- ``remote``: ``[{"line", "how", "source"}]``, ``ADD`` sources the engine would fetch itself (or could,
  where a variable decides), on the build node's network;
- ``problems``: ``[{"line", "message"}]``, what the builder refuses (some only after earlier steps ran).

How the builder resolves a name, each checked on the engine (tests/integration/test_dockerfile_engine.py):

- ``FROM`` is processed with the ``ARG`` values declared before the first ``FROM`` (build args override
  their defaults, an undeclared build arg is not seen; the proxy build args ``HTTP_PROXY`` & co. are seen
  undeclared), then names an earlier stage (case-insensitive), ``scratch``, or an image;
- ``COPY --from`` is not processed (no variables): an earlier stage's name (case-insensitive), else an
  integer (Go's ParseInt: ``+0``, ``00``) is an earlier stage's index, else it is an image, even when it
  is the name of the stage being built or of a later one;
- ``ADD`` fetches ``http://`` and ``https://`` sources, after variables, quotes and escapes;
- ``ONBUILD`` keeps its instruction's text, parsed again (escape ``\\``) when a later stage starts FROM
  its stage: the trigger is judged there, with the stages built by then;
- ``RUN --mount`` and ``--chmod`` need BuildKit: the 20.10 builder refuses them when it gets there.
"""
from __future__ import annotations

import re

from ansible_collections.spin.platform.plugins.module_utils.build import dockerfile
from ansible_collections.spin.platform.plugins.module_utils.build.dockerfile import DockerfileError, go_lower
from ansible_collections.spin.platform.plugins.module_utils.build.dockerfile_shell import MARK, process_word

# builtinAllowedBuildArgs (builder/dockerfile/buildargs.go in 20.10): seen without an ARG line
PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY",
              "no_proxy")
# the flags the 20.10 builder parses for these instructions (any other is "Unknown flag")
FLAGS = {"from": ("platform",), "copy": ("from", "chown", "chmod"), "add": ("chown", "chmod"), "run": ("mount",)}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_\.]*\Z")
_INTEGER = re.compile(r"^[+-]?[0-9]+\Z")
_INT64 = 2 ** 63
_ONBUILD = re.compile(r"^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*", re.IGNORECASE | re.ASCII)
# remote sources: the 20.10 builder fetches http(s); BuildKit also git refs. A literal source of any
# scheme is refused; one that a variable decides, when its fixed start could still become one of these
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
REMOTE_PREFIXES = ("http://", "https://", "git://", "git@", "ssh://")
BUILDKIT_ONLY = "needs BuildKit"


def _equal_fold_as(word):
    """strings.EqualFold(word, "as"): ``ſ`` (U+017F) folds to ``s``."""
    return len(word) == 2 and word[0] in "aA" and word[1] in "sS\u017f"


def parse_flags(words, allowed):
    """BFlags.Parse: ``{name: value}``; an unknown, repeated or value-less flag is an error."""
    values = {}
    for word in words:
        name, sep, value = word[2:].partition("=")
        if name not in allowed:
            raise DockerfileError("Unknown flag: %s" % name)
        if name in values:
            raise DockerfileError("Duplicate flag specified: %s" % name)
        if not sep:
            raise DockerfileError("Missing a value on flag: %s" % name)
        values[name] = value
    return values


def arg_pairs(args):
    """ARG's words -> [(name, default or None)]."""
    if not args:
        raise DockerfileError("ARG requires at least one argument")
    pairs = []
    for word in args:
        name, sep, value = word.partition("=")
        if sep and not name:
            raise DockerfileError("ARG names can not be blank")
        pairs.append((name, value if sep else None))
    return pairs


def meta_values(meta, build_args):
    """BuildArgs.GetAllMeta: each ARG before the first FROM with the build arg's value, else its
    default (none: unset), and the proxy args the build args give."""
    out = {}
    for name in list(meta) + [p for p in PROXY_ARGS if p not in meta]:
        if build_args.get(name) is not None:
            out[name] = build_args[name]
        elif meta.get(name) is not None:
            out[name] = meta[name]
    return out


def remote_source(source, escape):
    """Would ADD fetch ``source`` (as written, or after variables, quotes and escapes)? -> bool."""
    try:
        processed = process_word(source, None, escape)
    except DockerfileError:
        processed = source
    for text in (source, processed):
        head = text.split(MARK, 1)[0]
        if _URL.match(head) or head.startswith("git@"):
            return True
        if MARK in text and any(prefix.startswith(head) for prefix in REMOTE_PREFIXES):
            return True
    return False


class _Reader(object):
    def __init__(self, build_args):
        self.build_args = dict(build_args or {})
        self.meta = {}
        self.stages = []
        self.references = []
        self.remote = []
        self.problems = []

    def problem(self, line, message):
        self.problems.append({"line": line, "message": message})

    def stage_by_name(self, name, known):
        lowered = go_lower(name)
        for index, stage in enumerate(known):
            if stage["name"] == lowered:
                return index
        return None

    def meta_arg(self, node, escape):
        values = meta_values(self.meta, self.build_args)  # one ARG line sees the ARG lines before it
        for name, default in arg_pairs(node["args"]):
            name = process_word(name, values, escape)
            self.meta[name] = None if default is None else process_word(default, values, escape)

    def from_(self, node, escape):
        parse_flags(node["flags"], FLAGS["from"])
        args = node["args"]
        name = None
        if len(args) == 3 and _equal_fold_as(args[1]):
            name = go_lower(args[2])
            if not _STAGE_NAME.match(name):
                raise DockerfileError('invalid name for build stage: "%s", name can\'t start with a number or '
                                      'contain symbols' % args[2])
        elif len(args) != 1:
            raise DockerfileError("FROM requires either one or three arguments")
        stage = {"line": node["line"], "name": name, "base": None, "triggers": []}
        self.stages.append(stage)
        base = process_word(args[0], meta_values(self.meta, self.build_args), escape)
        if base == "":
            raise DockerfileError("base name (%s) should not be blank" % args[0])
        reference = {"line": node["line"], "how": "FROM", "text": args[0]}
        stage["base"] = reference
        self.references.append(reference)
        found = self.stage_by_name(base, self.stages[:-1])
        if found is not None:
            reference["stage"] = found
            self.fire(self.stages[found]["triggers"])
        elif base == "scratch":
            reference["scratch"] = True
        else:
            reference["image"] = base
        if name and self.stage_by_name(name, self.stages[:-1]) is not None:
            raise DockerfileError("%s stage name already used" % name)

    def copy_from(self, value, line, how, known):
        """getImageMount: an earlier stage by name, then by index, else an image."""
        reference = {"line": line, "how": how, "text": value}
        found = self.stage_by_name(value, known)
        if found is None and _INTEGER.match(value) and -_INT64 <= int(value) < _INT64:
            index = int(value)
            if index == len(known):
                raise DockerfileError("invalid from flag value %s: refers to current build stage" % value)
            if index > len(known) or index < 0:
                raise DockerfileError("invalid from flag value %s: index out of bounds" % value)
            found = index
        if found is not None:
            reference["stage"] = found
        elif value == "scratch":
            raise DockerfileError("invalid from flag value scratch: 'scratch' is a reserved name")
        else:
            reference["image"] = value
        self.references.append(reference)

    def instruction(self, node, escape, known, trigger=False):
        """COPY, ADD and RUN in a stage (or as an ONBUILD trigger): sources, remote fetches, flags."""
        name, prefix = node["name"], "ONBUILD " if trigger else ""
        if name in ("copy", "add"):
            flags = parse_flags(node["flags"], FLAGS[name])
            if len(node["args"]) < 2:
                raise DockerfileError("%s requires at least two arguments" % name.upper())
            if flags.get("from"):
                self.copy_from(flags["from"], node["line"], prefix + "COPY --from", known)
            if "chmod" in flags:
                self.problem(node["line"], "%s--chmod %s" % (prefix + name.upper() + " ", BUILDKIT_ONLY))
            if name == "add":
                for source in node["args"][:-1]:
                    if remote_source(source, escape):
                        self.remote.append({"line": node["line"], "how": prefix + "ADD", "source": source})
        elif name == "run" and node["flags"]:
            parse_flags(node["flags"], FLAGS["run"])
            self.problem(node["line"], "%sRUN --mount %s" % (prefix, BUILDKIT_ONLY))
        elif name == "onbuild" and not trigger:
            self.onbuild(node)

    def onbuild(self, node):
        """ONBUILD: checked now; its instruction is kept as text and judged when it fires."""
        child = node["child"]
        if child is None:
            raise DockerfileError("ONBUILD requires at least one argument")
        if child["name"] == "onbuild":
            raise DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if child["name"] in ("from", "maintainer"):
            raise DockerfileError("%s isn't allowed as an ONBUILD trigger" % child["name"].upper())
        self.stages[-1]["triggers"].append((node["line"], _ONBUILD.sub("", node["original"], count=1)))

    def fire(self, triggers):
        """A stage starts FROM an earlier one: that stage's triggers run here, each parsed anew (its own
        escape), with every stage before this one built. A trigger that is an ONBUILD itself (``ONBUİLD``
        escapes the prefix match) becomes a trigger of this stage."""
        for line, expression in triggers:
            try:
                parsed = dockerfile.parse(expression)
                if len(parsed["nodes"]) != 1:
                    raise DockerfileError("onbuild trigger should be a single expression")
                trigger = dict(parsed["nodes"][0], line=line)
                if trigger["name"] not in dockerfile.INSTRUCTIONS or trigger["name"] == "from":
                    raise DockerfileError("unknown instruction: %s" % trigger["name"].upper())
                if trigger["name"] == "onbuild":
                    self.onbuild(trigger)
                else:
                    self.instruction(trigger, parsed["escape"], self.stages[:-1], trigger=True)
            except DockerfileError as exc:
                self.problem(line, "ONBUILD: %s" % exc.message)

    def node(self, node, escape):
        name = node["name"]
        if name not in dockerfile.INSTRUCTIONS:
            raise DockerfileError("unknown instruction: %s" % name.upper())
        if not self.stages and name == "arg":
            self.meta_arg(node, escape)
        elif name == "from":
            self.from_(node, escape)
        elif not self.stages:
            raise DockerfileError("no build stage in current context: only ARG may come before the first FROM")
        else:
            self.instruction(node, escape, self.stages[:-1])


def read(data, build_args=None):
    """A Dockerfile (bytes or text) and the build args -> what it builds from (module docstring)."""
    reader = _Reader(build_args)
    try:
        parsed = dockerfile.parse(data)
    except DockerfileError as exc:
        reader.problem(exc.line, exc.message)
        return _result(reader)
    for node in parsed["nodes"]:
        try:
            reader.node(node, parsed["escape"])
        except DockerfileError as exc:
            reader.problem(node["line"], exc.message)
    return _result(reader)


def _result(reader):
    return {"stages": reader.stages, "references": reader.references, "remote": reader.remote,
            "problems": reader.problems}
