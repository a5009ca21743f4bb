# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_policy on the controller: read the tenant's files inside the submission directory, parse
them, run the policy over the model; then let the module check what only a manager knows
(ownership, quota over the tenant's other stacks, symbolic links, the engine's no-new-privileges)."""
from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.submission import (check_submission, platform_defaults,
                                                                               problem_messages)
from ansible_collections.spin.platform.plugins.modules.spin_policy import argument_spec

MODULE = "spin.platform.spin_policy"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        spec = argument_spec()
        spec["compose_file"]["type"] = "str"  # resolved below, against the working directory
        validation, args = self.validate_argument_spec(argument_spec=spec)
        try:
            platform_defaults(args, task_vars, self._templar, self._loader)
            controller = check_submission(args, [os.getcwd(), self._loader.get_basedir()])[1]
        except SpinError as exc:
            result.update(exc.to_result())
            return result
        module_args = {k: v for k, v in args.items() if k in spec and not k.startswith("_")}
        module_args["compose_file"] = controller.pop("compose_path")
        module_args["_controller"] = controller
        remote = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        if remote.get("failed"):
            result.update(remote)
            return result
        diagnostics = controller["diagnostics"]
        violations = remote["violations"]
        messages = problem_messages(diagnostics, violations)
        result.update({k: v for k, v in remote.items() if k not in ("invocation", "_ansible_parsed")})
        result.update({"changed": False, "allowed": not messages, "violations": violations, "messages": messages,
                       "diagnostics": diagnostics})
        warnings = [compose.format_diagnostic(d) for d in diagnostics if d["severity"] == "warning"]
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        if messages and args["fail_on_violation"]:
            result["failed"] = True
            result["msg"] = "stack '%s' of tenant '%s' is refused (%d problem(s)):\n%s" % (
                args["stack"], args["tenant"], len(messages), "\n".join(messages))
        return result
