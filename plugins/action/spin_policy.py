# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_policy on the controller: read the tenant's files inside the submission directory, parse
them, run the policy over the model; then let the module check what only a manager knows
(ownership, quota over the tenant's other stacks, symbolic links, the engine's no-new-privileges)."""
from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.spin.platform.plugins.module_utils import audit, compose, policy
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError
from ansible_collections.spin.platform.plugins.modules.spin_policy import argument_spec

MODULE = "spin.platform.spin_policy"
# task option -> inventory variable it defaults to
PLATFORM_VARS = {"tenants": "spin_tenants", "global_fs_roots": "spin_global_fs_roots", "policy": "spin_policy"}


def locate(path, bases):
    """An absolute path, or the first of ``bases`` joined with ``path`` that exists."""
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return path
    candidates = [os.path.join(base, path) for base in bases if base]
    for candidate in candidates:
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    return os.path.abspath(candidates[0]) if candidates else os.path.abspath(path)


def read_submission(compose_path, rancher_path):
    """Read the compose files inside the submission directory (the compose file's directory).

    Returns ``(texts, names, reader, seen)``: texts by role, the names the tenant reads in
    messages (relative to the submission directory), the confined reader for the files the
    compose files name, and ``seen`` ({name: text} of every file read, for the digest).
    """
    base = os.path.dirname(compose_path)
    inner = compose.make_dir_reader(base)
    seen = {}

    def reader(relpath):
        text = inner(relpath)
        seen[os.path.normpath(relpath)] = text
        return text

    if not os.path.isfile(compose_path):
        raise SpinError("compose_file %s does not exist (or is not a file)" % compose_path)
    names = {"compose": os.path.basename(compose_path), "rancher": None}
    texts = {"compose": reader(names["compose"]), "rancher": None}
    if rancher_path:
        relative = os.path.relpath(rancher_path, base)
        if relative.startswith(".." + os.sep) or relative == "..":
            raise SpinError("rancher_compose_file %s is outside the submission directory %s: put it next to %s"
                            % (rancher_path, base, names["compose"]))
        names["rancher"] = os.path.normpath(relative)
        texts["rancher"] = reader(names["rancher"])
    return texts, names, reader, seen


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
        for option, variable in PLATFORM_VARS.items():
            if args.get(option) is None and task_vars.get(variable) is not None:
                args[option] = self._templar.template(task_vars[variable])
        try:
            controller = self._controller_checks(args)
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
        errors = [compose.format_diagnostic(d) for d in diagnostics if d["severity"] == "error"]
        messages = errors + [policy.format_violation(v) for v in violations]
        result.update({k: v for k, v in remote.items() if k not in ("invocation", "_ansible_parsed")})
        result.update({"changed": False, "allowed": not messages, "violations": violations, "messages": messages,
                       "diagnostics": diagnostics})
        if messages and args["fail_on_violation"]:
            result["failed"] = True
            result["msg"] = "stack '%s' of tenant '%s' is refused (%d problem(s)):\n%s" % (
                args["stack"], args["tenant"], len(messages), "\n".join(messages))
        return result

    def _controller_checks(self, args):
        """Parse and check on the controller; the facts the module needs, as plain data."""
        pol = policy.merge_policy({"spin_tenants": args.get("tenants"), "spin_policy": args.get("policy"),
                                   "spin_global_fs_roots": args.get("global_fs_roots")})
        bases = [os.getcwd(), self._loader.get_basedir()]
        compose_path = locate(args["compose_file"], bases)
        rancher_path = locate(args["rancher_compose_file"], bases) if args.get("rancher_compose_file") else None
        texts, names, reader, seen = read_submission(compose_path, rancher_path)
        model, diagnostics = compose.parse_stack(texts["compose"], names["compose"], texts["rancher"],
                                                 names["rancher"], read_file=reader, env=args.get("variables") or {})
        tenant, stack = args["tenant"], args["stack"]
        entry = pol["tenants"].get(tenant)
        model = policy.apply_policy_defaults(model, tenant, entry, pol)
        files = {"compose": names["compose"], "rancher": names["rancher"]}
        # the quota needs the tenant's other stacks: the module checks it with the full count
        violations = policy.evaluate(model, tenant, entry, pol, files=files, stack=stack, skip=("replica-quota",))
        replicas = {name: ("global" if (svc.get("deploy") or {}).get("mode") == "global"
                           else policy.stack_replicas({"services": {name: svc}})[name])
                    for name, svc in model["services"].items()}
        return {"compose_path": compose_path, "files": files, "violations": violations, "diagnostics": diagnostics,
                "error_count": sum(1 for d in diagnostics if d["severity"] == "error"),
                "replicas": replicas, "binds": policy.bind_mounts(model), "input_digest": audit.digest_files(seen)}
