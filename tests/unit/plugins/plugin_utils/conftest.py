"""Fixtures of the controller-side tests: `submission`, a directory to write a tenant's files into, with its
reader (test_build_context.py has a submission fixture of its own)."""
import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose_text


@pytest.fixture
def submission(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    write.dir = tmp_path
    write.reader = compose_text.make_dir_reader(str(tmp_path))
    return write
