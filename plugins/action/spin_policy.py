# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_policy on the controller: read the tenant's files inside the submission directory, parse
them, run the policy over the model; then let the module check what only a manager knows
(ownership, quota over the tenant's other stacks, symbolic links, the engine's no-new-privileges)."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.modules.spin_policy import argument_spec
from ansible_collections.spin.platform.plugins.plugin_utils.action import SubmissionAction
from ansible_collections.spin.platform.plugins.plugin_utils.submission import problem_messages

MODULE = "spin.platform.spin_policy"


class ActionModule(SubmissionAction):
    TRANSFERS_FILES = False
    _requires_connection = True
    CONTROLLER_PATHS = ("compose_file",)

    def argument_spec(self):
        return argument_spec()

    def submit(self, args, result, task_vars):
        controller = self.check_submission(args)[1]
        module_args = self.module_args(args)
        module_args["compose_file"] = controller.pop("compose_path")
        module_args["_controller"] = controller
        remote = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        if remote.get("failed"):
            result.update(remote)
            return result
        diagnostics = controller["diagnostics"]
        violations = remote["violations"]
        messages = problem_messages(diagnostics, violations)
        self.merge_module_result(result, remote)
        result.update({"changed": False, "allowed": not messages, "violations": violations, "messages": messages,
                       "diagnostics": diagnostics})
        self.add_warnings(result, diagnostics)
        if messages and args["fail_on_violation"]:
            result["failed"] = True
            result["msg"] = self.refusal(args, messages)
        return result
