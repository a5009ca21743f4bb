#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_status
short_description: A tenant's stacks as they run - replicas, health, nodes, images, URLs, last deploy, logs, quotas
version_added: 0.1.0
description:
  - Shows one tenant's stacks, or one stack of it, as they run on the swarm, read through a manager's Docker API.
  - For each service of each stack, the replicas running against those desired, its health (C(running),
    C(starting), C(degraded), C(down), C(complete), C(idle)), the nodes its replicas run on, the image the tenant
    wrote and the digest it runs, its URLs on the edge, and the last lines of its log (O(lines), O(since)).
  - For each stack, the outcome of its last deploy or removal in the audit trail, and the extra facts other parts
    of the platform give per stack (module_utils C(status.EXTRA_FACTS); docs/design.md).
  - The tenant's replicas, CPU and memory (limits and reservations) over all its stacks, against its quotas.
  - Only the tenant's objects, ever. Services are asked for by their C(spin.tenant) label and checked again; a stack
    named by O(stack) whose objects belong to another tenant is refused without a word about them.
  - "The tenant comes from O(submission) as for a deploy (the directory the submission lies in): the submission
    directory C(<root>/<tenant>/<stack>/) names one stack, the tenant's own directory C(<root>/<tenant>/) all of
    them. Infra staff may name O(tenant) (and O(stack)) instead."
  - The result holds the status as data (for scripts) and as RV(table), the lines people read.
  - Changes nothing; only reads.
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: The same status; nothing is changed either way.
  diff_mode:
    support: none
  idempotent:
    support: full
  action:
    support: full
    details: The action plugin finds the tenant and stack from O(submission), and fills the platform's options from
      the inventory.
options:
  submission:
    description:
      - The tenant's submission directory C(<root>/<tenant>/<stack>/) (or its C(vars.yml)) for that stack, or the
        tenant's directory C(<root>/<tenant>/) for all its stacks.
      - Mutually exclusive with O(tenant).
    type: str
  tenant:
    description:
      - The tenant, as infra staff name it (it must be in the registry C(spin_tenants)). Mutually exclusive with
        O(submission).
    type: str
  stack:
    description: Only this stack of the tenant (with O(tenant)).
    type: str
  lines:
    description: How many of the last lines of each service's log to show; V(0) for none.
    type: int
    default: 10
  since:
    description: Only log lines written since then, a duration ago (V(10m), V(2h)) or a UNIX time.
    type: str
  logs:
    description: Whether to read the services' logs at all.
    type: bool
    default: true
  service:
    description: With O(follow), only this service of the stack (its compose name).
    type: str
  follow:
    description:
      - Instead of the status, the log lines the services write from O(since) (default now) on, read every second
        for this many seconds (at most 600), in RV(logs) and RV(lines). C(playbooks/logs.yml) calls it round after
        round.
    type: int
    default: 0
  audit_log:
    description: The audit trail on the manager, for each stack's last deploy.
    type: path
    default: /var/log/spin/audit.jsonl
  public_host:
    description: The address the edge answers on, for URLs of routes without a host name.
    type: str
  submission_roots:
    description: The platform's submission roots; the action plugin fills it from C(spin_submission_roots).
    type: list
    elements: path
  tenants:
    description: The tenant registry; the action plugin fills it from C(spin_tenants).
    type: dict
  policy:
    description: The platform's policy variables, for the default quotas; the action plugin fills it from C(spin_policy).
    type: dict
  lb_platform:
    description: The edge's platform variables (C(spin_lb_*)), for the stored routes; the action plugin fills it.
    type: dict
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: How stack magic of tenant cory runs (the tenant's submission names it)
  spin.platform.spin_status:
    submission: /srv/spin/submissions/cory/magic
  register: magic

- name: Every stack of tenant cory, staff's form, the last hour's log lines
  spin.platform.spin_status:
    tenant: cory
    since: 1h
    lines: 50
  register: cory

- name: Print the table
  ansible.builtin.debug:
    msg: "{{ cory.table }}"
'''

RETURN = r'''
tenant:
  description: The tenant shown.
  returned: always
  type: str
stacks:
  description: The tenant's stacks (the one named), each with its services, URLs, last deploy and extra facts.
  returned: without O(follow)
  type: list
  elements: dict
  contains:
    stack:
      description: The stack's name.
      type: str
    services:
      description:
        - Each service, with C(service) (the compose name), C(name) (the Swarm name), C(mode), C(replicas) (desired),
          C(running), C(health), C(nodes) (node -> replicas running there), C(image) (as the tenant wrote it),
          C(digest), C(urls), C(last_error), C(tasks) (C(slot), C(node), C(state), C(since), C(error)) and C(logs)
          (C(time), C(where) (C(<slot>@<node>)), C(line)).
      type: list
      elements: dict
    urls:
      description: "The stack's routes on the edge, C(<service>: <url>)."
      type: list
      elements: str
    last_deploy:
      description: The last deploy or removal in the audit trail (C(action), C(outcome), C(started), C(finished),
        C(cause), C(run_by)), or null.
      type: dict
    extra:
      description: Extra facts of the stack by name, each with C(text) (lines) and C(data).
      type: dict
  sample:
    - stack: seed
      services:
        - {service: web, replicas: 2, running: 2, health: running, nodes: {node1: 2}, image: httpd,
           digest: "sha256:920f881a29b2...", urls: ["http://web.seed.demo.localhost/"]}
      urls: ["web: http://web.seed.demo.localhost/"]
      last_deploy: {action: deploy, outcome: deployed, finished: "2026-12-07T02:52:01.120Z", run_by: root}
      extra: {}
quota:
  description: The tenant's use over all its stacks against its quotas (C(replicas) C(used)/C(quota), and
    C(resources), one row per C(limits.cpus), C(limits.memory), C(reservations.cpus), C(reservations.memory)).
  returned: without O(follow)
  type: dict
table:
  description: The status as lines of text.
  returned: without O(follow)
  type: list
  elements: str
logs:
  description: With O(follow), the log lines read, oldest first (C(service), C(stack), C(time), C(where), C(line)).
  returned: with O(follow)
  type: list
  elements: dict
lines:
  description: With O(follow), the same as text, C(<time> <service>.<slot>@<node> | <line>).
  returned: with O(follow)
  type: list
  elements: str
last:
  description: With O(follow), the time of the newest line (the next round's O(since)), or null.
  returned: with O(follow)
  type: str
'''

from ansible_collections.spin.platform.plugins.module_utils.monitor import status
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec


def argument_spec():
    spec = {
        "submission": {"type": "str"},
        "tenant": {"type": "str"},
        "stack": {"type": "str"},
        "lines": {"type": "int", "default": status.LOG_LINES},
        "since": {"type": "str"},
        "logs": {"type": "bool", "default": True},
        "service": {"type": "str"},
        "follow": {"type": "int", "default": 0},
        "audit_log": {"type": "path", "default": "/var/log/spin/audit.jsonl"},
        "public_host": {"type": "str"},
        "submission_roots": {"type": "list", "elements": "path"},
        "tenants": {"type": "dict"},
        "policy": {"type": "dict"},
        "lb_platform": {"type": "dict"},
    }
    spec.update(connection_argument_spec())
    return spec


def run(module, client):
    if module.params["follow"]:
        return dict(status.follow(client, module.params), changed=False)
    found = status.collect(client, module.params)
    found["table"] = status.render(found)
    found["changed"] = False
    return found


def main():
    run_module(argument_spec(), run, required_one_of=[("tenant", "submission")])


if __name__ == "__main__":
    main()
