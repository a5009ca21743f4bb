#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_stack
short_description: Run a tenant's compose files as a Swarm stack, or remove the stack
version_added: 0.1.0
description:
  - The tenant's entry point. An action plugin reads the tenant's C(docker-compose.yml) and optional
    C(rancher-compose.yml) on the controller (inside the submission directory only), parses them, checks
    them against the platform's policy and translates them into Swarm objects; the module then, on a swarm
    manager, checks what only the swarm knows (ownership, the tenant's quota, the engine) and reconciles.
  - "With O(state=present): one private overlay network per stack (and any the compose file declares),
    its named volumes, secrets and configs, and every service in dependency order; every object carries the
    labels C(spin.tenant), C(spin.stack) and C(com.docker.stack.namespace). Services the files no longer
    name are removed, and so are the stack's secrets, configs and networks that nothing uses any more."
  - Only what differs is changed; a run with the same input changes nothing (no service update, so Swarm's
    version indexes stay as they are).
  - "Nothing is created when any part of the input is refused (a compose error, a policy violation, a stack
    that another tenant owns). When a step fails or a service does not get ready in O(wait_timeout), what
    the run created is removed and what it updated is put back to its previous spec."
  - "Images are pinned at deploy: each service's image is resolved on the manager to a digest (the
    registry's manifest digest, in the platform registry C(spin_platform.registry) for plain names such as
    C(httpd) when it holds them, else the local engine's image ID) and the service runs that digest. A
    re-deploy with an unchanged tag changes nothing; an image pushed or built anew under the same tag is
    picked up by the next deploy, and the diff shows the old and the new digest. The name the tenant wrote
    stays on the service as the label C(spin.image). An image the tenant pinned itself (C(app@sha256:...), an
    image ID) must be on the manager's engine or in its registry: one that is nowhere is refused, with every
    other missing image, before anything is created."
  - With O(state=absent) the stack's services, networks, secrets and configs are removed; its volumes only
    with O(remove_volumes=true).
  - "The module runs in the manager's warm worker when one is there (a process that has imported the module
    once and forks for each task: no Python start, no unpacking, no imports per task); otherwise the usual
    way, and the task starts the worker for the next one. Same arguments, same result; the arguments travel
    on stdin and through a socket of the target user only, never in a file. The inventory variable
    C(spin_worker=false) turns it off. See docs/scale.md."
  - "Data survives: every path a service's image declares as C(VOLUME) that no mount covers, and every anonymous
    volume the compose file writes, gets a named volume of its own, C(<stack>_<service>_<path>.<slot>) (per
    replica; C(<stack>_<service>_<path>) for a global service), where Swarm would give each new task a new, empty
    anonymous one. A replicated service with volumes of the C(local) driver is placed on the node where they are
    (constraint C(node.id==...), label C(spin.data-node)); C(spin_platform.pin_local_data=false) turns that off.
    A service that ran with an anonymous volume there has its data copied into the named volume once, while it is
    stopped. The diff shows the volumes and the service's new mounts and constraint; see docs/faults.md."
  - "Relative bind mounts of directories (C(./app:/var/www/html), C(./prometheus:/etc/prometheus:ro)), of paths the
    submission does not have (an empty directory, as Compose makes one) and of files too large for a Swarm config
    are synced to the platform's bind store (C(spin_platform.bind_store), a directory every node that runs the
    service sees: a global file system on a cluster) before the services are created, and bind-mounted from
    there: read-only ones as a new directory per content (C(<store>/<tenant>/<stack>/<key>@<digest>)), read-write
    ones in one place (C(<store>/<tenant>/<stack>/<key>)) where what the service writes stays. The diff names every
    file that changes. With O(state=absent) the read-only ones go; the read-write ones only with
    O(remove_volumes=true). See docs/compose-keys.md."
  - "A replica counts as started only after it has stayed running (healthy, where it has a healthcheck) for
    C(spin_platform.monitor_window) seconds (5); a service that keeps crashing fails the deploy with the
    container's last output, and the run is undone."
  - "Every deploy and removal is written to the audit trail (O(audit_log)) twice: an intent record before
    anything changes, and a result record after it (C(deployed), C(removed), C(refused) with the cause, such as a
    port held by another stack, C(failed) with what was undone, or C(interrupted)), both with the tenant, the
    stack, the digest of the input and the run's id; the result has the policy's verdict and what changed. A run
    killed outright leaves an intent without a result: the next run of the stack records it as C(interrupted) and
    warns, and M(spin.platform.spin_audit) lists it so."
  - The platform options (O(tenants), O(global_fs_roots), O(policy), O(platform)) default to the inventory
    variables C(spin_tenants), C(spin_global_fs_roots), C(spin_policy) and C(spin_platform). A tenant's vars
    file (C(-e @vars.yml)) that sets any of them is refused.
