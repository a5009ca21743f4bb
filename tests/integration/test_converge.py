"""playbooks/converge.yml on the real engine (spin_converge): every tenant's stack of a submission root of
the test's own re-applied in one task. Two tenants, four stacks, one of them refused by the policy:
the others deploy (and answer through the edge), the refused one is named with its message and the
play fails at the end; each stack has its own audit run, as its deploy.yml would write. Run again
with one stack's file changed: only that stack's service is updated (the others keep their Swarm
version), and the audit says so."""
import http.client
import json
import os

import pytest

from stacklib import hand_in, write_inventory

AUDIT_LOG = "/var/log/spin/audit.jsonl"
WEB = "version: '2'\nservices:\n  web:\n    image: httpd\n"
PRIVILEGED = "version: '2'\nservices:\n  web:\n    image: httpd\n    privileged: true\n"


def audit_runs(stacks, since):
    """stack -> [(intent record, result record)] of the runs written after ``since`` (a byte offset)."""
    with open(AUDIT_LOG, encoding="ascii") as handle:
        handle.seek(since)
        records = [json.loads(line) for line in handle if line.strip()]
    runs = {}
    for record in records:
        if record.get("stack") in stacks:
            runs.setdefault(record["stack"], {}).setdefault(record["run"], {})[record["phase"]] = record
    return {stack: [(r.get("intent"), r.get("result")) for r in by_run.values()] for stack, by_run in runs.items()}


def audit_size():
    try:
        return os.path.getsize(AUDIT_LOG)
    except FileNotFoundError:
        return 0


def status_through_edge(host):
    conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": host})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture
def platform(tmp_path, prefix, docker_client, playbook):
    """A submission root of the test's own with two tenants (uids of the test's own), and an inventory
    that reads it; every stack the test made is removed at the end."""
    root = tmp_path / "submissions"
    root.mkdir()
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(root), 0o755)
    tenants = {prefix + "a": {"uid": 2931, "gid": 2931}, prefix + "b": {"uid": 2932, "gid": 2932}}
    for name, entry in tenants.items():
        (root / name).mkdir(mode=0o750)
        os.chown(str(root / name), entry["uid"], entry["gid"])
    inventory = write_inventory(tmp_path, spin_submission_roots=[str(root)], spin_tenants=tenants)
    made = []

    def submit(tenant, stack, compose):
        entry = tenants[tenant]
        directory = root / tenant / stack
        directory.mkdir(mode=0o750, exist_ok=True)
        (directory / "docker-compose.yml").write_text(compose)
        hand_in(str(directory), entry["uid"], entry["gid"])
        made.append(str(directory))
        return directory

    def converge(*args, check=False):
        return playbook("playbooks/converge.yml", "-v", *args, inventory=inventory, check=check)

    yield {"submit": submit, "converge": converge, "tenants": list(tenants)}
    for directory in dict.fromkeys(made):
        playbook("playbooks/remove.yml", "-e", "spin_submission=" + directory, inventory=inventory, check=False)


def versions(docker_client, stack):
    return {s.name: s.attrs["Version"]["Index"]
            for s in docker_client.services.list(filters={"label": "spin.stack=" + stack})}


def test_converge_deploys_every_stack_names_the_refused_one_and_touches_only_what_changed(
        platform, prefix, docker_client):
    ta, tb = platform["tenants"]
    stacks = {prefix + "-one": ta, prefix + "-two": ta, prefix + "-three": tb}
    for stack, tenant in stacks.items():
        platform["submit"](tenant, stack, WEB)
    bad = prefix + "-bad"
    platform["submit"](tb, bad, PRIVILEGED)

    since = audit_size()
    result = platform["converge"]()
    # the refused stack fails the play, named with the policy's message; the others did not stop for it
    assert result.rc != 0
    assert "1 of 4 stack(s) did not converge" in result.output
    assert "%s/%s: stack '%s' of tenant '%s' is refused" % (tb, bad, bad, tb) in result.output
    assert "[privileged]" in result.output
    assert not versions(docker_client, bad)
    before = {}
    for stack, tenant in stacks.items():
        found = versions(docker_client, stack)
        assert list(found) == [stack + "_web"], found
        before.update(found)
        tasks = docker_client.services.get(stack + "_web").tasks(filters={"desired-state": "running"})
        assert [t["Status"]["State"] for t in tasks] == ["running"]
    # the edge was brought up to date once, after the stacks: every route answers through it
    for stack, tenant in stacks.items():
        assert status_through_edge("web.%s.%s.localhost" % (stack, tenant)) == 200

    # each stack its own audit run, as deploy.yml writes it: an intent, then a result with the verdict
    runs = audit_runs(set(stacks) | {bad}, since)
    for stack, tenant in stacks.items():
        assert len(runs[stack]) == 1, runs.get(stack)
        intent, outcome = runs[stack][0]
        assert intent["tenant"] == tenant and intent["submission"]["tenant"] == tenant
        assert outcome["outcome"] == "deployed" and outcome["changes"]["created"] == ["network %s_default" % stack,
                                                                                      "service %s_web" % stack]
    (intent, outcome), = runs[bad]
    assert outcome["outcome"] == "refused" and "privileged" in outcome["cause"]

    # one stack's file changes: only its service is updated; the refused one is refused again
    platform["submit"](ta, prefix + "-two", WEB + "    environment:\n      COLOUR: blue\n")
    since = audit_size()
    result = platform["converge"]()
    assert result.rc != 0 and "1 of 4 stack(s) did not converge" in result.output
    after = {}
    for stack in stacks:
        after.update(versions(docker_client, stack))
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {prefix + "-two_web"}
    runs = audit_runs(set(stacks), since)
    assert runs[prefix + "-two"][0][1]["changes"]["updated"] == ["service %s-two_web" % prefix]
    for stack in (prefix + "-one", prefix + "-three"):
        assert runs[stack][0][1]["outcome"] == "deployed"
        assert runs[stack][0][1]["changes"] == {"created": [], "updated": [], "removed": []}

    # the refused stack fixed: everything converges and the play passes
    platform["submit"](tb, bad, WEB)
    result = platform["converge"]()
    assert result.rc == 0, result.output[-3000:]
    assert list(versions(docker_client, bad)) == [bad + "_web"]
    assert {name: v for stack in stacks for name, v in versions(docker_client, stack).items()} == after
