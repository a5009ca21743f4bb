"""One Dockerfile word processed as the 20.10 classic builder's lexer does (quotes, escapes, variables)."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.build.dockerfile import DockerfileError
from ansible_collections.spin.platform.plugins.module_utils.build.dockerfile_shell import MARK, process_word

ENV = {"X": "httpd", "E": "", "B": "spin/base:bookwor"}


@pytest.mark.parametrize("word, expected", [
    ("plain", "plain"),
    ('"spin/haproxy:2.6"', "spin/haproxy:2.6"),
    ("'$X'", "$X"),
    ('"$X"', "httpd"),
    ("sp\\in", "spin"),
    ('"a\\"b"', 'a"b'),
    ('"a\\nb"', "a\\nb"),  # in double quotes the escape keeps all but " $ and itself
    ("a\\", "a"),
    ("$X", "httpd"),
    ("${X}", "httpd"),
    ("${X:+spin/haproxy:2.6}", "spin/haproxy:2.6"),
    ("${E:+set}", ""),
    ("${U:+set}", ""),
    ("${X:-other}", "httpd"),
    ("${E:-other}", "other"),
    ("${U:-other}", "other"),
    ("${X:?oops}", "httpd"),
    ("${X?oops}", "httpd"),
    ("${E?oops}", ""),
    ("${B}m$12", "spin/base:bookworm"),  # $12 is the variable 12
    ("${B}m$@", "spin/base:bookworm"),  # a special parameter: unset
    ("a$", "a$"),
    ("$", "$"),
    ("${X:-${E:-in}}", "httpd"),
    ("${U:-${E:-in}}", "in"),
    ("${U:-'q'}", "q"),
])
def test_words(word, expected):
    assert process_word(word, ENV) == expected


def test_the_escape_directive_changes_the_escape_character():
    assert process_word("sp`in", ENV, escape="`") == "spin"
    assert process_word("sp\\in", ENV, escape="`") == "sp\\in"


@pytest.mark.parametrize("word, message", [
    ("${X-x}", "missing ':' in substitution"),
    ("${X%x}", "missing ':' in substitution"),
    ("${X:*x}", "unsupported modifier (*) in substitution"),
    ("${U?}", "U: is not allowed to be unset"),
    ("${U:?gone}", "U: gone"),
    ("${E:?}", "E: is not allowed to be empty"),
    ("${X", "missing ':' in substitution"),
    ("${X:-a", "syntax error: missing '}'"),
    ("${}", "syntax error: bad substitution"),
    ("${:x}", "syntax error: bad substitution"),
    ("'open", "unexpected end of statement while looking for matching single-quote"),
    ('"open', "unexpected end of statement while looking for matching double-quote"),
])
def test_words_the_builder_refuses(word, message):
    with pytest.raises(DockerfileError) as caught:
        process_word(word, ENV)
    assert caught.value.message == 'failed to process "%s": %s' % (word, message)


@pytest.mark.parametrize("word, expected", [
    ("$U", MARK),
    ("src/${U}", "src/" + MARK),
    ("${U:-http://x}", MARK),
    ("'$U'", "$U"),
    ("h\\ttp://x", "http://x"),
])
def test_without_values_every_variable_is_a_mark(word, expected):
    assert process_word(word, None) == expected
