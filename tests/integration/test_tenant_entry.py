"""The tenant's vars file is data and the tenant is who the platform says (issue 17), through the
playbooks on the real engine. Each hostile submission is one a tenant could hand in on main before
(then it ran code as root, picked the host or the interpreter, or deployed as another tenant); here
each is refused with the message the tenant reads, nothing of it runs and nothing is created."""
import json
import os
import uuid

import pytest
from conftest import run_playbook

from stacklib import Tenant, discard, hand_in, submission_dir, write_inventory

AUDIT_LOG = "/var/log/spin/audit.jsonl"
EVE_UID = 1077
WEB = "services:\n  web:\n    image: httpd\n    labels: {greeting: '${GREETING}'}\n    x-spin: {route: false}\n"


@pytest.fixture
def scene(tmp_path, docker_client):
    """eve (a tenant of this test's inventory) and cory (the registry's); a marker that a hostile
    template or script would create if it ran."""
    prefix = "te" + uuid.uuid4().hex[:6]
    inventory = write_inventory(tmp_path, spin_tenants={"eve": {"uid": EVE_UID, "gid": EVE_UID}})

    def playbook(*args, **kwargs):
        return run_playbook(*args, inventory=inventory, **kwargs)

    marker = "/tmp/%s-ran" % prefix
    made = []

    def tenant(name, stack, uid=None):
        t = Tenant(tmp_path, docker_client, playbook, prefix + stack, name, uid=uid, gid=uid)
        made.append(t)
        return t

    yield {"prefix": prefix, "playbook": playbook, "marker": marker, "tenant": tenant, "docker": docker_client}
    for t in made:
        t.remove(check=False)
        t.discard()
        for image in docker_client.images.list(name="%s/%s-*" % (t.tenant, t.stack)):
            docker_client.images.remove(image.id, force=True)
    if os.path.exists(marker):
        os.remove(marker)


def deploy_dir(tenant):
    """The deploy as staff type it, naming the submission directory (whatever vars file it has)."""
    return tenant.playbook("playbooks/deploy.yml", "-e", "spin_submission=%s" % tenant.dir, check=False)


def objects(docker, prefix):
    return [s.name for s in docker.services.list() if s.name.startswith(prefix)] + \
        [n.name for n in docker.networks.list() if n.name.startswith(prefix)]


def test_a_vars_file_given_as_extra_vars_runs_nothing_and_says_what_to_type(scene):
    """On main, -e @vars.yml made the tenant's file extra vars: its lookup('pipe') ran as root here."""
    eve = scene["tenant"]("eve", "a", EVE_UID)
    eve.write(WEB)
    hostile = eve.dir / "vars.yml"
    hostile.write_text("spin_tenant: eve\nspin_stack: \"{{ lookup('pipe', 'id > %s') }}\"\n"
                       "spin_compose_file: %s\n" % (scene["marker"], eve.dir / "docker-compose.yml"))
    hand_in(eve.dir, EVE_UID, EVE_UID)
    for playbook in ("deploy", "translate", "remove"):
        result = scene["playbook"]("playbooks/%s.yml" % playbook, "-e", "@%s" % hostile, check=False)
        assert result.rc != 0
        assert "the extra vars set spin_compose_file, spin_stack, spin_tenant: a tenant's vars file is data" \
            in result.output
        assert "-e spin_submission=%s" % hostile in result.output
        assert not os.path.exists(scene["marker"]), "the tenant's template ran (%s)" % playbook
    assert objects(scene["docker"], scene["prefix"]) == []


def test_a_template_in_the_vars_file_stays_text_in_the_service(scene):
    """On main the refusal printed /etc/shadow; in a label it would have landed in the containers."""
    eve = scene["tenant"]("eve", "b", EVE_UID)
    text = "{{ lookup('file', '/etc/shadow') }}{{ lookup('pipe', 'id > %s') }}" % scene["marker"]
    eve.write(WEB)
    (eve.dir / "vars.yml").write_text("spin_stack: %s\nspin_compose_variables: {GREETING: \"%s\"}\n"
                                      % (eve.stack, text))
    result = eve.deploy()
    assert result.recap()["failed"] == 0
    [service] = scene["docker"].services.list(filters={"name": eve.stack + "_web"})
    assert service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Labels"]["greeting"] == text
    assert "root:" not in result.output and not os.path.exists(scene["marker"])


