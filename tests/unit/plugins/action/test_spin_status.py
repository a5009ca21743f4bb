"""spin_status's action: the tenant (and stack) a status shows come from the submission as a deploy
finds them (the directory decides), or from staff's own command line; nothing else."""
import os

import pytest

from ansible_collections.spin.platform.plugins.action.spin_status import who
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.tests.unit import tenant_tree


def tree(tmp_path):
    root, directory = tenant_tree.submission(tmp_path, "eve", "site")
    with open(os.path.join(directory, "vars.yml"), "w") as handle:
        handle.write("spin_stack: shop\n")
    tenant_tree.hand_in(directory)
    tenants = dict(tenant_tree.registry("eve"), cory={"uid": tenant_tree.UID + 7})
    return root, directory, tenants


def test_a_stack_submission_names_its_tenant_and_stack(tmp_path):
    root, directory, tenants = tree(tmp_path)
    args = {"submission": directory, "submission_roots": [root], "tenants": tenants}
    assert who(args) == ("eve", "shop")     # the vars file's stack, the directory's tenant
    assert who(dict(args, submission=os.path.join(directory, "vars.yml"))) == ("eve", "shop")


def test_the_tenants_directory_names_every_stack_of_it(tmp_path):
    root, directory, tenants = tree(tmp_path)
    assert who({"submission": os.path.dirname(directory), "submission_roots": [root], "tenants": tenants}) == \
        ("eve", None)


def test_a_gone_stack_is_still_named_by_its_path(tmp_path):
    root, directory, tenants = tree(tmp_path)
    gone = os.path.join(os.path.dirname(directory), "old")
    assert who({"submission": gone, "submission_roots": [root], "tenants": tenants}) == ("eve", "old")


@pytest.mark.parametrize("args, message", [
    ({"tenant": "cory"}, None),
    ({"tenant": "cory", "stack": "magic"}, None),
    ({"tenant": "mallory"}, "tenant 'mallory' is not in the platform's registry (spin_tenants): nothing to show"),
    ({"tenant": "cory", "stack": "a,b=c"}, "stack 'a,b=c' is not a stack name"),
    ({}, "name the tenant: its submission"),
    ({"stack": "magic"}, "name the tenant: its submission"),
])
def test_staff_name_a_registered_tenant(tmp_path, args, message):
    root, directory, tenants = tree(tmp_path)
    args = dict(args, submission_roots=[root], tenants=tenants)
    if message is None:
        assert who(args) == (args["tenant"], args.get("stack"))
    else:
        with pytest.raises(SpinError, match=message.replace("(", r"\(").replace(")", r"\)")):
            who(args)


def test_submission_and_tenant_together_are_refused(tmp_path):
    root, directory, tenants = tree(tmp_path)
    with pytest.raises(SpinError, match="give either submission or tenant"):
        who({"submission": directory, "tenant": "cory", "submission_roots": [root], "tenants": tenants})


def test_a_path_outside_the_roots_or_of_nobody_is_refused(tmp_path):
    root, directory, tenants = tree(tmp_path)
    with pytest.raises(SpinError, match="outside the submission roots"):
        who({"submission": str(tmp_path), "submission_roots": [root], "tenants": tenants})
    os.makedirs(os.path.join(root, "mallory", "x"))
    with pytest.raises(SpinError, match="no tenant 'mallory' in the registry"):
        who({"submission": os.path.join(root, "mallory", "x"), "submission_roots": [root], "tenants": tenants})