extends_documentation_fragment:
  - spin.platform.submission
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: Plans the whole stack and reports it, changes nothing.
  diff_mode:
    support: full
    details: Before and after of every service (its managed options) and of the other objects.
  idempotent:
    support: full
  action:
    support: full
    details: An action plugin reads, checks and translates the compose files on the controller.
options:
  state:
    description: Whether the stack should run or be gone.
    type: str
    choices: [present, absent]
    default: present
  compose_file:
    description:
      - The tenant's C(docker-compose.yml), absolute or relative to the working directory (then to the
        playbook's directory). Its directory is the submission directory; every file it names (env_file,
        secrets, extends) must lie inside it.
      - Required with O(state=present).
      - Leave it out when O(submission) is given, which names it.
    type: path
  remove_volumes:
    description: With O(state=absent), remove the stack's named volumes and their data too.
    type: bool
    default: false
  wait:
    description: Wait until every service runs its requested replicas (and is healthy where it has a
      healthcheck).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the services; Docker's own task error is quoted when they fail.
    type: int
    default: 180
  daemon_json:
    description: The engine's daemon.json on the manager (to check that no-new-privileges is on).
    type: path
    default: /etc/docker/daemon.json
  audit_log:
    description: The append-only audit trail on the manager (JSON lines). An empty string turns it off.
    type: str
    default: /var/log/spin/audit.jsonl
  lb:
    description:
      - Front the stack's public endpoints (compose C(ports), rancher-compose C(lb_config)) with the platform's
        edge load balancer. Before anything is created its claims (ports, hostnames) are checked against the
        other stacks' and the candidate HAProxy configuration is checked with C(haproxy -c); the public
        services then join the stack's own load balancer network, and the routes are stored for the edge
        nodes, which serve them after M(spin.platform.spin_lb) runs there (C(playbooks/deploy.yml) does).
      - With O(lb=false) public ports are not published at all.
    type: bool
    default: true
  public_host:
    description: The name or address the edge answers on, for the URLs of routes without a hostname.
    type: str
  build:
    description:
      - "Build the images the submission declares (compose C(build:)) on this host first, as
        M(spin.platform.spin_build) does, within the same task: the submission is read once, and a stack that
        builds nothing costs nothing more. A refused stack builds nothing. The build's result is returned
        in RV(build)."
      - "C(playbooks/deploy.yml) sets it when the build node (labelled C(spin.build)) is the deploying
        manager; on another build node a M(spin.platform.spin_build) task of its own builds first."
    type: bool
    default: false
  verdict_only:
    description:
      - "Only judge the stack, as the deploy would: the controller's verdict and the manager's (ownership, the
        quota, the claims on the edge, placement, the images), changing nothing and building nothing. A refused
        stack fails the task and is audited as refused; an allowed one returns RV(builds)."
      - "C(playbooks/deploy.yml) runs it before a build on a build node of its own, so that a refused stack
        builds nothing (with O(build=true) the deploy task does the same by itself)."
    type: bool
    default: false
  _tasks:
    description:
      - Internal, set by the action plugin; never set it yourself. The translation of the compose files made
        on the controller (networks, volumes, secrets, configs, services, endpoints).
    type: dict
  _controller:
    description:
      - Internal, set by the action plugin; never set it yourself. The facts found on the controller
        (violations, compose errors, the stack's replicas and bind mounts, the input's digest).
    type: dict
    default: {}
  _sensitive:
    description:
      - Internal, set by the action plugin; never set it yourself. The secret values of O(_tasks) (secret contents,
        passwords of the services' environment), sent apart so that they are never logged.
    type: dict
    default: {}
  _bind_archive:
    description:
      - Internal, set by the action plugin; never set it yourself. The archive (on this host) of the directories
        the stack's relative bind mounts hand over, which the manager unpacks into the bind store after checking
        every file against the manifest of O(_tasks).
    type: str
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Deploy a tenant's stack
  spin.platform.spin_stack:
    tenant: cory
    stack: magic
    compose_file: /srv/submissions/magic/docker-compose.yml
    rancher_compose_file: /srv/submissions/magic/rancher-compose.yml

- name: See what a changed file would do, without doing it
  spin.platform.spin_stack:
    tenant: cory
    stack: magic
    compose_file: /srv/submissions/magic/docker-compose.yml
  check_mode: true
  diff: true

- name: Remove the stack and its data
  spin.platform.spin_stack:
    tenant: cory
    stack: magic
    state: absent
    remove_volumes: true
'''

RETURN = r'''
tenant:
  description: The tenant of the stack (with O(submission), the one whose directory holds it).
  returned: always
  type: str
  sample: cory
stack:
  description: The stack's name.
  returned: always
  type: str
  sample: magic
report:
  description:
    - What a person reads after the run, one line each (C(playbooks/deploy.yml) prints it) - what changed, what
      was built, the stack's URLs and where a generated root password is kept.
  returned: with O(state=present), when the stack was not refused
  type: list
  elements: str
  sample: ["Stack magic of tenant cory: 2 created, 0 updated, 0 removed, 0 unchanged.", "web: http://web.magic.cory.localhost/"]
verdict:
  description: With O(verdict_only=true), V(allowed) (a refused stack fails the task instead).
  returned: with O(verdict_only=true)
  type: str
builds:
  description: With O(verdict_only=true), how many of the stack's images are built from its submission.
  returned: with O(verdict_only=true)
  type: int
build:
  description:
    - "With O(build=true) and a stack that builds images, the result of building them (that of
      M(spin.platform.spin_build): C(builds), C(summary), C(changed))."
  returned: when O(build=true) and the stack builds images
  type: dict
