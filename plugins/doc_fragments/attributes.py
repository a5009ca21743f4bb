# -*- coding: utf-8 -*-
# Copyright: spin.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment(object):
    # What each attribute means; a module states its own support (and details) for each.
    # spin.platform.attributes: check_mode, diff_mode, idempotent
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
'''

    # spin.platform.attributes.actiongroup_spin: every module of the collection is in the action group
    # spin.platform.spin (meta/runtime.yml), so module_defaults can set, for example, docker_host once.
    ACTIONGROUP_SPIN = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/spin.platform.spin) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - spin.platform.spin
'''

    # spin.platform.attributes.action: the module has an action plugin that does part of the work on the controller.
    ACTION = r'''
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
'''
