# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module task run without ``AnsibleModule``: in the warm worker's child (``warm.py``) and for
each stack of ``spin_converge``.

A module that runs this way declares ``argument_spec()``, ``run(module, client)`` and, when it has
any, ``MODULE_OPTIONS`` (``required_one_of`` and the like): the same three things its ``main()``
hands to ``module_runner.run_module``, so the task is validated and run the same either way."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import outcome

VALIDATOR_OPTIONS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class InvalidArguments(Exception):
    """The task's arguments do not fit the module's spec: carries the failed result."""

    def __init__(self, result):
        super(InvalidArguments, self).__init__(result["msg"])
        self.result = result


def run_task(module, request, client=None):
    """``module`` (a module object as above) on the task ``request`` ({module, args, check_mode, diff,
    no_log, no_target_syslog}) -> its result, no_log values masked. ``client``: a SwarmClient to share."""
    try:
        task = WarmModule(module.argument_spec(), request, **getattr(module, "MODULE_OPTIONS", {}))
    except InvalidArguments as invalid:
        return invalid.result
    result, failed = outcome(task, module.run, client=client)
    return task.finish(result, failed)


class WarmModule(object):
    """What a module's work uses of ``AnsibleModule`` (params, check_mode, _diff, warn), for a task
    that runs in the worker: the arguments validated against the same spec, and the result
    returned with every no_log value masked, as ``exit_json`` and ``fail_json`` do."""

    def __init__(self, argument_spec, request, supports_check_mode=True, **options):
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
        del supports_check_mode  # every module that runs here supports it
        validator = ArgumentSpecValidator(argument_spec, **{k: v for k, v in options.items() if k in VALIDATOR_OPTIONS})
        validated = validator.validate(request["args"])
        self.no_log_values = set(validated._no_log_values)
        self.params = validated.validated_parameters
        self.check_mode = bool(request.get("check_mode"))
        self._diff = bool(request.get("diff"))
        self.warnings = []
        if validated.errors.errors:
            raise InvalidArguments(self.finish({"msg": validated.errors.msg}, True))
        if not (request.get("no_log") or request.get("no_target_syslog")):
            self._log_invocation(request["module"].rsplit(".", 1)[-1], argument_spec)

    def _log_invocation(self, name, argument_spec):
        """'Invoked with ...' to the target's syslog, as AnsibleModule logs every module run: no_log
        options as NOT_LOGGING_PARAMETER, no_log values masked wherever they appear."""
        import syslog
        from ansible.module_utils.basic import heuristic_log_sanitize
        words = []
        for option, value in self.params.items():
            if argument_spec.get(option, {}).get("no_log"):
                value = "NOT_LOGGING_PARAMETER"
            else:
                value = heuristic_log_sanitize(value if isinstance(value, str) else str(value), self.no_log_values)
            words.append("%s=%s" % (option, value))
        syslog.openlog("ansible-%s" % name, 0, syslog.LOG_USER)
        syslog.syslog(syslog.LOG_INFO, "Invoked with %s" % " ".join(words))

    def warn(self, warning):
        self.warnings.append(warning)

    def finish(self, result, failed):
        from ansible.module_utils.common.parameters import remove_values
        result = dict(result)
        if failed:
            result["failed"] = True
            result.setdefault("msg", "the module failed")
        if self.warnings:
            result["warnings"] = list(self.warnings)
        return remove_values(result, self.no_log_values)
