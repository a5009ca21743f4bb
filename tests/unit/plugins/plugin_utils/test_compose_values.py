"""compose_values: the value checks every key handler uses. Each returns the value as the model keeps
it, or raises Invalid with the end of the message the tenant reads ("must be ..., not ...")."""
import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose_values as v


def refused(check, *args, **kwargs):
    with pytest.raises(v.Invalid) as info:
        check(*args, **kwargs)
    return info.value.message


@pytest.mark.parametrize("value, text", [
    (None, "empty (null)"), (True, "true/false"), (False, "true/false"), (0, "a number"), (1.5, "a number"),
    ([], "a list"), ({}, "a mapping"), ("", "a string"), ("x", "a string"),
])
def test_kind_names_what_yaml_gave(value, text):
    assert v.kind(value) == text


def test_invalid_carries_the_message_and_the_key_it_belongs_to():
    error = v.Invalid("must be a string", key="build.context")
    assert (str(error), error.message, error.key) == ("must be a string", "must be a string", "build.context")
    assert v.Invalid("m").key is None


@pytest.mark.parametrize("value, expected", [("x", "x"), (3, "3"), (1.5, "1.5"), ("", "")])
def test_as_str(value, expected):
    assert v.as_str(value) == expected


@pytest.mark.parametrize("value, message", [
    (True, "must be a string, not true/false"),     # yes/no is YAML's boolean, never a word
    (None, "must be a string, not empty (null)"),
    ([1], "must be a string, not a list"),
])
def test_as_str_refuses(value, message):
    assert refused(v.as_str, value) == message


def test_nonempty_str():
    assert v.nonempty_str(" x ") == " x "
    assert refused(v.nonempty_str, "  ") == "must not be empty"
    assert refused(v.nonempty_str, {}, "an image name") == "must be an image name, not a mapping"


@pytest.mark.parametrize("value, kwargs, expected", [
    (3, {}, 3), ("3", {}, 3), (" +7 ", {}, 7), (2.0, {}, 2), (0, {}, 0), ("-1", {"minimum": -5}, -1),
    (-3, {"minimum": None}, -3), (10, {"maximum": 10}, 10),
])
def test_as_int(value, kwargs, expected):
    assert v.as_int(value, **kwargs) == expected


@pytest.mark.parametrize("value, kwargs, message", [
    (-1, {}, "must be 0 or more, not -1"),          # counts start at 0 unless a handler says otherwise
    (11, {"maximum": 10}, "must be 10 or less, not 11"),
    (0, {"minimum": 1}, "must be 1 or more, not 0"),
    (2.5, {}, "must be a whole number, not a number"),
    ("2.5", {}, "must be a whole number, not '2.5'"),
    ("three", {"what": "a count"}, "must be a count, not 'three'"),
    (True, {}, "must be a whole number, not true/false"),
    (None, {}, "must be a whole number, not empty (null)"),
])
def test_as_int_refuses(value, kwargs, message):
    assert refused(v.as_int, value, **kwargs) == message


def test_as_float():
    assert (v.as_float("0.5"), v.as_float(2), v.as_float(1, minimum=0, maximum=1)) == (0.5, 2.0, 1.0)
    assert refused(v.as_float, "half") == "must be a number, not 'half'"
    assert refused(v.as_float, True) == "must be a number, not true/false"
    assert refused(v.as_float, 1.5, minimum=0, maximum=1) == "must be between 0 and 1, not 1.5"


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("true", True), ("Yes", True), (" on ", True), ("1", True), ("y", True),
    ("false", False), ("NO", False), ("off", False), ("0", False), ("n", False),
])
def test_as_bool_reads_what_compose_reads(value, expected):
    assert v.as_bool(value) is expected


@pytest.mark.parametrize("value, message", [
    ("maybe", "must be true or false, not 'maybe'"), (1, "must be true or false, not a number"),
    (None, "must be true or false, not empty (null)"),
])
def test_as_bool_refuses(value, message):
    assert refused(v.as_bool, value) == message


def test_as_list_and_mapping():
    assert v.as_list([1]) == [1] and v.mapping({"a": 1}) == {"a": 1}
    assert refused(v.as_list, "a") == "must be a list, not a string"
    assert refused(v.mapping, [], "a mapping of options") == "must be a mapping of options, not a list"


def test_str_list():
    assert v.str_list(["a", 1, 2.5]) == ["a", "1", "2.5"]
    assert v.str_list("one", allow_string=True) == ["one"]
    assert refused(v.str_list, "one") == "must be a list of strings, not a string"
    assert refused(v.str_list, 1, allow_string=True) == "must be a list of strings (or one string), not a number"
    assert refused(v.str_list, ["a", None]) == "item 2 must be a string, not empty (null)"


