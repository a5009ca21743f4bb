# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Differences between what exists and what is wanted, for ``differences`` and ``diff``. Pure."""
from __future__ import annotations

from collections import namedtuple

Difference = namedtuple("Difference", "path before after")


class DifferenceTracker(object):
    """Collects ``(path, before, after)``; dicts are compared key by key so a change reads
    ``env.LANG`` rather than the whole ``env``; anything else is compared whole."""

    def __init__(self):
        self.differences = []

    def __len__(self):
        return len(self.differences)

    def __bool__(self):
        return bool(self.differences)

    def add(self, path, before, after):
        self.differences.append(Difference(path, before, after))

    def compare(self, path, before, after):
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after), key=str):
                self.compare("%s.%s" % (path, key), before.get(key), after.get(key))
        elif before != after:
            self.add(path, before, after)

    def as_list(self):
        """JSON-friendly form for a module result."""
        return differences_as_list(self.differences)

    def before_after(self):
        """Only the differing leaves, nested by path: ``({'env': {'A': '1'}}, {'env': {'A': '2'}})``."""
        before, after = {}, {}
        for diff in self.differences:
            _put(before, diff.path, diff.before)
            _put(after, diff.path, diff.after)
        return before, after


def differences_as_list(differences):
    return [{"path": d.path, "before": d.before, "after": d.after} for d in differences]


def _put(target, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
