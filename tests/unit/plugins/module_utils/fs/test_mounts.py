"""MountManager with a temporary fstab and a stand-in for mount(8): the fstab is written only when
it differs and only outside check mode, and a failed mount puts the previous fstab back."""
import os
import time

import pytest

from ansible_collections.spin.platform.plugins.module_utils.fs import fstab
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.fs.mounts import MountManager, probe

OTHER = "# keep me\nUUID=1 / ext4 defaults 0 1\n"


class FakeMount:
    """mount/umount that read the fstab they are given and keep a mounts file, like the kernel."""

    def __init__(self, tmp_path, fail_mount=None, fail_remount=False):
        self.mounts = tmp_path / "mounts"
        self.mounts.write_text("proc /proc proc rw 0 0\n")
        self.fail_mount = fail_mount
        self.fail_remount = fail_remount
        self.calls = []

    def __call__(self, argv):
        argv = list(argv)
        if argv[0] == "timeout":
            argv = argv[3:]
        self.calls.append(argv)
        table = self.mounts.read_text()
        if argv[0] == "umount":
            path = argv[-1]
            lines = table.splitlines(True)
            keep = [line for line in lines if (fstab.parse_line(line) or {}).get("path") != path]
            if len(keep) == len(lines):
                return 32, "", "umount: %s: not mounted." % path
            self.mounts.write_text("".join(keep))
            return 0, "", ""
        path = argv[-1]
        tab = argv[argv.index("--fstab") + 1] if "--fstab" in argv else "/etc/fstab"
        entry = fstab.find_entry(open(tab).read(), path)
        if "remount" in argv:
            return (32, "", "mount: %s: mount point not mounted or bad option." % path) if self.fail_remount \
                else (0, "", "")
        if self.fail_mount and entry and entry["src"] == self.fail_mount:
            return 32, "", "mount.nfs: access denied by server while mounting %s" % entry["src"]
        self.mounts.write_text(table + fstab.render_entry(entry) + "\n")
        return 0, "", ""

    def mounted(self, path):
        return fstab.find_mount(self.mounts.read_text(), path)


def healthy(path, timeout):
    return {"ok": True, "error": None, "seconds": 0.0}


def stale(path, timeout):
    return {"ok": False, "error": "[Errno 116] Stale file handle", "seconds": 0.01}


@pytest.fixture
def env(tmp_path):
    tab = tmp_path / "fstab"
    tab.write_text(OTHER)
    point = tmp_path / "global" / "cfs"

    def make(fake=None, check_mode=False, probe_fn=healthy, **params):
        fake = fake or FakeMount(tmp_path)
        values = {"path": str(point), "src": "nfs1:/cfs", "fstype": "nfs4", "opts": "hard,ro", "dump": 0,
                  "passno": 0, "fstab": str(tab), "name": "cfs", "probe_timeout": 2, "mount_timeout": 30,
                  "remount_stale": False}
        values.update(params)
        manager = MountManager(values, fake, check_mode=check_mode, mounts_file=str(fake.mounts),
                               probe_fn=probe_fn, hostname="node1")
        return manager, fake

    return {"tab": tab, "point": str(point), "make": make, "tmp": tmp_path}


def test_mount_writes_the_entry_then_mounts_and_a_second_run_changes_nothing(env):
    manager, fake = env["make"]()
    result = manager.ensure("mounted")
    assert result["changed"] and result["fstab_changed"] and result["action"] == "mount"
    assert result["mounted"] and result["healthy"]
    assert env["tab"].read_text() == OTHER + "nfs1:/cfs %s nfs4 hard,ro 0 0\n" % env["point"]
    assert fake.mounted(env["point"])["src"] == "nfs1:/cfs"
    assert os.path.isdir(env["point"])
    assert fake.calls == [["mount", "--fstab", str(env["tab"]), env["point"]]]

    again, fake2 = env["make"](fake)
    result = again.ensure("mounted")
    assert not result["changed"] and result["action"] is None and result["mounted"] and result["healthy"]
    assert fake.calls[1:] == []