@pytest.mark.parametrize("value, expected", [(True, "true"), (False, "false"), (8080, "8080"), (0.5, "0.5"),
                                             ("x", "x")])
def test_scalar_text_is_what_docker_sees(value, expected):
    assert v.scalar_text(value) == expected


def test_scalar_text_refuses_a_structure():
    assert refused(v.scalar_text, [1]) == "values must be strings, numbers or true/false, not a list"


@pytest.mark.parametrize("value, expected", [
    ({"A": 1, "B": True, "C": None}, {"A": "1", "B": "true", "C": None}),
    (["A=1", "B=x=y", "C=", "D"], {"A": "1", "B": "x=y", "C": "", "D": None}),   # D: no value given
    (["A=1", "A=2"], {"A": "2"}),
    ([], {}),
])
def test_list_or_dict(value, expected):
    assert v.list_or_dict(value) == expected


def test_list_or_dict_refuses():
    assert refused(v.list_or_dict, ["=x"]) == "'=x' has no name before '='"
    assert refused(v.list_or_dict, "A=1") == "must be a mapping or a list of KEY=VALUE, not a string"


def test_duration_needs_a_unit():
    assert v.duration("1m30s") == 90 * 10 ** 9
    assert refused(v.duration, 30) == "must be a duration with a unit, like 30s, not the number 30"
    with pytest.raises(v.Invalid):
        v.duration("soon")


def test_byte_size_and_cpus():
    assert v.byte_size("1g") == 1024 ** 3
    assert (v.cpus("0.5"), v.cpus(2)) == (0.5, 2.0)
    assert refused(v.cpus, "-1") == "'-1' is not a number of CPUs: it must not be negative"
    for check in (v.byte_size, v.cpus):
        with pytest.raises(v.Invalid):
            check("lots")


@pytest.mark.parametrize("value, expected", [(0o440, 0o440), ("0440", 0o440), ("0o755", 0o755), ("644", 0o644),
                                             (0, 0), (0o7777, 0o7777)])
def test_file_mode(value, expected):
    assert v.file_mode(value) == expected


@pytest.mark.parametrize("value, message", [
    ("0980", "must be an octal file mode like 0440, not '0980'"),
    ("rw-r--r--", "must be an octal file mode like 0440, not 'rw-r--r--'"),
    (True, "must be an octal file mode like 0440, not True"),
    (0o10000, "must be a file mode between 0 and 07777"),
    (-1, "must be a file mode between 0 and 07777"),
])
def test_file_mode_refuses(value, message):
    assert refused(v.file_mode, value) == message


def test_enum_suggests_the_closest_choice():
    assert v.enum("vip", ("vip", "dnsrr")) == "vip"
    assert refused(v.enum, "dnsr", ("vip", "dnsrr")) == "must be one of vip, dnsrr, not 'dnsr' (did you mean 'dnsrr'?)"
    assert refused(v.enum, "x", ("vip", "dnsrr")) == "must be one of vip, dnsrr, not 'x'"


def test_unknown_key_and_did_you_mean():
    assert v.unknown_key("imagee", ["image", "command"]) == "unknown key (did you mean 'image'?)"
    assert v.unknown_key("frobnicate", ["image", "command"]) == "unknown key"
    assert v.did_you_mean("x", []) == ""


def test_absolute_paths():
    assert v.abs_path("/data") == "/data" and v.container_path("/var/lib/x") == "/var/lib/x"
    assert refused(v.container_path, "data") == \
        "the path in the container must be an absolute path (starting with /), not 'data'"
    assert refused(v.abs_path, "") == "must not be empty"


def test_label_map_keeps_the_platforms_labels_to_the_platform():
    assert v.label_map(["a=b", "c"]) == {"a": "b", "c": ""}
    assert v.label_map({"org.example.spin": "x"}) == {"org.example.spin": "x"}   # only a leading prefix is reserved
    assert refused(v.label_map, {"spin.tenant": "other"}) == (
        "label 'spin.tenant' is reserved for the platform (spin.*, com.docker.stack.*): rename it")
    assert "com.docker.stack.namespace" in refused(v.label_map, ["com.docker.stack.namespace=x"])


def test_show_quotes_only_strings():
    assert (v.show("x"), v.show(3), v.show(None)) == ("'x'", "3", "None")


def test_restart_policy_shape():
    assert v.restart_policy("on-failure", max_attempts=3) == {
        "condition": "on-failure", "delay": None, "max_attempts": 3, "window": None}