def test_ansible_and_playbook_settings_in_the_vars_file_are_refused_and_never_used(scene):
    """On main these chose the interpreter (a script of the submission ran as uid 0), the connection,
    the host and the build node of the deploy."""
    eve = scene["tenant"]("eve", "c", EVE_UID)
    eve.write(WEB)
    script = eve.dir / "python.sh"
    script.write_text("#!/bin/sh\nid > %s\nexec python3 \"$@\"\n" % scene["marker"])
    script.chmod(0o755)
    (eve.dir / "vars.yml").write_text(
        "spin_stack: %s\nansible_python_interpreter: %s\nansible_connection: ssh\nansible_host: 192.0.2.7\n"
        "ansible_shell_executable: %s\ndeploy_build_node: evil\n" % (eve.stack, script, script))
    result = eve.deploy(check=False)
    assert result.rc != 0
    assert "submission %s is refused (5 problem(s)):" % eve.submission in result.output
    for key in ("ansible_python_interpreter", "ansible_connection", "ansible_host", "ansible_shell_executable",
                "deploy_build_node"):
        assert "vars.yml: key '%s': not a key of a submission (Ansible's and the playbooks' settings are infra " \
               "staff's): remove it" % key in result.output
    assert not os.path.exists(scene["marker"]) and objects(scene["docker"], scene["prefix"]) == []


def test_a_vars_file_that_names_another_tenant_is_refused(scene):
    """On main spin_tenant: cory in eve's file made the stack cory's."""
    eve = scene["tenant"]("eve", "d", EVE_UID)
    eve.write(WEB)
    (eve.dir / "vars.yml").write_text("spin_tenant: cory\nspin_stack: %s\n" % eve.stack)
    result = eve.deploy(check=False)
    assert result.rc != 0
    assert ("vars.yml: key 'spin_tenant': says 'cory', but the submission lies in tenant 'eve''s directory "
            "/srv/spin/submissions/eve: the platform knows the tenant from where the files are") in result.output
    assert objects(scene["docker"], scene["prefix"]) == []


def test_another_tenants_files_are_refused_however_they_are_named(scene):
    """On main eve's vars file could name cory's compose file and secrets as her own."""
    cory = scene["tenant"]("cory", "e")
    cory.write(WEB, **{"db_password.txt": "cory's secret\n"})
    hand_in(cory.dir, cory.uid, cory.gid)
    eve = scene["tenant"]("eve", "f", EVE_UID)
    eve.write(WEB)
    # named in the vars file: outside eve's submission
    (eve.dir / "vars.yml").write_text("spin_compose_file: %s\n" % (cory.dir / "docker-compose.yml"))
    named = eve.deploy(check=False)
    assert named.rc != 0 and "is outside the submission directory %s" % eve.dir in named.output
    # a link to it: the file is in cory's directory
    (eve.dir / "vars.yml").unlink()
    (eve.dir / "docker-compose.yml").unlink()
    (eve.dir / "docker-compose.yml").symlink_to(cory.dir / "docker-compose.yml")
    linked = deploy_dir(eve)
    assert linked.rc != 0
    assert "lies in tenant 'cory''s directory /srv/spin/submissions/cory, not in tenant 'eve''s" in linked.output
    # a hard link (or a copy that kept cory as owner): the file is cory's
    (eve.dir / "docker-compose.yml").unlink()
    eve.write(WEB.replace("labels: {greeting: '${GREETING}'}", "secrets: [pw]") + "secrets:\n  pw: {file: pw.txt}\n")
    hand_in(eve.dir, EVE_UID, EVE_UID)
    os.link(str(cory.dir / "db_password.txt"), str(eve.dir / "pw.txt"))
    result = deploy_dir(eve)
    assert result.rc != 0
    assert "pw.txt is owned by uid %d (tenant 'cory'), not by tenant 'eve' (uid %d)" % (cory.uid, EVE_UID) \
        in result.output
    assert "cory's secret" not in result.output
    assert objects(scene["docker"], scene["prefix"]) == []


def test_a_directory_that_is_not_the_tenants_own_is_refused(scene):
    """A tenant's directory made by somebody else (here root) before onboarding is not the tenant's."""
    directory = submission_dir("eve", scene["prefix"] + "g", EVE_UID, EVE_UID)
    (directory / "docker-compose.yml").write_text(WEB)
    hand_in(directory, EVE_UID, EVE_UID)
    os.chown(str(directory.parent), 0, 0)
    try:
        result = scene["playbook"]("playbooks/deploy.yml", "-e", "spin_submission=%s" % directory, check=False)
    finally:
        os.chown(str(directory.parent), EVE_UID, EVE_UID)
        discard(directory)
    assert result.rc != 0
    assert "/srv/spin/submissions/eve is owned by uid 0 (no tenant), not by tenant 'eve' (uid %d)" % EVE_UID \
        in result.output


