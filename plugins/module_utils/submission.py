# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant's submission on the controller: find its files, read them inside the submission
directory only, parse them and run the policy rules that need nothing but the files.

Shared by the action plugins of spin_policy and spin_stack, so that the pre-flight and the deploy
judge a stack by the very same code.
"""
from __future__ import annotations

import os

from ansible_collections.spin.platform.plugins.module_utils import audit, compose, placement, policy
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError

# task option -> inventory variable it defaults to (infra staff's, never the tenant's)
PLATFORM_VARS = {"tenants": "spin_tenants", "global_fs_roots": "spin_global_fs_roots", "policy": "spin_policy",
                 "platform": "spin_platform", "global_fs": "spin_global_fs"}


def platform_defaults(args, task_vars, templar, loader):
    """Fill the platform options the task left out from the inventory variables, after refusing
    any that a tenant's vars file (extra vars) tried to set. Raises SpinError."""
    refuse_platform_vars_from_tenant(loader)
    for option, variable in PLATFORM_VARS.items():
        if args.get(option) is None and task_vars.get(variable) is not None:
            args[option] = templar.template(task_vars[variable])
    return args


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


def check_submission(args, bases):
    """Parse and check on the controller.

    Returns ``(model, facts)``: the stack model with the policy's defaults applied, and the facts
    the module on the manager needs as plain data (violations so far, diagnostics, replica
    counts, bind mounts, the input digest).
    """
    pol = policy.merge_policy({"spin_tenants": args.get("tenants"), "spin_policy": args.get("policy"),
                               "spin_global_fs_roots": args.get("global_fs_roots")})
    placement.check_filesystems(args.get("global_fs"))
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
    replicas = {name: ("global" if str((svc.get("deploy") or {}).get("mode") or "").startswith("global")
                       else policy.stack_replicas({"services": {name: svc}})[name])
                for name, svc in model["services"].items()}
    facts = {"compose_path": compose_path, "files": files, "violations": violations, "diagnostics": diagnostics,
             "error_count": sum(1 for d in diagnostics if d["severity"] == "error"),
             "replicas": replicas, "binds": policy.bind_mounts(model), "input_digest": audit.digest_files(seen)}
    return model, facts


def problem_messages(diagnostics, violations):
    """Every error a tenant must fix, one line each: parse errors first, then policy violations."""
    errors = [compose.format_diagnostic(d) for d in diagnostics if d["severity"] == "error"]
    return errors + [policy.format_violation(v) for v in violations]


PLATFORM_ONLY_VARS = tuple(PLATFORM_VARS.values())


def refuse_platform_vars_from_tenant(loader):
    """Extra vars (``-e @vars.yml``, the tenant's file) outrank the inventory: a tenant could give
    itself another uid, roots or policy. Refuse any platform variable that arrives that way."""
    from ansible.utils.vars import load_extra_vars

    given = sorted(name for name in load_extra_vars(loader) if name in PLATFORM_ONLY_VARS
                   or name.startswith("spin_lb_"))
    if given:
        raise SpinError("the extra vars (the tenant's vars file) set %s: only infra staff set these, in the "
                        "inventory. Remove them from the vars file." % ", ".join(given))
