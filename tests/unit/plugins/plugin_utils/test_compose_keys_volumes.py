"""compose_keys_volumes, through parse_stack: volumes (named, binds), tmpfs and shm_size (input ->
model, and the exact diagnostics)."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    MiB, check_error, check_supported_key, check_warning)


SUPPORTED = [
    ("volumes: ['data:/var/lib/data']", "volumes",
     [{"type": "volume", "source": "data", "target": "/var/lib/data", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: ['data:/d:ro']", "volumes.0.read_only", True),
    ("volumes: ['/global/cfs:/cfs:rw']", "volumes",
     [{"type": "bind", "source": "/global/cfs", "target": "/cfs", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: [/anon]", "volumes",
     [{"type": "volume", "source": None, "target": "/anon", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: [{type: volume, source: data, target: /d, read_only: true}]", "volumes",
     [{"type": "volume", "source": "data", "target": "/d", "read_only": True, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: [{type: bind, source: /srv, target: /d}]", "volumes.0.source", "/srv"),
    ("volumes: [{type: tmpfs, target: /t, tmpfs: {size: 64m, mode: 01777}}]", "volumes",
     [{"type": "tmpfs", "source": None, "target": "/t", "read_only": False, "tmpfs_size": 64 * MiB,
       "tmpfs_mode": 0o1777, "nocopy": False}]),
    ("tmpfs: /run", "volumes",
     [{"type": "tmpfs", "source": None, "target": "/run", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("tmpfs: ['/run:size=10m,mode=0700', /tmp]", "volumes",
     [{"type": "tmpfs", "source": None, "target": "/run", "read_only": False, "tmpfs_size": 10 * MiB,
       "tmpfs_mode": 0o700, "nocopy": False},
      {"type": "tmpfs", "source": None, "target": "/tmp", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
]


@pytest.mark.parametrize("body, path, expected", SUPPORTED)
def test_supported_key(body, path, expected):
    check_supported_key(body, path, expected)


ERRORS = [
    ("volumes: ['~/data:/x']", ["key 'volumes[0]': bind mount of '~/data' (a home directory) is not supported: "
                                "the service may run on any node; use a named volume, or a file of the submission "
                                "directory (./file) for a configuration file"]),
    ("volumes: ['data']", ["key 'volumes[0]': the path in the container must be an absolute path (starting with /), "
                           "not 'data'"]),
    ("volumes: ['data:/x:rx']", ["key 'volumes[0]': 'data:/x:rx': unknown volume option 'rx' (use ro or rw)"]),
    ("volumes: ['nope:/x']", ["key 'volumes[0]': volume 'nope' is not declared under the top-level volumes: add "
                              "it there"]),
    ("volumes: [{type: npipe, source: x, target: /x}]",
     ["key 'volumes[0].type': type 'npipe' is not supported on spin.platform: use volume, bind or tmpfs"]),
    ("volumes: [{source: data, target: /x}]", ["key 'volumes[0]': needs a type: volume, bind or tmpfs"]),
    ("volumes: [{type: bind, target: /x}]",
     ["key 'volumes[0].source': a bind mount needs a source (an absolute host path, or a file of the submission "
      "like ./nginx.conf)"]),
    ("volumes: [{type: tmpfs, source: x, target: /x}]", ["key 'volumes[0].source': a tmpfs mount has no source"]),
    ("volumes: [{type: volume, target: /x, tmpfs: {size: 1m}}]",
     ["key 'volumes[0].tmpfs': only applies to type tmpfs, and this volume is type volume"]),
    ("volumes: [{type: volume, source: data, target: /x, volume: {subpath: a}}]",
     ["key 'volumes[0].volume.subpath': not supported on spin.platform: volume subpaths need a newer engine; "
      "mount the volume and use a subdirectory"]),
    ("tmpfs: ['/run:size=lots']", ["key 'tmpfs[0]': 'lots' is not a size (write it like 512M or 2G)"]),
]


@pytest.mark.parametrize("body, expected", ERRORS)
def test_error(body, expected):
    check_error(body, expected)


WARNINGS = [
    ("volumes: ['data:/d:z']", "key 'volumes[0]': warning: volume option 'z' is ignored on spin.platform"),
    ("tmpfs: ['/run:noexec']", "key 'tmpfs[0]': warning: tmpfs option 'noexec' is ignored on spin.platform (only "
                               "size and mode apply)"),
]


@pytest.mark.parametrize("body, expected", WARNINGS)
def test_warning(body, expected):
    check_warning(body, expected)
