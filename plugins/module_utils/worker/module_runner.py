# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a spin.platform module meets Ansible: build the module object, connect to
Docker, run the module's work, turn a SpinError into a failure, pass warnings on, keep the diff
only in diff mode.

A module runs either as Ansible runs any module (``run_module``: its own process, ``AnsibleModule``)
or inside the manager's warm worker (``task.run_task``: a process that has imported everything once
and forks per task); both call ``outcome``, so the work and its result are the same either way."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient

# the modules that take a tenant's submission: the tenant and the stack are named, by the task or (its action
# plugin read it on the controller) by the submission
SUBMISSION_NAMED = {"required_one_of": [("tenant", "submission"), ("stack", "submission")]}


def submission_argument_spec():
    """The options of a tenant's submission, as the doc fragment ``spin.platform.submission`` documents them."""
    return {
        "submission": {"type": "str"},
        "tenant": {"type": "str"},
        "stack": {"type": "str"},
        "compose_override_files": {"type": "list", "elements": "str", "default": []},
        "rancher_compose_file": {"type": "path"},
        "variables": {"type": "dict", "default": {}},
        "profiles": {"type": "list", "elements": "str"},
        "submission_roots": {"type": "list", "elements": "path"},
    }


def outcome(module, work, warning_prefix="", client=None):
    """``work(module, client)`` on a module object (``AnsibleModule`` or ``task.WarmModule``) ->
    (result, failed): warnings given to the module, the diff kept only in diff mode. ``client``: a
    SwarmClient to share (spin_converge: one per thread for every stack it runs), else a new one."""
    try:
        if client is None:
            client = SwarmClient(module.params["docker_host"], module.params["timeout"])
        result = work(module, client)
    except SpinError as exc:
        return exc.to_result(), True
    for warning in result.pop("warnings", None) or []:
        module.warn(warning_prefix + warning)
    if not module._diff:
        result.pop("diff", None)
    return result, bool(result.get("failed"))


def run_module(argument_spec, work, warning_prefix="", **module_options):
    """``work(module, client)`` -> result dict. A result with ``failed`` fails the task too."""
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **module_options)
    result, failed = outcome(module, work, warning_prefix)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)
