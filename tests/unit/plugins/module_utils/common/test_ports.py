"""Port lists of the platform's settings (common/ports.py): ports and ranges read one way, and
written back grouped for messages."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.ports import (
    in_ports, is_port_list, port_range, port_set, ports_text)


@pytest.mark.parametrize("ports, expected", [
    ([80], {80}),
    ([80, "443", "8000-8002"], {80, 443, 8000, 8001, 8002}),
    ([], set()),
    (["8000-8000"], {8000}),
])
def test_port_set(ports, expected):
    assert port_set(ports) == expected


@pytest.mark.parametrize("ports", [["x"], ["0"], ["70000"], ["9-8"], ["80-"], [" - "]])
def test_port_set_refuses(ports):
    with pytest.raises(ValueError, match="is not a port"):
        port_set(ports)


def test_ports_text_groups_ranges():
    assert ports_text({80, 443, 8000, 8001, 8002, 9000}) == "80, 443, 8000-8002, 9000"


@pytest.mark.parametrize("item, expected", [
    (80, (80, 80)),
    ("80", (80, 80)),
    (" 8000 - 8009 ", (8000, 8009)),   # as staff write it in YAML, spaces and all
    (1, (1, 1)),
    (65535, (65535, 65535)),
    ("8000-8000", (8000, 8000)),
])
def test_port_range_reads_a_port_or_a_range(item, expected):
    assert port_range(item) == expected


@pytest.mark.parametrize("item", [0, 65536, -80, "0", "65536", "9-8", "80-", "-80", "x", "80,81", 80.0, None,
                                  True, False, [80]])
def test_port_range_is_none_for_anything_else(item):
    # True is an int to Python, but `lb_ports: [yes]` is no port 1
    assert port_range(item) is None


@pytest.mark.parametrize("value, expected", [
    ([80, "443", "8000-8009"], True),
    ([], True),
    ([80, "x"], False),
    ([80, True], False),
    ("80", False),          # a bare string is not a list of one port
    ((80, 443), False),     # YAML gives lists; a tuple is nobody's setting
    (None, False),
])
def test_is_port_list(value, expected):
    assert is_port_list(value) is expected


@pytest.mark.parametrize("port, expected", [(80, True), (443, False), (8000, True), (8005, True), (8009, True),
                                            (8010, False), (7999, False)])
def test_in_ports_looks_inside_ranges(port, expected):
    assert in_ports(port, [80, "8000-8009"]) is expected


def test_in_ports_of_no_ports_is_false():
    assert in_ports(80, []) is False


@pytest.mark.parametrize("ports, expected", [
    (set(), "(none)"),
    ({5}, "5"),
    ({1, 2, 3}, "1-3"),
    ([9, 3, 4], "3-4, 9"),      # any iterable, sorted first
    ({80, 82}, "80, 82"),
])
def test_ports_text_edge_cases(ports, expected):
    assert ports_text(ports) == expected


def test_port_set_and_ports_text_round_trip():
    assert ports_text(port_set(["8000-8009", 80, "443"])) == "80, 443, 8000-8009"
