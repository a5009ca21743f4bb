#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_audit
short_description: List the deploys and removals of the audit trail, and the ones that never ended
version_added: 0.1.0
description:
  - Reads the audit trail that M(spin.platform.spin_stack) appends to on the manager (JSON lines) and lists its
    runs, oldest first, each intent record paired with its result.
  - A run's C(outcome) is C(deployed), C(removed), C(refused) (with the C(cause), such as a port or hostname held
    by another stack, or the policy rules broken), C(failed) (the cause says what was undone), C(checked) (a dry
    run), C(interrupted) (an intent without a result whose process is gone; the run was killed or lost its
    manager) or C(running) (its process still runs).
  - Changes nothing; only reads.
extends_documentation_fragment:
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: The same listing; nothing is changed either way.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  audit_log:
    description: The audit trail on the manager.
    type: path
    default: /var/log/spin/audit.jsonl
  tenant:
    description: Only this tenant's runs.
    type: str
  stack:
    description: Only this stack's runs.
    type: str
  outcome:
    description: Only runs with one of these outcomes, e.g. V([interrupted, failed]).
    type: list
    elements: str
    choices: [deployed, removed, refused, failed, checked, interrupted, running]
  limit:
    description: The newest this many runs (after the filters); V(0) for all.
    type: int
    default: 50
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Deploys that never ended
  spin.platform.spin_audit:
    outcome: [interrupted]
  register: unfinished

- name: The last ten runs of one stack
  spin.platform.spin_audit:
    stack: magic
    limit: 10
'''

RETURN = r'''
runs:
  description: The runs, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    run:
      description: The run's id (null for records written before runs had ids).
      type: str
    tenant:
      description: The tenant.
      type: str
    stack:
      description: The stack.
      type: str
    action:
      description: C(deploy), C(remove) or C(check).
      type: str
    started:
      description: When the intent was written (UTC); null for a dry run or an old record.
      type: str
    finished:
      description: When the result was written (UTC); null while running or when interrupted.
      type: str
    outcome:
      description: deployed, removed, refused, failed, checked, interrupted or running.
      type: str
    cause:
      description: Why it was refused, failed or counts as interrupted.
      type: str
    changes:
      description: What changed (created, updated, removed).
      type: dict
  sample:
    - {run: 5f0c..., tenant: cory, stack: magic, action: deploy, started: "2026-11-30T05:40:01.120Z",
       finished: null, outcome: interrupted, cause: "no result was written: ...", changes: {}}
interrupted:
  description: The runs of RV(runs) whose outcome is C(interrupted).
  returned: always
  type: list
  elements: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.spin.platform.plugins.module_utils.monitor import audit


def argument_spec():
    return {
        "audit_log": {"type": "path", "default": audit.DEFAULT_AUDIT_LOG},
        "tenant": {"type": "str"},
        "stack": {"type": "str"},
        "outcome": {"type": "list", "elements": "str",
                    "choices": ["deployed", "removed", "refused", "failed", "checked", "interrupted", "running"]},
        "limit": {"type": "int", "default": 50},
    }


def listing(params, records):
    """Pure: the filtered runs of ``records``."""
    out = audit.runs(records)
    if params.get("tenant"):
        out = [r for r in out if r["tenant"] == params["tenant"]]
    if params.get("stack"):
        out = [r for r in out if r["stack"] == params["stack"]]
    if params.get("outcome"):
        out = [r for r in out if r["outcome"] in params["outcome"]]
    if params.get("limit"):
        out = out[-params["limit"]:]
    return out


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    path = module.params["audit_log"]
    if not os.path.exists(path):
        module.exit_json(changed=False, runs=[], interrupted=[], msg="no audit trail at %s yet" % path)
    problem = None
    try:
        records = audit.read_stack_records(path, module.params["stack"]) if module.params["stack"] else \
            audit.read_records(path)
    except (OSError, ValueError) as exc:
        problem = "cannot read the audit trail %s: %s" % (path, exc)
    if problem:
        module.fail_json(msg=problem)
    runs = listing(module.params, records)
    module.exit_json(changed=False, runs=runs, interrupted=[r for r in runs if r["outcome"] == "interrupted"])


if __name__ == "__main__":
    main()
