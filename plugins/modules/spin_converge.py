#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_converge
short_description: Re-apply every tenant's stack from the submission roots, each as its own deploy
version_added: 0.1.0
description:
  - "What infra staff run after a platform upgrade (C(playbooks/converge.yml)): every submission directory
    C(<root>/<tenant>/<stack>/) of every tenant of O(tenants) in O(submission_roots) is deployed again, each
    exactly as M(spin.platform.spin_stack) deploys it from C(playbooks/deploy.yml): the same controller verdict
    (the files read as the tenant's, parsed, checked against the policy, translated), the same manager checks,
    the same plan and reconcile, its own audit run (intent and result records, as a deploy), and the same
    refusal wording. A stack that is refused or fails is reported by name with its message and does not stop
    the others; the task fails at the end when any did."
  - "The work is shared: the action plugin judges every stack on the controller in one process, then hands
    all of them to one run of this module on the manager (in the warm worker when one is there), which
    deploys the stacks of different tenants side by side on up to O(parallel) threads (one tenant's stacks one
    after another: its quotas count its other stacks) and brings this node's edge up to date once, after
    every stack, instead of once per stack."
  - "Stacks that build images (compose C(build:)) are deployed one by one after the others, by
    M(spin.platform.spin_stack) with O(build=true) on this host, as C(playbooks/deploy.yml) does when the
    deploying manager is the build node."
  - "With the edge synced once at the end, a stack's routes are served after the whole converge, not during its
    own deploy; an edge configuration that HAProxy refuses is the converge's failure (the edge keeps serving
    its previous configuration), named by stack and rule."
  - "Stopped (SIGTERM, the playbook interrupted): the stacks that are running finish (their audit result says
    how), the ones not begun are reported as not run."
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: Every stack is judged and planned as in check mode of M(spin.platform.spin_stack); nothing changes.
  diff_mode:
    support: full
    details: Each stack's diff, in its entry of RV(stacks).
  idempotent:
    support: full
  action:
    support: full
    details: An action plugin finds the submissions and judges each stack on the controller.
options:
  tenants:
    description:
      - The tenant registry; defaults to the inventory variable C(spin_tenants). Only its tenants' directories are
        read, and a directory counts as the tenant's only when it is owned by the tenant's uid.
    type: dict
  only:
    description: Converge only these tenants (names of O(tenants)); default every tenant.
    type: list
    elements: str
  submission_roots:
    description:
      - Where the submissions are, C(<root>/<tenant>/<stack>/); defaults to the inventory variable
        C(spin_submission_roots), else V([/srv/spin/submissions]).
    type: list
    elements: path
  parallel:
    description: Stacks deployed at the same time on the manager (different tenants' only).
    type: int
    default: 4
  public_host:
    description: As M(spin.platform.spin_stack)'s, for every stack.
    type: str
  build:
    description: As M(spin.platform.spin_stack)'s, for every stack that builds images.
    type: bool
    default: false
  wait:
    description: As M(spin.platform.spin_stack)'s, for every stack.
    type: bool
    default: true
  wait_timeout:
    description: As M(spin.platform.spin_stack)'s, for every stack.
    type: int
    default: 180
  audit_log:
    description: As M(spin.platform.spin_stack)'s; every stack's runs are written there.
    type: str
    default: /var/log/spin/audit.jsonl
  lb:
    description: As M(spin.platform.spin_stack)'s, for every stack.
    type: bool
    default: true
  global_fs_roots:
    description: The platform's option, as M(spin.platform.spin_stack)'s (inventory C(spin_global_fs_roots)).
    type: list
    elements: str
  global_fs:
    description: The platform's option, as M(spin.platform.spin_stack)'s (inventory C(spin_global_fs)).
    type: dict
  policy:
    description: The platform's option, as M(spin.platform.spin_stack)'s (inventory C(spin_policy)).
    type: dict
  platform:
    description: The platform's option, as M(spin.platform.spin_stack)'s (inventory C(spin_platform)).
    type: dict
  lb_platform:
    description: The edge's settings, as M(spin.platform.spin_stack)'s (inventory C(spin_lb_*)).
    type: dict
  daemon_json:
    description: As M(spin.platform.spin_stack)'s.
    type: path
    default: /etc/docker/daemon.json
  _stacks:
    description:
      - Internal, set by the action plugin; never set it yourself. Each stack's arguments of
        M(spin.platform.spin_stack) (what its action plugin would send), less O(_common).
    type: list
    elements: dict
    default: []
  _common:
    description:
      - Internal, set by the action plugin; never set it yourself. The arguments every stack shares.
    type: dict
    default: {}
  _sensitive:
    description:
      - Internal, set by the action plugin; never set it yourself. Each stack's secret values (by its index in
        O(_stacks)), sent apart so that they are never logged.
    type: dict
    default: {}
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Re-apply every tenant's stack (playbooks/converge.yml)
  spin.platform.spin_converge:
    public_host: "{{ spin_public_host | default(inventory_hostname) }}"
  register: converged

