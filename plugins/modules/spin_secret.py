#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_secret
short_description: One Swarm secret of a stack, created as spin_stack creates it
version_added: 0.1.0
description:
  - Creates or removes one Swarm secret (for a stack, C(<stack>_<name>_<sha256[:10] of the content>)).
  - The options are what C(playbooks/translate.yml) writes for each secret of a tenant's stack, plus
    O(data_file), so that the reviewed task file creates the secret exactly as M(spin.platform.spin_stack) does.
  - "The review file does not show a secret's content: its O(data) reads C(<redacted: N bytes>).
    Such a task still runs unchanged when the secret exists already (the name carries the content's digest).
    To create it, the content comes from O(data_file), which is read B(on the controller) and must have exactly
    the N bytes that were reviewed and the sha256 whose start the name carries; any other file is refused. The
    review file shows no full digest of a secret (one would confirm guesses at a weak password); files written
    by earlier builds, with C(<redacted: N bytes, sha256 H>), are still understood."
  - "How to run a reviewed file: include it unchanged from a play on a swarm manager with
    C(module_defaults: {spin.platform.spin_secret: {data_file: <the tenant's submission directory>}}): for each
    secret the file with the reviewed content is found in that directory. Or add O(data_file) to a secret's
    task. A secret that the compose file takes from a variable (C(environment:)) has no file: replace its
    O(data) with V({{ <variable> | b64encode }}); the digest in the name still has to match."
  - "Swarm secrets are immutable, and Docker never shows a secret's content. A secret that exists with the
    task's name is left alone (as M(spin.platform.spin_stack) leaves it); when the name ends in C(_) and ten hex
    digits, they must be the start of the content's sha256, so new content under an old name is an error."
  - A secret with other C(spin.tenant) or C(spin.stack) labels belongs to another stack and is an error; other
    label differences give a warning, and the secret is kept.
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: Reports whether the secret would be created or removed, changes nothing (O(data_file) is still read
      and checked).
  diff_mode:
    support: full
    details: The secret's name and labels, and the size of new content, before and after; never the content
      or a digest of it.
  idempotent:
    support: full
    details: Running again with the same options changes nothing and reports C(changed=false).
  action:
    support: full
    details: An action plugin reads O(data_file) on the controller and gives the module its content.
options:
  name:
    description: Name of the secret; for a stack C(<stack>_<name>_<sha256[:10]>).
    type: str
    required: true
  state:
    description:
      - V(present) creates the secret if it is missing; V(absent) removes it.
      - Docker refuses to remove a secret that a service still uses.
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - The content, base64-encoded, as the translator writes it; never logged.
      - "Or the review file's V(<redacted: N bytes>); then O(data_file) gives the content, which must
        match N and the digest in the name. Without O(data_file) the task works only when the secret exists
        already."
      - O(state=present) needs O(data), O(data_file) or O(generate).
    type: str
  data_file:
    description:
      - A file B(on the controller) with the content (bytes as they are, no trailing newline removed).
        Absolute, or relative to the working directory, else to the playbook's or role's C(files/).
      - "A directory: with O(data) being the redaction marker, the file under it (searched recursively) whose
        content is the reviewed one; made for C(module_defaults) with the tenant's submission directory."
      - With O(data) other than the redaction marker, a file is an error (give one of the two) and a directory is
        not used. With O(state=absent) it is not used.
    type: path
  generate:
    description:
      - Make the secret with random content (32 characters) when it does not exist, and keep it as it is when it
        does; O(data) and O(data_file) are not used. The translator writes this for a database that names no root
        password (C(<stack>_<service>_root_password)).
    type: bool
    default: false
  labels:
    description:
      - Labels of the secret. A stack's secrets carry C(spin.tenant), C(spin.stack) and
        C(com.docker.stack.namespace).
      - With O(state=absent), given C(spin.tenant)/C(spin.stack) labels must match the secret's.
    type: dict
    default: {}
notes:
  - Keep the review file's secret tasks as they are written; the redaction marker is what ties the content used
    to the content reviewed.
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Apply a reviewed task file unchanged, with the secrets' content from the tenant's submission directory
  module_defaults:
    spin.platform.spin_secret:
      data_file: /srv/submissions/seed
  block:
    - name: The reviewed tasks of stack seed
      ansible.builtin.include_tasks: /srv/review/seed.tasks.yml

# One secret task as playbooks/translate.yml writes it, with the file given on the task
- name: Secret seed_db_password_5e884898da
  spin.platform.spin_secret:
    name: seed_db_password_5e884898da
    data: '<redacted: 8 bytes>'
    data_file: /srv/submissions/seed/db_password.txt
    labels:
      spin.tenant: demo
      spin.stack: seed
      com.docker.stack.namespace: seed

# A secret that the compose file takes from a variable
- name: Secret seed_api_token_0123456789
  spin.platform.spin_secret:
    name: seed_api_token_0123456789
    data: "{{ spin_compose_variables.API_TOKEN | b64encode }}"
    labels: {spin.tenant: demo, spin.stack: seed, com.docker.stack.namespace: seed}

- name: Remove a secret once no service uses it
  spin.platform.spin_secret:
    name: seed_db_password_5e884898da
    state: absent
    labels: {spin.tenant: demo, spin.stack: seed}
'''

RETURN = r'''
changed:
  description: Whether the secret was (or, in check mode, would be) created or removed.
  returned: always
  type: bool
name:
  description: Name of the secret.
  returned: always
  type: str
  sample: seed_db_password_5e884898da
id:
  description: Docker's ID of the secret; null when it does not exist, or would only be created in check mode.
  returned: always
  type: str
  sample: fsiubuucfpqz5xkp6l5xoidp5
diff:
  description:
    - The secret's labels before and after; C(bytes) of the content it is created with (no digest).
    - Docker never shows an existing secret's content, so C(before) has no size.
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
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_data


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        data=dict(type="str", no_log=True),
        data_file=dict(type="path"),
        generate=dict(type="bool", default=False),
        labels=dict(type="dict", default={}),
    )
    spec.update(connection_argument_spec())
    return spec


def work(module, client):
    if module.params["data_file"] is not None:
        # the action plugin reads it on the controller and passes the content as data
        raise SpinError("secret '%s': data_file reached the module, so the action plugin spin.platform.spin_secret "
                        "did not run; call the module by its name spin.platform.spin_secret" % module.params["name"])
    return ensure_data(client, "secret", module.params, check_mode=module.check_mode)


def main():
    run_module(argument_spec(), work, required_if=[("state", "present", ["data", "data_file"], True)])


if __name__ == "__main__":
    main()
