# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations, byte sizes and CPU counts as compose files and Docker write them. Pure."""
from __future__ import annotations

import re

_NS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
# Compose's sizes (go-units RAMInBytes): binary units, written 512m, 512mb, 512MiB or 512Mi
_BYTES = {None: 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])i?)?b?\s*$", re.IGNORECASE)


def parse_duration(value):
    """'1m30s' / '500ms' / 90 (seconds) -> nanoseconds. Raises ValueError with the bad value."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("%r is not a duration" % (value,))
    if isinstance(value, (int, float)):
        return int(value * 10**9)
    text = str(value).strip()
    if text == "0":
        return 0
    pos, total = 0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _NS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError("'%s' is not a duration (write it like 30s, 1m30s or 500ms)" % text)
    return int(total)


def format_duration(ns):
    """nanoseconds -> the shortest exact Go-style duration string ('1m30s', '500ms')."""
    if ns is None:
        return None
    ns = int(ns)
    if ns == 0:
        return "0s"
    if ns % 10**9:
        for unit, size in (("ms", 10**6), ("us", 1000), ("ns", 1)):
            if ns % size == 0:
                return "%d%s" % (ns // size, unit)
    seconds = ns // 10**9
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    out = ""
    if hours:
        out += "%dh" % hours
    if minutes:
        out += "%dm" % minutes
    if seconds:
        out += "%ds" % seconds
    return out


def parse_bytes(value):
    """'512m' / '1g' / 1048576 -> bytes. Raises ValueError with the bad value."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("%r is not a size" % (value,))
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError("'%s' is not a size (write it like 512M or 2G)" % value)
    return int(float(match.group(1)) * _BYTES[match.group(2).lower() if match.group(2) else None])


def parse_cpus(value):
    """'0.5' / 2 -> float cpus. Raises ValueError."""
    if value is None:
        return None
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise ValueError("'%s' is not a number of CPUs (write it like 0.5 or 2)" % (value,))
    if cpus < 0:
        raise ValueError("'%s' is not a number of CPUs: it must not be negative" % (value,))
    return cpus


def parse_mode(value):
    """File mode: 0o444 / 292 (int, as YAML 1.1 reads 0444) or '0444' / '444' (octal text) -> int."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("%r is not a file mode" % (value,))
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        if text.lower().startswith("0o"):
            text = text[2:]
        try:
            mode = int(text, 8)
        except ValueError:
            raise ValueError("'%s' is not a file mode (write it in octal like '0444')" % (value,))
    if not 0 <= mode <= 0o7777:
        raise ValueError("'%s' is not a file mode (write it in octal like '0444')" % (value,))
    return mode
