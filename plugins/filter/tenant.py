# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role tenant: the registry with a tenant on- or offboarded, the directories to
create, the file systems to check first. The logic is plugin_utils/tenants.py (pure)."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.spin.platform.plugins.plugin_utils import tenants
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError


def _plain(value):
    """Ansible's tagged/lazy containers -> plain dicts and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _call(fn, *args, **kwargs):
    try:
        return fn(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})
    except SpinError as exc:
        raise AnsibleFilterError(exc.message)


def tenant_onboard(registry, entry, filesystems=None, roots=None, name_pattern=None, min_uid=1000, lb_platform=None):
    return _call(tenants.onboard, registry, entry, filesystems, roots, name_pattern, min_uid, lb_platform)


def tenant_offboard(registry, name):
    return _call(tenants.offboard, registry, name)


def tenant_directories(entry, filesystems=None, roots=None, mode="0750"):
    return _call(tenants.directories, entry, filesystems, roots, mode)


def tenant_filesystems(entry, filesystems=None):
    return _call(tenants.filesystems_of, entry, filesystems or {})


class FilterModule(object):
    def filters(self):
        return {"tenant_onboard": tenant_onboard, "tenant_offboard": tenant_offboard,
                "tenant_directories": tenant_directories, "tenant_filesystems": tenant_filesystems}
