#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_network
short_description: One network of a stack, created as spin_stack creates it
version_added: 0.1.0
description:
  - Creates or removes one Docker network (for a stack, an overlay network C(<stack>_<name>)).
  - The options are what C(playbooks/translate.yml) writes for each network of a tenant's stack, so the
    reviewed task file creates the network exactly as M(spin.platform.spin_stack) does.
  - Swarm cannot change a network in place. A network that exists with other settings (driver, internal,
    attachable, the driver options asked for, labels) is an error, with the same rule and message as
    M(spin.platform.spin_stack); nothing is changed. Driver options that Docker adds by itself are not compared.
  - A network that exists with other C(spin.tenant) or C(spin.stack) labels belongs to another stack and is
    an error.
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: Reports whether the network would be created or removed, changes nothing.
  diff_mode:
    support: full
    details: The network's settings before and after.
  idempotent:
    support: full
    details: Running again with the same options changes nothing and reports C(changed=false).
options:
  name:
    description: Name of the network; for a stack C(<stack>_<name>).
    type: str
    required: true
  state:
    description:
      - V(present) creates the network if it is missing; V(absent) removes it.
      - Docker refuses to remove a network that a service or container still uses.
    type: str
    choices: [present, absent]
    default: present
  driver:
    description: Network driver; Swarm services need V(overlay).
    type: str
    default: overlay
  internal:
    description: No traffic to or from outside the network.
    type: bool
    default: false
  attachable:
    description: Standalone containers may join the network too (services always can).
    type: bool
    default: false
  driver_opts:
    description: Options of the driver, for example C(com.docker.network.driver.mtu) V('1400').
    type: dict
    default: {}
  labels:
    description:
      - Labels of the network. A stack's networks carry C(spin.tenant), C(spin.stack) and
        C(com.docker.stack.namespace).
      - With O(state=absent), given C(spin.tenant)/C(spin.stack) labels must match the network's, so that a
        task never removes another stack's network.
    type: dict
    default: {}
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Network seed_default (as playbooks/translate.yml writes it)
  spin.platform.spin_network:
    name: seed_default
    driver: overlay
    internal: false
    attachable: false
    driver_opts: {}
    labels:
      spin.tenant: demo
      spin.stack: seed
      com.docker.stack.namespace: seed

- name: Remove it once no service uses it
  spin.platform.spin_network:
    name: seed_default
    state: absent
    labels: {spin.tenant: demo, spin.stack: seed}
'''

RETURN = r'''
changed:
  description: Whether the network was (or, in check mode, would be) created or removed.
  returned: always
  type: bool
name:
  description: Name of the network.
  returned: always
  type: str
  sample: seed_default
id:
  description: Docker's ID of the network; null when it does not exist, or would only be created in check mode.
  returned: always
  type: str
  sample: 2qcg5u1qfprzo3q4z1ycsbx6v
diff:
  description: The network's compared settings before and after (empty when it does not exist).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Settings as Docker has them.
      type: dict
    after:
      description: Settings as asked for (empty for O(state=absent)).
      type: dict
'''

from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_network


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        driver=dict(type="str", default="overlay"),
        internal=dict(type="bool", default=False),
        attachable=dict(type="bool", default=False),
        driver_opts=dict(type="dict", default={}),
        labels=dict(type="dict", default={}),
    )
    spec.update(connection_argument_spec())
    return spec


def main():
    run_module(argument_spec(), lambda module, client: ensure_network(client, module.params, module.check_mode))


if __name__ == "__main__":
    main()
