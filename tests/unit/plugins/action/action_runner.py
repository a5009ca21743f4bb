"""An action plugin of a submission run as Ansible runs it, on the controller, with the module on the
manager answering as it does when the swarm adds nothing (no other owner, quota left, the engine as it
should be); shared by test_one_verdict.py and the action plugins' own tests."""
import os
import types

from ansible_collections.spin.platform.plugins.action import spin_translate
from ansible_collections.spin.platform.tests.unit import tenant_tree


POLICY = {"images": ["*"], "registries": ["*"]}


class Templar(object):
    def template(self, value):
        return value


class Loader(object):
    def __init__(self, basedir):
        self.basedir = basedir

    def get_basedir(self):
        return self.basedir


def manager(module_name, module_args, task_vars=None):
    """The module on a manager when the swarm adds nothing: it passes on the controller's verdict."""
    controller = module_args.get("_controller") or {}
    if module_name == "spin.platform.spin_policy":
        return {"changed": False, "violations": list(controller.get("violations") or [])}
    violations = list(controller.get("violations") or [])
    if violations or controller.get("error_count") or module_args.get("_tasks") is None:
        return {"failed": True, "refused": True, "changed": False, "violations": violations, "msg": "refused"}
    return {"changed": True, "urls": [], "generated": []}


def run(plugin, root, directory, dest, check_mode=False, diff=False, module=manager, **args):
    """``plugin`` (an action module) run on the submission ``directory`` under ``root``, its module
    answered by ``module(module_name, module_args, task_vars)``; ``args`` add to or replace the task's."""
    # staff name the submission directory; its vars.yml and compose files are found as in production
    args = dict({"submission": directory, "policy": POLICY, "submission_roots": [root],
                 "tenants": tenant_tree.registry()}, **args)
    if plugin is spin_translate:
        args.setdefault("dest", dest)
    task = types.SimpleNamespace(args=args, async_val=0, delegate_to=None, check_mode=check_mode, diff=diff,
                                 action=plugin.__name__)
    connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir="/tmp", join_path=os.path.join),
                                       is_pipelining_enabled=lambda wrap_async=False: True)
    action = plugin.ActionModule(task, connection, None, Loader(directory), Templar(), None)
    action._execute_module = lambda module_name=None, module_args=None, task_vars=None, **kw: module(
        module_name, module_args, task_vars)
    return action.run(task_vars={"spin_worker": False})   # the module's answer comes from module()


def verdict(result):
    """(errors the tenant reads, warnings) from any of the three results."""
    errors = result.get("messages") or []
    if result.get("failed") and not errors:
        errors = [result.get("msg")]
    return errors, sorted(result.get("warnings") or [])
