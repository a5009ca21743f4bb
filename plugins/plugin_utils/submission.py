# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant's submission on the controller: find its files inside the submission roots, read
them inside the submission directory only, and judge them once: parse, policy, the load
balancer's rules and the translation.

Shared by the action plugins of spin_policy, spin_translate and spin_stack, so that the
pre-flight, the review file and the deploy give one verdict, from the very same code. The manager
then checks only what needs the swarm (ownership, claims, quota, the engine).
"""
from __future__ import annotations

import os

from ansible_collections.spin.platform.plugins.module_utils.build import build
from ansible_collections.spin.platform.plugins.module_utils.common import sensitive
from ansible_collections.spin.platform.plugins.module_utils.edge import allowance, haproxy
from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
from ansible_collections.spin.platform.plugins.module_utils.policy import placement, policy
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults
from ansible_collections.spin.platform.plugins.module_utils.stack import bind_store
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_facts, policy_settings
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.diagnostics import messages as diagnostics_messages
from ansible_collections.spin.platform.plugins.plugin_utils import (
    bind_content, build_context, compose, compose_text, submission_tree, translate)
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

# task option -> inventory variable it defaults to (infra staff's, never the tenant's)
PLATFORM_VARS = {"tenants": "spin_tenants", "global_fs_roots": "spin_global_fs_roots", "policy": "spin_policy",
                 "platform": "spin_platform", "global_fs": "spin_global_fs",
                 "submission_roots": "spin_submission_roots"}
DOTENV = ".env"


def platform_defaults(args, task_vars, templar):
    """Fill the platform options the task left out from the inventory variables (extra vars that
    set any are refused before: ``guard``); ``lb_platform`` gets the edge's ``spin_lb_*``
    variables (the controller checks the load balancer rules too)."""
    for option, variable in PLATFORM_VARS.items():
        if args.get(option) is None and task_vars.get(variable) is not None:
            args[option] = templar.template(task_vars[variable])
    lb_platform = haproxy.platform_from_vars(task_vars, templar.template)
    lb_platform.update(args.get("lb_platform") or {})
    args["lb_platform"] = lb_platform
    return args


def confine(path, roots, option, tenants, tenant):
    """``path`` with its symbolic links resolved, and the tenant tree it lies in, when that lies in
    ``tenant``'s directory of one of the submission ``roots``; else SpinError. The tenant is where
    the file is, never what the task says: a file of another tenant's directory is refused unread.
    -> ``(real path, submission_tree.SubmissionTree)``."""
    real = os.path.realpath(path)
    tree = submission_tree.locate(path, roots, tenants, option, follow=True)
    if tree.tenant != tenant:
        link = " (a symbolic link to %s)" % real if real != os.path.abspath(path) else ""
        raise SpinError("%s %s%s lies in tenant '%s''s directory %s, not in tenant '%s''s: a stack is deployed only "
                        "from its own tenant's submissions" % (option, path, link, tree.tenant, tree.directory, tenant))
    return real, tree


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


def _relative_inside(path, base, option, first):
    relative = os.path.relpath(path, base)
    if relative.startswith(".." + os.sep) or relative == "..":
        raise SpinError("%s %s is outside the submission directory %s: put it next to %s" % (option, path, base, first))
    return os.path.normpath(relative)


def read_submission(compose_path, rancher_path, tree=None, override_paths=()):
    """Read the compose files inside the submission directory (the compose file's directory), each
    only when it is the tenant's own (``tree``).

    Returns ``(texts, names, reader, seen)``: texts by role, the names the tenant reads in
    messages (relative to the submission directory; ``names["overrides"]``: the files merged over the
    compose file, which the parser reads through the reader), the confined reader for the files the
    compose files name, and ``seen`` ({name: text} of every file read, for the digest).
    """
    base = os.path.dirname(compose_path)
    inner = compose_text.make_dir_reader(base, tree=tree)
    seen = {}

    def reader(relpath):
        text = inner(relpath)
        seen[os.path.normpath(relpath)] = text
        return text

    if not os.path.isfile(compose_path):
        raise SpinError("compose_file %s does not exist (or is not a file)" % compose_path)
    names = {"compose": os.path.basename(compose_path), "rancher": None,
             "overrides": [_relative_inside(path, base, "compose_override_files", os.path.basename(compose_path))
                           for path in override_paths]}
    texts = {"compose": reader(names["compose"]), "rancher": None}
    if rancher_path:
        names["rancher"] = _relative_inside(rancher_path, base, "rancher_compose_file", names["compose"])
        texts["rancher"] = reader(names["rancher"])
    return texts, names, reader, seen


def dotenv(reader, base, variables):
    """The variables of a stack: the submission directory's ``.env`` (Compose reads it for the
    defaults) overridden by the vars file's ``spin_compose_variables``. -> (variables, diagnostics)."""
    if not os.path.lexists(os.path.join(base, DOTENV)):
        return dict(variables or {}), []
    try:
        text = reader(DOTENV)
    except SpinError as exc:
        return dict(variables or {}), [diag.error(DOTENV, None, None, exc.message)]
    values, problems, _unresolved = compose_text.parse_env_file(text, dict(variables or {}))
    diagnostics = [diag.error(DOTENV, None, None, problem) for problem in problems]
    return dict(values, **(variables or {})), diagnostics


