"""fstab editing: only the line of one mount point changes, everything else stays byte for byte."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.fs import fstab

BASE = ("# /etc/fstab: static file system information.\n"
        "UUID=1234  /  ext4  errors=remount-ro  0  1\n"
        "\n"
        "nfs.example.org:/cfs /global/cfs nfs4 hard,ro 0 0\n"
        "tmpfs\t/tmp\ttmpfs\tdefaults\t0\t0\n")


@pytest.mark.parametrize("line, expected", [
    ("a:/b /mnt/x nfs ro 0 0", {"src": "a:/b", "path": "/mnt/x", "fstype": "nfs", "opts": "ro", "dump": "0",
                                "passno": "0"}),
    ("a:/b /mnt/x/ nfs", {"src": "a:/b", "path": "/mnt/x", "fstype": "nfs", "opts": "defaults", "dump": "0",
                          "passno": "0"}),
    ("me@h:/my\\040dir /mnt/my\\040dir fuse.sshfs ro 0 0",
     {"src": "me@h:/my dir", "path": "/mnt/my dir", "fstype": "fuse.sshfs", "opts": "ro", "dump": "0", "passno": "0"}),
    ("# a:/b /mnt/x nfs ro 0 0", None),
    ("   ", None),
    ("lonely", None),
])
def test_parse_line(line, expected):
    assert fstab.parse_line(line) == expected


@pytest.mark.parametrize("field", ["plain", "with space", "tab\there", "back\\slash"])
def test_escape_round_trip(field):
    assert " " not in fstab.escape(field) and "\t" not in fstab.escape(field)
    assert fstab.unescape(fstab.escape(field)) == field


def test_set_entry_replaces_only_the_differing_line():
    entry = fstab.make_entry("nfs.example.org:/cfs", "/global/cfs", "nfs4", "hard,ro,vers=4.2")
    new, old = fstab.set_entry(BASE, entry)
    assert old["opts"] == "hard,ro"
    assert new.splitlines()[3] == "nfs.example.org:/cfs /global/cfs nfs4 hard,ro,vers=4.2 0 0"
    before, after = BASE.splitlines(True), new.splitlines(True)
    assert [i for i in range(len(before)) if before[i] != after[i]] == [3]


def test_set_entry_same_entry_changes_nothing_even_with_other_spacing():
    text = "nfs.example.org:/cfs   /global/cfs/   nfs4   hard,ro   0   0\n"
    new, old = fstab.set_entry(text, fstab.make_entry("nfs.example.org:/cfs", "/global/cfs", "nfs4", "hard,ro"))
    assert new == text and old is not None


@pytest.mark.parametrize("text", ["", "UUID=1 / ext4 defaults 0 1", "UUID=1 / ext4 defaults 0 1\n"])
def test_set_entry_appends_on_its_own_line(text):
    new, old = fstab.set_entry(text, fstab.make_entry("h:/e", "/mnt/e", "nfs", "ro"))
    assert old is None
    assert new.endswith("h:/e /mnt/e nfs ro 0 0\n")
    assert new.startswith(text.rstrip("\n"))
    assert fstab.find_entry(new, "/mnt/e")["src"] == "h:/e"


def test_set_entry_drops_contesting_duplicates():
    text = "a:/x /mnt/x nfs ro 0 0\n# keep\nb:/x /mnt/x nfs rw 0 0\n"
    new, old = fstab.set_entry(text, fstab.make_entry("c:/x", "/mnt/x", "nfs", "ro"))
    assert new == "c:/x /mnt/x nfs ro 0 0\n# keep\n"
    assert old["src"] == "a:/x"


def test_entry_with_spaces_is_written_escaped():
    new, dummy = fstab.set_entry("", fstab.make_entry("me@h:/a b", "/mnt/a b", "fuse.sshfs", "ro"))
    assert new == "me@h:/a\\040b /mnt/a\\040b fuse.sshfs ro 0 0\n"
    assert fstab.find_entry(new, "/mnt/a b")["src"] == "me@h:/a b"


def test_remove_entry_keeps_the_rest():
    new, old = fstab.remove_entry(BASE, "/global/cfs/")
    assert old["src"] == "nfs.example.org:/cfs"
    assert new == BASE.replace("nfs.example.org:/cfs /global/cfs nfs4 hard,ro 0 0\n", "")
    assert fstab.remove_entry(new, "/global/cfs") == (new, None)


MOUNTS = ("proc /proc proc rw,nosuid 0 0\n"
          "nfs.example.org:/cfs /global/cfs nfs4 rw,relatime,vers=4.2 0 0\n"
          "root@127.0.0.1:/export /mnt/gfs fuse.sshfs rw,nosuid,nodev,user_id=0 0 0\n"
          "cfs /gpfs/cfs gpfs rw,relatime 0 0\n"
          "tmpfs /mnt/gfs tmpfs rw 0 0\n")


@pytest.mark.parametrize("path, src, fstype, expected", [
    ("/global/cfs", "nfs.example.org:/cfs", "nfs", True),        # nfs and nfs4 are one client
    ("/global/cfs", "nfs.example.org:/cfs/", "nfs4", True),
    ("/global/cfs", "other.example.org:/cfs", "nfs4", False),
    ("/gpfs/cfs", "cfs", "gpfs", True),
    ("/gpfs/cfs", None, "gpfs", True),
    ("/gpfs/cfs", "homes", "gpfs", False),
    ("/gpfs/homes", None, "gpfs", False),
    ("/mnt/gfs", "root@127.0.0.1:/export", "fuse.sshfs", False),  # a tmpfs was mounted over it
    ("/mnt/gfs", None, "tmpfs", True),
])
def test_mount_matches(path, src, fstype, expected):
    assert fstab.mount_matches(fstab.find_mount(MOUNTS, path), src, fstype) is expected
