# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_converge on the controller: find every tenant's submissions, judge each stack with spin_stack's
own action plugin (the very code ``playbooks/deploy.yml`` runs, in this one process), send every
stack's module arguments to the manager in one task, and word each stack's result as its deploy
would. A stack that fails (on the controller or on the manager) is that stack's failure only."""
from __future__ import annotations

import os
import time

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.modules.spin_converge import argument_spec
from ansible_collections.spin.platform.plugins.plugin_utils import guard, submission_tree
from ansible_collections.spin.platform.plugins.plugin_utils.action import SpinAction
from ansible_collections.spin.platform.plugins.plugin_utils.submission import platform_defaults
from ansible_collections.spin.platform.plugins.plugin_utils.warm_client import execute_module

MODULE = "spin.platform.spin_converge"
STACK_ACTION = "spin.platform.spin_stack"
# the converge's options that every stack's spin_stack task takes as they are
STACK_OPTIONS = ("public_host", "build", "wait", "wait_timeout", "audit_log", "lb", "global_fs_roots", "global_fs",
                 "policy", "platform", "lb_platform", "tenants", "submission_roots", "daemon_json", "docker_host",
                 "timeout")
# what each stack's entry of the result keeps of spin_stack's (the rest: run deploy.yml -v for one stack)
KEPT = ("tenant", "stack", "submission", "changed", "failed", "msg", "messages", "summary", "report", "urls", "audit",
        "diff", "build", "seconds")


def submissions(roots, tenants, only=None):
    """-> ([submission directory, ...], [skipped directory, ...]): ``<root>/<tenant>/<stack>/`` of every
    registry tenant (of ``only``, when given), sorted by root, tenant, stack. Whose a directory is stays
    for spin_stack to establish (its owner); a directory of the root that is no registry tenant's name is
    skipped unread."""
    found, skipped = [], []
    for root in roots if roots is not None else submission_tree.DEFAULT_ROOTS:
        try:
            names = sorted(os.listdir(root))
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SpinError("cannot list the submission root %s: %s" % (root, exc.strerror or exc))
        for name in names:
            tenant_dir = os.path.join(root, name)
            if not os.path.isdir(tenant_dir) or (only and name not in only):
                continue
            if name not in (tenants or {}):
                skipped.append(tenant_dir)
                continue
            try:
                stacks = sorted(os.listdir(tenant_dir))
            except OSError as exc:
                raise SpinError("cannot list tenant '%s''s directory %s: %s" % (name, tenant_dir, exc.strerror or exc))
            found += [os.path.join(tenant_dir, s) for s in stacks if os.path.isdir(os.path.join(tenant_dir, s))]
    return found, skipped


def shared_arguments(stacks):
    """-> (common, [per stack]): the arguments equal in every stack's module arguments, sent once."""
    if not stacks:
        return {}, []
    common = {k: v for k, v in stacks[0].items()
              if not k.startswith("_") and k not in ("tenant", "stack") and all(s.get(k) == v for s in stacks[1:])}
    return common, [{k: v for k, v in s.items() if k not in common} for s in stacks]


