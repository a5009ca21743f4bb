"""The spin_mount module as Ansible runs it (AnsibleModule reads the task's arguments, exit_json and
fail_json print the result): the options each state needs, the fstab written only outside check mode,
the diff only in diff mode, and a refusal as a failure with its message. MountManager's own behaviour:
module_utils/fs/test_mounts.py."""
import json

import pytest
from ansible.module_utils import basic

from ansible_collections.spin.platform.plugins.modules import spin_mount

OTHER = "# keep me\nUUID=1 / ext4 defaults 0 1\n"


def run(monkeypatch, capsys, **args):
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)   # ansible-core 2.19 reads it; 2.17 has none
    with pytest.raises(SystemExit) as ended:
        spin_mount.main()
    return ended.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def tab(tmp_path):
    path = tmp_path / "fstab"
    path.write_text(OTHER)
    return path


def test_present_writes_the_fstab_entry_and_keeps_the_other_lines(monkeypatch, capsys, tab, tmp_path):
    code, out = run(monkeypatch, capsys, path=str(tmp_path / "data"), src="nfs1:/export", fstype="nfs4",
                    opts="hard,ro", state="present", fstab=str(tab))
    assert code == 0 and (out["changed"], out["fstab_changed"], out["action"]) == (True, True, None)
    assert tab.read_text() == OTHER + "nfs1:/export %s nfs4 hard,ro 0 0\n" % (tmp_path / "data")
    assert "diff" not in out
    code, again = run(monkeypatch, capsys, path=str(tmp_path / "data"), src="nfs1:/export", fstype="nfs4",
                      opts="hard,ro", state="present", fstab=str(tab))
    assert code == 0 and again["changed"] is False


def test_check_mode_writes_nothing_and_diff_mode_shows_the_fstab(monkeypatch, capsys, tab, tmp_path):
    code, out = run(monkeypatch, capsys, path=str(tmp_path / "data"), src="nfs1:/export", fstype="nfs4",
                    state="present", fstab=str(tab), _ansible_check_mode=True, _ansible_diff=True)
    assert code == 0 and out["changed"] is True and tab.read_text() == OTHER
    assert out["diff"][0]["before"] == OTHER and out["diff"][0]["after"].startswith(OTHER + "nfs1:/export ")


@pytest.mark.parametrize("args, missing", [
    ({"state": "mounted", "fstype": "nfs4"}, "src"),
    ({"state": "present", "src": "nfs1:/x"}, "fstype"),
    ({"state": "verified"}, "fstype"),
])
def test_a_state_without_what_it_needs_is_refused(monkeypatch, capsys, tab, tmp_path, args, missing):
    code, out = run(monkeypatch, capsys, path=str(tmp_path / "data"), fstab=str(tab), **args)
    assert code == 1 and out["failed"] is True
    assert out["msg"].startswith("state is %s but all of the following are missing: " % args["state"])
    assert missing in out["msg"] and tab.read_text() == OTHER


def test_a_refusal_is_a_failure_with_the_message_and_no_diff(monkeypatch, capsys, tab, tmp_path):
    # verified: mounted by its own daemon; here nothing is mounted on that path
    code, out = run(monkeypatch, capsys, path=str(tmp_path / "gpfs"), fstype="gpfs", state="verified",
                    fstab=str(tab), _ansible_diff=True)
    assert code == 1 and out["failed"] is True and "diff" not in out
    assert "file system" in out["msg"] and "is not mounted on %s" % (tmp_path / "gpfs") in out["msg"]
    assert (out["mounted"], out["healthy"]) == (False, False)
