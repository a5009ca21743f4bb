# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_translate: the translation spin_stack would apply, written as a reviewable task file."""
from __future__ import annotations

import os

from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import submission_argument_spec
from ansible_collections.spin.platform.plugins.plugin_utils import translate
from ansible_collections.spin.platform.plugins.plugin_utils.action import SubmissionAction
from ansible_collections.spin.platform.plugins.plugin_utils.submission import problem_messages, warning_messages

SPEC = dict(submission_argument_spec(), **{
    "compose_file": {"type": "path"},
    "lb_platform": {"type": "dict"},
    "dest": {"type": "path"},
    "tenants": {"type": "dict"},
    "global_fs_roots": {"type": "list", "elements": "str"},
    "global_fs": {"type": "dict"},
    "policy": {"type": "dict"},
    "platform": {"type": "dict"},
})


class ActionModule(SubmissionAction):
    TRANSFERS_FILES = False
    _requires_connection = False

    def argument_spec(self):
        return dict((k, dict(v)) for k, v in SPEC.items())

    def submit(self, args, result, task_vars):
        text, tasks, diagnostics = self._translate(args)
        self.add_warnings(result, diagnostics)
        dest = os.path.abspath(os.path.expanduser(args["dest"] or "%s.tasks.yml" % args["stack"]))
        before = None
        if os.path.exists(dest):
            with open(dest) as handle:
                before = handle.read()
        result.update({"changed": before != text, "dest": dest, "tenant": args["tenant"], "stack": args["stack"],
                       "tasks": dict(tasks, secrets=[translate.redacted(s) for s in tasks["secrets"]])})
        if self._task.diff and result["changed"]:
            result["diff"] = {"before": before or "", "after": text, "before_header": dest, "after_header": dest}
        if result["changed"] and not self._task.check_mode:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as handle:
                handle.write(to_bytes(text))
        return result

    def _translate(self, args):
        _model, facts, tasks = self.check_submission(args)
        messages = problem_messages(facts["diagnostics"], facts["violations"])
        if messages:
            warnings = warning_messages(facts["diagnostics"])
            raise SpinError(self.refusal(args, messages), diagnostics=facts["diagnostics"],
                            violations=facts["violations"], messages=messages,
                            **({"warnings": warnings} if warnings else {}))
        return (translate.render_task_file(tasks, args["tenant"], args["stack"], facts["inactive"]), tasks,
                facts["diagnostics"])
