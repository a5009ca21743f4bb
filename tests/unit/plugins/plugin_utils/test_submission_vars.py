"""submission_vars: staff name a submission with one path; its vars file is the tenant's data, typed
and never templated, and the tenant is the directory's, whatever the file says."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import submission_vars
from ansible_collections.spin.platform.tests.unit import tenant_tree


def submit(tmp_path, files, tenant="eve", stack="site"):
    root, directory = tenant_tree.submission(tmp_path, tenant, stack)
    for name, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(directory, name)), exist_ok=True)
        with open(os.path.join(directory, name), "w") as handle:
            handle.write(text)
    tenant_tree.hand_in(directory)
    return root, directory


def resolve(root, path, **kwargs):
    return submission_vars.resolve(path, [root], dict(tenant_tree.registry("eve"), cory={"uid": 1001}), **kwargs)


def test_a_directory_without_a_vars_file_is_read_as_compose_reads_it(tmp_path):
    root, directory = submit(tmp_path, {"docker-compose.yml": "services: {}\n", "compose.yaml": "services: {}\n",
                                        "rancher-compose.yml": "services: {}\n"})
    options = resolve(root, directory)
    assert options == {"tenant": "eve", "stack": "site", "compose_file": os.path.join(directory, "compose.yaml"),
                       "compose_override_files": [],
                       "rancher_compose_file": os.path.join(directory, "rancher-compose.yml"),
                       "_submission": {"tenant": "eve", "uid": tenant_tree.UID, "path": directory,
                                       "directory": directory, "vars_file": None}}


def test_the_vars_file_names_the_stack_files_variables_and_profiles(tmp_path):
    root, directory = submit(tmp_path, {
        "app/docker-compose.yml": "services: {}\n",
        "vars.yml": "spin_stack: magic\nspin_compose_file: app/docker-compose.yml\n"
                    "spin_compose_variables: {TAG: 2.4, DEBUG: true, N: 3}\nspin_compose_profiles: [debug]\n"})
    options = resolve(root, os.path.join(directory, "vars.yml"))
    assert options["stack"] == "magic" and options["tenant"] == "eve"
    assert options["compose_file"] == os.path.join(directory, "app", "docker-compose.yml")
    assert options["rancher_compose_file"] is None
    # YAML 1.2 as the loader reads it: 2.4 and 3 stay the text the tenant wrote; true is compose's "true"
    assert options["variables"] == {"TAG": "2.4", "DEBUG": "true", "N": "3"}
    assert options["profiles"] == ["debug"]
    assert resolve(root, directory)["stack"] == "magic"   # the directory stands for its vars.yml


def test_a_template_in_the_vars_file_stays_text(tmp_path):
    text = "{{ lookup('pipe', 'id > %s') }}" % (tmp_path / "ran")
    root, directory = submit(tmp_path, {"docker-compose.yml": "services: {}\n",
                                        "vars.yml": "spin_compose_variables: {X: \"%s\"}\n" % text})
    options = resolve(root, directory)
    assert options["variables"] == {"X": text} and options["variables"]["X"].__class__ is str
    assert not (tmp_path / "ran").exists()


def test_every_key_that_is_not_the_tenants_is_refused_at_once(tmp_path):
    root, directory = submit(tmp_path, {
        "docker-compose.yml": "services: {}\n",
        "vars.yml": "ansible_python_interpreter: ./x.sh\nansible_host: 203.0.113.9\ndeploy_build_node: evil\n"
                    "spin_tenants: {eve: {uid: 0}}\nspin_compose_fle: a.yml\nspin_stack: [a]\n"
                    "spin_compose_profiles: debug\nspin_tenant: cory\n"})
    with pytest.raises(SpinError) as info:
        resolve(root, directory)
    lines = info.value.message.splitlines()
    assert lines[0] == "submission %s is refused (8 problem(s)):" % directory
    staff = "not a key of a submission (Ansible's and the playbooks' settings are infra staff's): remove it; " \
            "a vars file holds only " + ", ".join(submission_vars.KEYS)
    assert lines[1:] == [
        "vars.yml: key 'ansible_python_interpreter': " + staff,
        "vars.yml: key 'ansible_host': " + staff,
        "vars.yml: key 'deploy_build_node': " + staff,
        "vars.yml: key 'spin_tenants': not a key of a submission (the platform's settings are infra staff's): remove "
        "it; did you mean 'spin_tenant'?",
        "vars.yml: key 'spin_compose_fle': not a key of a submission (the platform's settings are infra staff's): "
        "remove it; did you mean 'spin_compose_file'?",
        "vars.yml: key 'spin_stack': must be a string (the stack's name (default: the submission directory's name)), "
        "not list",
        "vars.yml: key 'spin_compose_profiles': must be a list of profile names",
        "vars.yml: key 'spin_tenant': says 'cory', but the submission lies in tenant 'eve''s directory %s: the "
        "platform knows the tenant from where the files are. Remove spin_tenant, or submit from cory's own directory"
        % os.path.join(root, "eve")]


def test_the_tenants_own_name_is_accepted(tmp_path):
    root, directory = submit(tmp_path, {"docker-compose.yml": "services: {}\n", "vars.yml": "spin_tenant: eve\n"})
    assert resolve(root, directory)["tenant"] == "eve"


@pytest.mark.parametrize("key, value", [("spin_compose_file", "../../cory/magic/docker-compose.yml"),
                                        ("spin_rancher_compose_file", "/etc/passwd")])
def test_a_file_outside_the_submission_directory_is_refused(tmp_path, key, value):
    root, directory = submit(tmp_path, {"docker-compose.yml": "services: {}\n",
                                        "vars.yml": "%s: %s\n" % (key, value)})
    with pytest.raises(SpinError) as info:
        resolve(root, directory)
    assert info.value.message == ("vars.yml: key '%s': '%s' is outside the submission directory %s: keep the file "
                                  "in it and give its path relative to it" % (key, value, directory))


def test_a_submission_without_a_compose_file_says_what_to_add(tmp_path):
    root, directory = submit(tmp_path, {})
    with pytest.raises(SpinError) as info:
        resolve(root, directory)
    assert "has no compose file: put one of compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml" \
        in info.value.message


def test_a_removed_submission_still_names_its_tenant_and_stack_for_a_removal(tmp_path):
    root, directory = submit(tmp_path, {})
    gone = os.path.join(root, "eve", "old")
    assert resolve(root, gone, need_files=False)["stack"] == "old"
    with pytest.raises(SpinError) as info:
        resolve(root, gone)
    assert "submission %s does not exist" % gone in info.value.message


def test_the_tenants_own_directory_is_not_a_submission(tmp_path):
    root, directory = submit(tmp_path, {})
    with pytest.raises(SpinError) as info:
        resolve(root, os.path.join(root, "eve"))
    assert "is tenant 'eve''s own directory, not a stack's" in info.value.message


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another uid needs root")
def test_a_vars_file_of_another_tenant_is_refused_unread(tmp_path):
    root, directory = submit(tmp_path, {"docker-compose.yml": "services: {}\n", "vars.yml": "spin_stack: x\n"})
    os.chown(os.path.join(directory, "vars.yml"), 1001, 1001)
    with pytest.raises(SpinError) as info:
        resolve(root, directory)
    assert "vars.yml is owned by uid 1001 (tenant 'cory'), not by tenant 'eve'" in info.value.message


# ---- several compose files (issue 18): a list, and the override file docker compose reads itself ----

@pytest.mark.parametrize("files, expected", [
    # compose-go's DefaultFileNames and DefaultOverrideFileNames, first found of each
    ({"docker-compose.yml": "", "docker-compose.override.yml": ""}, ["docker-compose.yml", "docker-compose.override.yml"]),
    ({"compose.yaml": "", "compose.override.yaml": "", "docker-compose.override.yml": ""},
     ["compose.yaml", "compose.override.yaml"]),
    # an override of the other family is read all the same, as docker compose reads it
    ({"docker-compose.yml": "", "compose.override.yml": ""}, ["docker-compose.yml", "compose.override.yml"]),
    # docker-compose.yml before docker-compose.yaml, as compose-go orders them
    ({"docker-compose.yaml": "", "docker-compose.yml": ""}, ["docker-compose.yml"]),
    ({"docker-compose.yml": "", "docker-compose.prod.yml": ""}, ["docker-compose.yml"]),
])
def test_without_a_vars_file_the_override_beside_the_compose_file_is_merged(tmp_path, files, expected):
    root, directory = submit(tmp_path, dict((name, "services: {}\n") for name in files))
    options = resolve(root, directory)
    assert [options["compose_file"]] + options["compose_override_files"] == [
        os.path.join(directory, name) for name in expected]


def test_a_list_of_compose_files_is_merged_in_order_and_no_override_is_added(tmp_path):
    root, directory = submit(tmp_path, {
        "docker-compose.yml": "services: {}\n", "docker-compose.override.yml": "services: {}\n",
        "deploy/prod.yml": "services: {}\n",
        "vars.yml": "spin_compose_file: [docker-compose.yml, deploy/prod.yml]\n"})
    options = resolve(root, directory)
    assert options["compose_file"] == os.path.join(directory, "docker-compose.yml")
    # -f names the files: docker compose then reads no override file by itself
    assert options["compose_override_files"] == [os.path.join(directory, "deploy", "prod.yml")]


@pytest.mark.parametrize("value, message", [
    ("[]", "must be a file name or a list of file names (merged in that order, as docker compose -f a -f b merges "
           "them), not an empty list"),
    ("[a.yml, 3]", "must be a file name or a list of file names (merged in that order, as docker compose -f a -f b "
                   "merges them), not list"),
    ("{a: b}", "must be a file name or a list of file names (merged in that order, as docker compose -f a -f b "
               "merges them), not dict"),
    ("[a.yml, a.yml]", "names a file twice: give each compose file once"),
])
def test_a_compose_file_list_is_typed(tmp_path, value, message):
    root, directory = submit(tmp_path, {"a.yml": "services: {}\n", "vars.yml": "spin_compose_file: %s\n" % value})
    with pytest.raises(SpinError) as info:
        resolve(root, directory)
    assert info.value.message.splitlines()[1] == "vars.yml: key 'spin_compose_file': " + message


def test_every_file_of_a_compose_file_list_stays_inside_the_submission(tmp_path):
    root, directory = submit(tmp_path, {"a.yml": "services: {}\n",
                                        "vars.yml": "spin_compose_file: [a.yml, ../../cory/x/b.yml]\n"})
    with pytest.raises(SpinError) as info:
        resolve(root, directory)
    assert info.value.message == ("vars.yml: key 'spin_compose_file': '../../cory/x/b.yml' is outside the submission "
                                  "directory %s: keep the file in it and give its path relative to it" % directory)