def check_submission(args, bases):
    """The controller's one verdict on a submission: parse, policy, the load balancer's rules and
    the translation, every problem at once.

    Returns ``(model, facts, tasks)``: the stack model with the policy's defaults applied; the
    facts the module on the manager needs as plain data (violations so far, diagnostics, replica
    counts, bind mounts, the input digest); the translated tasks, or None when refused.
    """
    pol = policy_settings.merge_policy({"spin_tenants": args.get("tenants"), "spin_policy": args.get("policy"),
                                        "spin_global_fs_roots": args.get("global_fs_roots")})
    placement.check_filesystems(args.get("global_fs"))
    lb_platform = haproxy.normalise_platform(args.get("lb_platform"))
    roots, tenants, tenant = args.get("submission_roots"), args.get("tenants"), args["tenant"]
    compose_path, tree = confine(locate(args["compose_file"], bases), roots, "compose_file", tenants, tenant)
    rancher_path = confine(locate(args["rancher_compose_file"], bases), roots, "rancher_compose_file", tenants,
                           tenant)[0] if args.get("rancher_compose_file") else None
    override_paths = [confine(locate(path, bases), roots, "compose_override_files", tenants, tenant)[0]
                      for path in args.get("compose_override_files") or []]
    texts, names, reader, seen = read_submission(compose_path, rancher_path, tree, override_paths)
    base = os.path.dirname(compose_path)
    variables, diagnostics = dotenv(reader, base, args.get("variables"))
    model, parsed = compose.parse_stack(texts["compose"], names["compose"], texts["rancher"], names["rancher"],
                                        read_file=reader, env=variables, profiles=args.get("profiles"),
                                        stat_file=compose_text.make_dir_stat(base, tree),
                                        override_names=names["overrides"])
    diagnostics += parsed
    stack = args["stack"]
    entry = pol["tenants"].get(tenant)
    model = policy.apply_policy_defaults(model, tenant, entry, pol)
    files = {"compose": names["compose"], "rancher": names["rancher"]}
    # the quotas need the tenant's other stacks (and the sizes the nodes): the module checks them with the full count
    violations = policy.evaluate(model, tenant, entry, pol, files=files, stack=stack,
                                 skip=("replica-quota", "resource-quota", "resource-size"))
    builds = plan_builds(model, base, tenant, stack, (args.get("platform") or {}).get("registry"), pol, tree,
                         files["compose"], diagnostics, violations)
    read_bind_store(model, base, pol, tree, diagnostics)
    violations += store_violations(model, (args.get("platform") or {}).get("bind_store"), files["compose"])
    replicas = {name: ("global" if str((svc.get("deploy") or {}).get("mode") or "").startswith("global")
                       else policy.stack_replicas({"services": {name: svc}})[name])
                for name, svc in model["services"].items()}
    platform = dict(args.get("platform") or {}, proxy_ports=policy_settings.port_numbers(pol["proxy_ports"]))
    # an HTTP port the edge does not publish (a laptop's 8080:80) is served on the service's own route
    diagnostics += stack_defaults.http_port_routes(model, tenant, stack, stack_defaults.settings(platform),
                                                   set(lb_platform["port_set"]), platform["proxy_ports"],
                                                   files["compose"])
    tasks = None
    # the edge's rules on the ports the files name, even when something else is wrong: every problem at once
    diagnostics += route_problems(model, tenant, stack, platform, lb_platform, files, allowance.of(tenant, entry))
    if not diag.has_errors(diagnostics) and not violations:
        try:
            tasks = translate.stack_to_tasks(model, tenant, stack, platform, args.get("global_fs"), files)
        except SpinError as exc:
            diagnostics += exc.diagnostics or [diag.error(files["compose"], None, None, exc.message)]
    if tasks is not None and diag.has_errors(diagnostics):
        tasks = None
    # passwords written in environment: warn, and say how to use a secret instead
    diagnostics = diagnostics + sensitive.plain_password_warnings(model, files["compose"])
    facts = {"compose_path": compose_path, "files": files, "violations": violations, "diagnostics": diagnostics,
             "error_count": sum(1 for d in diagnostics if d["severity"] == "error"),
             "replicas": replicas, "resources": {name: (svc.get("deploy") or {}).get("resources")
                                                 for name, svc in model["services"].items()},
             "binds": policy_facts.bind_mounts(model),
             # the directories the bind mounts hand over are input too: by their manifests' digests
             "input_digest": audit.digest_files(dict(seen, **{
                 "%s (bind store)" % e["source"]: e["digest"] for e in (model.get("bind_store") or {}).values()
                 if e.get("digest")})),
             "inactive": model.get("inactive") or {}, "builds": builds}
    return model, facts, tasks


