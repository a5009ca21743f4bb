# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose parser's text layer: reading the files of a submission (confined to the submission
directory), variable interpolation (``$VAR``, ``${VAR:-default}``, ...) as Compose does it, and env
files (``KEY=VALUE`` lines, for ``env_file``, ``label_file`` and the submission's ``.env``)."""
from __future__ import annotations

import errno
import os
import re
import stat

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.compose_values import Invalid
from ansible_collections.spin.platform.plugins.plugin_utils.safe_yaml import Tagged


# ---------------------------------------------------------------------------------------------
# reading files of the submission

class MissingFile(SpinError):
    """A file the submission names that does not exist: the only reason an env_file with ``required: false``
    is skipped (anything else about it is refused, as Compose does)."""


def make_dir_reader(base_dir, max_bytes=1024 * 1024, tree=None):
    """A ``read_file(relpath)`` callback confined to ``base_dir`` (the only I/O helper here).

    Refuses absolute paths, ``..`` escapes and symbolic links that lead outside, with a message
    the tenant can act on; a file that does not exist raises MissingFile, and every other OS error
    (a directory, a named pipe or device, a link loop, a name too long, permission denied) a
    SpinError naming the file and what to do. With ``tree`` (``submission_tree.SubmissionTree``) a
    file is read only when it is the tenant's own (owner and modes, opened component by component
    without following links). Returns text; bytes that are not UTF-8 survive as surrogate escapes,
    so binary secrets round-trip exactly.
    """
    base = os.path.realpath(base_dir)

    def read_file(relpath):
        full = _confined(base, relpath)
        mode, size = _stat(base, relpath, full)
        if stat.S_ISDIR(mode):
            raise SpinError("'%s' is a directory, not a file: name a file inside the submission directory" % relpath)
        if not stat.S_ISREG(mode):
            raise SpinError(_not_regular(relpath, mode))
        if size > max_bytes:
            raise SpinError("'%s' is larger than %d bytes: refused" % (relpath, max_bytes))
        if tree is not None:
            return tree.read(full, max_bytes).decode("utf-8", "surrogateescape")
        # no blocking on what was swapped for a named pipe since the stat, no link followed at the end
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise _os_refusal(base, relpath, exc)
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(opened):
                raise SpinError(_not_regular(relpath, opened))
            try:
                data = handle.read(max_bytes + 1)
            except OSError as exc:
                raise _os_refusal(base, relpath, exc)
        if len(data) > max_bytes:
            raise SpinError("'%s' is larger than %d bytes: refused" % (relpath, max_bytes))
        return data.decode("utf-8", "surrogateescape")

    return read_file


def make_dir_stat(base_dir, tree=None):
    """A ``stat_file(relpath)`` callback confined to ``base_dir``, like ``make_dir_reader``:
    {"kind": "file", "mode", "size"} | {"kind": "dir"} | {"kind": "missing"}. Refuses what leads outside, what is not the tenant's own (with ``tree``),
    and names every other OS error (SpinError)."""
    base = os.path.realpath(base_dir)

    def stat_file(relpath):
        full = _confined(base, relpath)
        try:
            mode, size = _stat(base, relpath, full)
        except MissingFile:
            return {"kind": "missing"}
        if stat.S_ISDIR(mode):
            if tree is not None:
                tree.check_dir(full)
            return {"kind": "dir"}
        if stat.S_ISREG(mode):
            if tree is not None:
                tree.check_file(full)
            return {"kind": "file", "mode": mode & 0o7777, "size": size}
        raise SpinError(_not_regular(relpath, mode))

    return stat_file


def _stat(base, relpath, full):
    """-> (mode, size) of ``full``; MissingFile when it does not exist, SpinError for any other OS error."""
    try:
        info = os.stat(full)
    except OSError as exc:
        raise _os_refusal(base, relpath, exc)
    return info.st_mode, info.st_size


def _shown(relpath, limit=80):
    return "'%s'" % relpath if len(relpath) <= limit else "'%s...' (%d characters)" % (relpath[:60], len(relpath))


def _os_refusal(base, relpath, exc):
    """An OS error on a file of the submission -> the refusal the tenant reads (MissingFile: it does not exist)."""
    code = exc.errno
    if code == errno.ENOENT:
        return MissingFile("'%s' does not exist in the submission directory" % relpath)
    if code == errno.ELOOP:
        return SpinError("'%s' is a symbolic link that loops (or a chain of too many links): put the file itself "
                         "there" % relpath)
    if code == errno.ENAMETOOLONG:
        return SpinError("%s cannot be read: the name is too long for the file system (at most 255 bytes a name, 4096 "
                         "a path): use a shorter name" % _shown(relpath))
    if code in (errno.EACCES, errno.EPERM):
        return SpinError("'%s' cannot be read: permission denied; make it readable (chmod a+r, and a+x on its "
                         "directories): the platform reads the submission as infra staff's user" % relpath)
    if code == errno.ENOTDIR:
        return SpinError("'%s' cannot be read: %s: give the path of a file inside the submission directory"
                         % (relpath, _not_a_directory(base, relpath)))
    if code == errno.EISDIR:
        return SpinError("'%s' is a directory, not a file: name a file inside the submission directory" % relpath)
    return SpinError("'%s' cannot be read: %s; put a regular file there" % (relpath, exc.strerror or exc))


def _not_a_directory(base, relpath):
    """Which part of ``relpath`` is a file where a directory should be, in words."""
    parts = os.path.normpath(relpath).split(os.sep)
    for i in range(1, len(parts)):
        prefix = os.path.join(*parts[:i])
        if os.path.lexists(os.path.join(base, prefix)) and not os.path.isdir(os.path.join(base, prefix)):
            return "'%s' is a file, not a directory" % prefix
    return "a part of the path is a file, not a directory"


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _not_regular(relpath, mode):
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    return "'%s' is %s, not a regular file: only regular files of the submission are read; put the file itself " \
           "there" % (relpath, kind)


def _confined(base, relpath):
    """The real path of ``relpath`` inside ``base``; SpinError when it is absolute or leads outside."""
    if not isinstance(relpath, str) or not relpath.strip():
        raise SpinError("an empty path: name a file inside the submission directory")
    if "\x00" in relpath:
        raise SpinError("'%s' holds a NUL character, which no file name can: remove it"
                        % relpath.replace("\x00", "\\x00"))
    if os.path.isabs(relpath) or relpath.startswith("~"):
        raise SpinError("'%s' is an absolute path: give a path relative to the submission directory" % relpath)
    norm = os.path.normpath(relpath)
    if norm == ".." or norm.startswith(".." + os.sep):
        raise SpinError("'%s' points outside the submission directory: keep the file inside it" % relpath)
    full = os.path.realpath(os.path.join(base, norm))
    if os.path.commonpath([base, full]) != base:
        raise SpinError("'%s' is a symbolic link that points outside the submission directory: "
                        "copy the file into the directory instead" % relpath)
    return full


def as_bytes(data):
    return data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")


def as_text(data):
    return data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data


# ---------------------------------------------------------------------------------------------
# variable interpolation: $VAR ${VAR} ${VAR:-d} ${VAR-d} ${VAR:?e} ${VAR?e} ${VAR:+r} ${VAR+r} $$

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def interpolate(text, env, unset=None):
    """Substitute variables from ``env`` in ``text``. Raises Invalid (bad syntax, ``${VAR?err}``).

    A variable that is not set becomes an empty string, as in Compose, and its name is added to
    ``unset`` (a list) for the warning; with ``unset=None`` it is an error instead.
    """
    out, pos = [], 0
    while pos < len(text):
        dollar = text.find("$", pos)
        if dollar < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:dollar])
        nxt = text[dollar + 1:dollar + 2]
        if nxt == "$":
            out.append("$")
            pos = dollar + 2
        elif nxt == "{":
            end = _closing_brace(text, dollar + 2)
            if end < 0:
                raise Invalid("'${' without a closing '}' in %r" % text)
            out.append(_expand(text[dollar + 2:end], env, text, unset))
            pos = end + 1
        else:
            match = _VAR_NAME.match(text, dollar + 1)
            if not match:
                raise Invalid("a '$' that starts no variable in %r: write '$$' for a literal dollar sign" % text)
            out.append(_lookup(match.group(0), env, unset))
            pos = match.end()
    return "".join(out)


