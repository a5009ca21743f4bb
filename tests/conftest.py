"""Make ``ansible_collections.spin.platform`` importable when pytest runs on a checkout.

A checkout that sits at ``.../ansible_collections/spin/platform`` (as ansible-test wants it) is
imported from there. Any other checkout gets the uncommitted link
``playbooks/collections/ansible_collections/spin/platform -> ../../../..`` (the one ``./spin`` makes
for ``ansible.cfg``), and ``playbooks/collections`` goes on ``sys.path``.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collections_root(root=ROOT):
    """The directory that holds ``ansible_collections/spin/platform`` for this checkout."""
    real = os.path.realpath(root)
    if real.split(os.sep)[-3:] == ["ansible_collections", "spin", "platform"]:
        return os.path.dirname(os.path.dirname(os.path.dirname(real)))
    parent = os.path.join(root, "playbooks", "collections", "ansible_collections", "spin")
    link = os.path.join(parent, "platform")
    if not os.path.islink(link):
        os.makedirs(parent, exist_ok=True)
        try:
            os.symlink(os.path.join("..", "..", "..", ".."), link)
        except FileExistsError:  # another pytest made it meanwhile
            pass
    return os.path.join(root, "playbooks", "collections")


if collections_root() not in sys.path:
    sys.path.insert(0, collections_root())


@pytest.fixture(scope="session")
def collections_path():
    """For ANSIBLE_COLLECTIONS_PATH: where ``ansible_collections/spin/platform`` is this checkout."""
    return collections_root()