- name: Only two tenants, one stack at a time, and see first what would change
  spin.platform.spin_converge:
    only: [cory, dana]
    parallel: 1
  check_mode: true
  diff: true
'''

RETURN = r'''
stacks:
  description:
    - One entry per submission found, in the order found (tenant, then stack), with what M(spin.platform.spin_stack)
      returns for it (C(changed), C(summary), C(actions), C(audit), C(urls), C(report), ...), and C(failed) with
      C(msg) (the refusal or failure, worded as the deploy words it) when it did not converge.
  returned: always
  type: list
  elements: dict
converged:
  description: Whether every stack converged (and the edge after them); the task fails otherwise.
  returned: always
  type: bool
failed_stacks:
  description: C(<tenant>/<stack>) of each stack that was refused, failed, or not run.
  returned: always
  type: list
  elements: str
  sample: [cory/magic]
changed_stacks:
  description: C(<tenant>/<stack>) of each stack the converge changed.
  returned: always
  type: list
  elements: str
skipped_directories:
  description: Directories of the submission roots that are no registry tenant's (left unread).
  returned: always
  type: list
  elements: str
edge:
  description: This node's edge brought up to date once after the stacks (C(reloaded), C(reload_seconds)), when one runs here.
  returned: when an edge runs on the manager
  type: dict
seconds:
  description:
    - Where the time went. C(controller) judging every stack, C(manager_task) the manager's task as the controller
      saw it, C(manager) the module's own part there (C(stacks), C(total), C(threads)), C(after) the wording of the
      results; each stack's own time is in its entry of RV(stacks) (C(seconds)).
  returned: success
  type: dict
worker:
  description: How the module ran on the manager, as for M(spin.platform.spin_stack).
  returned: always
  type: str
  sample: warm
'''

from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
# the work lives in module_utils; run stays importable from here (the warm worker runs it: worker/task.py)
from ansible_collections.spin.platform.plugins.module_utils.deploy.converge_run import run


def argument_spec():
    spec = {
        "tenants": {"type": "dict"},
        "only": {"type": "list", "elements": "str"},
        "submission_roots": {"type": "list", "elements": "path"},
        "parallel": {"type": "int", "default": 4},
        "public_host": {"type": "str"},
        "build": {"type": "bool", "default": False},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 180},
        "audit_log": {"type": "str", "default": "/var/log/spin/audit.jsonl"},
        "lb": {"type": "bool", "default": True},
        "global_fs_roots": {"type": "list", "elements": "str"},
        "global_fs": {"type": "dict"},
        "policy": {"type": "dict"},
        "platform": {"type": "dict"},
        "lb_platform": {"type": "dict"},
        "daemon_json": {"type": "path", "default": "/etc/docker/daemon.json"},
        "_stacks": {"type": "list", "elements": "dict", "default": []},
        "_common": {"type": "dict", "default": {}},
        "_sensitive": {"type": "dict", "default": {}, "no_log": True},
    }
    spec.update(connection_argument_spec())
    return spec


def main():
    run_module(argument_spec(), run)


if __name__ == "__main__":
    main()