class ActionModule(SpinAction):
    TRANSFERS_FILES = False
    _requires_connection = True

    def spin_run(self, result, task_vars):
        guard.refuse_tenant_extra_vars(self._loader)
        dummy, args = self.validate_argument_spec(argument_spec=argument_spec())
        del dummy
        given = {k: args[k] for k in STACK_OPTIONS if k in self._task.args}
        platform_defaults(args, task_vars, self._templar)
        found, skipped = submissions(args.get("submission_roots"), args.get("tenants"), args.get("only"))
        unknown = sorted(set(args.get("only") or ()) - set(args.get("tenants") or {}))
        if unknown:
            raise SpinError("only names %s, which the tenant registry (spin_tenants) does not have"
                            % ", ".join(unknown))
        entries, pending, alone = [], [], []
        began = time.monotonic()
        for path in found:
            action = self._stack_action(dict(given, submission=path))
            collected = []
            action.collector = lambda module_args, context, into=collected: into.append((module_args, context))
            stack_result = action.run(task_vars=task_vars)
            entry = {"submission": path, "result": stack_result}
            entries.append(entry)
            if stack_result.get("_alone"):
                alone.append(entry)
            elif collected:
                entry.update(action=action, module_args=collected[0][0], context=collected[0][1])
                pending.append(entry)
        judged = time.monotonic()
        try:
            remote = self._converge(args, pending, task_vars) if pending else {"stacks": []}
        finally:
            for entry in pending:
                entry["action"].cleanup()
        sent = time.monotonic()
        for entry, stack_remote in zip(pending, remote.get("stacks") or []):
            entry["result"] = entry["action"].conclude(entry["result"], stack_remote, entry["context"])
        # stacks that build: by themselves, after the others, as deploy.yml deploys them (images first)
        for entry in alone:
            entry["result"] = self._stack_action(dict(given, submission=entry["submission"])).run(task_vars=task_vars)
        result = self._report(result, entries, remote, skipped)
        # where the time went: judging on the controller, the manager's task (its own part in "manager"), the rest
        result["seconds"] = {"controller": round(judged - began, 3), "manager_task": round(sent - judged, 3),
                             "manager": remote.get("seconds"), "after": round(time.monotonic() - sent, 3)}
        return result

    def _stack_action(self, task_args):
        task = self._task.copy()
        task.args = task_args
        return self._shared_loader_obj.action_loader.get(
            STACK_ACTION, task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)

    def _converge(self, args, pending, task_vars):
        """Every pending stack's module run in one task on the manager -> the module's result."""
        stacks, secrets = [], {}
        for index, entry in enumerate(pending):
            module_args = dict(entry["module_args"])
            sensitive = module_args.pop("_sensitive", None)
            if sensitive:
                secrets[str(index)] = sensitive
            stacks.append(module_args)
        common, stacks = shared_arguments(stacks)
        module_args = {"_stacks": stacks, "_common": common, "_sensitive": secrets, "parallel": args["parallel"],
                       "lb": args["lb"], "lb_platform": dict(args.get("lb_platform") or {}),
                       "docker_host": args["docker_host"], "timeout": args["timeout"]}
        # the deploy only checks a candidate config; the stats password never travels to the manager
        module_args["lb_platform"].pop("stats_password", None)
        remote = execute_module(self, MODULE, module_args, task_vars)
        if len(remote.get("stacks") or []) != len(pending):
            # the module failed as a whole (its arguments, the worker): every pending stack failed with it
            message = remote.get("msg") or "the converge on the manager gave no result"
            remote["stacks"] = [{"failed": True, "msg": message} for dummy in pending]
            remote["whole"] = True
        return remote

    def _report(self, result, entries, remote, skipped):
        stacks, failed, changed = [], [], []
        for entry in entries:
            res = entry["result"]
            name = "%s/%s" % (res.get("tenant") or os.path.basename(os.path.dirname(entry["submission"])),
                              res.get("stack") or os.path.basename(entry["submission"]))
            kept = {k: res[k] for k in KEPT if k in res}
            kept["submission"] = entry["submission"]
            stacks.append(kept)
            for warning in res.get("warnings") or []:
                result.setdefault("warnings", []).append("%s: %s" % (name, warning))
            if res.get("failed"):
                failed.append((name, res.get("msg") or "failed"))
            elif res.get("changed"):
                changed.append(name)
        result.update({"stacks": stacks, "failed_stacks": [n for n, dummy in failed], "changed_stacks": changed,
                       "skipped_directories": skipped, "changed": bool(changed) or bool(remote.get("changed")),
                       "worker": remote.get("worker")})
        for key in ("edge", "ansible_facts"):
            if key in remote:
                result[key] = remote[key]
        problems = ["%s: %s" % item for item in failed]
        if remote.get("failed") and not remote.get("whole"):
            # every stack ran; what failed after them is the edge's one sync
            problems.append(remote.get("msg") or "the converge failed after the stacks")
        result["converged"] = not problems
        if problems:
            result["failed"] = True
            result["msg"] = "%d of %d stack(s) did not converge%s:\n%s" % (
                len(failed), len(entries), " and the edge failed" if len(problems) > len(failed) else "",
                "\n".join(problems))
        return result
