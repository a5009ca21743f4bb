from ansible_collections.spin.platform.plugins.module_utils.common.diff import DifferenceTracker


def test_dicts_are_compared_key_by_key_and_the_rest_whole():
    t = DifferenceTracker()
    t.compare("env", {"A": "1", "B": "2"}, {"A": "1", "B": "3", "C": "4"})
    t.compare("networks", [{"name": "a"}], [{"name": "b"}])
    t.compare("replicas", 2, 2)
    assert [tuple(d) for d in t.differences] == [
        ("env.B", "2", "3"), ("env.C", None, "4"), ("networks", [{"name": "a"}], [{"name": "b"}])]
    assert len(t) == 3 and bool(t)


def test_before_after_nests_only_the_differences():
    t = DifferenceTracker()
    t.compare("update_config", {"order": "stop-first", "parallelism": 1}, {"order": "start-first", "parallelism": 1})
    t.add("image", "httpd:2.4", "httpd")
    assert t.before_after() == ({"update_config": {"order": "stop-first"}, "image": "httpd:2.4"},
                                {"update_config": {"order": "start-first"}, "image": "httpd"})
    assert t.as_list()[1] == {"path": "image", "before": "httpd:2.4", "after": "httpd"}


def test_no_differences_is_falsy():
    t = DifferenceTracker()
    t.compare("env", {}, {})
    assert not t and t.as_list() == []
