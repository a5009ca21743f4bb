# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_lb on the controller: fill the platform variables from the inventory (``spin_lb_<key>``, and
``spin_platform.route_domain``), refusing them from the extra vars (a tenant's vars file), then run
the module on the target."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy
from ansible_collections.spin.platform.plugins.plugin_utils.action import SpinAction
from ansible_collections.spin.platform.plugins.plugin_utils.guard import refuse_tenant_extra_vars
from ansible_collections.spin.platform.plugins.plugin_utils.warm_client import execute_module

MODULE = "spin.platform.spin_lb"


class ActionModule(SpinAction):
    TRANSFERS_FILES = False
    _requires_connection = True

    def spin_run(self, result, task_vars):
        args = dict(self._task.args)
        refuse_tenant_extra_vars(self._loader)
        platform = haproxy.platform_from_vars(task_vars, self._templar.template)
        platform.update(args.get("platform") or {})
        args["platform"] = platform
        if args.get("route_domain") is None and isinstance(task_vars.get("spin_platform"), dict):
            # the automatic-route domain, under which each tenant owns <tenant>.<route_domain>
            domain = self._templar.template(task_vars["spin_platform"]).get("route_domain")
            if domain is not None:
                args["route_domain"] = domain
        remote = execute_module(self, MODULE, args, task_vars)
        return self.merge_module_result(result, remote)
