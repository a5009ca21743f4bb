"""Submissions laid out as the platform reads them, for the unit tests: ``<root>/<tenant>/<stack>/``
with the tenant's directory and every file owned by the tenant's uid and writable by nobody else.

As root (CI) the files are given to uid 1000, the local registry's ``demo``; as any other user
the tests' tenant is that user (a uid of one's own is the only one a user can give files to)."""
import atexit
import functools
import os
import shutil
import tempfile

UID = 1000 if os.getuid() == 0 else os.getuid()
GID = 1000 if os.getuid() == 0 else os.getgid()
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "compose")
SEED = os.path.abspath(os.path.join(HERE, "..", "..", "examples", "seed"))


def registry(tenant="demo", **entry):
    """A tenant registry (spin_tenants) that holds ``tenant`` with the tests' uid."""
    return {tenant: dict({"uid": UID, "gid": GID}, **entry)}


def hand_in(path, uid=UID, gid=GID):
    """Every file and directory at and below ``path`` becomes the tenant's, writable by it only."""
    path = str(path)
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(base, name)
            if not os.path.islink(full):
                os.chown(full, uid, gid)
                os.chmod(full, os.stat(full).st_mode & ~0o022)
    os.chown(path, uid, gid)
    os.chmod(path, os.stat(path).st_mode & ~0o022)


def submission(base, tenant="demo", stack="st", source=None):
    """``<base>/submissions/<tenant>/<stack>/`` (a copy of ``source`` when given), the tenant's.
    -> (the root, the submission directory), both str."""
    root = os.path.join(str(base), "submissions")
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    tenant_dir = os.path.join(root, tenant)
    directory = os.path.join(tenant_dir, stack)
    if source:
        shutil.copytree(source, directory, symlinks=True)
    else:
        os.makedirs(directory, exist_ok=True)
    hand_in(tenant_dir)
    return root, directory


@functools.lru_cache(maxsize=None)
def fixture(name):
    """A compose fixture (tests/unit/fixtures/compose/<name>, or ``seed``: examples/seed) copied once per
    run into a tenant tree of tenant ``demo``. -> (the root, the submission directory)."""
    base = _scratch()
    return submission(base, "demo", name, SEED if name == "seed" else os.path.join(FIXTURES, name))


@functools.lru_cache(maxsize=None)
def _scratch():
    base = tempfile.mkdtemp(prefix="spin-unit-tree-")
    atexit.register(shutil.rmtree, base, True)
    return base