actions:
  description: What changed (or would change), object by object; updates list their differences.
  returned: always
  type: list
  elements: dict
  sample: [{kind: service, name: magic_web, action: update, differences: [{path: replicas, before: 2, after: 3}]}]
summary:
  description: Services created, updated, removed and unchanged.
  returned: always
  type: dict
services:
  description: "The stack's services after the run, C({name: {id, version, image, replicas}})."
  returned: always
  type: dict
edge_synced:
  description:
    - Whether this node's edge was brought up to date by this run (an edge container runs here). The
      playbook then syncs only the other edge nodes.
  returned: always
  type: bool
edge:
  description: What this node's edge did (C(reloaded), C(reload_seconds), the stack C(networks) it joined or left).
  returned: when edge_synced
  type: dict
certificates:
  description:
    - "The stack's certificates at the edge (issue 20): C(label) (V(platform) or V(tenant-<service>)), C(source),
      C(names), C(sni) (the host names it is served for), C(not_after) (UNIX time), C(subject), C(sha1); C(why)
      when this run issued it, C(unchanged) when it was kept. Never the key."
  returned: when state is present and lb is true
  type: list
  elements: dict
urls:
  description: How to reach each public route of the stack through the edge load balancer.
  returned: when state is present and lb is true
  type: list
  elements: str
  sample: ["web: http://web.seed.demo.localhost/"]
