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
  _edge_sync:
    description:
      - Internal, set by M(spin.platform.spin_converge); never set it yourself. With V(false) the run does not
        bring this node's edge up to date (nor check a candidate configuration); the converge does that once,
        after every stack.
    type: bool
    default: true
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

from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
# the work itself lives in module_utils, shared with spin_converge; these names stay importable from here
# (the warm worker runs argument_spec, run and MODULE_OPTIONS: worker/task.py)
from ansible_collections.spin.platform.plugins.module_utils.deploy.stack_run import (  # noqa: F401  pylint: disable=unused-import
    MODULE_OPTIONS, argument_spec, generated_secrets, plan_routes, run, serve_edge)


def main():
    run_module(argument_spec(), run, **MODULE_OPTIONS)


if __name__ == "__main__":
    main()
