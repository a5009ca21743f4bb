# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load a tenant's YAML safely. Pure.

Tenants hand in YAML that the controller parses, so parsing must be bounded: a few hundred bytes
of nested aliases ("billion laughs") expand to billions of nodes in anything that walks the
result. The loader counts while it composes and stops at the first limit, naming the file and
line. It builds only plain data (PyYAML's SafeLoader constructors).

The scalar rules follow YAML 1.2 as compose itself (Go yaml.v3) reads files, not PyYAML's
YAML 1.1 defaults: ``yes``/``no``/``on``/``off`` stay strings (``restart: no`` is a string), there
are no sexagesimal numbers (``8080:22`` stays a string) and no timestamps; ``0o640`` and the
old ``0640`` are octal. Duplicate keys in a mapping are an error, as in compose.
"""
from __future__ import annotations

import re

import yaml
from yaml.events import AliasEvent

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

DEFAULT_LIMITS = {
    "max_bytes": 1024 * 1024,   # compose files are a few KB; 1 MiB is generous
    "max_aliases": 256,
    "max_depth": 64,
    "max_nodes": 200000,        # counted with aliases expanded
}

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _LimitExceeded(yaml.MarkedYAMLError):
    pass


class SpinLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars, duplicate-key errors and size limits."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT, _TIMESTAMP)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream, name="<yaml>", limits=None):
        super().__init__(stream)
        self.name = name
        self._limits = dict(DEFAULT_LIMITS, **(limits or {}))
        self._depth = 0
        self._aliases = 0
        self._nodes = 0
        self._anchor_weight = {}
        self._weights = [0]

    # composing: count nodes (aliases expanded), aliases and depth
    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > self._limits["max_aliases"]:
                raise _LimitExceeded(None, None, "more than %d aliases: refused as a possible alias bomb"
                                     % self._limits["max_aliases"], event.start_mark)
            node = super().compose_node(parent, index)
            self._count(self._anchor_weight.get(id(node), 1), event.start_mark)
            return node
        self._depth += 1
        if self._depth > self._limits["max_depth"]:
            raise _LimitExceeded(None, None, "nested more than %d levels deep" % self._limits["max_depth"],
                                 event.start_mark)
        self._weights.append(0)
        node = super().compose_node(parent, index)
        weight = 1 + self._weights.pop()
        self._depth -= 1
        if event.anchor is not None:
            self._anchor_weight[id(node)] = weight
        self._count(1, event.start_mark, weight)
        return node

    def _count(self, nodes, mark, weight=None):
        self._weights[-1] += nodes if weight is None else weight
        self._nodes += nodes
        if self._nodes > self._limits["max_nodes"]:
            raise _LimitExceeded(None, None, "more than %d nodes (aliases expanded): refused as too large"
                                 % self._limits["max_nodes"], mark)

    # constructing: duplicate keys are an error (merge keys `<<` may be overridden, as in YAML)
    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, "duplicate key '%s' (first at line %d)" % (key_node.value, seen[key] + 1),
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        value = self.construct_scalar(node).replace("_", "")
        sign = -1 if value.startswith("-") else 1
        digits = value.lstrip("+-")
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        return super().construct_yaml_int(node)


SpinLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
SpinLoader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0[0-7_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$"),
    list("-+0123456789"))
SpinLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
SpinLoader.add_constructor(_BOOL, lambda loader, node: loader.construct_scalar(node) in ("true", "True", "TRUE"))
SpinLoader.add_constructor(_INT, SpinLoader.construct_yaml_int)


class Tagged(object):
    """A value written with compose's merge tags, ``!reset`` (drop what the files before set) or
    ``!override`` (replace it whole, without the merge rules): kept as it is until the files are
    merged (compose_merge)."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tagged) and (self.tag, self.value) == (other.tag, other.value)

    def __repr__(self):
        return "%s %r" % (self.tag, self.value)

    __hash__ = None


MERGE_TAGS = ("!reset", "!override")


def _construct_tagged(loader, node):
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        # the scalar as YAML 1.2 reads it untagged (!reset null is None, !override 3 is 3)
        value = loader.construct_object(yaml.ScalarNode(loader.resolve(yaml.ScalarNode, node.value, (True, False)),
                                                        node.value, node.start_mark, node.end_mark, node.style))
    return Tagged(node.tag, value)


for _tag in MERGE_TAGS:
    SpinLoader.add_constructor(_tag, _construct_tagged)


def _describe(exc):
    """A YAML error as 'line L, column C: problem (context at line N)'."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = "line %d, column %d: " % (mark.line + 1, mark.column + 1) if mark is not None else ""
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark is not mark:
        problem += " (%s at line %d)" % (context, context_mark.line + 1)
    elif context:
        problem += " (%s)" % context
    return where + problem


def load(text, name, limits=None):
    """Parse one YAML document from ``text`` (str or bytes) -> plain data.

    Raises SpinError whose ``diagnostics`` holds one error naming ``name`` and the line.
    """
    limits = dict(DEFAULT_LIMITS, **(limits or {}))
    size = len(text.encode("utf-8", "surrogateescape")) if isinstance(text, str) else len(text)
    if size > limits["max_bytes"]:
        _fail(name, "file is %d bytes, more than the limit of %d bytes: refused" % (size, limits["max_bytes"]))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            _fail(name, "not UTF-8 text (byte %d): save the file as UTF-8" % exc.start)
    loader = SpinLoader(text, name=name, limits=limits)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        _fail(name, _describe(exc))
    except RecursionError:
        _fail(name, "nested too deeply: refused")
    except (ValueError, TypeError) as exc:  # a scalar a constructor cannot convert
        _fail(name, "a value cannot be read (%s)" % exc)
    finally:
        loader.dispose()


def _fail(name, message):
    raise SpinError("%s: %s" % (name, message), diagnostics=[diag.error(name, None, None, message)])
