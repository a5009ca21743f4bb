# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose parser's value checks: each takes a value as YAML gave it and returns it normalised,
or raises ``Invalid`` with the message the tenant reads (the caller adds the file, service and key).
Pure; shared by every part of the parser."""
from __future__ import annotations

import difflib
import re

from ansible_collections.spin.platform.plugins.module_utils.common import units


RESERVED_LABEL_PREFIXES = ("spin.", "com.docker.stack.")


class Invalid(Exception):
    """A value is wrong; ``key`` (when given) replaces the key of the handler that caught it."""

    def __init__(self, message, key=None):
        super().__init__(message)
        self.message = message
        self.key = key


# ---------------------------------------------------------------------------------------------
# value checks: each returns the normalised value or raises Invalid

def kind(value):
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a string"


def show(value):
    return "'%s'" % value if isinstance(value, str) else str(value)


def as_str(value, what="a string"):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid("must be %s, not %s" % (what, kind(value)))
    return str(value)


def nonempty_str(value, what="a string"):
    text = as_str(value, what)
    if not text.strip():
        raise Invalid("must not be empty")
    return text


def as_int(value, minimum=0, maximum=None, what="a whole number"):
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.match(r"^\s*[-+]?\d+\s*$", value):
        number = int(value)
    if number is None:
        raise Invalid("must be %s, not %s" % (what, show(value) if isinstance(value, str) else kind(value)))
    if minimum is not None and number < minimum:
        raise Invalid("must be %d or more, not %d" % (minimum, number))
    if maximum is not None and number > maximum:
        raise Invalid("must be %d or less, not %d" % (maximum, number))
    return number


def as_float(value, minimum=None, maximum=None):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid("must be a number, not %s" % (show(value) if isinstance(value, str) else kind(value)))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise Invalid("must be between %s and %s, not %s" % (minimum, maximum, value))
    return number


_TRUE = ("true", "yes", "on", "1", "y")
_FALSE = ("false", "no", "off", "0", "n")


def as_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid("must be true or false, not %s" % (show(value) if isinstance(value, str) else kind(value)))


def as_list(value, what="a list"):
    if not isinstance(value, list):
        raise Invalid("must be %s, not %s" % (what, kind(value)))
    return value


def mapping(value, what="a mapping"):
    if not isinstance(value, dict):
        raise Invalid("must be %s, not %s" % (what, kind(value)))
    return value


def str_list(value, allow_string=False):
    if allow_string and isinstance(value, str):
        return [value]
    items = as_list(value, "a list of strings" + (" (or one string)" if allow_string else ""))
    out = []
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise Invalid("item %d must be a string, not %s" % (i + 1, kind(item)))
        out.append(str(item))
    return out


def scalar_text(value):
    """A YAML scalar as the string Docker sees (true -> 'true')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise Invalid("values must be strings, numbers or true/false, not %s" % kind(value))


def list_or_dict(value, what="a mapping or a list of KEY=VALUE"):
    """{k: v} or ['k=v', 'k'] -> {k: str | None} (None: no value given)."""
    out = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out[str(key)] = None if item is None else scalar_text(item)
        return out
    if isinstance(value, list):
        for item in value:
            name, sep, rest = as_str(item, "KEY=VALUE").partition("=")
            if not name:
                raise Invalid("'%s' has no name before '='" % item)
            out[name] = rest if sep else None
        return out
    raise Invalid("must be %s, not %s" % (what, kind(value)))


def duration(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise Invalid("must be a duration with a unit, like %ss, not the number %s" % (value, value))
    try:
        return units.parse_duration(value)
    except ValueError as exc:
        raise Invalid(str(exc))


def byte_size(value):
    try:
        return units.parse_bytes(value)
    except ValueError as exc:
        raise Invalid(str(exc))


def cpus(value):
    try:
        return units.parse_cpus(value)
    except ValueError as exc:
        raise Invalid(str(exc))


def file_mode(value):
    """File mode: a YAML int (0440 is octal already) or an octal string."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.match(r"^(0o)?[0-7]{1,4}$", value.strip()):
        number = int(value.strip().replace("0o", ""), 8)
    else:
        raise Invalid("must be an octal file mode like 0440, not %s" % show(value))
    if not 0 <= number <= 0o7777:
        raise Invalid("must be a file mode between 0 and 07777")
    return number


def enum(value, choices):
    text = as_str(value)
    if text not in choices:
        raise Invalid("must be one of %s, not '%s'" % (", ".join(choices), text) + did_you_mean(text, choices))
    return text


def did_you_mean(word, candidates):
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return " (did you mean '%s'?)" % close[0] if close else ""


def unknown_key(word, candidates):
    return "unknown key" + did_you_mean(word, candidates)


def abs_path(value, what="must be"):
    text = nonempty_str(value, "an absolute path")
    if not text.startswith("/"):
        raise Invalid("%s an absolute path (starting with /), not '%s'" % (what, text))
    return text


def container_path(value):
    return abs_path(value, "the path in the container must be")


def label_map(value):
    labels = list_or_dict(value)
    for name in labels:
        if name.startswith(RESERVED_LABEL_PREFIXES):
            raise Invalid("label '%s' is reserved for the platform (%s): rename it"
                          % (name, ", ".join(prefix + "*" for prefix in RESERVED_LABEL_PREFIXES)))
    return {name: "" if text is None else text for name, text in labels.items()}


def restart_policy(condition, max_attempts=None, delay=None, window=None):
    return {"condition": condition, "delay": delay, "max_attempts": max_attempts, "window": window}
