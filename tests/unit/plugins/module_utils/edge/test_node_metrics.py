"""node_metrics: a node's facts for monitoring in the Prometheus text format, and the .prom file the node
exporter's textfile collector reads."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import node_metrics


@pytest.mark.parametrize("samples, text", [
    ([("a_b", "help", {}, 1)], "# HELP a_b help\n# TYPE a_b gauge\na_b 1.0\n"),
    ([("x", "h", {"node": 'n"1'}, 0), ("x", "h", {"node": "n2"}, 2.5)],
     '# HELP x h\n# TYPE x gauge\nx{node="n\\"1"} 0.0\nx{node="n2"} 2.5\n'),
])
def test_node_metrics_render(samples, text):
    assert node_metrics.render(samples) == text


def test_node_metrics_directory_is_beside_the_edge_config():
    assert node_metrics.directory_for("/var/lib/spin/edge") == node_metrics.DEFAULT_DIRECTORY
    with pytest.raises(ValueError):
        node_metrics.render([("bad name", "", {}, 1)])


@pytest.mark.parametrize("config_dir, expected", [
    ("/var/lib/spin/edge", "/var/lib/spin/metrics"),
    ("/var/lib/spin/edge/", "/var/lib/spin/metrics"),     # a trailing slash names the same directory
    ("/srv/lb//conf", "/srv/lb/metrics"),
])
def test_directory_for_is_the_config_dirs_sibling(config_dir, expected):
    assert node_metrics.directory_for(config_dir) == expected


@pytest.mark.parametrize("name", ["", "1x", "a-b", "a.b", "é"])
def test_render_refuses_a_name_prometheus_would_not_read(name):
    with pytest.raises(ValueError, match="is not a metric name"):
        node_metrics.render([(name, "h", {}, 1)])


def test_render_escapes_a_backslash_and_a_new_line_in_a_label_and_sorts_the_labels():
    text = node_metrics.render([("spin_x", "h", {"z": "a\\b", "a": "l1\nl2"}, True)])
    assert text.splitlines()[-1] == 'spin_x{a="l1\\nl2",z="a\\\\b"} 1.0'


def test_write_makes_the_directory_and_a_readable_file_with_nothing_left_over(tmp_path):
    directory = tmp_path / "metrics"
    path = node_metrics.write(str(directory), "spin_edge", [("spin_edge_config_ok", "ok", {"node": "n1"}, 1)])
    assert path == str(directory / "spin_edge.prom")
    assert open(path).read() == ('# HELP spin_edge_config_ok ok\n# TYPE spin_edge_config_ok gauge\n'
                                 'spin_edge_config_ok{node="n1"} 1.0\n')
    assert (os.stat(path).st_mode & 0o777, os.stat(str(directory)).st_mode & 0o777) == (0o644, 0o755)
    assert os.listdir(str(directory)) == ["spin_edge.prom"]


def test_write_replaces_the_file(tmp_path):
    node_metrics.write(str(tmp_path), "x", [("a", "h", {}, 1), ("b", "h", {}, 2)])
    node_metrics.write(str(tmp_path), "x", [("a", "h", {}, 0)])
    assert open(str(tmp_path / "x.prom")).read() == "# HELP a h\n# TYPE a gauge\na 0.0\n"