def test_the_audit_trail_says_whose_submission_it_was_and_who_deployed_it(scene):
    eve = scene["tenant"]("eve", "h", EVE_UID)
    eve.write(WEB)
    eve.deploy()
    with open(AUDIT_LOG) as handle:
        records = [json.loads(line) for line in handle if '"stack":"%s"' % eve.stack in line]
    assert [r["phase"] for r in records][-2:] == ["intent", "result"]
    for record in records[-2:]:
        assert record["submission"] == {"path": eve.submission, "directory": str(eve.dir),
                                        "vars_file": eve.submission, "tenant": "eve", "uid": EVE_UID}
        assert record["run_by"]["user"] == "root" and record["run_by"]["uid"] == 0


def test_the_review_file_keeps_the_tenants_templates_as_text_when_staff_run_it(scene, tmp_path):
    eve = scene["tenant"]("eve", "i", EVE_UID)
    eve.write(WEB.replace("'${GREETING}'", "\"{{ lookup('pipe', 'id > %s') }}\"" % scene["marker"]))
    hand_in(eve.dir, EVE_UID, EVE_UID)
    review = tmp_path / "review.tasks.yml"
    scene["playbook"]("playbooks/translate.yml", "-e", "spin_submission=%s" % eve.dir,
                      "-e", "spin_translate_dest=%s" % review)
    assert "!unsafe" in review.read_text()
    play = tmp_path / "review.yml"
    play.write_text("- hosts: swarm_managers[0]\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.include_tasks: %s\n" % review)
    result = scene["playbook"](str(play), "--check", check=False)
    assert not os.path.exists(scene["marker"]), result.output[-3000:]


def test_another_tenants_file_in_a_build_context_is_not_built_into_an_image(scene):
    """A file of cory's hard-linked into eve's build context would be packed and built into eve's image."""
    cory = scene["tenant"]("cory", "j")
    cory.write(WEB, **{"secret.txt": "cory's secret\n"})
    hand_in(cory.dir, cory.uid, cory.gid)
    eve = scene["tenant"]("eve", "k", EVE_UID)
    (eve.dir / "app").mkdir()
    (eve.dir / "app" / "Dockerfile").write_text("FROM httpd\nCOPY loot.txt /var/www/html/\n")
    eve.write({"services": {"app": {"build": "app", "x-spin": {"route": False}}}})
    hand_in(eve.dir, EVE_UID, EVE_UID)
    os.link(str(cory.dir / "secret.txt"), str(eve.dir / "app" / "loot.txt"))
    result = deploy_dir(eve)
    assert result.rc != 0
    assert "app/loot.txt is owned by uid %d (tenant 'cory'), not by tenant 'eve' (uid %d)" % (cory.uid, EVE_UID) \
        in result.output
    assert scene["docker"].images.list(name="eve/%s-app" % eve.stack) == []
    assert objects(scene["docker"], scene["prefix"]) == []


def test_another_tenants_built_image_is_not_run_even_where_the_policy_allows_every_image(scene, tmp_path):
    """On main, with images: ['*'], eve could run cory's built image (on a one-node platform it is on the engine)."""
    inventory = write_inventory(tmp_path, spin_tenants={"eve": {"uid": EVE_UID, "gid": EVE_UID}},
                                spin_policy={"images": ["*"]})
    eve = scene["tenant"]("eve", "l", EVE_UID)
    eve.write({"services": {"web": {"image": "cory/magic-web:0123456789abcdef", "x-spin": {"route": False}}}})
    hand_in(eve.dir, EVE_UID, EVE_UID)
    result = run_playbook("playbooks/deploy.yml", "-e", "spin_submission=%s" % eve.dir, inventory=inventory,
                          check=False)
    assert result.rc != 0
    assert ("docker-compose.yml: service 'web': key 'image': [image] image 'cory/magic-web:0123456789abcdef' is "
            "tenant 'cory''s image (its builds are tagged cory/...)") in result.output
    assert objects(scene["docker"], scene["prefix"]) == []
