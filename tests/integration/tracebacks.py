"""Python tracebacks of the collection's code in a tool's output (ansible-playbook, ansible, molecule).

A traceback of the collection's code is a crash, and a crash is a bug even where the run ended with the
return code a test expected (a refusal that "worked" through an exception, a task with ignore_errors).
ansible-core 2.19 prints tracebacks only when ANSIBLE_DISPLAY_TRACEBACK asks for them: ``ENV`` is what
every test's ansible run sets. The collection's code is any file under ``ansible_collections/spin/platform/``
(the checkout's link, an installed copy, a module's AnsiballZ payload) or under the checkout's ``plugins/``.
A traceback that ends in ``Message: ...`` instead of an exception is no crash: ansible-core 2.19 shows
where a module called ``fail_json`` (a refusal) that way; nor is one that ends in the collection's own
refusal (``SpinError``) or an Ansible error that a filter or action raises to refuse.

As a command: ``python tracebacks.py FILE...`` prints the tracebacks it finds and exits 1 (./spin test runs
the tools' output through it).
"""
import json
import os
import re
import sys

ENV = {"ANSIBLE_DISPLAY_TRACEBACK": "error"}
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MARK = "Traceback (most recent call last):"
_FRAME = re.compile(r'File "([^"\n]+)", line \d+')


def _is_collection_path(path, root=ROOT):
    return "/ansible_collections/spin/platform/" in path or path.startswith(os.path.join(root, "plugins") + os.sep)


def collection_tracebacks(output, root=ROOT):
    """The tracebacks in ``output`` (text) with a frame of the collection's code, each as its text (up
    to the next traceback). A traceback inside a JSON string (``"Traceback ...\\n  File \\"...\\""``)
    counts too: each such string is read as JSON reads it, and only it (a source line's own ``\\n``
    elsewhere stays as printed)."""
    found = _blocks(output, root)
    for escaped in _ESCAPED.finditer(output):
        try:
            text = json.loads('"%s"' % escaped.group(0))
        except ValueError:
            continue
        found.extend(_blocks(text, root))
    return found


# a traceback inside a JSON string: up to the string's closing quote
_ESCAPED = re.compile(r'Traceback \(most recent call last\):\\n(?:[^"\\]|\\.)*')


def _blocks(text, root):
    found = []
    starts = [m.start() for m in re.finditer(re.escape(MARK), text)]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        block = text[start:end]
        if _ends_in_exception(block) and any(_is_collection_path(path, root) for path in _FRAME.findall(block)):
            found.append(block.strip())
    return found


def _ends_in_exception(block):
    """Whether the frames of ``block`` end in an exception (``KeyError: 'x'``), not in ansible-core's
    ``Message: ...`` of a module's fail_json call. The block may be indented as a whole (inside a YAML
    result): its end is the first line after the frames that is neither a frame (``File "..."``) nor
    more indented than the frame before it (the frame's source line)."""
    frame_indent = None
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if line.lstrip().startswith('File "'):
            frame_indent = indent
            continue
        if frame_indent is not None and indent > frame_indent:
            continue  # the source line of the frame above
        last = line.strip()
        return not (last.startswith("Message:") or _REFUSAL.match(last))
    return True


# the exceptions the collection raises on purpose to refuse (its one error type, and Ansible's own for a
# filter's or an action's refusal): the traceback ansible-core 2.19 shows of them is no crash
_REFUSAL = re.compile(r"^(?:[\w.]+\.)?(?:SpinError|Ansible\w*Error|AnsibleActionFail)(?::|$)")


def describe(found, limit=6000):
    """The tracebacks, for a test's failure message (the last ``limit`` characters of each)."""
    return "\n\n".join(block[-limit:] for block in found)


def assert_none(output, what):
    """AssertionError naming ``what`` (the command) when ``output`` holds a traceback of the collection's code."""
    found = collection_tracebacks(output)
    assert not found, "%s printed a traceback of the collection's code:\n%s" % (what, describe(found))


def main(paths):
    found = []
    for path in paths:
        with open(path, errors="replace") as handle:
            found.extend(collection_tracebacks(handle.read()))
    if found:
        print("%d traceback(s) of the collection's code (a crash is a bug, whatever the return code):\n\n%s"
              % (len(found), describe(found)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
