# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_secret on the controller: read ``data_file`` here, where the tenant's submission lives (as
spin_stack reads it), so that a secret's content never lies in a file on the manager. The module
gets the content as ``data``, which it never logs."""
from __future__ import annotations

import os

from ansible.errors import AnsibleError

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import (
    data_from_file, is_reviewed_content, parse_redacted)
from ansible_collections.spin.platform.plugins.plugin_utils.action import SpinAction
from ansible_collections.spin.platform.plugins.plugin_utils.no_files import execute_module_without_files

MODULE = "spin.platform.spin_secret"


class ActionModule(SpinAction):
    TRANSFERS_FILES = False

    def spin_run(self, result, task_vars):
        args = dict(self._task.args)
        path = args.pop("data_file", None)
        # a generated secret (generate: true) has no content to read
        if path is not None and args.get("state") != "absent" and not args.get("generate"):
            found = self._find(path)
            data, name = args.get("data"), args.get("name")
            if os.path.isdir(found):
                # a directory (module_defaults) only finds reviewed content; given content is used as it is
                found = None if data is not None and parse_redacted(data) is None else \
                    self._reviewed_file(found, data, name)
            if found is not None:
                args["data"] = data_from_file(self._read(found), data, name, found)
        result.update(execute_module_without_files(self, MODULE, args, task_vars))
        return result

    def _find(self, path):
        """Absolute; else relative to the working directory (like the paths of a tenant's vars file);
        else where Ansible looks for a task's files (the role's or playbook's files/ and directory)."""
        path = os.path.expanduser(str(path))
        if os.path.isabs(path) or os.path.exists(path):
            return os.path.abspath(path)
        try:
            return self._find_needle("files", path)
        except AnsibleError:
            raise SpinError("data_file %s was found neither in %s nor beside the playbook or role (it is read on the "
                            "controller): give its absolute path" % (path, os.getcwd()))

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise SpinError("cannot read data_file %s on the controller: %s" % (path, exc.strerror or exc))

    @staticmethod
    def _reviewed_file(directory, data, name):
        """The file under ``directory`` whose bytes are the reviewed ones, so that one setting (the
        tenant's submission directory) serves every secret of an unchanged review file."""
        marker = parse_redacted(data)
        if marker is None:
            raise SpinError("secret '%s': data_file %s is a directory, which is searched only for the content that "
                            "the review file's data names (<redacted: N bytes>): give a file, or data"
                            % (name, directory))
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for candidate in sorted(os.path.join(root, f) for f in files):
                try:
                    if os.path.isfile(candidate) and os.path.getsize(candidate) == marker[0]:
                        with open(candidate, "rb") as handle:
                            if is_reviewed_content(handle.read(), marker, name):
                                return candidate
                except OSError:
                    continue
        raise SpinError("secret '%s': no file under %s has the reviewed content (%d bytes, the content the secret's "
                        "name was made from). Give the tenant's secret file as data_file; a secret that comes from a "
                        "variable (compose 'environment:') needs data: \"{{ <variable> | b64encode }}\" instead"
                        % (name, directory, marker[0]))
