# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_lb on the controller: fill the platform variables from the inventory (``spin_lb_<key>``),
refusing them from the extra vars (a tenant's vars file), then run the module on the target."""
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.spin.platform.plugins.module_utils import haproxy
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.submission import refuse_platform_vars_from_tenant

MODULE = "spin.platform.spin_lb"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        try:
            refuse_platform_vars_from_tenant(self._loader)
        except SpinError as exc:
            result.update(exc.to_result())
            return result
        platform = haproxy.platform_from_vars(task_vars, self._templar.template)
        platform.update(args.get("platform") or {})
        args["platform"] = platform
        remote = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        result.update({k: v for k, v in remote.items() if k not in ("invocation", "_ansible_parsed")})
        return result
