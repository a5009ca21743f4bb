# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a spin.platform module meets Ansible: build the AnsibleModule, connect to
Docker, run the module's work, turn a SpinError into ``fail_json``, pass warnings on, keep the diff
only in diff mode."""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from .errors import SpinError
from .swarm import SwarmClient


def run_module(argument_spec, work, warning_prefix="", **module_options):
    """``work(module, client)`` -> result dict. A result with ``failed`` fails the task too."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **module_options)
    try:
        client = SwarmClient(module.params["docker_host"], module.params["timeout"])
        result = work(module, client)
    except SpinError as exc:
        module.fail_json(**exc.to_result())
    for warning in result.pop("warnings", None) or []:
        module.warn(warning_prefix + warning)
    if not module._diff:
        result.pop("diff", None)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)
