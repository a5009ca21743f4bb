"""A Dockerfile's lines and instructions as the engine's classic builder (Docker 20.10) reads them: the
expected values are the engine's own reading (tests/integration/test_dockerfile_engine.py builds the same
texts on the real engine)."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.build import dockerfile
from ansible_collections.spin.platform.plugins.module_utils.build.dockerfile import DockerfileError


def instructions(data):
    """-> [(line, name, args or the raw rest)] of the text's instructions."""
    return [(n["line"], n["name"], n["args"]) for n in dockerfile.parse(data)["nodes"]]


def froms(data):
    return [n["args"][0] for n in dockerfile.parse(data)["nodes"] if n["name"] == "from"]


@pytest.mark.parametrize("data, expected", [
    # the byte-order mark of line 1 only, and only one
    (b"\xef\xbb\xbfFROM a\n", ["a"]),
    (b"FROM a\n\xef\xbb\xbfFROM b\n", ["a"]),
    # directives: only while every line so far is one; any case; spaces around =
    (b"# escape=`\nFROM a\nRUN x `\nFROM b\n", ["a"]),
    (b"\xef\xbb\xbf# escape=`\nFROM a\nRUN x `\nFROM b\n", ["a"]),
    (b"# syntax=x\n# escape=`\nFROM a\nRUN x `\nFROM b\n", ["a"]),
    (b"   # ESCAPE = ` \nFROM a\nRUN x `\nFROM b\n", ["a"]),
    (b"# c\n# escape=`\nFROM a\nRUN x `\nFROM b\n", ["a", "b"]),
    (b"# foo=bar\n# escape=`\nFROM a\nRUN x `\nFROM b\n", ["a", "b"]),
    (b"\n# escape=`\nFROM a\nRUN x `\nFROM b\n", ["a", "b"]),
    (b"# escape=\nFROM a\nRUN x \\\nFROM b\n", ["a"]),
    # lines end at \n only (one \r dropped); \f, \v and U+2028 end nothing
    (b"FROM a\r\nRUN x \\\r\nFROM b\r\n", ["a"]),
    ("FROM a\nRUN x\u2028FROM b\n", ["a"]),
    (b"FROM a\nRUN x\x0cFROM b\n", ["a"]),
    # leading space as Go's unicode.IsSpace sees it (not \x1c)
    (b"\x0bFROM a\n", ["a"]),
    ("\u00a0FROM a\n", ["a"]),
    # continuation: escape then only spaces and tabs; comments and empty lines inside are skipped
    (b"FROM a\nRUN x \\   \t\nFROM b\n", ["a"]),
    ("FROM a\nRUN x \\\u00a0\nFROM b\n", ["a", "b"]),
    (b"FROM a\nRUN x \\\n   # FROM b\n y\nFROM c\n", ["a", "c"]),
    (b"FROM a\nRUN x \\\n\nFROM b\n", ["a"]),
    (b"\\\nFROM a\n", ["a"]),
    (b"FROM a\nRUN x # y \\\nFROM b\n", ["a"]),
    # no heredocs: the body is instructions
    (b"FROM a\nCOPY <<EOF /x\nFROM b\nEOF\n", ["a", "b"]),
    # instruction names in any case, Go's lower case (U+0130 is an i)
    (b"from a\n", ["a"]),
    (b"FROM\ta\n", ["a"]),
])
def test_which_from_lines_the_builder_sees(data, expected):
    assert froms(data) == expected


def test_a_dotted_capital_i_is_an_i_for_go():
    assert instructions("FROM a\nONBU\u0130LD RUN x\n")[1][1] == "onbuild"
    assert dockerfile.go_lower("\u212a\u0130\u03a3") == "ki\u03c3"


