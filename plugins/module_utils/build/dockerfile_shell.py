# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Dockerfile word with its quotes, escapes and variables processed, as the 20.10 classic builder
does it for ``FROM``, ``ARG``, ``ADD`` and the rest (moby/buildkit ``frontend/dockerfile/shell/lex.go``,
``ProcessWord``, the version 20.10 vendors). Pure.

What that lexer knows, checked against the engine (tests/integration/test_dockerfile_engine.py):
``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME:+word}``, ``${NAME:?word}``, ``${NAME?word}``;
``$12`` is the (unset) variable ``12``, ``$@``-style special parameters are unset variables; any
other modifier (``${NAME-x}``, ``${NAME%x}``) is an error ("missing ':' in substitution"). Single
quotes keep everything; double quotes keep all but ``$`` and the escape character before
``"``, ``$`` or itself; outside quotes the escape character takes the next character as it is.

``process_word(word, env, escape)`` with ``env`` None reads the word without values: every
variable becomes ``MARK``, so a caller can see which part of the result is fixed text.
"""
from __future__ import annotations

import unicodedata

from ansible_collections.spin.platform.plugins.module_utils.build.dockerfile import DockerfileError

MARK = "\x00"
_SPECIAL = "@*#?-$!0"


def _is_digit(char):
    return unicodedata.category(char) == "Nd"  # Go's unicode.IsDigit


def _is_letter(char):
    return unicodedata.category(char).startswith("L")  # Go's unicode.IsLetter


class _Word(object):
    def __init__(self, word, env, escape):
        self.chars = word
        self.pos = 0
        self.env = env
        self.escape = escape

    def peek(self):
        return self.chars[self.pos] if self.pos < len(self.chars) else None

    def next(self):
        char = self.peek()
        if char is not None:
            self.pos += 1
        return char

    def lookup(self, name):
        """-> (value, set?); without an environment every variable is MARK."""
        if self.env is None:
            return MARK, True
        if name in self.env:
            return self.env[name], True
        return "", False

    def until(self, stop):
        """processStopOn: the processed text up to ``stop`` (None: the end)."""
        out = []
        while self.peek() is not None:
            char = self.peek()
            if stop is not None and char == stop:
                self.next()
                return "".join(out)
            if char == "$":
                out.append(self.dollar())
            elif char == "'":
                out.append(self.single_quoted())
            elif char == '"':
                out.append(self.double_quoted())
            else:
                char = self.next()
                if char == self.escape:
                    char = self.next()
                    if char is None:
                        break
                out.append(char)
        if stop is not None:
            raise DockerfileError("unexpected end of statement while looking for matching %s" % stop)
        return "".join(out)

    def single_quoted(self):
        self.next()
        out = []
        while True:
            char = self.next()
            if char is None:
                raise DockerfileError("unexpected end of statement while looking for matching single-quote")
            if char == "'":
                return "".join(out)
            out.append(char)

    def double_quoted(self):
        self.next()
        out = []
        while True:
            char = self.peek()
            if char is None:
                raise DockerfileError("unexpected end of statement while looking for matching double-quote")
            if char == '"':
                self.next()
                return "".join(out)
            if char == "$":
                out.append(self.dollar())
                continue
            char = self.next()
            if char == self.escape:
                following = self.peek()
                if following is None:
                    continue
                if following in ('"', "$", self.escape):
                    char = self.next()
            out.append(char)

    def name(self):
        """processName: letters, digits and _; or all the digits; or one special parameter."""
        out = []
        while self.peek() is not None:
            char = self.peek()
            if not out and _is_digit(char):
                while self.peek() is not None and _is_digit(self.peek()):
                    out.append(self.next())
                return "".join(out)
            if not out and char in _SPECIAL:
                return self.next()
            if not (_is_letter(char) or _is_digit(char) or char == "_"):
                break
            out.append(self.next())
        return "".join(out)

    def braced_word(self):
        try:
            return self.until("}")
        except DockerfileError:
            if self.peek() is None:
                raise DockerfileError("syntax error: missing '}'") from None
            raise

    def dollar(self):
        self.next()
        if self.peek() != "{":
            name = self.name()
            return self.lookup(name)[0] if name else "$"
        self.next()
        if self.peek() is None:
            raise DockerfileError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise DockerfileError("syntax error: bad substitution")
        name = self.name()
        char = self.next()
        if char == "}":
            return self.lookup(name)[0]
        if char == "?":
            word = self.braced_word()
            value, found = self.lookup(name)
            if not found:
                raise DockerfileError("%s: %s" % (name, word or "is not allowed to be unset"))
            return value
        if char == ":":
            modifier = self.next()
            word = self.braced_word()
            value, found = self.lookup(name)
            if self.env is None:
                return MARK
            if modifier == "+":
                return word if value != "" else value
            if modifier == "-":
                return word if value == "" else value
            if modifier == "?":
                if not found:
                    raise DockerfileError("%s: %s" % (name, word or "is not allowed to be unset"))
                if value == "":
                    raise DockerfileError("%s: %s" % (name, word or "is not allowed to be empty"))
                return value
            raise DockerfileError("unsupported modifier (%s) in substitution" % (modifier or ""))
        raise DockerfileError("missing ':' in substitution")


def process_word(word, env, escape="\\"):
    """ProcessWord: ``word`` with quotes and escapes removed and ``$`` variables from ``env`` (a dict;
    None: every variable is ``MARK``). Raises DockerfileError with the builder's message."""
    try:
        return _Word(word, env, escape).until(None)
    except DockerfileError as exc:
        raise DockerfileError('failed to process "%s": %s' % (word, exc.message)) from None
