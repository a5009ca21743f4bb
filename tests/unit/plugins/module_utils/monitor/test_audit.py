import datetime
import json
import os
import stat
import threading
import time

import pytest

from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

REFUSAL = [{"rule": "privileged", "file": "docker-compose.yml", "service": "web", "key": "privileged",
            "message": "m", "fix": "f"},
           {"rule": "cap-add", "file": "docker-compose.yml", "service": "web", "key": "cap_add",
            "message": "m", "fix": "f"},
           {"rule": "privileged", "file": "docker-compose.yml", "service": "db", "key": "privileged",
            "message": "m", "fix": "f"}]


@pytest.mark.parametrize("a, b, same", [
    ({"docker-compose.yml": "x"}, {"docker-compose.yml": "x"}, True),
    ({"docker-compose.yml": "x"}, {"docker-compose.yml": b"x"}, True),
    ({"docker-compose.yml": "x"}, {"docker-compose.yml": "y"}, False),
    ({"a.yml": "x"}, {"b.yml": "x"}, False),
    ({"a.yml": "xy", "b.yml": ""}, {"a.yml": "x", "b.yml": "y"}, False),
    ({"a.yml": "x", "b.yml": None}, {"a.yml": "x"}, True),
])
def test_digest_files(a, b, same):
    da, db = audit.digest_files(a), audit.digest_files(b)
    assert da.startswith("sha256:") and len(da) == len("sha256:") + 64
    assert (da == db) is same


def test_make_record_verdicts():
    allowed = audit.make_record("cory", "seed", "deploy", "sha256:ab", changes={"created": ["service seed_web"]})
    assert allowed["verdict"] == "allowed" and allowed["violations"] == []
    assert allowed["changes"] == {"created": ["service seed_web"]}
    parsed = datetime.datetime.fromisoformat(allowed["time"].replace("Z", "+00:00"))
    assert parsed.utcoffset() == datetime.timedelta(0)
    refused = audit.make_record("cory", "seed", "check", "sha256:ab", violations=REFUSAL, now="T")
    assert refused == {"time": "T", "tenant": "cory", "stack": "seed", "action": "check", "input_digest": "sha256:ab",
                       "verdict": "refused", "violations": ["cap-add", "privileged"], "errors": 0, "changes": {}}
    broken = audit.make_record("cory", "seed", "check", "sha256:ab", errors=2)
    assert (broken["verdict"], broken["violations"], broken["errors"]) == ("refused", [], 2)
    with pytest.raises(SpinError):
        audit.make_record("cory", "seed", "destroy", "sha256:ab")


