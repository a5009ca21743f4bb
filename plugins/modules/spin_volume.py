#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_volume
short_description: One named volume of a stack, created as spin_stack creates it
version_added: 0.1.0
description:
  - Creates or removes one Docker volume (for a stack, C(<stack>_<name>)) on the engine the module talks to.
  - The options are what C(playbooks/translate.yml) writes for each named volume of a tenant's stack, so the
    reviewed task file creates the volume exactly as M(spin.platform.spin_stack) does.
  - Volumes belong to one node. On other nodes Swarm creates a service's missing volume itself, from the
    driver and options that M(spin.platform.spin_service) gives the mount.
  - "A volume that exists is kept as it is, with its data, as M(spin.platform.spin_stack) keeps it: Docker
    cannot change a volume. When its driver, options or labels differ from the options, the module warns and
    reports no change. A volume with other C(spin.tenant) or C(spin.stack) labels belongs to another stack and is
    an error."
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: Reports whether the volume would be created or removed, changes nothing.
  diff_mode:
    support: full
    details: The volume's driver, options and labels before and after.
  idempotent:
    support: full
    details: Running again with the same options changes nothing and reports C(changed=false).
options:
  name:
    description: Name of the volume; for a stack C(<stack>_<name>).
    type: str
    required: true
  state:
    description:
      - V(present) creates the volume if it is missing; V(absent) removes it B(and its data).
      - Docker refuses to remove a volume that a container still uses.
    type: str
    choices: [present, absent]
    default: present
  driver:
    description: Volume driver.
    type: str
    default: local
  driver_opts:
    description: Options of the driver, for example C(type), C(device) and C(o) of the V(local) driver.
    type: dict
    default: {}
  labels:
    description:
      - Labels of the volume. A stack's volumes carry C(spin.tenant), C(spin.stack) and
        C(com.docker.stack.namespace).
      - With O(state=absent), given C(spin.tenant)/C(spin.stack) labels must match the volume's.
    type: dict
    default: {}
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Volume seed_data (as playbooks/translate.yml writes it)
  spin.platform.spin_volume:
    name: seed_data
    driver: local
    driver_opts: {}
    labels:
      spin.tenant: demo
      spin.stack: seed
      com.docker.stack.namespace: seed

- name: Remove the volume and its data
  spin.platform.spin_volume:
    name: seed_data
    state: absent
    labels: {spin.tenant: demo, spin.stack: seed}
'''

RETURN = r'''
changed:
  description: Whether the volume was (or, in check mode, would be) created or removed.
  returned: always
  type: bool
name:
  description: Name of the volume.
  returned: always
  type: str
  sample: seed_data
id:
  description: The volume's name once it exists (Docker names volumes by name); null otherwise.
  returned: always
  type: str
  sample: seed_data
diff:
  description: The volume's driver, driver options and labels before and after (empty when it does not exist).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: As Docker has it.
      type: dict
    after:
      description: As asked for; for a volume that is kept, as Docker has it.
      type: dict
'''

from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_volume


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        driver=dict(type="str", default="local"),
        driver_opts=dict(type="dict", default={}),
        labels=dict(type="dict", default={}),
    )
    spec.update(connection_argument_spec())
    return spec


def main():
    run_module(argument_spec(), lambda module, client: ensure_volume(client, module.params, module.check_mode))


if __name__ == "__main__":
    main()
