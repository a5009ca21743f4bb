# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fstab and the kernel's mount table as data. Pure: text in, text or dicts out.

An entry is ``{"src", "path", "fstype", "opts", "dump", "passno"}`` with the fields unescaped
(``\\040`` is a space). ``set_entry`` changes only the line of one mount point, keeping every
other line (comments, blank lines, other entries) byte for byte, as ansible.posix ``mount`` does.
``/proc/self/mounts`` has the same syntax, so ``parse_entries`` reads both.
"""
from __future__ import annotations

import posixpath
import re

FIELDS = ("src", "path", "fstype", "opts", "dump", "passno")

# what fstab(5) and the kernel escape in a field
_ESCAPES = {" ": "\\040", "\t": "\\011", "\n": "\\012", "\\": "\\134"}
_OCTAL = re.compile(r"\\([0-7]{3})")

# fstypes that name the same client, as /proc/mounts shows them
_FSTYPE_FAMILIES = ({"nfs", "nfs4"},)


def escape(field):
    return "".join(_ESCAPES.get(char, char) for char in str(field))


def unescape(field):
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def normal_path(path):
    """A mount point as the kernel lists it: absolute, no trailing or doubled slash."""
    path = posixpath.normpath(path)
    return "/" + path.lstrip("/") if path.startswith("//") else path


def parse_line(line):
    """An fstab / mounts line -> entry, or None for a comment, a blank or a malformed line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split()
    if len(parts) < 2:
        return None
    parts = [unescape(p) for p in parts] + ["", "defaults", "0", "0"][len(parts) - 2:]
    return {"src": parts[0], "path": normal_path(parts[1]), "fstype": parts[2] or "auto",
            "opts": parts[3] or "defaults", "dump": parts[4], "passno": parts[5]}


def parse_entries(text):
    """Every entry of an fstab or of /proc/self/mounts, in file order."""
    return [entry for entry in (parse_line(line) for line in (text or "").splitlines()) if entry]


def render_entry(entry):
    return " ".join(escape(entry[field]) for field in FIELDS)


def make_entry(src, path, fstype, opts="defaults", dump=0, passno=0):
    return {"src": src, "path": normal_path(path), "fstype": fstype, "opts": opts or "defaults",
            "dump": str(dump), "passno": str(passno)}


def same_entry(a, b):
    return all(str(a[f]) == str(b[f]) for f in FIELDS)


def find_entry(text, path):
    """The fstab entry of ``path`` (the last one, as mount(8) reads it), or None."""
    path = normal_path(path)
    found = [entry for entry in parse_entries(text) if entry["path"] == path]
    return found[-1] if found else None


def _lines(text):
    return (text or "").splitlines(True)


def set_entry(text, entry):
    """-> ``(new_text, old_entry)``: ``text`` with the entry of ``entry["path"]`` replaced in
    place (or appended). Other lines stay byte for byte; further lines of the same mount point,
    which would contest it, are dropped. ``new_text == text`` when nothing differs."""
    out, placed, old = [], False, None
    for line in _lines(text):
        current = parse_line(line)
        if current is None or current["path"] != entry["path"]:
            out.append(line)
            continue
        old = old or current
        if not placed:
            out.append(line if same_entry(current, entry) else render_entry(entry) + "\n")
            placed = True
    if not placed:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(render_entry(entry) + "\n")
    return "".join(out), old


def remove_entry(text, path):
    """-> ``(new_text, old_entry)``: every line of mount point ``path`` removed."""
    path = normal_path(path)
    out, old = [], None
    for line in _lines(text):
        current = parse_line(line)
        if current is not None and current["path"] == path:
            old = old or current
            continue
        out.append(line)
    return "".join(out), old


def find_mount(mounts_text, path):
    """The mount on top at ``path`` in /proc/self/mounts text (the last one listed), or None."""
    path = normal_path(path)
    found = [entry for entry in parse_entries(mounts_text) if entry["path"] == path]
    return found[-1] if found else None


def same_fstype(a, b):
    if a == b:
        return True
    return any(a in family and b in family for family in _FSTYPE_FAMILIES)


def _normal_src(src):
    return src[:-1] if len(src) > 1 and src.endswith("/") and not src.endswith(":/") else src


def mount_matches(live, src, fstype):
    """Whether the live mount is ``src`` of ``fstype`` (``src`` None: any source)."""
    if live is None:
        return False
    if fstype and not same_fstype(live["fstype"], fstype):
        return False
    return src is None or _normal_src(live["src"]) == _normal_src(src)
