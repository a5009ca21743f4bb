# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_build on the controller: read and judge the tenant's submission as spin_stack does, pack
each build context into an archive, send the archives to the build node; the module builds there."""
from __future__ import annotations

import os
import shutil
import tempfile

from ansible.plugins.action import ActionBase

from ansible_collections.spin.platform.plugins.plugin_utils import build_context, compose
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.submission import (check_submission, platform_defaults,
                                                                               problem_messages)
from ansible_collections.spin.platform.plugins.modules.spin_build import argument_spec

MODULE = "spin.platform.spin_build"


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        spec = argument_spec()
        spec["compose_file"]["type"] = "str"  # resolved below, against the working directory
        validation, args = self.validate_argument_spec(argument_spec=spec)
        local_dir = tempfile.mkdtemp(prefix="spin-build-")
        try:
            try:
                platform_defaults(args, task_vars, self._templar, self._loader)
                _model, facts, _tasks = check_submission(args, [os.getcwd(), self._loader.get_basedir()])
            except SpinError as exc:
                result.update(exc.to_result())
                return result
            messages = problem_messages(facts["diagnostics"], facts["violations"])
            warnings = [compose.format_diagnostic(d) for d in facts["diagnostics"] if d["severity"] == "warning"]
            if warnings:
                result["warnings"] = warnings
            if messages:
                result.update({"failed": True, "refused": True, "changed": False, "messages": messages,
                               "msg": "stack '%s' of tenant '%s' is refused, nothing was built (%d problem(s)):\n%s"
                                      % (args["stack"], args["tenant"], len(messages), "\n".join(messages))})
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
                        raise SpinError("service '%s': the build context changed while it was read; run again"
                                        % service)
                    item["archive"] = self._connection._shell.join_path(remote_tmp, "%s.tar" % service)
                    self._transfer_file(local, item["archive"])
                items.append(item)
            if remote_tmp is not None:
                self._fixup_perms2([remote_tmp] + [item["archive"] for item in items])
            module_args = {k: v for k, v in args.items() if k in spec and not k.startswith("_")}
            module_args.update({"compose_file": facts["compose_path"], "_builds": items})
            remote = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
            if remote.get("warnings"):
                result.setdefault("warnings", []).extend(remote.pop("warnings"))
            result.update({k: v for k, v in remote.items() if k not in ("invocation", "_ansible_parsed")})
            return result
        except SpinError as exc:
            result.update(exc.to_result())
            return result
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