def route_problems(model, tenant, stack, platform, lb_platform, files, tenant_allowance=None):
    """The load balancer's own rules on the stack's public ports, automatic routes and lb_config
    (allowed ports and host names, protocols, certificates, host names under the route domain only
    inside the tenant's own), checked here as on the manager, and the tenant's own allowance of
    ports and host names (``allowance.of``), checked here only."""
    try:
        endpoints = translate.public_endpoints(model, tenant, stack, platform, files)
        haproxy.stack_routes(tenant, stack, endpoints, model["load_balancers"], health_checks(model), lb_platform,
                             files, allowance=tenant_allowance,
                             route_domain=stack_defaults.settings(platform)["route_domain"])
    except SpinError as exc:
        return exc.diagnostics or [diag.error(files["compose"], None, None, exc.message)]
    return []


def health_checks(model):
    """rancher-compose health checks of the services, which the edge's checks use."""
    return {name: svc["rancher_health_check"] for name, svc in model["services"].items()
            if svc.get("rancher_health_check")}


def read_bind_store(model, submission_dir, pol, tree, diagnostics):
    """Read every directory (or large file) the stack's relative bind mounts hand over, only the
    tenant's own files and within the stack's limits: each ``model["bind_store"]`` entry gets its
    ``manifest``, ``digest``, ``bytes`` and ``files``; a problem is an error at the bind mount that
    named it."""
    budget = bind_content.Budget(pol["bind_store_bytes"], pol["bind_store_files"])
    for key, entry in sorted((model.get("bind_store") or {}).items()):
        mount = entry["mounts"][0]
        if entry["kind"] == "missing":
            found = {"manifest": [], "digest": bind_content.digest([]), "bytes": 0, "files": 0}
        else:
            try:
                found = bind_content.read(submission_dir, entry["source"], entry["kind"], budget, tree)
            except SpinError as exc:
                diagnostics.append(diag.error(mount["file"], mount["service"], mount["key"], exc.message))
                continue
        entry.update(found)


def store_violations(model, root, compose_name):
    """A tenant's own bind mount of the platform's bind store (or of a directory holding it): the store
    holds every tenant's directories, and is the platform's to mount."""
    root = root or bind_store.DEFAULT_ROOT
    out = []
    for name, svc in sorted(model["services"].items()):
        for volume in svc["volumes"]:
            source = volume.get("source") or ""
            if volume["type"] != "bind" or not source.startswith("/"):
                continue
            path = policy.normalise_path(source)
            # inside the store, or a directory that holds it (both orders on purpose)
            if policy.path_inside(path, root) or policy.path_inside(root, path):  # pylint: disable=arguments-out-of-order
                out.append(policy_settings.violation(
                    "host-path", compose_name, name, "volumes",
                    "bind mount of %s reaches the platform's bind store (%s), where the platform keeps every "
                    "stack's bind-mounted directories" % (source, root),
                    "bind a directory of your submission instead (./dir:%s), which the platform puts there for you"
                    % volume["target"]))
    return out


def plan_builds(model, submission_dir, tenant, stack, registry, pol, tree, compose_name, diagnostics, violations):
    """Judge and hash every service's ``build`` (reading its context, only the tenant's own files:
    ``tree``), and name the image it runs:
    ``model`` services get ``image`` = the build's tag. Problems are appended to ``diagnostics`` and
    ``violations``. -> ``{service: {image, digest, context, dockerfile, bytes, files, archive_sha256,
    max_bytes, timeout, network, bases, build}}``."""
    builds = {}
    for name, svc in sorted(model["services"].items()):
        spec = svc.get("build")
        if not spec:
            continue
        try:
            packed = build_context.pack(submission_dir, spec, max_bytes=pol["build_context_bytes"], tree=tree)
        except SpinError as exc:
            diagnostics.append(diag.error(compose_name, name, "build", exc.message))
            continue
        dockerfile_text = packed["dockerfile_bytes"]  # judged as sent: the archive's own bytes
        if "build" not in pol["disabled_rules"]:
            violations.extend(build.check(name, spec, dockerfile_text, pol, compose_name, policy.image_allowed,
                                          policy_settings.violation, tenant=tenant))
        digest = build.content_digest(packed["sha256"], spec)
        svc["image"] = build.image_name(registry, tenant, stack, name, digest)
        builds[name] = {"image": svc["image"], "digest": digest, "context": spec["context"],
                        "dockerfile": packed["dockerfile"], "bytes": packed["bytes"], "files": packed["files"],
                        "archive_sha256": packed["sha256"], "max_bytes": pol["build_context_bytes"],
                        "timeout": pol["build_timeout"], "network": pol["build_network"],
                        "bases": [b["image"] for b in build.dockerfile_bases(dockerfile_text, spec["args"])["bases"]
                                  if b["image"]],
                        "build": spec}
    return builds


def problem_messages(diagnostics, violations):
    """Every error a tenant must fix, one line each: parse errors first, then policy violations."""
    return diagnostics_messages(diagnostics, "error") + [policy_settings.format_violation(v) for v in violations]


def warning_messages(diagnostics):
    """The warnings among ``diagnostics``, one line each, as the task's warnings."""
    return diagnostics_messages(diagnostics, "warning")