@pytest.mark.parametrize("data, message, line", [
    (b"", "empty", None),
    (b"# x\n\n", "file with no instructions", 2),
    (b"# escape=`\n# escape=`\nFROM a\n", "only one escape parser directive can be used", 2),
    (b"# syntax=a\n# syntax=b\nFROM a\n", "only one syntax parser directive can be used", 2),
    (b"# escape=x\nFROM a\n", "invalid escape token 'x' does not match ` or \\", 1),
    (b"FROM a\nLABEL a=" + b"x" * 65528 + b"\n", "dockerfile line greater than max allowed size of 65535", 2),
    (b"FROM a\nCOPY [1, 2]\n", "arrays must be comprised of strings only", 2),
])
def test_what_the_builder_refuses_while_parsing(data, message, line):
    with pytest.raises(DockerfileError) as caught:
        dockerfile.parse(data)
    assert message in caught.value.message and caught.value.line == line


def test_a_line_of_65535_bytes_is_read():
    assert froms(b"FROM a\nLABEL a=" + b"x" * 65527 + b"\n") == ["a"]
    assert froms(b"FROM a\nLABEL a=" + b"x" * 65526 + b"\r\n") == ["a"]  # the \r counts


@pytest.mark.parametrize("rest, flags, remainder", [
    ("--from=a /x /y", ["--from=a"], "/x /y"),
    ("--from=\"a b\" /x /y", ["--from=a b"], "/x /y"),
    ("--from='a' /x", ["--from=a"], "/x"),
    ("--from=sp\\in /x", ["--from=spin"], "/x"),  # always \, whatever the escape directive says
    ("--from=sp`in /x", ["--from=sp`in"], "/x"),
    ("-- --from=a /x", [], " --from=a /x"),
    ("/x --from=a /y", [], "/x --from=a /y"),
    ("--from a /x", ["--from"], "a /x"),  # 20.10: no "--flag value"; BFlags then wants a value
    ("--a=1\t--b=2  x", ["--a=1", "--b=2"], "x"),
    # "\u00c5" is C3 85 in UTF-8: each byte is a character, and 0x85 (NEL) a space
    ("--from=\u00c5 /x", ["--from=\xc3"], "/x"),
])
def test_flags_are_read_byte_by_byte_as_go_reads_them(rest, flags, remainder):
    found_rest, found_flags = dockerfile.extract_flags(rest)
    assert found_flags == flags and found_rest == remainder


@pytest.mark.parametrize("line, name, args, as_json", [
    ("COPY --from=a [\"/x\", \"/y\"]", "copy", ["/x", "/y"], True),
    ("COPY [NaN] /y", "copy", ["[NaN]", "/y"], False),  # not JSON for Go: words
    ("ADD  a   b ", "add", ["a", "b"], False),
    ("FROM a AS b", "from", ["a", "AS", "b"], False),
    ("FROM a\u00a0AS\u00a0b", "from", ["a\u00a0AS\u00a0b"], False),  # only ASCII whitespace separates
    ("ARG A=\"x y\" B", "arg", ["A=\"x y\"", "B"], False),
    ("ARG A=x\\ y", "arg", ["A=x\\ y"], False),
])
def test_instruction_arguments(line, name, args, as_json):
    node = dockerfile.node_from_line(line)
    assert (node["name"], node["args"], node["json"]) == (name, args, as_json)


def test_onbuild_keeps_its_instruction_as_a_child():
    node = dockerfile.parse(b"FROM a\nONBUILD COPY --from=b /x /y\n")["nodes"][1]
    assert node["child"]["name"] == "copy" and node["child"]["flags"] == ["--from=b"]
    assert node["original"] == "ONBUILD COPY --from=b /x /y"


def test_line_numbers_are_the_first_line_of_each_instruction():
    nodes = dockerfile.parse(b"# c\n\nFROM a \\\n  AS b\n\nRUN x\n")["nodes"]
    assert [(n["line"], n["end"]) for n in nodes] == [(3, 4), (6, 6)]


def test_text_with_a_lone_surrogate_is_read_not_a_traceback():
    assert froms("FROM a\ud800\n") == ["a?"]
