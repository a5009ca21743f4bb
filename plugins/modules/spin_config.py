#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_config
short_description: One Swarm config of a stack, created as spin_stack creates it
version_added: 0.1.0
description:
  - Creates or removes one Swarm config (for a stack, C(<stack>_<name>_<sha256[:10] of the content>)).
  - The options are what C(playbooks/translate.yml) writes for each config of a tenant's stack, so the
    reviewed task file creates the config exactly as M(spin.platform.spin_stack) does. Configs are not secret;
    the review file shows their content in full (base64).
  - "Swarm configs are immutable. A config that exists with the same content is left alone; one with the same
    name and other content is an error (new content needs a new name: the translator puts the content's digest
    in the name, so translating the stack again gives it one). Nothing is changed then."
  - A config with other C(spin.tenant) or C(spin.stack) labels belongs to another stack and is an error; other
    label differences give a warning, and the config is kept as M(spin.platform.spin_stack) keeps it.
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: Reports whether the config would be created or removed, changes nothing.
  diff_mode:
    support: full
    details: The config's labels, size and sha256 before and after.
  idempotent:
    support: full
    details: Running again with the same options changes nothing and reports C(changed=false).
options:
  name:
    description: Name of the config; for a stack C(<stack>_<name>_<sha256[:10]>).
    type: str
    required: true
  state:
    description:
      - V(present) creates the config if it is missing; V(absent) removes it.
      - Docker refuses to remove a config that a service still uses.
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - The content, base64-encoded, as the translator writes it. Required with O(state=present).
      - For a file of your own, base64-encode its content in the task (see the examples).
      - When the name ends in C(_) and ten hex digits, they must be the start of the content's sha256.
    type: str
  labels:
    description:
      - Labels of the config. A stack's configs carry C(spin.tenant), C(spin.stack) and
        C(com.docker.stack.namespace).
      - With O(state=absent), given C(spin.tenant)/C(spin.stack) labels must match the config's.
    type: dict
    default: {}
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Config seed_site_2b1f0c9a7e (as playbooks/translate.yml writes it)
  spin.platform.spin_config:
    name: seed_site_2b1f0c9a7e
    data: PGgxPmhlbGxvPC9oMT4K
    labels:
      spin.tenant: demo
      spin.stack: seed
      com.docker.stack.namespace: seed

- name: A config from a file of your own on the controller
  spin.platform.spin_config:
    name: seed_app_conf
    data: "{{ lookup('ansible.builtin.file', 'app.conf', rstrip=false) | b64encode }}"
    labels:
      spin.tenant: demo
      spin.stack: seed
      com.docker.stack.namespace: seed

- name: Remove it once no service uses it
  spin.platform.spin_config:
    name: seed_site_2b1f0c9a7e
    state: absent
'''

RETURN = r'''
changed:
  description: Whether the config was (or, in check mode, would be) created or removed.
  returned: always
  type: bool
name:
  description: Name of the config.
  returned: always
  type: str
  sample: seed_site_2b1f0c9a7e
id:
  description: Docker's ID of the config; null when it does not exist, or would only be created in check mode.
  returned: always
  type: str
  sample: r8wkn6jrq3hemdfx5h4d0l7sz
diff:
  description: The config's labels, size (C(bytes)) and C(sha256) before and after (empty when it does not exist).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: As Docker has it.
      type: dict
    after:
      description: As asked for (empty for O(state=absent)).
      type: dict
'''

from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_data


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        data=dict(type="str"),
        labels=dict(type="dict", default={}),
    )
    spec.update(connection_argument_spec())
    return spec


def main():
    run_module(argument_spec(), lambda module, client: ensure_data(client, "config", module.params, module.check_mode),
               required_if=[("state", "present", ["data"])])


if __name__ == "__main__":
    main()
