# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_stack on the controller: read the tenant's files inside the submission directory, parse,
check and translate them; the module on a manager checks what only the swarm knows and
reconciles. Every problem the tenant must fix is reported at once, in one message."""
from __future__ import annotations

import os
import shutil
import tempfile

from ansible_collections.spin.platform.plugins.module_utils.common import sensitive
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.modules.spin_stack import argument_spec
from ansible_collections.spin.platform.plugins.plugin_utils import bind_content, submission_tree
from ansible_collections.spin.platform.plugins.plugin_utils.action import SubmissionAction
from ansible_collections.spin.platform.plugins.plugin_utils.submission import health_checks, problem_messages
from ansible_collections.spin.platform.plugins.plugin_utils.warm_client import execute_module

MODULE = "spin.platform.spin_stack"
# the options of spin_stack that spin_build takes too (build: true hands them on)
BUILD_OPTIONS = ("submission", "tenant", "stack", "compose_file", "compose_override_files", "rancher_compose_file",
                 "variables", "profiles", "submission_roots", "tenants", "global_fs_roots", "global_fs", "policy", "platform", "lb_platform",
                 "docker_host", "timeout")


class ActionModule(SubmissionAction):
    TRANSFERS_FILES = False
    _requires_connection = True
    CONTROLLER_PATHS = ("compose_file", "rancher_compose_file")

    def argument_spec(self):
        return argument_spec()

    # spin_converge sets it: a callable that takes the module's arguments instead of running the module here
    # (the converge runs every stack's module in one go), see ``collect`` and ``conclude``
    collector = None

    def submit(self, args, result, task_vars):
        local_dir, self._bind_tmp = tempfile.mkdtemp(prefix="spin-binds-"), None
        try:
            return self._submit(args, result, task_vars, local_dir)
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
            if self.collector is None:
                self.cleanup()

    def cleanup(self):
        """The bind store's archive on the manager, once the module has read it."""
        if getattr(self, "_bind_tmp", None) is not None:
            self._remove_tmp_path(self._bind_tmp)
            self._bind_tmp = None

    def _send_bind_store(self, tasks, local_dir):
        """The directories the stack's relative bind mounts hand over, packed once more (and checked to be
        what the verdict read) and sent to the manager for the bind store. -> the archive's path there."""
        store = (tasks or {}).get("bind_store")
        if not store or self._task.check_mode:
            return None
        local = os.path.join(local_dir, "binds.tar")
        with open(local, "wb") as out:
            bind_content.pack(self._submission_dir, store["entries"], out, self._tree)
        self._bind_tmp = self._make_tmp_path()
        remote = self._connection._shell.join_path(self._bind_tmp, "binds.tar")
        self._transfer_file(local, remote)
        self._fixup_perms2([self._bind_tmp, remote])
        return remote

    def _submit(self, args, result, task_vars, local_dir):
        controller, tasks, diagnostics = self._controller_part(args)
        result.update({"tenant": args["tenant"], "stack": args["stack"]})
        # the deploy only checks a candidate config (any password does); the edge nodes' own
        # spin_lb run writes the real one: the stats password does not travel to the manager
        (args.get("lb_platform") or {}).pop("stats_password", None)
        builds = len(controller.get("builds") or {}) if tasks is not None else 0
        if args["verdict_only"] and tasks is not None and not builds:
            # nothing is built before the deploy, which judges the stack itself
            result.update({"changed": False, "verdict": "allowed", "builds": 0})
            self.add_warnings(result, diagnostics)
            return result
        module_args = self.module_args(args)
        # secret contents and passwords travel in _sensitive (no_log), never in a file on the manager
        tasks, secret_values = sensitive.detach(tasks) if tasks is not None else (None, {})
        module_args.update({"compose_file": None, "compose_override_files": [], "rancher_compose_file": None,
                            "variables": {},
                            "_controller": controller, "_tasks": tasks, "_sensitive": secret_values})
        if not args["verdict_only"]:
            module_args["_bind_archive"] = self._send_bind_store(tasks, local_dir)

        built_changed = False
        if self.collector is not None:
            if args.get("build") and builds:
                # images first, in the deploy's own order: spin_converge runs this stack's task by itself
                result["_alone"] = True
                return result
            self.collector(module_args, (args, diagnostics))
            return result
        if args.get("build") and builds and not args["verdict_only"]:
            # the whole verdict (the manager's too) before anything is built: a refused stack builds nothing
            verdict = execute_module(self, MODULE, dict(module_args, verdict_only=True), task_vars)
            if verdict.get("failed"):
                return self._finish(args, result, verdict, diagnostics, ", nothing was built or changed")
            built = self._build_first(task_vars)
            result["build"] = built
            if built.get("failed"):
                result.update({k: built[k] for k in ("failed", "msg") if k in built})
                return result
            built_changed = bool(built.get("changed"))

        remote = execute_module(self, MODULE, module_args, task_vars)
        return self.conclude(result, remote, (args, diagnostics), built_changed)

    def conclude(self, result, remote, context, built_changed=False):
        """The module's result for this stack -> the task's: a refusal worded for the tenant, the report.
        ``context``: what ``collector`` was given with the module's arguments."""
        args, diagnostics = context
        outcome = ", nothing was built or changed" if args["verdict_only"] else ", nothing was changed"
        self._finish(args, result, remote, diagnostics, outcome)
        result["changed"] = bool(result.get("changed")) or built_changed
        if args["state"] == "present" and not result.get("failed") and not args["verdict_only"]:
            result["report"] = report(args, result)
        return result

    def _finish(self, args, result, remote, diagnostics, outcome):
        """The module's result merged into the action's, a refusal worded once for the tenant."""
        self.add_warnings(result, diagnostics)
        if remote.get("refused"):
            messages = problem_messages(diagnostics, remote.get("violations") or [])
            remote["msg"] = self.refusal(args, messages, outcome)
            remote["messages"] = messages
            remote["diagnostics"] = diagnostics
        return self.merge_module_result(result, remote)

    def _build_first(self, task_vars):
        """The stack's images, built on this host by spin_build's own action plugin (over this
        task's connection), before the deploy: one task instead of two, and a stack that builds
        nothing never gets here. -> spin_build's result."""
        task = self._task.copy()
        task.args = {k: v for k, v in self._task.args.items() if k in BUILD_OPTIONS}
        action = self._shared_loader_obj.action_loader.get(
            "spin.platform.spin_build", task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        return action.run(task_vars=task_vars)

    def _controller_part(self, args):
        """-> (facts for the module, translated tasks or None when refused, diagnostics)."""
        if args["state"] == "absent":
            return {"origin": self._origin}, None, []
        if not args.get("compose_file"):
            raise SpinError("state=present needs compose_file: the tenant's docker-compose.yml")
        model, facts, tasks = self.check_submission(args)
        diagnostics = facts.pop("diagnostics")
        compose_path = facts.pop("compose_path")
        self._submission_dir = os.path.dirname(compose_path)
        # the bind store's archive is read as the verdict's files were: the tenant's own only
        self._tree = submission_tree.locate(compose_path, args.get("submission_roots"), args.get("tenants"),
                                            "compose_file", follow=True)
        facts.pop("inactive", None)
        if tasks is not None:
            # what the edge load balancer needs besides the endpoints (rancher-compose lb_config
            # and health_check), for spin_stack to plan the stack's routes before it creates anything
            tasks["load_balancers"] = model["load_balancers"]
            tasks["health_checks"] = health_checks(model)
            tasks["files"] = facts["files"]
        return facts, tasks, diagnostics


def report(args, result):
    """The lines a person reads after a deploy: what changed, what was built, the URLs, and where
    a generated root password is kept (never the password)."""
    summary = result.get("summary") or {}
    counts = ", ".join("%d %s" % (len(summary.get("services_" + key) or []), key)
                       for key in ("created", "updated", "removed", "unchanged"))
    lines = ["Stack %s of tenant %s: %s." % (args["stack"], args["tenant"], counts)]
    lines += (result.get("build") or {}).get("summary") or []
    lines += result.get("urls") or []
    lines += [item["text"] for item in result.get("generated") or []]
    return lines
