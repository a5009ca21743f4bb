# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module whose arguments hold secrets without writing them to a file on the target.

Without pipelining Ansible copies each module, with its arguments, into a file in the target's
remote temp directory and removes it afterwards; a run that is killed meanwhile leaves the file
behind. With pipelining the module and its arguments go through the connection's stdin and never
touch the disk (the module's own code is unpacked into the system temp directory, but not its
arguments). So these action plugins turn pipelining on for their own module call where the
connection can do it, and warn where it cannot.
"""
from __future__ import annotations

from ansible import constants as C

WARNING = ("%s: the connection cannot pipeline (%s), so the module's arguments, secrets included, were written to a "
           "file in the remote temp directory for the length of the run. Allow pipelining (ansible.cfg [connection] "
           "pipelining = True; with become, no 'requiretty' in sudoers) so that they never touch the disk.")


def _why_not(connection):
    if C.DEFAULT_KEEP_REMOTE_FILES:
        return "ANSIBLE_KEEP_REMOTE_FILES is set"
    if not getattr(connection, "has_pipelining", False):
        return "connection plugin %s has no pipelining" % getattr(connection, "transport", "?")
    become = getattr(connection, "become", None)
    if become is not None and not getattr(become, "pipelining", True):
        return "become method %s cannot pipeline" % getattr(become, "name", "?")
    return None


def _pipelining_enabled(action):
    # Connection.is_pipelining_enabled arrived in ansible-core 2.18; 2.17 asks the action plugin.
    ask = getattr(action._connection, "is_pipelining_enabled", None)
    if callable(ask):
        return ask()
    return action._is_pipelining_enabled("new")


def execute_module_without_files(action, module_name, module_args, task_vars):
    """``action._execute_module`` with pipelining on for this call; -> the module's result (with a
    warning added when the connection cannot pipeline)."""
    connection = action._connection
    if _pipelining_enabled(action):
        return action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
    why = _why_not(connection)
    previous = None
    if why is None:
        try:
            previous = connection.get_option("pipelining")
        except KeyError:
            why = "connection plugin %s has no pipelining option" % getattr(connection, "transport", "?")
    if why is not None:
        result = action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        result.setdefault("warnings", []).append(WARNING % (module_name, why))
        return result
    connection.set_option("pipelining", True)
    try:
        return action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
    finally:
        connection.set_option("pipelining", previous)
