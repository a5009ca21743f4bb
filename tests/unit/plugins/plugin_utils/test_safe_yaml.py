import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import safe_yaml
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError


def _error(text, **limits):
    with pytest.raises(SpinError) as info:
        safe_yaml.load(text, "docker-compose.yml", limits=limits or None)
    return info.value


@pytest.mark.parametrize("text, value", [
    ("a: yes", "yes"),                 # YAML 1.2: only true/false are booleans
    ("a: no", "no"),
    ("a: on", "on"),
    ("a: true", True),
    ("a: False", False),
    ("a: 8080:22", "8080:22"),         # no sexagesimal numbers (YAML 1.1 would give 484822)
    ("a: 80:80", "80:80"),
    ("a: 0640", 0o640),                # old-style octal, as compose reads it
    ("a: 0o640", 0o640),
    ("a: 0x1f", 31),
    ("a: 1_000", 1000),
    ("a: -12", -12),
    ("a: 1.5", 1.5),
    ("a: 1e3", 1000.0),
    ("a: 2001-12-14", "2001-12-14"),   # no timestamps: values stay JSON-serialisable
    ("a: .", "."),
    ("a: 1.2.3", "1.2.3"),
    ("a: ~", None),
    ("a:", None),
    ("a: '3'", "3"),
])
def test_scalars_follow_yaml_1_2(text, value):
    assert safe_yaml.load(text, "f.yml") == {"a": value}


def test_merge_keys_work_and_may_be_overridden():
    text = "base: &b {x: 1, y: 2}\nsvc:\n  <<: *b\n  x: 3\n"
    assert safe_yaml.load(text, "f.yml") == {"base": {"x": 1, "y": 2}, "svc": {"x": 3, "y": 2}}


def test_bytes_input_is_decoded():
    assert safe_yaml.load("a: é".encode("utf-8"), "f.yml") == {"a": "é"}


@pytest.mark.parametrize("text, message", [
    ("services:\n  web: {}\n  web: {}\n",
     "docker-compose.yml: line 3, column 3: duplicate key 'web' (first at line 2)"),
    ("a: [1,\n", "docker-compose.yml: line 2, column 1: expected the node content, but found '<stream end>' "
                 "(while parsing a flow node)"),
    ("a: 1\n---\nb: 2\n", "docker-compose.yml: line 2, column 1: but found another document "
                          "(expected a single document in the stream at line 1)"),
    ("a: *nothing\n", "docker-compose.yml: line 1, column 4: found undefined alias 'nothing'"),
    ("a: !!python/object/apply:os.system [id]\n",
     "docker-compose.yml: line 1, column 4: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("a: 1\n\tb: 2\n", "docker-compose.yml: line 2, column 1: found character '\\t' that cannot start any token "
                       "(while scanning for the next token)"),
])
def test_errors_name_file_and_line(text, message):
    err = _error(text)
    assert err.message == message
    assert err.diagnostics == [{"severity": "error", "file": "docker-compose.yml", "service": None, "key": None,
                                "message": message[len("docker-compose.yml: "):]}]


BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


def test_alias_bomb_is_refused_early():
    err = _error(BOMB)
    # 9 + 9*10 + ... : the 200000th expanded node is reached on line 6, long before line 8
    assert err.message == ("docker-compose.yml: line 6, column 11: more than 200000 nodes (aliases expanded): "
                           "refused as too large")


def test_a_few_aliases_are_fine():
    data = safe_yaml.load(BOMB.split("\nc:", maxsplit=1)[0], "f.yml")
    assert len(data["b"]) == 9 and data["b"][0] == ["lol"] * 9


def test_alias_count_limit():
    text = "a: &a 1\nb: [%s]\n" % ", ".join(["*a"] * 11)
    assert safe_yaml.load(text, "f.yml", limits={"max_aliases": 11})["b"] == [1] * 11
    assert _error(text, max_aliases=10).message == (
        "docker-compose.yml: line 2, column 45: more than 10 aliases: refused as a possible alias bomb")


def test_depth_limit():
    assert _error("[" * 65 + "]" * 65).message == "docker-compose.yml: line 1, column 65: nested more than 64 " \
                                                  "levels deep"
    assert safe_yaml.load("[" * 64 + "]" * 64, "f.yml") is not None


def test_size_limit():
    text = "a: '%s'\n" % ("x" * 2000)
    assert _error(text, max_bytes=1000).message == ("docker-compose.yml: file is 2006 bytes, more than the limit "
                                                    "of 1000 bytes: refused")
    assert safe_yaml.load(text, "f.yml", limits={"max_bytes": 2006}) == {"a": "x" * 2000}


def test_default_size_limit_is_one_mebibyte():
    assert _error("a: 1\n" + "#" * (1024 * 1024)).message.startswith("docker-compose.yml: file is 1048581 bytes")


def test_node_limit_without_aliases():
    text = "[%s]" % ", ".join(["1"] * 60)
    # the 51st node is the 51st item, at column 2 + 3 * 50
    assert _error(text, max_nodes=50).message == ("docker-compose.yml: line 1, column 152: more than 50 nodes "
                                                  "(aliases expanded): refused as too large")


def test_not_utf8():
    assert _error(b"a: \xff\n").message == "docker-compose.yml: not UTF-8 text (byte 3): save the file as UTF-8"
