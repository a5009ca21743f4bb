#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_policy
short_description: Check a tenant's stack against the platform's policy before anything is deployed
version_added: 0.1.0
description:
  - The pre-flight of a deploy. Reads the tenant's compose files on the controller (inside the submission
    directory only), parses them, and checks the stack against the platform's policy; then checks on a swarm
    manager what only the swarm knows. Returns B(every) violation at once, each with its rule, the file,
    service and key, and how to fix it.
  - "On the controller: every rule of C(docs/policy.md) over the stack model: the global file system rules
    (the tenant's own uid, the tenant's own paths, read-only), capabilities, privileged, devices, host
    namespaces, C(security_opt), the Docker socket, host paths, sysctls, published ports, images, names,
    C(cgroup_parent), C(volumes_from), external networks, volumes, secrets and configs."
  - "On the manager: ownership (the stack's existing objects must carry this tenant's C(spin.tenant) label:
    C(stack 'magic' belongs to tenant 'cory')), the tenant's replica quota over all its stacks, bind paths
    that lead elsewhere through symbolic links, and that the engine enforces C(no-new-privileges)."
  - Creates, changes and removes nothing on the swarm. C(spin.platform.spin_stack) runs the same checks before
    it creates anything.
  - The platform variables (O(tenants), O(global_fs_roots), O(policy)) default to the inventory variables
    C(spin_tenants), C(spin_global_fs_roots) and C(spin_policy); a tenant's vars file must never set them.
extends_documentation_fragment:
  - spin.platform.submission
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: The module changes nothing, so check mode runs every check as usual.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Always C(changed=false); an audit record (O(audit_log)) is not a change of the platform.
  action:
    support: full
    details: An action plugin reads and checks the compose files on the controller.
options:
  compose_file:
    description:
      - The tenant's C(docker-compose.yml), absolute or relative to the working directory of
        C(ansible-playbook) (then to the playbook's directory).
      - Its directory is the submission directory; every file the compose files name must lie inside it.
      - Leave it out when O(submission) is given, which names it.
    type: path
  fail_on_violation:
    description: Fail the task when the stack breaks the policy (every violation in the message, one per line).
    type: bool
    default: true
  daemon_json:
    description: The engine's configuration file on the manager, read to check C(no-new-privileges).
    type: path
    default: /etc/docker/daemon.json
  audit_log:
    description:
      - Append a C(check) record (tenant, stack, digest of the input, verdict) to this JSON-lines file on the
        manager. Not written when left out.
    type: path
  _controller:
    description:
      - Internal, set by the action plugin; never set it yourself. The facts found on the controller
        (violations, the stack's replicas and bind mounts, the input's digest).
    type: dict
    default: {}
notes:
  - Run it against a swarm manager. The symbolic-link and C(no-new-privileges) checks look at the manager's
    own file system and engine; the global file systems are the same on every node, and C(roles/docker_host)
    writes the same C(daemon.json) everywhere.
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Check the tenant's stack before deploying it
  spin.platform.spin_policy:
    tenant: "{{ spin_tenant }}"
    stack: "{{ spin_stack }}"
    compose_file: "{{ spin_compose_file }}"
    rancher_compose_file: "{{ spin_rancher_compose_file | default(omit) }}"

- name: Report violations without failing, and keep an audit record
  spin.platform.spin_policy:
    tenant: cory
    stack: seed
    compose_file: examples/seed/docker-compose.yml
    rancher_compose_file: examples/seed/rancher-compose.yml
    fail_on_violation: false
    audit_log: /var/log/spin/audit.jsonl
  register: preflight

- name: Show why the stack is refused
  ansible.builtin.debug:
    msg: "{{ preflight.messages }}"
  when: not preflight.allowed
'''

RETURN = r'''
allowed:
  description: Whether the stack may be deployed (no violation, no error in the compose files).
  returned: always
  type: bool
  sample: false
violations:
  description: Every violation, from the controller's and the manager's checks.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: The rule's name (see C(docs/policy.md)).
      type: str
      sample: global-fs-user
    file:
      description: The tenant's file, as given; null for stack-wide rules.
      type: str
      sample: docker-compose.yml
    service:
      description: The compose service, or null.
      type: str
      sample: web
    key:
      description: The key in the file (or the vars file's variable).
      type: str
      sample: user
    message:
      description: What is wrong.
      type: str
      sample: mounts /global/cfs/cdirs/cory but runs as root
    fix:
      description: How to fix it.
      type: str
      sample: 'run as the tenant''s uid: add "user: 1000:1000"'
messages:
  description: The violations (and the compose files' errors), one line each, like a compiler's.
  returned: always
  type: list
  elements: str
  sample:
    - >-
      docker-compose.yml: service 'web': key 'user': [global-fs-user] mounts /global/cfs/cdirs/cory but runs as
      root; run as the tenant's uid: add "user: 1000:1000"
diagnostics:
  description: The compose parser's errors and warnings (see docs/design.md).
  returned: always
  type: list
  elements: dict
replicas:
  description: The stack's replicas, the tenant's other stacks' replicas and the tenant's quota.
  returned: success
  type: dict
  sample: {stack: 3, other_stacks: 4, quota: 10}
engine:
  description: What the module saw of the engine's C(no-new-privileges) on the manager.
  returned: success
  type: dict
  sample: {daemon_json: true, dockerd_flag: false, newest_container: {name: seed_web.1.x, no_new_privs: true}}
input_digest:
  description: sha256 of the input files (the audit trail's digest).
  returned: success
  type: str
  sample: sha256:6c1e...
'''


from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import (
    SUBMISSION_NAMED, run_module, submission_argument_spec)
from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
from ansible_collections.spin.platform.plugins.module_utils.policy import preflight
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec


def argument_spec():
    spec = {
        "compose_file": {"type": "path"},
        "lb_platform": {"type": "dict"},
        "platform": {"type": "dict"},
        "tenants": {"type": "dict"},
        "global_fs_roots": {"type": "list", "elements": "str"},
        "global_fs": {"type": "dict"},
        "policy": {"type": "dict"},
        "fail_on_violation": {"type": "bool", "default": True},
        "daemon_json": {"type": "path", "default": "/etc/docker/daemon.json"},
        "audit_log": {"type": "path"},
        "_controller": {"type": "dict", "default": {}},
    }
    spec.update(submission_argument_spec())
    spec.update(connection_argument_spec())
    return spec


def run(params, client):
    tenant, stack = params["tenant"], params["stack"]
    controller = params["_controller"] or {}
    platform = {"spin_tenants": params["tenants"], "spin_global_fs_roots": params["global_fs_roots"],
                "spin_policy": params["policy"], "spin_global_fs": params.get("global_fs")}
    checked = preflight.manager_checks(client, tenant, stack, platform, controller, params["docker_host"],
                                       params["daemon_json"])
    found = checked["violations"]

    digest = controller.get("input_digest")
    if params["audit_log"]:
        origin = {key: value for key, value in (controller.get("origin") or {}).items() if key in audit.ORIGIN_KEYS}
        audit.append_record(audit.make_record(tenant, stack, "check", digest, violations=found,
                                              errors=controller.get("error_count", 0), **origin),
                            params["audit_log"])
    return {"changed": False, "violations": found, "allowed": not found and not controller.get("error_count"),
            "replicas": checked["replicas"], "engine": checked["engine"], "warnings": checked["warnings"],
            "input_digest": digest}


def main():
    run_module(argument_spec(), lambda module, client: run(module.params, client), **SUBMISSION_NAMED)


if __name__ == "__main__":
    main()
