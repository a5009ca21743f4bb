#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_service
short_description: One Docker Swarm service, declared and kept as declared
version_added: 0.1.0
description:
  - Creates, updates or removes one Docker Swarm service so that it matches the options given.
  - Only the options of this module are compared with the service Docker has; values Docker fills in
    by itself (its default restart policy, update config, stop grace period and the like) count as equal
    to leaving the option out. An option that is left out is removed from the service.
  - By default the module waits until the requested replicas run, and pass their healthcheck where the
    image or O(healthcheck) has one. A task that keeps failing ends the wait early with Docker's own
    error (for example C(No such image)).
  - These options are what the C(spin_stack) translator emits for each compose service
    (see C(playbooks/translate.yml)); they can also be written by hand.
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: Reports what would change (RV(differences), and RV(diff) in diff mode) without changing anything.
  diff_mode:
    support: full
    details: The diff shows every managed option of the service before and after.
  idempotent:
    support: full
    details: Running again with the same options changes nothing and reports C(changed=false).
options:
  name:
    description: Name of the service; for a stack C(<stack>_<service>).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the service; V(absent) removes it and, with O(wait), waits until its
        tasks are gone so that its networks can be removed afterwards.
    type: str
    choices: [present, absent]
    default: present
  image:
    description:
      - Image to run, for example V(httpd) or V(registry.example.org/group/app:1.2).
      - V(httpd) means V(httpd:latest), and is equal to the C(httpd:latest@sha256:...) that Docker records
        when it pins a tag to a digest. A digest you write must match.
      - Required when O(state=present).
    type: str
  command:
    description: Arguments for the entrypoint (Docker C(Args), compose C(command)). Leave out to use the image's C(CMD).
    type: list
    elements: str
  entrypoint:
    description: Replaces the image's entrypoint (Docker C(Command), compose C(entrypoint)).
    type: list
    elements: str
  env:
    description:
      - Environment variables; the order does not matter.
      - Values must be text; quote YAML booleans (V('true')). Numbers are turned into text.
    type: dict
  secret_env:
    description:
      - Environment variables whose values are secret (passwords, tokens, keys), merged with O(env).
      - Never logged, and redacted in the diff, the differences and the returned service.
      - The translator puts every variable of a compose C(environment) that looks like a password here
        (C(MYSQL_PASSWORD), C(API_TOKEN), ...), and warns the tenant to use a Swarm secret instead.
    type: dict
  workdir:
    description: Working directory inside the container.
    type: str
  user:
    description: User to run as, V(name), V(uid) or V(uid:gid).
    type: str
  hostname:
    description: Host name of the containers.
    type: str
  labels:
    description: Labels on the service (not on its containers).
    type: dict
  container_labels:
    description: Labels on the service's containers.
    type: dict
  mode:
    description:
      - V(replicated) runs O(replicas) tasks; V(global) runs one task on every node that fits O(placement).
      - V(replicated-job) runs O(replicas) tasks once, to completion (a one-off such as a database migration);
        V(global-job) runs one such task on every node. The module waits until every task completed, and a
        task that fails ends the wait with its error and last output lines. A job runs again only when its
        options change.
      - A V(replicated-job) whose O(labels) hold C(spin.schedule) (a cron expression; C(spin.schedule.timezone))
        is a scheduled job (docs/jobs.md) - idle between runs (no completions wanted, nothing waited for);
        the platform's scheduler (role C(jobs)) starts each run.
    type: str
    choices: [replicated, global, replicated-job, global-job]
    default: replicated
  replicas:
    description:
      - Number of tasks when O(mode=replicated). V(0) stops all tasks but keeps the service.
      - With O(mode=replicated-job), how many tasks must complete (they run side by side).
    type: int
    default: 1
  networks:
    description:
      - Networks to join, by name. They must exist (attachable overlay networks); Docker records them by ID,
        the module compares them by name.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the network.
        type: str
        required: true
      aliases:
        description: Extra DNS names of the service on this network (a stack adds the compose service name).
        type: list
        elements: str
  endpoint_mode:
    description:
      - How clients reach the tasks. V(dnsrr) gives each task's address in DNS and works everywhere;
        V(vip) gives one virtual IP and needs IPVS in the kernel of every node.
    type: str
    choices: [vip, dnsrr]
    default: dnsrr
  publish:
    description: Ports to publish on the nodes.
    type: list
    elements: dict
    suboptions:
      published_port:
        description: Port on the node. Leave out to let Docker choose one.
        type: int
      target_port:
        description: Port inside the container.
        type: int
        required: true
      protocol:
        description: Protocol of the port.
        type: str
        choices: [tcp, udp, sctp]
        default: tcp
      mode:
        description:
          - V(host) publishes the port on the nodes that run a task; V(ingress) on every node through the routing
            mesh, which needs O(endpoint_mode=vip) and IPVS.
          - Default is V(host) when O(endpoint_mode=dnsrr), else V(ingress).
        type: str
        choices: [ingress, host]
  mounts:
    description: Volumes, bind mounts and tmpfs mounts; the order does not matter.
    type: list
    elements: dict
    suboptions:
      type:
        description: Kind of mount.
        type: str
        choices: [volume, bind, tmpfs]
        default: volume
      source:
        description: Volume name (V(volume)) or absolute host path (V(bind)); none for V(tmpfs).
        type: str
      target:
        description: Path inside the container.
        type: str
        required: true
      readonly:
        description: Mount read-only.
        type: bool
        default: false
      volume_driver:
        description: Volume driver used when Docker creates the volume (V(local) if O(mounts[].volume_options) is given alone).
        type: str
      volume_options:
        description: Driver options used when Docker creates the volume.
        type: dict
      volume_labels:
        description:
          - Labels Docker gives the volume when it creates it (on whichever node runs the task).
          - C(spin_stack) labels the volumes it makes for an image's C(VOLUME) paths with their owner.
        type: dict
      tmpfs_size:
        description: Size limit of a tmpfs mount, in bytes or like V(64M).
        type: raw
      tmpfs_mode:
        description: File mode of a tmpfs mount, as an octal string like V('1777') or an integer.
        type: raw
      volume_nocopy:
        description: Do not copy the image's files at the target into a new, empty volume (compose C(nocopy)).
        type: bool
        default: false
  healthcheck:
    description:
      - Healthcheck of the containers, replacing the image's. A task only counts as running once it is healthy;
        a task that turns unhealthy while starting is stopped by Docker and started again.
      - Leave out to keep the image's healthcheck; O(healthcheck.test=[NONE]) switches it off.
    type: dict
    suboptions:
      test:
        description:
          - V([CMD, prog, arg...]), V([CMD-SHELL, "command"]), a plain string (run by the shell) or V([NONE]).
          - Leave out to keep the image's test with the other settings given here (compose's healthcheck
            without C(test)).
        type: raw
      interval:
        description: Time between checks, like V(30s) (Docker's default 30s).
        type: raw
      timeout:
        description: Time one check may take, like V(10s) (Docker's default 30s).
        type: raw
      retries:
        description: Consecutive failures that make the container unhealthy (Docker's default 3).
        type: int
      start_period:
        description: Time after start during which failures do not count, like V(1m).
        type: raw
  restart_policy:
    description: When Docker starts a task again. Leave out for Docker's default (any, delay 5s, no limit).
    type: dict
    suboptions:
      condition:
        description: Restart after V(any) exit, only V(on-failure), or V(none).
        type: str
        choices: [any, on-failure, none]
        default: any
      delay:
        description: Time between restarts, like V(5s).
        type: raw
      max_attempts:
        description: Restarts before giving up; V(0) for no limit.
        type: int
      window:
        description: Time to wait before deciding whether a restart worked, like V(2m).
        type: raw
  resources:
    description: CPU, memory and process limits and reservations of each task.
    type: dict
    suboptions:
      limits:
        description: Upper limits.
        type: dict
        suboptions:
          cpus:
            description: CPUs, like V(0.5).
            type: float
          memory:
            description: Memory in bytes or like V(512M).
            type: raw
          pids:
            description: Maximum number of processes (needs API 1.41).
            type: int
      reservations:
        description: What the scheduler reserves on a node.
        type: dict
        suboptions:
          cpus:
            description: CPUs, like V(0.25).
            type: float
          memory:
            description: Memory in bytes or like V(256M).
            type: raw
  placement:
    description: Where tasks may run.
    type: dict
    suboptions:
      constraints:
        description: Constraints like V(node.role==worker) or V(node.labels.zone==a); the order does not matter.
        type: list
        elements: str
      preferences:
        description: Spread preferences in order, each a O(placement.preferences[].spread) label.
        type: list
        elements: dict
        suboptions:
          spread:
            description: Node label to spread tasks over.
            type: str
            required: true
      max_replicas:
        description: Most tasks of this service on one node (needs API 1.40).
        type: int
  update_config:
    description:
      - How a change rolls out. Keys left out take Docker's defaults
        (parallelism 1, delay 0s, failure_action pause, monitor 5s, max_failure_ratio 0, order stop-first).
      - Without it, a tenant's service (O(labels) hold C(spin.stack)) rolls out with order start-first unless it
        publishes a port in host mode, mounts a volume or bind read-write (after the image's own volumes), or
        is a job (issue 20 - a rotated secret reaches its services with no moment without a task).
    type: dict
    suboptions:
      parallelism:
        description: Tasks changed at a time; V(0) for all at once.
        type: int
      delay:
        description: Time between batches, like V(10s).
        type: raw
      failure_action:
        description: What Docker does when a task fails during the update.
        type: str
        choices: [continue, pause, rollback]
      monitor:
        description: Time after each task's start during which a failure counts against the update.
        type: raw
      max_failure_ratio:
        description: Share of tasks that may fail during the update (0 to 1).
        type: float
      order:
        description: V(stop-first) stops the old task first; V(start-first) starts the new one first.
        type: str
        choices: [stop-first, start-first]
  rollback_config:
    description: How a rollback rolls out; same keys and defaults as O(update_config).
    type: dict
    suboptions:
      parallelism:
        description: Tasks rolled back at a time; V(0) for all at once.
        type: int
      delay:
        description: Time between batches.
        type: raw
      failure_action:
        description: What Docker does when a task fails during the rollback.
        type: str
        choices: [continue, pause]
      monitor:
        description: Time after each task's start during which a failure counts.
        type: raw
      max_failure_ratio:
        description: Share of tasks that may fail during the rollback (0 to 1).
        type: float
      order:
        description: V(stop-first) or V(start-first).
        type: str
        choices: [stop-first, start-first]
  secrets:
    description: Swarm secrets to give to the containers, by name. They must exist.
    type: list
    elements: dict
    suboptions:
      secret_name:
        description: Name of the secret.
        type: str
        required: true
      target:
        description: File name under C(/run/secrets/) or an absolute path; default the secret's name.
        type: str
      uid:
        description: Owner of the file; default V('0').
        type: str
      gid:
        description: Group of the file; default V('0').
        type: str
      mode:
        description: File mode, octal string like V('0440') or integer; default V('0444').
        type: raw
  configs:
    description: Swarm configs to give to the containers, by name. They must exist.
    type: list
    elements: dict
    suboptions:
      config_name:
        description: Name of the config.
        type: str
        required: true
      target:
        description: Path inside the container; default C(/<config_name>).
        type: str
      uid:
        description: Owner of the file; default V('0').
        type: str
      gid:
        description: Group of the file; default V('0').
        type: str
      mode:
        description: File mode, octal string like V('0440') or integer; default V('0444').
        type: raw
  cap_add:
    description: Kernel capabilities to add, like V(NET_ADMIN) (C(CAP_) is added where missing). Needs API 1.41.
    type: list
    elements: str
  cap_drop:
    description: Kernel capabilities to drop, like V(MKNOD). Needs API 1.41.
    type: list
    elements: str
  read_only:
    description: Mount the container's root file system read-only.
    type: bool
    default: false
  init:
    description: Run an init process as PID 1 that reaps zombies. V(false) leaves the engine's default.
    type: bool
    default: false
  stop_grace_period:
    description: Time between the stop signal and a kill, like V(30s) (Docker's default 10s).
    type: raw
  stop_signal:
    description: Signal that stops the container, like V(SIGQUIT). Leave out for the image's.
    type: str
  logging:
    description: Log driver of the containers. Leave out for the engine's default.
    type: dict
    suboptions:
      driver:
        description: Name of the log driver, like V(json-file).
        type: str
        required: true
      options:
        description: Options of the log driver, for example C(max-size) V(10m).
        type: dict
  sysctls:
    description: Namespaced kernel parameters, for example C(net.core.somaxconn) V(1024). Needs API 1.40.
    type: dict
  ulimits:
    description: Resource limits of the containers' processes (C(ulimit)). Needs API 1.41.
    type: list
    elements: dict
    suboptions:
      name:
        description: The limit, like V(nofile), V(nproc) or V(memlock).
        type: str
        required: true
      soft:
        description: Soft limit; V(-1) is unlimited.
        type: int
        required: true
      hard:
        description: Hard limit; V(-1) is unlimited.
        type: int
        required: true
  tty:
    description: Give each container a terminal (compose C(tty)); its output is then one stream.
    type: bool
    default: false
  stdin_open:
    description: Keep the containers' standard input open (compose C(stdin_open)).
    type: bool
    default: false
  wait:
    description:
      - Wait until the service is ready (O(state=present)) or its tasks are gone (O(state=absent)).
      - Also checks an unchanged service, so a run reports a service whose tasks do not run.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait at most when O(wait=true).
    type: int
    default: 180
  image_volumes:
    description:
      - "Data survives: every path the image declares as C(VOLUME) that no mount covers, and every O(mounts) entry
        of type V(volume) without a source (an anonymous volume), is mounted from a named volume of its own,
        C(<name>_<path>.{{.Task.Slot}}) (one per replica; C(<name>_<path>) for V(global)), labelled with the
        service's C(spin.tenant)/C(spin.stack) labels, C(spin.service) and C(spin.image-volume=<path>). Swarm
        would give every new task (a killed container, an engine restart, an update) a new, empty anonymous
        volume; a named one is kept, until it is removed."
      - A service that ran with an anonymous volume at such a path, in a container on this node, is stopped while
        its data is copied into the named volume, once.
      - The image must be on the node the module runs on to read its C(VOLUME)s (a warning says so when not).
    type: bool
    default: true
  pin_image:
    description:
      - "Every node runs the same bits: the image is resolved to its digest (in O(registry) when given, else in this
        node's engine) and the service runs the digest, with the written name in the label C(spin.image), as
        spin_stack deploys it. A re-run with an unchanged tag changes nothing; a new image pushed under the same tag
        is picked up by the next run."
      - An image found nowhere fails the task before anything is changed, also one written with a digest
        (C(app@sha256:...)) or as an image ID that neither this node's engine nor its registry has.
    type: bool
    default: true
  registry:
    description:
      - The platform registry (C(host:port)) in which O(pin_image) resolves the image first (spin_stack's
        C(spin_platform.registry)).
    type: str
  pin_to_data:
    description:
      - "A replicated service with a volume of the C(local) driver (one that is not a network file system or tmpfs)
        runs on the node where that volume is, its data being there: a placement constraint C(node.id==<id>),
        remembered in the service label C(spin.data-node)."
      - "The node: the one the service is pinned to already; else the node its newest task ran on; else this node
        (where spin_stack creates a stack's volumes) if O(placement) allows it; else the first node by host name
        that O(placement) allows."
    type: bool
    default: true
  monitor_window:
    description:
      - "Seconds each task must have stayed running before the service counts as started (healthy, where the
        service has a healthcheck: the window starts when the task is healthy). A task that crashes within
        the window does not count, so a service that crashes at once fails the run with the container's last
        output instead of passing while its first task runs for a moment."
      - Tasks that already ran that long before the run (an unchanged service) count at once.
      - "Set by C(spin_stack) from the platform variable C(spin_platform.monitor_window)."
    type: float
    default: 5
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Two web servers on a stack network, ready when their healthcheck passes
  spin.platform.spin_service:
    name: seed_web
    image: httpd
    replicas: 2
    env:
      LANG: C.UTF-8
    networks:
      - name: seed_default
        aliases: [web]
    healthcheck:
      test: [CMD, curl, -fs, http://localhost/]
      interval: 5s
      start_period: 10s
    resources:
      limits: {cpus: 0.5, memory: 256M}
    update_config:
      order: start-first
    labels:
      spin.tenant: seed
      spin.stack: seed
      spin.service: web

- name: A worker that publishes a port on the node it runs on
  spin.platform.spin_service:
    name: seed_worker
    image: spin/base:bookworm
    command: [sleep, infinity]
    publish:
      - {target_port: 8080, published_port: 18080, mode: host}

- name: See what would change, without changing it
  spin.platform.spin_service:
    name: seed_web
    image: httpd:2.4
    replicas: 3
  check_mode: true
  diff: true
  register: preview

- name: Remove a service and wait until its tasks are gone
  spin.platform.spin_service:
    name: seed_worker
    state: absent
'''

RETURN = r'''
changed:
  description: Whether the service was (or, in check mode, would be) created, updated or removed.
  returned: always
  type: bool
differences:
  description:
    - What differs between the service Docker has and the options, by option path.
    - C(state) marks a creation or removal.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The option, with a key or sub-option where one is the difference, like C(env.LANG).
      type: str
    before:
      description: The value Docker has (normalised), or null.
      type: raw
    after:
      description: The value asked for (normalised), or null.
      type: raw
  sample:
    - {path: env.LANG, before: C, after: C.UTF-8}
    - {path: replicas, before: 1, after: 2}
service:
  description:
    - The service as Docker reports it (C(docker service inspect)) after the change and the wait;
      in check mode as it is now. Null when it does not exist.
  returned: always
  type: dict
  sample: {ID: 9t9ntkc0l6w2pkk0s7ddgxqxk, Version: {Index: 1231}, Spec: {Name: seed_web, Labels: {}}}
diff:
  description: Every managed option of the service before and after, normalised like RV(differences).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Options as Docker has them (empty when the service does not exist).
      type: dict
    after:
      description: Options as asked for (empty for O(state=absent)).
      type: dict
'''

from ansible_collections.spin.platform.plugins.module_utils.common import images
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import ServiceReconciler
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec

_UPDATE_OPTIONS = dict(parallelism=dict(type="int"), delay=dict(type="raw"), monitor=dict(type="raw"),
                       max_failure_ratio=dict(type="float"),
                       order=dict(type="str", choices=["stop-first", "start-first"]))
_FILE_OPTIONS = dict(target=dict(type="str"), uid=dict(type="str"), gid=dict(type="str"), mode=dict(type="raw"))


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        image=dict(type="str"),
        command=dict(type="list", elements="str"),
        entrypoint=dict(type="list", elements="str"),
        env=dict(type="dict"),
        secret_env=dict(type="dict", no_log=True),
        workdir=dict(type="str"),
        user=dict(type="str"),
        hostname=dict(type="str"),
        labels=dict(type="dict"),
        container_labels=dict(type="dict"),
        mode=dict(type="str", choices=["replicated", "global", "replicated-job", "global-job"], default="replicated"),
        replicas=dict(type="int", default=1),
        networks=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True), aliases=dict(type="list", elements="str"))),
        endpoint_mode=dict(type="str", choices=["vip", "dnsrr"], default="dnsrr"),
        publish=dict(type="list", elements="dict", options=dict(
            published_port=dict(type="int"), target_port=dict(type="int", required=True),
            protocol=dict(type="str", choices=["tcp", "udp", "sctp"], default="tcp"),
            mode=dict(type="str", choices=["ingress", "host"]))),
        mounts=dict(type="list", elements="dict", options=dict(
            type=dict(type="str", choices=["volume", "bind", "tmpfs"], default="volume"),
            source=dict(type="str"), target=dict(type="str", required=True),
            readonly=dict(type="bool", default=False), volume_driver=dict(type="str"),
            volume_options=dict(type="dict"), volume_labels=dict(type="dict"), tmpfs_size=dict(type="raw"),
            tmpfs_mode=dict(type="raw"), volume_nocopy=dict(type="bool", default=False))),
        healthcheck=dict(type="dict", options=dict(
            test=dict(type="raw"), interval=dict(type="raw"), timeout=dict(type="raw"),
            retries=dict(type="int"), start_period=dict(type="raw"))),
        restart_policy=dict(type="dict", options=dict(
            condition=dict(type="str", choices=["any", "on-failure", "none"], default="any"),
            delay=dict(type="raw"), max_attempts=dict(type="int"), window=dict(type="raw"))),
        resources=dict(type="dict", options=dict(
            limits=dict(type="dict", options=dict(cpus=dict(type="float"), memory=dict(type="raw"),
                                                  pids=dict(type="int"))),
            reservations=dict(type="dict", options=dict(cpus=dict(type="float"), memory=dict(type="raw"))))),
        placement=dict(type="dict", options=dict(
            constraints=dict(type="list", elements="str"),
            preferences=dict(type="list", elements="dict", options=dict(spread=dict(type="str", required=True))),
            max_replicas=dict(type="int"))),
        update_config=dict(type="dict", options=dict(
            _UPDATE_OPTIONS, failure_action=dict(type="str", choices=["continue", "pause", "rollback"]))),
        rollback_config=dict(type="dict", options=dict(
            _UPDATE_OPTIONS, failure_action=dict(type="str", choices=["continue", "pause"]))),
        secrets=dict(type="list", elements="dict", no_log=False, options=dict(
            _FILE_OPTIONS, secret_name=dict(type="str", required=True))),
        configs=dict(type="list", elements="dict", options=dict(
            _FILE_OPTIONS, config_name=dict(type="str", required=True))),
        cap_add=dict(type="list", elements="str"),
        cap_drop=dict(type="list", elements="str"),
        read_only=dict(type="bool", default=False),
        init=dict(type="bool", default=False),
        stop_grace_period=dict(type="raw"),
        stop_signal=dict(type="str"),
        logging=dict(type="dict", options=dict(driver=dict(type="str", required=True), options=dict(type="dict"))),
        sysctls=dict(type="dict"),
        ulimits=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True), soft=dict(type="int", required=True),
            hard=dict(type="int", required=True))),
        tty=dict(type="bool", default=False),
        stdin_open=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=180),
        monitor_window=dict(type="float", default=5.0),
        image_volumes=dict(type="bool", default=True),
        pin_to_data=dict(type="bool", default=True),
        pin_image=dict(type="bool", default=True),
        registry=dict(type="str"),
    )
    spec.update(connection_argument_spec())
    return spec


def reconcile(module, client):
    params = module.params
    warnings = []
    if params["state"] == "present" and params["pin_image"]:
        params = dict(params)
        actual = client.find_service(params["name"])
        running = ((actual or {}).get("Spec", {}).get("Labels") or {}).get(images.LABEL)
        dummy, warnings = images.pin_services(client, [params], params.get("registry"),
                                              pinned_from={params["name"]: running})
    result = ServiceReconciler(client, module.check_mode).run(params)
    if warnings:
        result["warnings"] = list(result.get("warnings") or []) + warnings
    return result


def main():
    run_module(argument_spec(), reconcile, warning_prefix="Docker: ", required_if=[("state", "present", ["image"])])


if __name__ == "__main__":
    main()