generated:
  description:
    - The root passwords the platform generated for databases that name none, and where each is kept (a Swarm
      secret, mounted in the service's containers at C(path); the image's C(*_FILE) variable points there).
      Never the password itself.
  returned: when state is present
  type: list
  elements: dict
  sample: [{service: db, variable: MYSQL_ROOT_PASSWORD_FILE, secret: seed_db_root_password,
            path: /run/secrets/db_root_password, text: "db: the root password is generated; read it in ..."}]
endpoints:
  description: The stack's public endpoints (published by the platform load balancer).
  returned: when state is present
  type: list
  elements: dict
images:
  description: "The image each service runs, as written and as pinned: C({service: {image, pinned, source}}),
    source being C(registry), C(local) (this engine's image ID) or C(given) (already a digest)."
  returned: when state is present
  type: dict
  sample: {magic_web: {image: httpd, pinned: "registry.example.org:5000/httpd:latest@sha256:4c1d...", source: registry}}
data:
  description:
    - Where the stack's data lives, one sentence each; the paths that would get an anonymous volume (the image's
      C(VOLUME)s no mount covers, the compose file's own anonymous volumes) and the named volume each gets, the
      node a service with node-local volumes runs on and why, and data copied from an old anonymous volume.
  returned: when state is present
  type: list
  elements: str
  sample: ["service seed_db runs on node p3l9...: this manager runs the deploy and its constraints allow it",
           "service seed_db: /var/lib/mysql gets the named volume seed_db_var-lib-mysql.{{.Task.Slot}}"]
violations:
  description: Policy violations when the stack was refused, each with rule, file, service, key, message, fix.
  returned: when refused
  type: list
  elements: dict
audit:
  description: The audit result record that was appended (its C(run) id is the intent's too).
  returned: when audit_log is set
  type: dict
worker:
  description:
    - How the module ran on the manager. C(warm) in the warm worker; C(started) the usual way, with a worker
      started for the next task; C(off) and the reason in parentheses the usual way (C(spin_worker=false), an
      async or delegated task, ANSIBLE_KEEP_REMOTE_FILES, the target's Python not known yet).
  returned: always
  type: str
  sample: warm
'''

import base64
import signal

from ansible_collections.spin.platform.plugins.module_utils.module_runner import SUBMISSION_NAMED, run_module
from ansible_collections.spin.platform.plugins.module_utils import (allowance, audit, bind_store, haproxy, images, lb,
                                                                    lb_node, policy_facts, policy_settings, preflight,
                                                                    sensitive, stack_defaults, tls)
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack import StackReconciler, stack_services_state
from ansible_collections.spin.platform.plugins.module_utils.swarm import connection_argument_spec


def argument_spec():
    spec = {
        "submission": {"type": "str"},
        "tenant": {"type": "str"},
        "stack": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "compose_file": {"type": "path"},
        "compose_override_files": {"type": "list", "elements": "str", "default": []},
        "rancher_compose_file": {"type": "path"},
        "variables": {"type": "dict", "default": {}},
        "profiles": {"type": "list", "elements": "str"},
        "submission_roots": {"type": "list", "elements": "path"},
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
    }
    spec.update(connection_argument_spec())
    return spec


def _changes(plan):
    out = {"created": [], "updated": [], "removed": []}
    for action in plan.actions():
        key = {"create": "created", "update": "updated", "remove": "removed"}.get(action["action"])
        if key:
            out[key].append("%s %s" % (action["kind"], action["name"]))
    return out


def _plan_routes(client, params, tasks, check_mode):
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
        lb.validate_config(client, candidate, platform, check_mode=check_mode)
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
    previous = signal.signal(signal.SIGTERM, _terminate)
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
        routes = _plan_routes(client, params, tasks, dry) if params["lb"] else None
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


def main():
    run_module(argument_spec(), run, **SUBMISSION_NAMED)


if __name__ == "__main__":
    main()
