# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Dockerfile's lines and instructions, read as the platform's builder reads them. Pure.

The platform builds through the engine's API without ``version=2`` (``SwarmClient.build_image``),
so the engine's classic builder runs (Docker 20.10: moby's ``builder/dockerfile``, which parses with
the ``frontend/dockerfile/parser`` package of moby/buildkit v0.8 that it vendors). This module ports
that parser's logic (moby/buildkit ``frontend/dockerfile/parser/parser.go``, ``split_command.go``,
``line_parsers.go``), and each rule below was checked against the engine itself
(tests/integration/test_dockerfile_engine.py builds the tricky cases and compares):

- lines end at ``\\n`` only (Go's ``bufio.ScanLines``: one trailing ``\\r`` dropped; U+2028, ``\\f``
  or ``\\v`` end nothing); a line of 65,536 bytes or more is an error;
- a UTF-8 byte-order mark is stripped from the first line only;
- parser directives (``# escape=``, ``# syntax=``, any case) count only while every line so far was
  a directive: a blank line, a comment, an unknown directive or an instruction ends them; a directive
  given twice, or an escape other than ``\\`` or ````` ``, is an error;
- a line whose first non-space character is ``#`` is a comment (also inside a continuation);
- a line ending with the escape character and spaces or tabs continues; empty lines inside a
  continuation are skipped (Docker warns), and the joined text keeps the lines' own whitespace;
- no heredocs: the 20.10 builder reads ``RUN <<EOF`` as a plain argument and the next lines as
  instructions (BuildKit's ``dockerfile:1.4`` syntax would not);
- an instruction's flags (``--from=...``) are read byte by byte with ``\\`` and quotes, whatever the
  escape directive says; instruction names and stage names are lower-cased as Go does (the Kelvin
  sign is a ``k``, ``İ`` an ``i``).

``parse(data)`` -> ``{"escape", "directives", "nodes", "warnings"}``; each node is
``{"name", "original", "flags", "args", "json", "line", "end", "child"}`` (``child``: the node of an
``ONBUILD``). A text the builder would refuse raises ``DockerfileError`` (message and line).
"""
from __future__ import annotations

import json
import re

BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 65535  # bufio.MaxScanTokenSize - 1
# Go's unicode.IsSpace: ASCII spaces, NEL, NBSP and the other White_Space characters (not \x1c-\x1f,
# which Python's str.isspace counts)
GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                      "\u200a\u2028\u2029\u202f\u205f\u3000")
_GO_SPACE_BYTES = frozenset(b"\t\n\v\f\r \x85\xa0")  # unicode.IsSpace(rune(b)) for one byte
# Go's regexp \s is [\t\n\f\r ] (no \v); reWhitespace is [\t\v\f\r ]+
_S = "[\t\n\f\r ]"
_DIRECTIVE = re.compile("#%s*([a-zA-Z][a-zA-Z0-9]*)%s*=%s*(.+?)%s*\\Z" % (_S, _S, _S, _S))
_WHITESPACE = re.compile("[\t\v\f\r ]+")
DIRECTIVES = ("escape", "syntax")
INSTRUCTIONS = ("add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
                "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir")
# how each instruction's arguments are split (line_parsers.go): a list, or one string
_LIST_ARGS = ("add", "copy", "volume", "from", "expose", "arg")


class DockerfileError(Exception):
    """What the builder would refuse, with the (1-based) line it names, or None."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


def go_lower(text):
    """Go's strings.ToLower: one character for one (simple case mapping), unlike Python's lower()
    (``İ`` -> ``i``, not ``i̇``; a final ``Σ`` -> ``σ``)."""
    out = []
    for char in text:
        lowered = char.lower()
        if len(lowered) != 1:
            lowered = "i" if char == "\u0130" else char
        elif char == "\u03a3":
            lowered = "\u03c3"
        out.append(lowered)
    return "".join(out)


def go_trim_left(text):
    index = 0
    while index < len(text) and text[index] in GO_SPACES:
        index += 1
    return text[index:]


def go_trim(text):
    end = len(text)
    while end > 0 and text[end - 1] in GO_SPACES:
        end -= 1
    return go_trim_left(text[:end])


def _decode(raw):
    # invalid UTF-8 stays distinct (surrogates), so that the byte-wise flag reader sees the same bytes
    return raw.decode("utf-8", "surrogateescape")


def _encode(text):
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no byte made: as Go's UTF-8 would carry it, U+FFFD
        return text.encode("utf-8", "replace")


class _Directives(object):
    def __init__(self):
        self.escape = "\\"
        self.done = False
        self.seen = {}
        self.continuation = None
        self.set_escape("\\")

    def set_escape(self, token):
        if token not in ("`", "\\"):
            raise DockerfileError("invalid escape token '%s' does not match ` or \\" % token)
        self.escape = token
        self.continuation = re.compile(re.escape(token) + "[ \t]*\\Z")

    def possible(self, line):
        """possibleParserDirective: directives only until the first line that is not one."""
        if self.done:
            return
        match = _DIRECTIVE.match(line)
        key = match.group(1).lower() if match else None
        if key not in DIRECTIVES:
            self.done = True
            return
        if key in self.seen:
            raise DockerfileError("only one %s parser directive can be used" % key)
        self.seen[key] = match.group(2)
        if key == "escape":
            self.set_escape(match.group(2))


def _physical_lines(data):
    """bufio.Scanner with ScanLines: split at \\n, one trailing \\r dropped, no line after a final \\n."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_BYTES:
            raise DockerfileError("dockerfile line greater than max allowed size of %d" % MAX_LINE_BYTES, number)
        out.append(line[:-1] if line.endswith(b"\r") else line)
    return out


def _is_comment(text):
    return go_trim_left(text).startswith("#")


def _process_line(directives, text, strip_left, number):
    """processLine: (left-trimmed) line with a whole-line comment removed; looks for a directive."""
    if strip_left:
        text = go_trim_left(text)
    try:
        directives.possible(text)
    except DockerfileError as exc:
        raise DockerfileError(exc.message, number) from None
    return "" if text.startswith("#") else text


def _trim_continuation(text, directives):
    match = directives.continuation.search(text)
    if match:
        return text[:match.start()], False
    return text, True


def parse(data):
    """Dockerfile bytes (or text) -> ``{"escape", "directives", "nodes", "warnings"}``. Raises
    DockerfileError for what the builder refuses while parsing (before anything is built)."""
    if isinstance(data, str):
        data = _encode(data)
    if not data:
        raise DockerfileError("the Dockerfile is empty")
    lines = _physical_lines(data)
    directives = _Directives()
    nodes, warnings = [], []
    index, current = 0, 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        if current == 0 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        text = _process_line(directives, _decode(raw), True, current + 1)
        current += 1
        start = current
        line, end_of_line = _trim_continuation(text, directives)
        if end_of_line and line == "":
            continue
        empty_continuation = False
        while not end_of_line and index < len(lines):
            raw_text = _decode(lines[index])
            index += 1
            text = _process_line(directives, raw_text, False, current + 1)
            current += 1
            if _is_comment(raw_text):
                continue
            if not go_trim_left(text):
                empty_continuation = True
                continue
            more, end_of_line = _trim_continuation(text, directives)
            line += more
        if empty_continuation:
            warnings.append("line %d: empty continuation line" % start)
        try:
            node = node_from_line(line, directives.escape)
        except DockerfileError as exc:
            raise DockerfileError(exc.message, start) from None
        node.update(line=start, end=current)
        nodes.append(node)
    if not nodes:
        raise DockerfileError("file with no instructions", current)
    return {"escape": directives.escape, "directives": dict(directives.seen), "nodes": nodes,
            "warnings": warnings}


def node_from_line(line, escape="\\"):
    """newNodeFromLine: ``{"name", "original", "flags", "args", "json", "child"}``."""
    name, flags, rest = split_command(line)
    node = {"name": name, "original": line, "flags": flags, "args": [], "json": False, "child": None}
    if name == "onbuild":
        node["child"] = node_from_line(rest, escape) if rest else None
    elif name in _LIST_ARGS:
        node["args"], node["json"] = _list_args(name, rest, escape)
    elif rest:
        node["args"] = [rest]
    return node


def split_command(line):
    """splitCommand: the lower-cased instruction, its flags and the rest of the line."""
    parts = _WHITESPACE.split(go_trim(line), 1)
    name = go_lower(parts[0])
    rest, flags = "", []
    if len(parts) == 2:
        rest, flags = extract_flags(parts[1])
    return name, flags, go_trim(rest)


def extract_flags(line):
    """extractBuilderFlags (the 20.10 one: ``--flag=value`` only): leading ``--`` words, read byte by
    byte, with ``\\`` and quotes; ``--`` ends them. -> (the rest of the line, [flag words])."""
    data = _encode(line)
    words, word, phase, quote, blank_ok = [], [], "spaces", None, False
    pos = 0
    while pos <= len(data):
        byte = data[pos] if pos < len(data) else None
        if phase == "spaces":
            if byte is None:
                break
            if byte in _GO_SPACE_BYTES:
                pos += 1
                continue
            if byte != 0x2d or pos + 1 == len(data) or data[pos + 1] != 0x2d:
                return _decode(data[pos:]), words
            phase = "word"
        if byte is None:
            text = "".join(word)
            if text != "--" and (blank_ok or word):
                words.append(text)
            break
        if phase == "word":
            if byte in _GO_SPACE_BYTES:
                phase = "spaces"
                text = "".join(word)
                if text == "--":
                    return _decode(data[pos:]), words
                if blank_ok or word:
                    words.append(text)
                word, blank_ok = [], False
            elif byte in (0x22, 0x27):
                quote, blank_ok, phase = byte, True, "quote"
            else:
                if byte == 0x5c:
                    if pos + 1 == len(data):
                        pos += 1
                        continue
                    pos += 1
                    byte = data[pos]
                word.append(chr(byte))  # Go: string(rune(byte)), one byte as one character
        else:  # in quotes
            if byte == quote:
                phase = "word"
            else:
                if byte == 0x5c:
                    if pos + 1 == len(data):
                        phase = "word"
                        pos += 1
                        continue
                    pos += 1
                    byte = data[pos]
                word.append(chr(byte))
        pos += 1
    return "", words


def _list_args(name, rest, escape):
    """The arguments of FROM/EXPOSE (whitespace), ARG (words with quotes kept) and ADD/COPY/VOLUME
    (a JSON array of strings, else whitespace). -> (args, json?)."""
    if name == "arg":
        return parse_words(rest, escape), False
    if name in ("add", "copy", "volume"):
        found = _json_strings(rest)
        if found is not None:
            return found, True
    return ([part for part in _WHITESPACE.split(rest) if part] if rest else []), False


def _not_json(constant):
    raise ValueError(constant)


def _json_strings(rest):
    """parseJSON: a JSON array of strings, None when the text is not JSON (whitespace split then);
    an array with anything but strings is an error, as for the builder."""
    text = go_trim_left(rest)
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text, parse_constant=_not_json)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise DockerfileError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def parse_words(rest, escape="\\"):
    """parseWords (ARG): space-separated words, quotes kept (the shell lexer strips them later)."""
    words, word, phase, quote, blank_ok = [], [], "spaces", None, False
    pos = 0
    while pos <= len(rest):
        char = rest[pos] if pos < len(rest) else None
        if phase == "spaces":
            if char is None:
                break
            if char in GO_SPACES:
                pos += 1
                continue
            phase = "word"
        if char is None:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == "word":
            if char in GO_SPACES:
                phase = "spaces"
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                pos += 1
                continue
            if char in "'\"":
                quote, blank_ok, phase = char, True, "quote"
            if char == escape:
                if pos + 1 == len(rest):
                    pos += 1
                    continue
                word.append(char)
                pos += 1
                char = rest[pos]
            word.append(char)
        else:
            if char == quote:
                phase = "word"
            if char == escape and quote != "'":
                if pos + 1 == len(rest):
                    phase = "word"
                    pos += 1
                    continue
                pos += 1
                word.append(char)
                char = rest[pos]
            word.append(char)
        pos += 1
    return words
