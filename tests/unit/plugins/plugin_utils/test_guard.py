"""guard: a tenant's vars file given as extra vars (-e @vars.yml) is refused before anything of it is
used, with the command line to run instead; so are platform variables from the command line."""
import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.utils.vars import load_extra_vars

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import guard


def loader_with(monkeypatch, extra_vars):
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict

    args = ImmutableDict(extra_vars=tuple(extra_vars), inventory=("inventory/local.yml",),
                         args=("playbooks/deploy.yml",))
    monkeypatch.setattr(context, "CLIARGS", args)
    monkeypatch.setattr(load_extra_vars, "extra_vars", None, raising=False)   # Ansible keeps the first parse
    return DataLoader(), args


def test_a_tenants_vars_file_as_extra_vars_is_refused_with_the_new_command(tmp_path, monkeypatch):
    ran = tmp_path / "ran"
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text("spin_tenant: cory\nspin_stack: \"{{ lookup('pipe', 'id > %s') }}\"\n"
                         "spin_compose_file: docker-compose.yml\n" % ran)
    loader, args = loader_with(monkeypatch, ["@%s" % vars_file])
    with pytest.raises(SpinError) as info:
        guard.refuse_tenant_extra_vars(loader, args)
    assert info.value.message == (
        "the extra vars set spin_compose_file, spin_stack, spin_tenant: a tenant's vars file is data, never Ansible "
        "variables (as extra vars its templates would run here and its ansible_* names would pick the host and the "
        "interpreter). Nothing was run. Name the submission instead:\n"
        "  ansible-playbook -i inventory/local.yml playbooks/deploy.yml -e spin_submission=%s" % vars_file)
    assert not ran.exists()


@pytest.mark.parametrize("extra", [["spin_tenants={\"eve\": {\"uid\": 0}}"], ["spin_lb_ports=[22]"],
                                   ["spin_submission_roots=[\"/\"]"]])
def test_platform_variables_as_extra_vars_are_refused(monkeypatch, extra):
    loader, args = loader_with(monkeypatch, extra)
    with pytest.raises(SpinError) as info:
        guard.refuse_tenant_extra_vars(loader, args)
    assert "only infra staff set these, in the inventory. Nothing was run." in info.value.message


def test_staffs_own_extra_vars_pass(monkeypatch):
    loader, args = loader_with(monkeypatch, ["spin_submission=/srv/spin/submissions/cory/magic",
                                             "spin_remove_volumes=true"])
    guard.refuse_tenant_extra_vars(loader, args)


def test_the_suggested_command_without_a_file_names_the_layout():
    assert guard.suggested_command({"args": ("playbooks/remove.yml",), "inventory": ("inv.yml",)}) == (
        "ansible-playbook -i inv.yml playbooks/remove.yml -e spin_submission='<root>/<tenant>/<stack>'")
