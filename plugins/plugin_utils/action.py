# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller half that the collection's action plugins share.

``SpinAction`` is the one place where a ``SpinError`` becomes the task's failure result, whichever
step raised it. ``SubmissionAction`` adds what every plugin that judges a tenant's submission
(spin_stack, spin_translate, spin_policy, spin_build) does before its own work: validate the task
against the argument spec, with the options that name the tenant's files resolved here on the
controller; fill the platform options from the inventory (refusing them from a tenant's vars file);
give the controller's one verdict (``check_submission``); and word a refusal the same way.
"""
from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import guard, submission_vars
from ansible_collections.spin.platform.plugins.plugin_utils.submission import (
    check_submission, locate, platform_defaults, warning_messages)

# keys of a module's result that stay out of the action's result
INTERNAL_KEYS = ("invocation", "_ansible_parsed")


class SpinAction(ActionBase):
    """Runs ``spin_run``; a SpinError from any step is the failure result the tenant reads."""

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(SpinAction, self).run(tmp, task_vars)
        del tmp
        try:
            return self.spin_run(result, task_vars)
        except SpinError as exc:
            result.update(exc.to_result())
            return result

    def spin_run(self, result, task_vars):
        """The plugin's work: update and return ``result``; raise SpinError for a failure."""
        raise NotImplementedError

    @staticmethod
    def merge_module_result(result, remote):
        """Add the module's result to the action's: its warnings after the action's own."""
        remote = dict(remote)
        if remote.get("warnings"):
            result.setdefault("warnings", []).extend(remote.pop("warnings"))
        result.update({k: v for k, v in remote.items() if k not in INTERNAL_KEYS})
        return result


class SubmissionAction(SpinAction):
    """Base of the action plugins that judge a tenant's submission on the controller."""

    # the options that name the tenant's files: read on the controller, so they are resolved here
    # (against the working directory, then the playbook's) and not by the module's 'path' type
    CONTROLLER_PATHS = ()

    def argument_spec(self):
        """The task's argument spec (usually the module's)."""
        raise NotImplementedError

    def spin_run(self, result, task_vars):
        # before anything of the task is looked at: extra vars that carry a tenant's vars file
        guard.refuse_tenant_extra_vars(self._loader)
        if not self._task.args.get("submission") and not self._task.args.get("tenant"):
            raise SpinError("no submission named: give the tenant's submission directory <root>/<tenant>/<stack>/ "
                            "(or the vars.yml in it), e.g.\n  %s" % guard.suggested_command(guard.cli_args_now()))
        spec = self.argument_spec()
        for option in self.CONTROLLER_PATHS:
            spec[option]["type"] = "str"
        # a submission path stands for the tenant, stack and files (submission_vars.OPTIONS)
        for option in ("tenant", "stack"):
            spec[option] = dict(spec[option], required=False)
        dummy, args = self.validate_argument_spec(argument_spec=spec)
        del dummy
        self._spec = spec
        platform_defaults(args, task_vars, self._templar)
        origin = {"run_by": guard.staff_user()}
        if args.get("submission"):
            given = sorted(o for o in submission_vars.OPTIONS if o in self._task.args)
            if given:
                raise SpinError("give either submission or %s, not both: the submission names the tenant, the "
                                "stack and its files" % ", ".join(given))
            resolved = submission_vars.resolve(self._locate(args["submission"]), args.get("submission_roots"),
                                               args.get("tenants"), need_files=args.get("state") != "absent")
            origin["submission"] = resolved.pop("_submission")
            args.update(resolved)
        elif not args.get("stack"):
            raise SpinError("missing required arguments: stack (or give submission)")
        self._origin = origin
        return self.submit(args, result, task_vars)

    def _locate(self, path):
        """A path the task gives, absolute or relative to the working directory, then the playbook's."""
        return locate(path, [os.getcwd(), self._loader.get_basedir()])

    def submit(self, args, result, task_vars):
        """The plugin's work on validated ``args`` with the platform options filled."""
        raise NotImplementedError

    def check_submission(self, args):
        """The controller's one verdict: ``(model, facts, tasks)`` (see submission.check_submission);
        ``facts["origin"]`` says where the submission came from and who runs the task (audit trail)."""
        model, facts, tasks = check_submission(args, [os.getcwd(), self._loader.get_basedir()])
        facts["origin"] = self._origin
        return model, facts, tasks

    def module_args(self, args):
        """The task's own options (not the private ones the action adds), for the module; the
        submission path stays here (the controller read it; the module gets what it stands for)."""
        return {k: v for k, v in args.items() if k in self._spec and not k.startswith("_") and k != "submission"}

    @staticmethod
    def add_warnings(result, diagnostics):
        """The diagnostics of severity 'warning' as the task's warnings."""
        warnings = warning_messages(diagnostics)
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        return warnings

    @staticmethod
    def refusal(args, messages, outcome=""):
        """The one wording of a refused submission; ``outcome`` says what was left undone."""
        return "stack '%s' of tenant '%s' is refused%s (%d problem(s)):\n%s" % (
            args["stack"], args["tenant"], outcome, len(messages), "\n".join(messages))