def test_append_creates_modes_and_appends(tmp_path):
    path = tmp_path / "log" / "spin" / "audit.jsonl"
    old = os.umask(0o022)
    try:
        audit.append_record(audit.make_record("cory", "seed", "deploy", "sha256:1", now="t1"), str(path))
        audit.append_record(audit.make_record("cory", "seed", "remove", "sha256:2", now="t2"), str(path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o750
    lines = path.read_text().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["deploy", "remove"]
    assert [r["input_digest"] for r in audit.read_records(str(path))] == ["sha256:1", "sha256:2"]


def test_append_never_rewrites(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text('{"earlier": true}\n')
    os.chmod(path, 0o600)
    audit.append_record(audit.make_record("cory", "seed", "check", "sha256:1", now="t"), str(path))
    lines = path.read_text().splitlines()
    assert lines[0] == '{"earlier": true}' and json.loads(lines[1])["tenant"] == "cory"
    # an existing file keeps its mode: staff may have tightened it
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_append_refuses_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(target)
    with pytest.raises(SpinError) as info:
        audit.append_record(audit.make_record("cory", "seed", "check", "sha256:1"), str(link))
    assert "cannot append to the audit log" in info.value.message
    assert target.read_text() == ""


def test_concurrent_writers_do_not_interleave(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    big = {"created": ["service s_%d" % i for i in range(400)]}  # about 6 KB per line

    def write(n):
        for i in range(20):
            audit.append_record(audit.make_record("t%d" % n, "s", "deploy", "sha256:%d" % i, changes=big), path)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = audit.read_records(path)
    assert len(records) == 80
    assert all(r["changes"] == big for r in records)


# ---- runs: intent before, result after ------------------------------------------------------------

def test_a_run_writes_an_intent_then_a_result_with_the_same_id(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    run = audit.Run(path, "cory", "magic", "deploy", "sha256:ab")
    assert run.close_interrupted() == []
    intent = run.start()
    assert (intent["phase"], intent["run"], intent["pid"]) == ("intent", run.id, os.getpid())
    result = run.finish("deployed", changes={"created": ["service magic_web"]})
    assert (result["phase"], result["run"], result["outcome"]) == ("result", run.id, "deployed")
    [entry] = audit.runs(audit.read_records(path))
    assert entry["outcome"] == "deployed" and entry["started"] == intent["time"] and entry["finished"] == result["time"]
    assert entry["changes"] == {"created": ["service magic_web"]}
    with pytest.raises(SpinError):
        run.finish("exploded")


def test_a_dry_run_writes_one_result_only(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    run = audit.Run(path, "cory", "magic", "deploy", "sha256:ab", dry_run=True)
    assert run.start() is None
    run.finish("refused", cause="port 80 is held by stack 'seed' (tenant 'demo')", violations=REFUSAL)
    [record] = audit.read_records(path)
    assert record["dry_run"] is True and record["verdict"] == "refused" and record["outcome"] == "refused"
    [entry] = audit.runs([record])
    assert entry["outcome"] == "refused" and entry["cause"].startswith("port 80 is held")


def test_a_killed_run_shows_as_interrupted_and_the_next_run_records_it(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    killed = audit.Run(path, "cory", "magic", "deploy", "sha256:ab")
    intent = killed.start()
    # while its process lives it is running; then it is gone (a pid that is not this process any more)
    assert audit.runs(audit.read_records(path))[0]["outcome"] == "running"
    assert audit.runs(audit.read_records(path), alive=lambda r: False)[0]["outcome"] == "interrupted"
    with open(path) as handle:
        text = handle.read()
    with open(path, "w") as handle:   # as if another process had written it (a test may rewrite its own file)
        handle.write(text.replace('"pid_start":%s' % json.dumps(intent["pid_start"]), '"pid_start":"0"'))
    other = audit.Run(path, "cory", "other-stack", "deploy", "sha256:cd")
    assert other.close_interrupted() == []       # only its own stack's runs
    later = audit.Run(path, "cory", "magic", "deploy", "sha256:ab")
    [warning] = later.close_interrupted()
    assert "the deploy of stack 'magic' that started at %s (run %s) never ended: it was interrupted" % (
        intent["time"], killed.id) in warning
    assert later.close_interrupted() == []       # recorded once
    later.start()
    later.finish("deployed")
    entries = audit.runs(audit.read_records(path))
    assert [(e["run"], e["outcome"]) for e in entries] == [(killed.id, "interrupted"), (later.id, "deployed")]
    assert "found by run %s" % later.id in entries[0]["cause"]


def test_records_written_before_runs_had_ids_are_runs_of_their_own():
    old = [audit.make_record("cory", "magic", "deploy", "sha256:1", now="t1"),
           audit.make_record("cory", "magic", "check", "sha256:1", now="t2", violations=REFUSAL),
           audit.make_record("cory", "magic", "deploy", "sha256:1", now="t3", changes={"failed": "x"}, dry_run=True)]
    assert [e["outcome"] for e in audit.runs(old)] == ["deployed", "refused", "checked"]


def test_a_zombie_is_not_alive(tmp_path):
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    record = audit.Run(str(tmp_path / "a.jsonl"), "cory", "magic", "deploy", "sha256:x").start()
    record.update(pid=child.pid, pid_start=audit._proc_start(child.pid))
    assert audit.process_alive(record) is True
    deadline = time.monotonic() + 30
    while audit._proc_start(child.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)      # it exits and stays a zombie: this process does not reap it yet
    with open("/proc/%d/stat" % child.pid) as handle:
        assert handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    assert audit.process_alive(record) is False
    child.wait()


def test_every_record_of_a_run_says_where_the_submission_came_from_and_who_ran_it(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    origin = {"submission": {"path": "/srv/spin/submissions/cory/magic", "tenant": "cory", "uid": 51234},
              "run_by": {"user": "alice", "uid": 4001, "sudo_user": "alice"}, "ignored": "not an origin key"}
    run = audit.Run(path, "cory", "magic", "deploy", "sha256:ab", origin=origin)
    run.start()
    run.finish("deployed")
    records = audit.read_records(path)
    assert [(r["phase"], r["submission"], r["run_by"]) for r in records] == [
        ("intent", origin["submission"], origin["run_by"]), ("result", origin["submission"], origin["run_by"])]
    assert all("ignored" not in r for r in records)
    [entry] = audit.runs(records)
    assert (entry["submission"]["path"], entry["run_by"]["user"]) == ("/srv/spin/submissions/cory/magic", "alice")
