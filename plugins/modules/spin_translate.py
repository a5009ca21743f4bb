#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_translate
short_description: Write the tasks that a tenant's compose files translate to, for review
version_added: 0.1.0
description:
  - Reads the tenant's compose files on the controller exactly as M(spin.platform.spin_stack) does (inside the
    submission directory only), checks them against the platform's policy, and writes the translation as an
    Ansible task file of C(spin.platform.spin_service) (and network, volume, secret and config) tasks with every
    parameter, in start order. M(spin.platform.spin_stack) applies the very same translation.
  - Secret contents are redacted in the file.
  - A stack with compose errors or policy violations is refused with every problem listed, and no file is
    written.
  - Runs on the controller only; it talks to no Docker engine, so it cannot check ownership or quotas (the
    deploy does).
extends_documentation_fragment:
  - spin.platform.submission
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: Reports whether the file would change, writes nothing.
  diff_mode:
    support: full
    details: Shows the task file before and after.
  idempotent:
    support: full
  action:
    support: full
    details: Everything happens in the action plugin, on the controller.
options:
  compose_file:
    description:
      - The tenant's C(docker-compose.yml), absolute or relative to the working directory.
      - Leave it out when O(submission) is given, which names it.
    type: path
  dest:
    description: Where to write the task file on the controller; by default C(<stack>.tasks.yml) in the working
      directory.
    type: path
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Write the seed's translation for review
  spin.platform.spin_translate:
    submission: /srv/spin/submissions/demo/seed
    dest: /tmp/seed.tasks.yml
'''

RETURN = r'''
tenant:
  description: The tenant of the stack (with O(submission), the one whose directory holds it).
  returned: always
  type: str
stack:
  description: The stack's name.
  returned: always
  type: str
dest:
  description: The task file written.
  returned: success
  type: str
tasks:
  description: The translation itself (networks, volumes, secrets, configs, services, endpoints); secret data redacted.
  returned: success
  type: dict
'''
