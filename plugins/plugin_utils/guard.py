# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What must never arrive as extra vars, and who runs the playbook.

Extra vars (``-e``) are trusted by Ansible: templated, and outranking the inventory. A tenant's
vars file given as ``-e @vars.yml`` would make the tenant's bytes Ansible variables: a template in
it runs on the controller as the staff user, ``ansible_*`` names choose the interpreter and the
host, and platform variables (``spin_tenants``, ``spin_policy``, ...) would replace the
inventory's. The playbooks take the submission as a path instead (``-e spin_submission=...``);
every action plugin of the collection refuses extra vars that carry a tenant's keys or a platform
variable, before it looks at anything else (nothing of them is templated here).
"""
from __future__ import annotations

import os
import pwd
import shlex

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

# inventory variables that only infra staff set (the submission options' defaults)
PLATFORM_VARS = ("spin_tenants", "spin_global_fs_roots", "spin_policy", "spin_platform", "spin_global_fs",
                 "spin_submission_roots")
PLATFORM_PREFIXES = ("spin_lb_",)
# the keys of a tenant's vars file (submission_vars.KEYS): the sign that a tenant's file was given as variables
TENANT_KEYS = ("spin_tenant", "spin_stack", "spin_compose_file", "spin_rancher_compose_file", "spin_compose_variables",
               "spin_compose_profiles")


def refuse_tenant_extra_vars(loader, cli_args=None):
    """SpinError when the extra vars set a tenant's key or a platform variable; the message gives
    the command line to use instead."""
    from ansible.utils.vars import load_extra_vars

    names = set(str(name) for name in load_extra_vars(loader))
    tenant = sorted(names.intersection(TENANT_KEYS))
    platform = sorted(n for n in names if n in PLATFORM_VARS or n.startswith(PLATFORM_PREFIXES))
    if tenant:
        raise SpinError("the extra vars set %s: a tenant's vars file is data, never Ansible variables (as extra vars "
                        "its templates would run here and its ansible_* names would pick the host and the "
                        "interpreter). Nothing was run. Name the submission instead:\n  %s"
                        % (", ".join(tenant), suggested_command(cli_args or cli_args_now())))
    if platform:
        raise SpinError("the extra vars set %s: only infra staff set these, in the inventory. Nothing was run. "
                        "Remove them from the command line (a tenant's vars file never carries them)"
                        % ", ".join(platform))


def cli_args_now():
    """ansible-playbook's command line, as parsed."""
    from ansible import context

    return context.CLIARGS


def suggested_command(cli_args):
    """``ansible-playbook -i INV PLAYBOOK -e spin_submission=PATH``, with the file given as ``-e @``
    when there was one (its directory is the submission)."""
    files = [value[1:] for value in cli_args.get("extra_vars") or () if str(value).startswith("@")]
    submission = os.path.abspath(files[0]) if files else "<root>/<tenant>/<stack>"
    inventory = " ".join("-i %s" % shlex.quote(i) for i in cli_args.get("inventory") or ())
    playbooks = " ".join(shlex.quote(p) for p in cli_args.get("args") or ()) or "playbooks/deploy.yml"
    return " ".join(part for part in ("ansible-playbook", inventory, playbooks,
                                      "-e spin_submission=%s" % shlex.quote(submission)) if part)


def staff_user():
    """Who runs the playbook on the controller, for the audit trail: the user, and the one who
    became it through sudo."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    out = {"user": name, "uid": uid}
    if os.environ.get("SUDO_USER"):
        out["sudo_user"] = os.environ["SUDO_USER"]
    return out
