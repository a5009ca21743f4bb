# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's half of the warm worker (``module_utils/worker/warm.py``): hand a module's task to the
worker on the target, or run the module as Ansible always does and start the worker for the next
task.

One round trip per task: ``<python> -c CLIENT`` on the target (the connection's own command, with
become and the task's environment) connects to ``<dir>/<version>.sock``, sends the task on its
stdin, and prints the result. ``<version>`` is the content hash of the target code the controller
would ship (this collection's modules and module_utils, Ansible's module_utils, the interpreter),
so a changed collection or Ansible never meets an old worker. Where no worker of that version
answers, the module runs the usual way (the task never waits for a worker), then
``<python> -c STARTER`` writes the code as ``<dir>/<version>.zip`` (0600, in a 0700 directory of
the target user) and starts it in the background.

The task's arguments, secrets included, travel on stdin and through the socket only: never in a
file on the target, as with pipelining (``no_files.py``). Turn it off with ``spin_worker: false``.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shlex
import zipfile

from ansible import constants as C
from ansible.executor.interpreter_discovery import discover_interpreter
import ansible.module_utils

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.no_files import execute_module_without_files

DIRECTORY = "~/.ansible/spin-worker"
IDLE_SECONDS = 900
NO_WORKER = 75      # the client found no worker that took the task: nothing ran
WORKER_LOST = 70    # the worker took the task and ended without an answer (every other exit: not taken)

# The target's side of one task: the client connects, sends its environment and the task, and
# prints the answer. The worker's first byte (b"+") says it took the task; without it, no
# worker ran anything and the controller may run the module itself.
CLIENT = r"""
import json,os,pwd,socket,sys
d=sys.argv[1]
if d.startswith('~'):
    d=pwd.getpwuid(os.geteuid()).pw_dir+d[1:]
s=socket.socket(socket.AF_UNIX)
try:
    s.connect(os.path.join(d,sys.argv[2]+'.sock'))
    s.sendall(json.dumps(dict(os.environ)).encode()+b'\n'+sys.stdin.buffer.read())
    s.shutdown(socket.SHUT_WR)
    ack=s.recv(1)
except OSError:
    sys.exit(75)
if ack!=b'+':
    sys.exit(75)
n=0
try:
    o=sys.stdout.buffer
    while True:
        b=s.recv(65536)
        if not b:
            break
        n+=len(b)
        o.write(b)
    o.flush()
except Exception:
    n=0
sys.exit(0 if n else 70)
"""

# Write the worker's code (base64 on stdin) beside its socket and start it, detached.
STARTER = r"""
import base64,os,pwd,stat,subprocess,sys
d=sys.argv[1]
if d.startswith('~'):
    d=pwd.getpwuid(os.geteuid()).pw_dir+d[1:]
os.makedirs(d,0o700,exist_ok=True)
st=os.lstat(d)
if not stat.S_ISDIR(st.st_mode) or st.st_uid!=os.geteuid():
    sys.exit('%s is not a directory of this user' % d)
os.chmod(d,0o700)
z=os.path.join(d,sys.argv[2]+'.zip')
t='%s.%d'%(z,os.getpid())
fd=os.open(t,os.O_WRONLY|os.O_CREAT|os.O_EXCL,0o600)
with os.fdopen(fd,'wb') as f:
    f.write(base64.b64decode(sys.stdin.buffer.read()))
os.replace(t,z)
subprocess.Popen([sys.executable,z,d,sys.argv[2],sys.argv[3]],stdin=subprocess.DEVNULL,stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL,start_new_session=True,close_fds=True,cwd='/')
"""

# The modules the worker runs: their action plugins call ``execute_module`` below (a test checks the
# two agree); any other module name runs the usual way. Each declares argument_spec(), run(module,
# client) and, if it has any, MODULE_OPTIONS (module_utils/worker/task.py).
ROUTED = ("spin_converge", "spin_lb", "spin_stack")
PACKAGE = "ansible_collections/spin/platform"
# Ansible's module_utils that no module of this collection imports (and that are large)
SKIP_ANSIBLE = ("facts", "csharp", "powershell", "__pycache__")


def main_code(routed=ROUTED):
    """The archive's ``__main__``: imports the routed modules (inside the worker's ``serve``, so a module
    that fails to import still leaves no file behind), so that the worker's own code never loads a
    module by name."""
    return ("import sys\n"
            "from ansible_collections.spin.platform.plugins.module_utils.worker.warm import main\n\n\n"
            "def load():\n"
            "    from ansible_collections.spin.platform.plugins.modules import %s\n"
            "    return {%s}\n\n\n"
            "sys.exit(main(sys.argv[1:], load))\n"
            % (", ".join(routed), ", ".join('"%s": %s' % (name, name) for name in routed))).encode("utf-8")


_CODE = {}


def target_code():
    """-> [(name in the archive, bytes)], sorted: what the worker runs, read once per process. Every
    package gets an ``__init__.py`` (zipimport knows no namespace packages)."""
    if "files" in _CODE:
        return _CODE["files"]
    plugins = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = {}
    for sub in ("module_utils", "modules"):
        files.update(_tree(os.path.join(plugins, sub), "%s/plugins/%s" % (PACKAGE, sub)))
    ansible_utils = os.path.dirname(os.path.abspath(ansible.module_utils.__file__))
    files.update(_tree(ansible_utils, "ansible/module_utils", skip=SKIP_ANSIBLE))
    for name in list(files):
        parent = os.path.dirname(name)
        while parent:
            files.setdefault(parent + "/__init__.py", b"")
            parent = os.path.dirname(parent)
    files["__main__.py"] = main_code()
    _CODE["files"] = sorted(files.items())
    return _CODE["files"]


def _tree(root, prefix, skip=()):
    """{archive name: bytes} of every .py file under ``root``, as ``prefix/<relative path>``."""
    files = {}
    for top, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not (top == root and d in skip) and d != "__pycache__")
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(top, name)
                files[prefix + "/" + os.path.relpath(path, root).replace(os.sep, "/")] = _read(path)
    return files


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def version(python, files=None):
    """The content hash that names the worker: its code and the interpreter that runs it."""
    digest = hashlib.sha256(python.encode("utf-8"))
    for name, data in files if files is not None else target_code():
        digest.update(b"\0%s\0%d\0" % (name.encode("utf-8"), len(data)))
        digest.update(data)
    return digest.hexdigest()[:24]


