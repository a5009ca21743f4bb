# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment(object):
    # The options of the modules that read a tenant's submission on the controller (spin_stack,
    # spin_policy, spin_translate): who, which stack, which files, and the platform's own settings.
    # Each module documents compose_file itself (required or not differs).
    DOCUMENTATION = r'''
options:
  tenant:
    description: The tenant that submits (and owns) the stack; must be a key of O(tenants).
    type: str
    required: true
  stack:
    description: Name of the stack; its objects are named C(<stack>_<name>).
    type: str
    required: true
  rancher_compose_file:
    description:
      - "The tenant's C(rancher-compose.yml) (C(scale), C(start_on_create), C(health_check),
        C(upgrade_strategy), C(lb_config)), inside the submission directory."
    type: path
  variables:
    description: Values for C(${VAR}) in the compose files. The controller's environment is never used.
    type: dict
    default: {}
  tenants:
    description:
      - "The tenant registry, infra staff's data: C({name: {uid: int, gid: int, paths: [...],
        quota: {replicas: int}}})."
      - Defaults to the inventory variable C(spin_tenants); a tenant's vars file must never set it.
    type: dict
  global_fs_roots:
    description:
      - Roots of the centre's global file systems, for example V(/global/cfs) and V(/global/homes).
      - Defaults to the inventory variable C(spin_global_fs_roots), else V([/global/cfs, /global/homes]).
    type: list
    elements: str
  global_fs:
    description:
      - "The centre's global file systems, C({name: {src, path, fstype, opts, groups}}), as the role
        C(spin.platform.global_fs) mounts them. A service that bind-mounts a path inside one's C(path)
        runs only on nodes labelled C(spin.fs.<name>=true) (placement by data), and a stack whose file system no
        ready node carries is refused (rule C(global-fs-placement))."
      - Defaults to the inventory variable C(spin_global_fs); a tenant's vars file must never set it.
    type: dict
  policy:
    description:
      - Overrides of the policy defaults (see C(docs/policy.md) for every key).
      - Defaults to the inventory variable C(spin_policy).
    type: dict
'''
