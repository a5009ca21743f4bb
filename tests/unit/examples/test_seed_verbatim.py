"""examples/seed is NERSC Spin's seed, byte for byte (issue 8): the directory holds exactly the
files of the Spin overview's example (the project's shared copy, ../shared/seed), nothing added,
nothing changed. The sha256 sums pin the bytes for a checkout without the shared copy; the shared
copy, where it exists, is compared directly."""
import hashlib
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SEED = os.path.join(ROOT, "examples", "seed")
SHARED = [os.path.join(ROOT, "..", "shared", "seed"), "/work/shared/seed"]
SHA256 = {
    "README.md": "b744234bcb626384d42c8ac0859a5ac93bf346cfacc782fdfd16267c5b31ef13",
    "docker-compose.yml": "6f108cbfb8275df0c8ba073622e93c3d7e33c7826f7c9caf6dd717fa968305bd",
    "rancher-compose.yml": "79ed62e05727f076c26ab0eb7043e2ed985de4a53103956a1707f18a4e8dcb66",
}


def _bytes(directory, name):
    with open(os.path.join(directory, name), "rb") as handle:
        return handle.read()


def test_the_seed_directory_holds_the_seed_files_only():
    assert sorted(os.listdir(SEED)) == sorted(SHA256)


@pytest.mark.parametrize("name", sorted(SHA256))
def test_each_file_is_the_seed_byte_for_byte(name):
    assert hashlib.sha256(_bytes(SEED, name)).hexdigest() == SHA256[name]


def test_the_shared_copy_is_the_same_where_it_exists():
    shared = next((d for d in SHARED if os.path.isdir(d)), None)
    if shared is None:
        pytest.skip("no shared copy of the seed next to this checkout: the sha256 sums above pin the bytes")
    assert sorted(os.listdir(shared)) == sorted(os.listdir(SEED))
    for name in os.listdir(shared):
        assert _bytes(shared, name) == _bytes(SEED, name), name
