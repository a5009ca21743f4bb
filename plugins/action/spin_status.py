# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_status on the controller: the tenant (and stack) from the submission as a deploy finds them,
or as staff name them; the platform's options from the inventory. The module reads the swarm."""
from __future__ import annotations

import os
import re

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.policy.policy_settings import DEFAULT_POLICY
from ansible_collections.spin.platform.plugins.modules.spin_status import argument_spec
from ansible_collections.spin.platform.plugins.plugin_utils import guard, submission_vars
from ansible_collections.spin.platform.plugins.plugin_utils.action import SpinAction
from ansible_collections.spin.platform.plugins.plugin_utils.submission import locate, platform_defaults

MODULE = "spin.platform.spin_status"


def who(args, locate_path=lambda path: path):
    """(tenant, stack or None) the task names: by its submission (the directory decides, as for a
    deploy) or, in staff's form, by tenant (in the registry) and stack. SpinError otherwise."""
    if args.get("submission"):
        if args.get("tenant") or args.get("stack"):
            raise SpinError("give either submission or tenant (and stack), not both: the submission names the tenant "
                            "and the stack")
        return submission_vars.target(locate_path(args["submission"]), args.get("submission_roots"),
                                      args.get("tenants"))
    tenant, stack = args.get("tenant"), args.get("stack")
    if not tenant:
        raise SpinError("name the tenant: its submission (spin_submission=<root>/<tenant>[/<stack>]) or, as staff, "
                        "spin_status_tenant=<tenant> [spin_status_stack=<stack>]")
    if not isinstance((args.get("tenants") or {}).get(tenant), dict):
        raise SpinError("tenant '%s' is not in the platform's registry (spin_tenants): nothing to show" % tenant)
    if stack is not None and not re.match(DEFAULT_POLICY["name_patterns"]["stack"], stack):
        raise SpinError("stack '%s' is not a stack name (%s)" % (stack, DEFAULT_POLICY["name_patterns"]["stack"]))
    return tenant, stack


class ActionModule(SpinAction):
    TRANSFERS_FILES = False
    _requires_connection = True

    def spin_run(self, result, task_vars):
        guard.refuse_tenant_extra_vars(self._loader)
        spec = argument_spec()
        dummy, args = self.validate_argument_spec(argument_spec=spec)
        del dummy
        platform_defaults(args, task_vars, self._templar)
        args["tenant"], args["stack"] = who(args, lambda path: locate(path, [os.getcwd(), self._loader.get_basedir()]))
        # the edge's stats password is no business of a status
        (args.get("lb_platform") or {}).pop("stats_password", None)
        module_args = {k: v for k, v in args.items() if k in spec and k != "submission"}
        remote = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        return self.merge_module_result(result, remote)
