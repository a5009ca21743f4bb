"""Unit tests never write the platform CA of this machine: the CA files are in a directory of the test's own."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import lb_certs


@pytest.fixture(autouse=True)
def _private_ca_dir(tmp_path, monkeypatch):
    here = str(tmp_path / "ca")
    monkeypatch.setattr(lb_certs, "ca_files",
                        lambda platform: (os.path.join(here, "ca.crt"), os.path.join(here, "ca.key")))
