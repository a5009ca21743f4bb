# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_stack's work on the manager (the module ``plugins/modules/spin_stack.py`` is its documentation
and entry point): the manager's checks, the claims and the edge, the plan and the reconcile, the
audit run. In module_utils so that ``spin_converge`` runs the very same code for each stack (a
module cannot import another module when Ansible ships it)."""
from __future__ import annotations

import base64
import signal
import threading

from ansible_collections.spin.platform.plugins.module_utils.common import images, sensitive
from ansible_collections.spin.platform.plugins.module_utils.edge import allowance, haproxy, lb, lb_node, tls
from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_facts, policy_settings, preflight
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults
from ansible_collections.spin.platform.plugins.module_utils.stack import bind_store
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import StackReconciler, stack_services_state
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import (
    SUBMISSION_NAMED, submission_argument_spec)

# what spin_stack's module object is built with, besides the spec (here so that spin_converge builds it the same)
MODULE_OPTIONS = SUBMISSION_NAMED


def argument_spec():
    spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "compose_file": {"type": "path"},
        "remove_volumes": {"type": "bool", "default": False},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 180},
        "tenants": {"type": "dict"},
        "global_fs_roots": {"type": "list", "elements": "str"},
        "global_fs": {"type": "dict"},
        "policy": {"type": "dict"},
        "platform": {"type": "dict"},
        "daemon_json": {"type": "path", "default": "/etc/docker/daemon.json"},
        "audit_log": {"type": "str", "default": audit.DEFAULT_AUDIT_LOG},
        "lb": {"type": "bool", "default": True},
        "lb_platform": {"type": "dict"},
        "public_host": {"type": "str"},
        "build": {"type": "bool", "default": False},
        "verdict_only": {"type": "bool", "default": False},
        # filled in by the action plugin
        "_tasks": {"type": "dict"},
        "_sensitive": {"type": "dict", "default": {}, "no_log": True},
        "_controller": {"type": "dict", "default": {}},
        "_bind_archive": {"type": "str"},
        # spin_converge: the edge is synced once after every stack, not by each stack's run
        "_edge_sync": {"type": "bool", "default": True},
    }
    spec.update(submission_argument_spec())
    spec.update(connection_argument_spec())
    return spec


def _changes(plan):
    out = {"created": [], "updated": [], "removed": []}
    for action in plan.actions():
        key = {"create": "created", "update": "updated", "remove": "removed"}.get(action["action"])
        if key:
            out[key].append("%s %s" % (action["kind"], action["name"]))
    return out


def plan_routes(client, params, tasks, check_mode):
    """The stack's claims, stored in Swarm before anything of the stack is created (a port or
    hostname another stack holds is refused here), and its own load balancer network; the public
    services join that network (labelled so). ``serve`` runs while the services start: it brings
    this node's edge up to date (every stored stack's routes, so a run of any stack also repairs
    an edge that an interrupted run left behind) or, with no edge here, checks the candidate
    config; ``undo`` takes the claim back after a failed deploy."""
    stack = params["stack"]
    platform = haproxy.normalise_platform(params["lb_platform"])
    replicas = {}
    for service in tasks["services"]:
        if service.get("replicas") is not None:
            replicas[service["labels"].get("spin.service")] = service["replicas"]
    https = tasks.get("https") or {}
    plan = lb.plan_stack_routes(client, params["tenant"], stack, endpoints=tasks.get("endpoints"),
                                load_balancers=tasks.get("load_balancers"), platform=params["lb_platform"],
                                health_checks=tasks.get("health_checks"), files=tasks.get("files"),
                                check_mode=check_mode, validate=False, replicas=replicas,
                                route_domain=stack_defaults.settings(params["platform"])["route_domain"],
                                redirect=https.get("redirect"), tenant_certs=_tenant_certs(tasks),
                                allowance=allowance.of(params["tenant"], (params.get("tenants") or {}).get(params["tenant"])))
    state = {"synced": None}

    def serve():
        if params.get("_edge_sync", True):
            state["synced"] = serve_edge(client, platform, plan["config"], check_mode)

    def undo():
        lb.release_claim(client, plan["claim"])
        if not check_mode:
            serve_edge(client, platform, None, check_mode, forget_network=plan["network"] if plan["network_created"]
                       else None)

    # on the load balancer network a public service answers to the platform's alias only (the one the edge
    # resolves); the names its tenant gave it stay on the stack's own networks
    for service in tasks["services"]:
        attachment = plan["attachments"].get(service["labels"].get("spin.service"))
        if attachment:
            service["networks"] = list(service["networks"]) + [attachment]
            service["labels"] = dict(service["labels"], **{lb.L_NETWORK: plan["network"]})
    return {"plan": plan, "serve": serve, "undo": undo, "state": state}


def _tenant_certs(tasks):
    """The tenant's own certificates (x-spin.https.cert/key): the contents of the secrets they name, which
    came through the no_log channel (``sensitive``) and go nowhere but ``tls.tenant_certificate``."""
    data = {item["name"]: item.get("data") for item in tasks.get("secrets") or []}
    out = []
    for cert in (tasks.get("https") or {}).get("certificates") or []:
        texts = []
        for key in ("cert", "key"):
            raw = data.get(cert[key])
            try:
                texts.append(base64.b64decode(raw).decode("utf-8") if raw else "")
            except (ValueError, UnicodeDecodeError):
                texts.append("")
        out.append({"service": cert["service"], "cert": texts[0], "key": texts[1]})
    return out


def serve_edge(client, platform, candidate=None, check_mode=False, forget_network=None):
    """This node's edge brought up to date with the stored routes when an edge runs here
    (-> sync result); else the ``candidate`` config checked in a one-off container (-> None)."""
    container = lb.edge_container(client, platform)
    if container is not None:
        return lb_node.sync_edge(client, platform, check_mode=check_mode, container=container)
    if candidate is not None:
        lb.validate_config(client, candidate() if callable(candidate) else candidate, platform, check_mode=check_mode)
    if forget_network and not check_mode:
        found = client.find_network(forget_network)
        if found is not None:
            try:
                client.remove_network(found["Id"])
            except SpinError:
                pass  # an edge container on another node is still on it: its next sync removes it
    return None


class _Terminated(BaseException):
    """SIGTERM: end the run the way Ctrl-C does, so that its audit result says interrupted."""


def _terminate(signum, frame):
    raise _Terminated("stopped by signal %d" % signum)


def run(module, client):
    params = module.params
    tenant, stack = params["tenant"], params["stack"]
    if params["_tasks"] is not None:
        params["_tasks"] = sensitive.attach(params["_tasks"], params["_sensitive"])
    action = "deploy" if params["state"] == "present" else "remove"
    controller = params["_controller"] or {}
    trail = audit.Run(params["audit_log"], tenant, stack, action, controller.get("input_digest"),
                      dry_run=module.check_mode or params["verdict_only"], origin=controller.get("origin"))
    for warning in trail.close_interrupted():
        module.warn(warning)
    trail.start()   # the intent: before anything (a claim included) changes
    stage = {"applying": False}
    # a signal handler belongs to the main thread; spin_converge runs stacks in threads of its own and
    # ends them the same way from its main thread
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        result = _run(module, client, action, stage)
    except SpinError as exc:
        exc.details["audit"] = trail.finish("failed" if stage["applying"] else "refused", cause=exc.message)
        raise
    except (KeyboardInterrupt, _Terminated) as exc:
        trail.finish("interrupted", cause="%s while %s" % (str(exc) or "interrupted (SIGINT)",
                                                           "applying the plan" if stage["applying"] else "planning"))
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    if result.get("refused"):
        messages = [policy_settings.format_violation(v) for v in result["violations"]]
        errors = int((params["_controller"] or {}).get("error_count") or 0)
        if errors:
            messages.append("%d error(s) in the compose files" % errors)
        result["audit"] = trail.finish("refused", cause="; ".join(messages), violations=result["violations"],
                                       errors=errors)
    else:
        outcome = "checked" if trail.dry_run else {"deploy": "deployed", "remove": "removed"}[action]
        result["audit"] = trail.finish(outcome, changes=result.pop("_changes"))
    return result


def _run(module, client, action, stage):
    params = module.params
    tenant, stack = params["tenant"], params["stack"]
    controller = params["_controller"] or {}
    platform = {"spin_tenants": params["tenants"], "spin_global_fs_roots": params["global_fs_roots"],
                "spin_policy": params["policy"], "spin_global_fs": params.get("global_fs")}
    reconciler = StackReconciler(client, check_mode=module.check_mode)
    # the verdict alone: every check of a deploy in check mode, and nothing planned after them
    dry = module.check_mode or params["verdict_only"]

    # the plan reads each listing once (several checks ask the engine the same question); the apply reads afresh
    with client.cached_reads():
        if params["state"] == "present":
            checked = preflight.manager_checks(client, tenant, stack, platform, controller, params["docker_host"],
                                               params["daemon_json"])
            violations, errors = checked["violations"], int(controller.get("error_count") or 0)
            for warning in checked["warnings"]:
                module.warn(warning)
            if violations or errors or params["_tasks"] is None:
                return {"failed": True, "refused": True, "changed": False, "violations": violations, "msg": "refused"}
            tasks = params["_tasks"]
            store = tasks.get("bind_store")
            if store:
                problem = bind_store.shared_problem(store["root"], params.get("global_fs"), client.nodes())
                if problem:
                    raise SpinError("stack '%s': %s; nothing was changed" % (stack, problem))
            built = [b["image"] for b in (controller.get("builds") or {}).values()]
            running = {svc["Spec"]["Name"]: (svc["Spec"].get("Labels") or {}).get(images.LABEL)
                       for svc in client.services(labels={"spin.stack": stack})}
            pins, pin_warnings = images.pin_services(client, tasks["services"], (params["platform"] or {}).get("registry"),
                                                     built=built, check_mode=dry, pinned_from=running)
            for warning in pin_warnings:
                module.warn(warning)
            routes = plan_routes(client, params, tasks, dry) if params["lb"] else None
            if params["verdict_only"]:
                return {"changed": False, "verdict": "allowed", "builds": len(built), "images": pins, "_changes": {}}
            plan = reconciler.plan_present(tenant, stack, tasks)
            store_plans = bind_store.plan(store) if store else []
        else:
            violations = policy_facts.check_ownership(preflight.stack_objects(client, stack), tenant, stack)
            if violations:
                return {"failed": True, "refused": True, "changed": False, "violations": violations, "msg": "refused"}
            routes, store, store_plans = None, None, []
            plan = reconciler.plan_absent(tenant, stack, params["remove_volumes"])

    stage["applying"] = True
    try:
        if store_plans and not module.check_mode:
            # the files are in place before a service that mounts them is created or updated
            owner = (params["tenants"] or {}).get(tenant) or {}
            bind_store.apply(store_plans, store, params["_bind_archive"], owner.get("uid"), owner.get("gid"))
        reconciler.apply(plan, wait=params["wait"], alongside=routes["serve"] if routes else None)
    except SpinError:
        if routes is not None:
            routes["undo"]()
        raise
    store_result = _settle_bind_store(module, params, store, store_plans)
    lb_changed, synced = False, None
    if params["lb"] and params["state"] == "present":
        lb_changed = lb.store_stack_routes(client, routes["plan"]["routes"], params["lb_platform"], module.check_mode)
        synced = routes["state"]["synced"]
    elif params["lb"]:
        lb_changed = lb.drop_stack_routes(client, tenant, stack, params["lb_platform"], module.check_mode)
        synced = serve_edge(client, haproxy.normalise_platform(params["lb_platform"]), None, module.check_mode,
                            forget_network=haproxy.stack_network(haproxy.normalise_platform(params["lb_platform"]),
                                                                 stack))
    for warning in plan.warnings + store_result["warnings"]:
        module.warn(warning)
    diff = plan.diff()
    for side in ("before", "after"):
        diff[side].update(store_result["diff"][side])
    changes = _changes(plan)
    for item in store_result["actions"]:
        changes[{"create": "created", "update": "updated", "remove": "removed"}[item["action"]]].append(
            "bind store %s" % item["name"])
    result = {"changed": plan.changed or lb_changed or bool(store_result["actions"]),
              "actions": plan.actions() + store_result["actions"], "summary": plan.summary(),
              "services": stack_services_state(client, stack), "diff": diff, "lb_changed": lb_changed,
              "edge_synced": synced is not None, "_changes": changes}
    if synced is not None:
        result["edge"] = {"reloaded": synced["reloaded"], "reload_seconds": synced["reload_seconds"],
                          "networks": synced["networks"]}
        result["changed"] = result["changed"] or synced["changed"]
    if params["state"] == "present":
        result["endpoints"] = params["_tasks"].get("endpoints") or []
        result["images"] = pins
        result["generated"] = generated_secrets(params["_tasks"])
        result["data"] = [note for svc in plan.services for note in svc.data.notes]
        if routes is not None:
            result["lb"] = {"network": routes["plan"]["network"], "public_services": routes["plan"]["public_services"],
                            "routes": routes["plan"]["routes"]["routes"]}
            result["urls"] = [haproxy.route_url(route, params["public_host"]) for route in result["lb"]["routes"]]
            # HTTPS on every route with a host name (issue 20): the certificate and when it expires, never its key
            certs = routes["plan"].get("certificates") or []
            result["certificates"] = certs
            https = haproxy.normalise_platform(params["lb_platform"])["https_port"]
            by_name = dict((r["hostname"], r) for r in result["lb"]["routes"] if r.get("hostname"))
            for cert in certs:
                for name in cert.get("sni") or cert.get("names") or []:
                    route = dict(by_name.get(name) or {"service": "?", "path": None}, hostname=name)
                    result["urls"].append("%s (certificate '%s' from the %s, valid until %s)" % (
                        haproxy.route_url(dict(route, protocol="https", port=https)), cert["label"],
                        "platform CA" if cert["source"] == "platform" else "tenant",
                        tls.expiry_text(cert["not_after"]) if cert.get("not_after") else "it is issued"))
    return result


def _settle_bind_store(module, params, store, store_plans):
    """After the services: a deploy's read-only versions that nothing uses any more go (only once the
    services run the new ones: with wait); a removal takes the stack's bind store, its read-write
    directories only with remove_volumes. -> {actions, diff, warnings}."""
    out = {"actions": [p.summary() for p in store_plans if p.action != "none"], "diff": bind_store.diff(store_plans),
           "warnings": []}
    tenant, stack = params["tenant"], params["stack"]
    root = (params["platform"] or {}).get("bind_store") or (store or {}).get("root") or bind_store.DEFAULT_ROOT
    if params["state"] == "present":
        keys = [e["key"] for e in (store or {}).get("entries") or []]
        if store and params["wait"] and not module.check_mode:
            bind_store.prune(store)
        for path in bind_store.kept_directories(root, tenant, stack, keys):
            out["warnings"].append("the bind store directory %s is no longer mounted; it is kept with what the "
                                   "services wrote there (remove the stack with remove_volumes: true to delete it)"
                                   % path)
        return out
    removed, kept = bind_store.remove(root, tenant, stack, params["remove_volumes"], module.check_mode)
    out["actions"] = [{"kind": "bind store", "name": path, "action": "remove"} for path in removed]
    out["diff"] = {"before": {"bind store %s" % path: "exists" for path in removed}, "after": {}}
    if kept:
        out["warnings"].append("kept the stack's bind store directories %s (what its services wrote there stays); "
                               "remove them with remove_volumes: true" % ", ".join(kept))
    return out


def generated_secrets(tasks):
    """Where each generated root password is kept (never the password itself)."""
    out = []
    for item in tasks.get("secrets") or []:
        if not item.get("generate"):
            continue
        service = item["labels"].get("spin.service")
        target = next((ref["target"] for params in tasks.get("services") or [] for ref in params["secrets"]
                       if ref["secret_name"] == item["name"]), None)
        path = "/run/secrets/%s" % target
        out.append({"service": service, "variable": item["labels"].get(stack_defaults.GENERATED_LABEL),
                    "secret": item["name"], "path": path,
                    "text": "%s: the root password is generated; read it in %s's containers at %s (Swarm secret %s)"
                            % (service, service, path, item["name"])})
    return out
