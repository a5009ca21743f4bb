"""diagnostics: the one shape of a problem in a tenant's files, and the one line it is shown as: the file,
the service, the key, then what to do."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag


def test_error_and_warning_are_plain_data():
    assert diag.error("docker-compose.yml", "web", "image", "write an image") == {
        "severity": "error", "file": "docker-compose.yml", "service": "web", "key": "image",
        "message": "write an image"}
    assert diag.warning("vars.yml", None, None, "m")["severity"] == "warning"
    assert diag.diagnostic("error", "f", None, "k", "m") == diag.error("f", None, "k", "m")


@pytest.mark.parametrize("d, line", [
    (diag.error("docker-compose.yml", "web", "imagee", "unknown key (did you mean 'image'?)"),
     "docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)"),
    (diag.error("docker-compose.yml", None, "networks", "m"), "docker-compose.yml: key 'networks': m"),
    (diag.error("docker-compose.yml", "web", None, "m"), "docker-compose.yml: service 'web': m"),
    (diag.warning("docker-compose.yml", "db", "environment.PASSWORD", "a password in plain text"),
     "docker-compose.yml: service 'db': key 'environment.PASSWORD': warning: a password in plain text"),
    # a problem of the stack as a whole has no file of its own
    (diag.error(None, None, None, "the stack has no services"), "stack: the stack has no services"),
    (diag.error("", "", "", "m"), "stack: m"),
    ({"severity": "error", "message": "m"}, "stack: m"),
])
def test_format_diagnostic(d, line):
    assert diag.format_diagnostic(d) == line


DIAGNOSTICS = [diag.warning("a.yml", None, None, "w1"), diag.error("a.yml", "web", None, "e1"),
               diag.warning("b.yml", None, None, "w2"), diag.error("b.yml", None, "k", "e2")]


def test_messages_of_one_severity_in_their_order():
    assert diag.messages(DIAGNOSTICS, "error") == ["a.yml: service 'web': e1", "b.yml: key 'k': e2"]
    assert diag.messages(DIAGNOSTICS, "warning") == ["a.yml: warning: w1", "b.yml: warning: w2"]
    assert diag.messages([], "error") == []


@pytest.mark.parametrize("diagnostics, expected", [
    (DIAGNOSTICS, True),
    ([d for d in DIAGNOSTICS if d["severity"] == "warning"], False),   # warnings never stop a deploy
    ([], False),
])
def test_has_errors(diagnostics, expected):
    assert diag.has_errors(diagnostics) is expected


def test_format_diagnostic_of_the_compose_parser():
    assert diag.format_diagnostic(diag.diagnostic("error", "docker-compose.yml", "web", "imagee",
                                                  "unknown key (did you mean 'image'?)")) == \
        "docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)"
    assert diag.format_diagnostic(diag.diagnostic("warning", "f.yml", None, None, "m")) == "f.yml: warning: m"
