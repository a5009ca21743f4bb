# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_build on the controller: read and judge the tenant's submission as spin_stack does, pack
each build context into an archive, send the archives to the build node; the module builds there."""
from __future__ import annotations

import os
import shutil
import tempfile

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.modules.spin_build import argument_spec
from ansible_collections.spin.platform.plugins.plugin_utils import build_context
from ansible_collections.spin.platform.plugins.plugin_utils.action import SubmissionAction
from ansible_collections.spin.platform.plugins.plugin_utils.submission import problem_messages

MODULE = "spin.platform.spin_build"


class ActionModule(SubmissionAction):
    TRANSFERS_FILES = True
    _requires_connection = True
    CONTROLLER_PATHS = ("compose_file",)

    def argument_spec(self):
        return argument_spec()

    def submit(self, args, result, task_vars):
        local_dir = tempfile.mkdtemp(prefix="spin-build-")
        try:
            return self._build(args, result, task_vars, local_dir)
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _build(self, args, result, task_vars, local_dir):
        _model, facts, _tasks = self.check_submission(args)
        messages = problem_messages(facts["diagnostics"], facts["violations"])
        self.add_warnings(result, facts["diagnostics"])
        if messages:
            result.update({"failed": True, "refused": True, "changed": False, "messages": messages,
                           "msg": self.refusal(args, messages, ", nothing was built")})
            return result
        builds = facts["builds"]
        if not builds:
            result.update({"changed": False, "builds": [], "msg": "the stack builds no image"})
            return result
        submission_dir = os.path.dirname(facts["compose_path"])
        remote_tmp = self._make_tmp_path() if not self._task.check_mode else None
        items = []
        for service, planned in sorted(builds.items()):
            item = dict(planned, service=service, archive=None)
            if remote_tmp is not None:
                local = os.path.join(local_dir, "%s.tar" % service)
                with open(local, "wb") as out:
                    packed = build_context.pack(submission_dir, planned["build"], out=out,
                                                max_bytes=planned["max_bytes"])
                if packed["sha256"] != planned["archive_sha256"]:
                    raise SpinError("service '%s': the build context changed while it was read; run again" % service)
                item["archive"] = self._connection._shell.join_path(remote_tmp, "%s.tar" % service)
                self._transfer_file(local, item["archive"])
            items.append(item)
        if remote_tmp is not None:
            self._fixup_perms2([remote_tmp] + [item["archive"] for item in items])
        module_args = self.module_args(args)
        module_args.update({"compose_file": facts["compose_path"], "_builds": items})
        remote = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        return self.merge_module_result(result, remote)
