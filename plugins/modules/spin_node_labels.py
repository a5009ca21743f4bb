#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_node_labels
short_description: Set a swarm node's labels, and remove the stale ones of a namespace
version_added: 0.1.0
description:
  - Sets O(labels) on one swarm node; with O(prefix), also removes the node's labels under that prefix that
    O(labels) does not name. The role C(spin.platform.global_fs) uses it with O(prefix=spin.fs.) so that a node
    carries exactly the file systems it was just seen to have, and loses the label of a mount it lost.
  - Labels outside O(prefix) are never touched.
  - Runs against a manager (O(docker_host)); the node is named by its ID or hostname.
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: Reports the labels that would be set and removed; changes nothing.
  diff_mode:
    support: full
    details: The node's labels before and after.
  idempotent:
    support: full
    details: A node that already has the labels is not updated (its version stays).
options:
  node:
    description: The node's ID or hostname.
    type: str
    required: true
  labels:
    description: "Labels the node must have, C({key: value}); values are strings (V(true) for a boolean true)."
    type: dict
    default: {}
  prefix:
    description: Remove the node's labels that start with this and are not in O(labels). Empty removes none.
    type: str
    default: ''
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: The node carries cfs and nothing else of the spin.fs. labels
  spin.platform.spin_node_labels:
    node: "{{ node_id }}"
    labels: {spin.fs.cfs: "true"}
    prefix: spin.fs.
  delegate_to: "{{ groups['swarm_managers'][0] }}"
'''

RETURN = r'''
node:
  description: The node's ID.
  returned: always
  type: str
added:
  description: "Labels set or changed, C({key: value})."
  returned: always
  type: dict
removed:
  description: Label keys removed.
  returned: always
  type: list
  elements: str
labels:
  description: "The node's labels after the run (in check mode, as they would be)."
  returned: always
  type: dict
'''

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec


def argument_spec():
    spec = {
        "node": {"type": "str", "required": True},
        "labels": {"type": "dict", "default": {}},
        "prefix": {"type": "str", "default": ""},
    }
    spec.update(connection_argument_spec())
    return spec


def desired_labels(current, labels, prefix):
    """-> (new labels, added {key: value}, removed [keys])."""
    want = {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (labels or {}).items()}
    new = {k: v for k, v in (current or {}).items() if not (prefix and k.startswith(prefix) and k not in want)}
    added = {k: v for k, v in want.items() if new.get(k) != v}
    new.update(want)
    removed = sorted(set(current or {}) - set(new))
    return new, added, removed


def find_node(client, name):
    for node in client.nodes():
        if node["ID"] == name or (node.get("Description") or {}).get("Hostname") == name:
            return node
    raise SpinError("no swarm node has the ID or hostname '%s' (ask a manager: docker node ls)" % name)


def run(module, client):
    params = module.params
    node = find_node(client, params["node"])
    spec = dict(node["Spec"])
    current = dict(spec.get("Labels") or {})
    new, added, removed = desired_labels(current, params["labels"], params["prefix"])
    changed = new != current
    if changed and not module.check_mode:
        spec["Labels"] = new
        client.update_node(node["ID"], node["Version"]["Index"], spec)
    return {"changed": changed, "node": node["ID"], "added": added, "removed": removed, "labels": new,
            "diff": {"before": {"labels": current}, "after": {"labels": new}}}


def main():
    run_module(argument_spec(), run)


if __name__ == "__main__":
    main()