def test_check_mode_reports_and_touches_nothing(env):
    manager, fake = env["make"](check_mode=True)
    result = manager.ensure("mounted")
    assert result["changed"] and result["fstab_changed"] and result["action"] == "mount"
    assert env["tab"].read_text() == OTHER
    assert fake.calls == [] and not os.path.exists(env["point"])
    fstab_diff, mount_diff = result["diff"]
    assert fstab_diff["before"] == OTHER and fstab_diff["after"].endswith("nfs1:/cfs %s nfs4 hard,ro 0 0\n"
                                                                          % env["point"])
    assert mount_diff["before"] == "not mounted\n"
    assert mount_diff["after"] == "nfs1:/cfs on %s type nfs4\n" % env["point"]


def test_failed_mount_puts_the_previous_fstab_back_and_names_host_source_and_message(env):
    fake = FakeMount(env["tmp"], fail_mount="nfs2:/cfs")
    env["make"](fake, state="present")[0].ensure("present")       # an old entry, not mounted
    before = env["tab"].read_text()
    with pytest.raises(SpinError) as caught:
        env["make"](fake, src="nfs2:/cfs")[0].ensure("mounted")
    message = caught.value.message
    assert message.startswith("host node1: mounting nfs2:/cfs on %s (nfs4) failed: mount: " % env["point"])
    assert "access denied by server while mounting nfs2:/cfs" in message
    assert "The previous %s entry was put back." % env["tab"] in message
    assert env["tab"].read_text() == before
    assert fake.mounted(env["point"]) is None


def test_failed_replacement_mounts_the_old_source_again(env):
    fake = FakeMount(env["tmp"], fail_mount="nfs2:/cfs")
    manager, dummy = env["make"](fake)
    manager.ensure("mounted")
    before = env["tab"].read_text()
    other, dummy = env["make"](fake, src="nfs2:/cfs")
    with pytest.raises(SpinError) as caught:
        other.ensure("mounted")
    assert env["tab"].read_text() == before
    assert fake.mounted(env["point"])["src"] == "nfs1:/cfs"
    assert "The previous mount (nfs1:/cfs) is back." in caught.value.message
    assert caught.value.details["fstab_changed"] is False


def test_failed_first_mount_of_a_new_fstab_removes_the_file_again(env):
    env["tab"].unlink()
    manager, dummy = env["make"](FakeMount(env["tmp"], fail_mount="nfs1:/cfs"))
    with pytest.raises(SpinError) as caught:
        manager.ensure("mounted")
    assert not env["tab"].exists()
    assert "did not exist before" in caught.value.message


def test_changed_options_remount_in_place_or_afresh(env):
    fake = FakeMount(env["tmp"])
    env["make"](fake)[0].ensure("mounted")
    result = env["make"](fake, opts="hard,ro,vers=4.2")[0].ensure("mounted")
    assert result["action"] == "remount" and result["fstab_changed"]
    assert fake.calls[-1] == ["mount", "--fstab", str(env["tab"]), "-o", "remount", env["point"]]
    assert env["tab"].read_text().endswith("nfs4 hard,ro,vers=4.2 0 0\n")

    fake.fail_remount = True      # FUSE cannot remount: unmount and mount again
    result = env["make"](fake, opts="ro")[0].ensure("mounted")
    assert result["action"] == "remount"
    assert [c[0] for c in fake.calls[-3:]] == ["mount", "umount", "mount"]
    assert fake.mounted(env["point"])["opts"] == "ro"


def test_only_the_entry_differs_for_state_present(env):
    fake = FakeMount(env["tmp"])
    result = env["make"](fake)[0].ensure("present")
    assert result["fstab_changed"] and result["action"] is None and fake.calls == []
    assert not env["make"](fake)[0].ensure("present")["changed"]