def _closing_brace(text, pos):
    depth = 1
    while pos < len(text):
        if text.startswith("$$", pos):
            pos += 2
            continue
        if text.startswith("${", pos):
            depth += 1
            pos += 2
            continue
        if text[pos] == "}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return -1


def _lookup(name, env, unset=None):
    if env.get(name) is None:
        if unset is not None:
            unset.append(name)
            return ""
        raise Invalid("variable '%s' is not set: give it a value in the stack's variables, "
                      "or write a default like ${%s:-value}" % (name, name))
    return str(env[name])


def _expand(body, env, text, unset=None):
    match = _VAR_NAME.match(body)
    if not match:
        raise Invalid("'${%s}' in %r is not a variable: names are letters, digits and _" % (body, text))
    name, rest = match.group(0), body[match.end():]
    if not rest:
        return _lookup(name, env, unset)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise Invalid("'${%s}' in %r: unknown operator; use :-, -, :?, ?, :+ or +" % (body, text))
    word = rest[len(operator):]
    value = env.get(name)
    present = value is not None
    usable = present if not operator.startswith(":") else present and str(value) != ""
    kind = operator[-1]
    if kind == "-":
        return str(value) if usable else interpolate(word, env, unset)
    if kind == "+":
        return interpolate(word, env, unset) if usable else ""
    if not usable:
        reason = interpolate(word, env, unset) if word else "it is required"
        raise Invalid("variable '%s' is %s: %s" % (name, "empty" if present else "not set", reason))
    return str(value)


