import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import units


@pytest.mark.parametrize("text, ns", [
    ("30s", 30 * 10**9), ("1m30s", 90 * 10**9), ("500ms", 500 * 10**6), ("1h", 3600 * 10**9),
    ("1.5s", 1500 * 10**6), (10, 10 * 10**9), ("0", 0), ("2us", 2000),
])
def test_parse_duration(text, ns):
    assert units.parse_duration(text) == ns


@pytest.mark.parametrize("bad", ["", "10", "abc", "5 s", "1x", "s5", True])
def test_parse_duration_refuses(bad):
    with pytest.raises(ValueError):
        units.parse_duration(bad)


@pytest.mark.parametrize("ns, text", [
    (30 * 10**9, "30s"), (90 * 10**9, "1m30s"), (500 * 10**6, "500ms"), (3600 * 10**9, "1h"), (0, "0s"),
    (3723 * 10**9, "1h2m3s"),
])
def test_format_duration_round_trips(ns, text):
    assert units.format_duration(ns) == text
    assert units.parse_duration(text) == ns


@pytest.mark.parametrize("text, size", [
    ("512m", 512 * 1024**2), ("1G", 1024**3), ("100", 100), (2048, 2048), ("1.5k", 1536), ("64MB", 64 * 1024**2),
    # Compose's spellings (go-units): binary units with an i, a space, a bare b
    ("512MiB", 512 * 1024**2), ("2Gi", 2 * 1024**3), ("1 gb", 1024**3), ("10b", 10), ("1p", 1024**5),
])
def test_parse_bytes(text, size):
    assert units.parse_bytes(text) == size


@pytest.mark.parametrize("bad", ["lots", "-1m", "1x", "5ib", True])
def test_parse_bytes_refuses(bad):
    with pytest.raises(ValueError):
        units.parse_bytes(bad)


def test_parse_cpus():
    assert units.parse_cpus("0.5") == 0.5
    with pytest.raises(ValueError):
        units.parse_cpus("many")
    with pytest.raises(ValueError):
        units.parse_cpus(-1)


@pytest.mark.parametrize("value, mode", [
    (0o444, 0o444), (292, 0o444), ("0444", 0o444), ("444", 0o444), ("0o755", 0o755), ("1777", 0o1777), (0, 0),
])
def test_parse_mode(value, mode):
    assert units.parse_mode(value) == mode


@pytest.mark.parametrize("bad", ["rw-r--r--", "0888", 0o17777, -1, True])
def test_parse_mode_refuses(bad):
    with pytest.raises(ValueError):
        units.parse_mode(bad)