def test_stale_mount_fails_without_change_unless_remount_stale(env):
    fake = FakeMount(env["tmp"])
    env["make"](fake)[0].ensure("mounted")
    calls = len(fake.calls)
    with pytest.raises(SpinError) as caught:
        env["make"](fake, probe_fn=stale)[0].ensure("mounted")
    assert "host node1: cfs (nfs1:/cfs) on %s is mounted but does not answer: [Errno 116] Stale file handle" \
        % env["point"] in caught.value.message
    assert len(fake.calls) == calls

    answers = iter([stale, healthy])

    def probe(path, timeout):  # the next canned answer on each call
        return next(answers)(path, timeout)
    result = env["make"](fake, remount_stale=True, probe_fn=probe)[0].ensure("mounted")
    assert result["action"] == "recover" and result["healthy"]
    assert fake.calls[calls:] == [["umount", "-l", env["point"]], ["mount", "--fstab", str(env["tab"]), env["point"]]]


def test_absent_unmounts_and_removes_only_its_line(env):
    fake = FakeMount(env["tmp"])
    env["make"](fake)[0].ensure("mounted")
    check = env["make"](fake, check_mode=True)[0].ensure("absent")
    assert check["changed"] and fake.mounted(env["point"])
    result = env["make"](fake)[0].ensure("absent")
    assert result["action"] == "unmount" and result["fstab_changed"]
    assert env["tab"].read_text() == OTHER and fake.mounted(env["point"]) is None
    assert not env["make"](fake)[0].ensure("absent")["changed"]


def test_unmounted_keeps_the_entry(env):
    fake = FakeMount(env["tmp"])
    env["make"](fake)[0].ensure("mounted")
    entry_text = env["tab"].read_text()
    result = env["make"](fake)[0].ensure("unmounted")
    assert result["action"] == "unmount" and not result["fstab_changed"]
    assert env["tab"].read_text() == entry_text


def test_verified_reads_only_the_mount_table(env):
    fake = FakeMount(env["tmp"])
    fake.mounts.write_text("cfs %s gpfs rw,relatime 0 0\n" % env["point"])
    env["tab"].unlink()
    result = env["make"](fake, src="cfs", fstype="gpfs")[0].ensure("verified")
    assert result["mounted"] and result["healthy"] and not result["changed"]
    assert not env["tab"].exists() and fake.calls == []

    with pytest.raises(SpinError) as caught:
        env["make"](fake, src="homes", name="homes", fstype="gpfs", path="/gpfs/homes")[0].ensure("verified")
    assert "host node1: the gpfs file system homes (homes) is not mounted on /gpfs/homes" in caught.value.message
    assert "never from fstab" in caught.value.message
    with pytest.raises(SpinError, match="Stale file handle"):
        env["make"](fake, src="cfs", fstype="gpfs", probe_fn=stale)[0].ensure("verified")


def test_probe_is_bounded_for_a_child_that_never_answers(tmp_path):
    # a look that hangs like a process stuck on a dead server
    result = probe(str(tmp_path), 0.5, look=lambda path: time.sleep(60))
    assert not result["ok"] and "no answer within 0.5 s" in result["error"]
    assert result["seconds"] < 30


def test_the_probe_child_holds_none_of_the_module_s_files(tmp_path):
    # a child stuck in the kernel must not keep Ansible's pipe (the module's stdout) open
    read_end, write_end = os.pipe()
    try:
        result = probe(str(tmp_path), 10, look=lambda path: os.fstat(write_end))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert not result["ok"] and "Bad file descriptor" in result["error"]


def test_probe_of_a_real_directory_and_of_a_missing_one(tmp_path):
    assert probe(str(tmp_path), 10)["ok"]
    missing = probe(str(tmp_path / "nope"), 10)
    assert not missing["ok"] and "No such file or directory" in missing["error"]
