"""Interpolation of ${VAR} (compose_text.interpolate), alone and through parse_stack: the messages
name file, service and key; values are typed after substitution; keys are never interpolated."""
import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose_text
from ansible_collections.spin.platform.plugins.plugin_utils import compose_values
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import messages, parse


# ---------------------------------------------------------------------------------------------
# interpolation

INTERPOLATION = [
    ("plain", {}, "plain"),
    ("$A", {"A": "1"}, "1"),
    ("${A}", {"A": "1"}, "1"),
    ("x${A}y", {"A": "1"}, "x1y"),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A-d}", {}, "d"),
    ("${A:-${B:-deep}}", {}, "deep"),
    ("${A:-${B}}", {"B": "b"}, "b"),
    ("${A:?need A}", {"A": "v"}, "v"),
    ("${A:+alt}", {"A": "v"}, "alt"),
    ("${A:+alt}", {"A": ""}, ""),
    ("${A+alt}", {"A": ""}, "alt"),
    ("${A+alt}", {}, ""),
    ("$$HOME", {}, "$HOME"),
    ("$${A}", {"A": "x"}, "${A}"),
    ("a $$ b", {}, "a $ b"),
    ("${A}", {"A": 5}, "5"),
    ("${A:-a}${B:-b}", {}, "ab"),
]


@pytest.mark.parametrize("text, env, expected", INTERPOLATION)
def test_interpolate(text, env, expected):
    assert compose_text.interpolate(text, env) == expected


INTERPOLATION_ERRORS = [
    ("${A}", {}, "variable 'A' is not set: give it a value in the stack's variables, or write a default like "
                 "${A:-value}"),
    ("$A", {}, "variable 'A' is not set: give it a value in the stack's variables, or write a default like "
               "${A:-value}"),
    ("${A:?the password}", {}, "variable 'A' is not set: the password"),
    ("${A:?the password}", {"A": ""}, "variable 'A' is empty: the password"),
    ("${A?}", {}, "variable 'A' is not set: it is required"),
    ("${A", {}, "'${' without a closing '}' in '${A'"),
    ("${1A}", {}, "'${1A}' in '${1A}' is not a variable: names are letters, digits and _"),
    ("${A/x/y}", {"A": "1"}, "'${A/x/y}' in '${A/x/y}': unknown operator; use :-, -, :?, ?, :+ or +"),
    ("cost $5", {}, "a '$' that starts no variable in 'cost $5': write '$$' for a literal dollar sign"),
    ("end $", {}, "a '$' that starts no variable in 'end $': write '$$' for a literal dollar sign"),
]


@pytest.mark.parametrize("text, env, message", INTERPOLATION_ERRORS)
def test_interpolate_errors(text, env, message):
    with pytest.raises(compose_values.Invalid) as info:
        compose_text.interpolate(text, env)
    assert info.value.message == message


def test_interpolation_in_files_names_file_service_and_key():
    text = "services:\n  web:\n    image: 'httpd:${TAG:-2.4}'\n    environment:\n      DB: ${DB_HOST}\n" \
           "    deploy: {replicas: '${N}'}\nvolumes:\n  data: {driver: '${DRIVER:?name the volume driver}'}\n"
    model, diagnostics = parse(text, "services:\n  web: {scale: '${SCALE}'}\n", env={"N": "3"})
    assert model["services"]["web"]["image"] == "httpd:2.4"
    # an unset variable is an empty string, as in Compose: a warning where it is used ...
    assert model["services"]["web"]["environment"] == {"DB": ""}
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 'web': key 'environment.DB': warning: variable 'DB_HOST' is not set, so it is "
        "an empty string here (as in Compose): give it a value in .env or spin_compose_variables, or write a default "
        "like ${DB_HOST:-value}",
        "rancher-compose.yml: service 'web': key 'scale': warning: variable 'SCALE' is not set, so it is an empty "
        "string here (as in Compose): give it a value in .env or spin_compose_variables, or write a default like "
        "${SCALE:-value}"]
    # ... and ${VAR:?message} is an error with the file's own message; the empty scale is checked as such
    assert messages(diagnostics) == [
        "docker-compose.yml: key 'volumes.data.driver': variable 'DRIVER' is not set: name the volume driver",
        "rancher-compose.yml: service 'web': key 'scale': must be a number of replicas, not ''",
    ]


def test_interpolated_values_are_typed_after_substitution():
    text = "services:\n  web:\n    image: x\n    read_only: '${RO:-true}'\n    deploy: {replicas: '${N}'}\n"
    model, diagnostics = parse(text, env={"N": "3"})
    assert diagnostics == []
    assert model["services"]["web"]["read_only"] is True
    assert model["services"]["web"]["deploy"]["replicas"] == 3


def test_keys_are_not_interpolated():
    model, dummy = parse("services:\n  web:\n    image: x\n    labels: {'$$a': '$$b'}\n")
    assert model["services"]["web"]["labels"] == {"$$a": "$b"}