def interpolate_tree(st, file, data, path, service_level):
    """A copy of ``data`` with every string value (not key) interpolated; problems name
    file/service/key. Never in place: a YAML anchor used twice is one shared object, and
    interpolating it twice would turn ``$${X}`` (a literal) into the value of X."""
    if isinstance(data, dict):
        return {key: interpolate_tree(st, file, value, path + (str(key),), service_level)
                for key, value in data.items()}
    if isinstance(data, list):
        return [interpolate_tree(st, file, item, path + ("[%d]" % i,), service_level)
                for i, item in enumerate(data)]
    if isinstance(data, Tagged):
        return Tagged(data.tag, interpolate_tree(st, file, data.value, path, service_level))
    if isinstance(data, str) and "$" in data:
        unset = []
        try:
            value = interpolate(data, st.env, unset)
        except Invalid as exc:
            service, key = _split_path(path, service_level)
            st.error(file, service, key, exc.message)
            return data
        for name in dict.fromkeys(unset):
            service, key = _split_path(path, service_level)
            st.warning(file, service, key, "variable '%s' is not set, so it is an empty string here (as in "
                       "Compose): give it a value in .env or spin_compose_variables, or write a default like "
                       "${%s:-value}" % (name, name))
        return value
    return data


def _split_path(path, service_level):
    """('services', 'web', 'environment', 'A') -> ('web', 'environment.A')."""
    if service_level and len(path) >= 2 and path[0] == "services":
        return path[1], _join_key(path[2:]) or None
    return None, _join_key(path) or None


def _join_key(parts):
    text = ""
    for part in parts:
        text += part if part.startswith("[") or not text else "." + part
    return text


# ---------------------------------------------------------------------------------------------
# env files (KEY=VALUE lines), also used for label_file

def parse_env_file(text, env):
    """-> (values, problems, unresolved): compose's .env syntax, one variable a line.

    ``# comments``, ``export KEY=VALUE``, 'single' (literal) and "double" (escapes,
    interpolation) quotes, unquoted values end at `` #``. ``KEY`` alone takes its value from
    ``env``; ``unresolved`` lists those that ``env`` lacks (dropped).
    """
    values, problems, unresolved = {}, [], []
    for number, line in enumerate(as_text(text).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, raw = line.partition("=")
        name = name.strip()
        if not name or re.search(r"\s", name):
            problems.append("line %d: '%s' is not KEY=VALUE" % (number, line))
            continue
        if not sep:
            if env.get(name) is None:
                unresolved.append(name)
            else:
                values[name] = str(env[name])
            continue
        try:
            values[name] = _env_value(raw.strip(), dict(env, **values))
        except Invalid as exc:
            problems.append("line %d: %s" % (number, exc.message))
    return values, problems, unresolved


def _env_value(raw, env):
    if raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise Invalid("a single quote without its closing quote")
        return raw[1:end]
    if raw.startswith('"'):
        match = re.match(r'"((?:[^"\\]|\\.)*)"', raw)
        if not match:
            raise Invalid("a double quote without its closing quote")
        text = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
                      match.group(1))
        return interpolate(text, env, [])
    # an unset variable is an empty string, as Compose's .env reader makes it
    return interpolate(re.split(r"\s+#", raw, maxsplit=1)[0].rstrip(), env, [])