def archive(files=None):
    """The worker's code as a zip that Python runs (``__main__.py``); the same bytes for the same
    files (fixed dates), so that two controllers write the same file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files if files is not None else target_code():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            out.writestr(info, data)
    return buffer.getvalue()


def settings(action, task_vars):
    """-> (python, directory, idle seconds, facts learnt on the way), or a str: why this task does not
    use the worker."""
    templar = action._templar
    if not _truth(templar.template(task_vars.get("spin_worker", True))):
        return "spin_worker is false"
    if C.DEFAULT_KEEP_REMOTE_FILES:
        return "ANSIBLE_KEEP_REMOTE_FILES is set"
    if action._task.async_val:
        return "the task is async"
    if action._task.delegate_to:
        return "the task is delegated"
    python = task_vars.get("ansible_python_interpreter")
    python = templar.template(python) if python is not None else None
    if not _absolute(python):
        python = (task_vars.get("ansible_facts") or {}).get("discovered_interpreter_python") or python
    facts = {}
    if not _absolute(python):
        # what Ansible does before the first module of a run: find the target's Python (one round
        # trip), and keep it as the fact that spares later tasks the search
        mode = python if isinstance(python, str) and python.startswith("auto") else C.config.get_config_value(
            "INTERPRETER_PYTHON", variables=task_vars)
        if not (isinstance(mode, str) and mode.startswith("auto")):
            return "the target's Python (%s) is not a path" % python
        try:
            python = discover_interpreter(action=action, interpreter_name="python", discovery_mode=mode,
                                          task_vars=task_vars)
        except Exception as exc:  # pylint: disable=broad-except  # the module's own run reports it
            return "interpreter discovery failed: %s" % exc
        if not _absolute(python):
            return "interpreter discovery found no Python"
        facts["discovered_interpreter_python"] = python
        task_vars.setdefault("ansible_facts", {})["discovered_interpreter_python"] = python
    return python, DIRECTORY, IDLE_SECONDS, facts


def _absolute(python):
    return isinstance(python, str) and python.startswith("/")


def _truth(value):
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "off", "0", "")
    return bool(value)


def execute_module(action, module_name, module_args, task_vars):
    """The module's result, from the target's warm worker when one of this code's version runs
    there, else from the module run the usual way (and a worker started for the next task).
    The result says which: ``worker`` is ``warm``, ``started`` or ``off (<why>)``."""
    found = settings(action, task_vars)
    if module_name.rsplit(".", 1)[-1] not in ROUTED:
        found = "the worker does not run %s (warm_client.ROUTED)" % module_name
    if isinstance(found, str):
        result = execute_module_without_files(action, module_name, module_args, task_vars)
        result["worker"] = "off (%s)" % found
        return result
    python, directory, idle, facts = found
    name = version(python)
    request = {"module": module_name, "args": module_args, "check_mode": bool(action._task.check_mode),
               "diff": bool(action._task.diff), "no_log": bool(action._play_context.no_log),
               "no_target_syslog": bool(C.DEFAULT_NO_TARGET_SYSLOG)}
    command = "%s %s -c %s %s %s" % (action._compute_environment_string(), shlex.quote(python),
                                     shlex.quote(CLIENT), shlex.quote(directory), name)
    answer = action._low_level_execute_command(command.strip(), in_data=json.dumps(request).encode("utf-8"),
                                               sudoable=True)
    if answer["rc"] == 0:
        result = json.loads(answer["stdout"])
        result["worker"] = "warm"
        return _with_facts(result, facts)
    if answer["rc"] == WORKER_LOST:
        raise SpinError("the spin worker on %s ended without an answer while it ran %s (%s). A task whose client "
                        "goes away ends as interrupted; run the playbook again to converge, or set spin_worker: "
                        "false to run the module without the worker"
                        % (task_vars.get("inventory_hostname"), module_name,
                           (answer.get("stderr") or "no output").strip()[-2000:]))
    # any other exit: the client found no worker, or did not run at all; no worker took the task
    result = execute_module_without_files(action, module_name, module_args, task_vars)
    started = action._low_level_execute_command(
        "%s -c %s %s %s %s" % (shlex.quote(python), shlex.quote(STARTER), shlex.quote(directory), name, idle),
        in_data=base64.b64encode(archive()), sudoable=True)
    if started["rc"] == 0:
        result["worker"] = "started"
    else:
        result["worker"] = "off (it did not start: %s)" % (started.get("stderr") or "").strip()[-500:]
    return _with_facts(result, facts)


def _with_facts(result, facts):
    if facts:
        result["ansible_facts"] = dict(result.get("ansible_facts") or {}, **facts)
    return result
