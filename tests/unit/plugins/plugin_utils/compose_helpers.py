"""Helpers shared by the compose parser's unit tests (test_compose*.py): parse a compose text, build
a service's document, read diagnostics."""
import os
import re
import textwrap

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag

# the checkout as pytest sees it (this module is imported through playbooks/collections/ansible_collections)
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..", ".."))
SEED = os.path.join(ROOT, "examples", "seed")
GiB, MiB = 1024 ** 3, 1024 ** 2
S = 10 ** 9


def parse(text, rancher=None, read_file=None, env=None):
    return compose.parse_stack(text, "docker-compose.yml", rancher, "rancher-compose.yml" if rancher else None,
                               read_file=read_file, env=env)


def service_doc(body, extra=""):
    """A compose file with service 's' (image 'img') plus ``body`` (YAML under the service), a
    service 'db', and ``extra`` top-level YAML."""
    body = textwrap.dedent(body)
    image = "" if re.search(r"(?m)^image:", body) else "image: img\n"
    return "services:\n  s:\n%s\n  db:\n    image: db\n%s" % (
        textwrap.indent(image + body, "    "), textwrap.dedent(extra))


def messages(diagnostics, severity="error"):
    return [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == severity]


def dig(data, path):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


DECLARED = """
volumes: {data: {}}
networks: {front: {}, back: {}}
secrets: {pw: {environment: PW}, cert: {external: true}}
configs: {conf: {content: hello}}
"""


# the checks every key table of the parser's tests runs (test_compose*.py): a supported key's value in the model,
# a refused key's messages, a warned key's warning
def check_supported_key(body, path, expected):
    model, diagnostics = parse(service_doc(body, DECLARED), env={"FROM_ENV": "v", "PW": "secret"})
    assert messages(diagnostics) == []
    assert dig(model["services"]["s"], path) == expected


def check_error(body, expected):
    _model, diagnostics = parse(service_doc(body, DECLARED), env={"PW": "x"})
    assert messages(diagnostics) == ["docker-compose.yml: service 's': " + e for e in expected]


def check_warning(body, expected):
    _model, diagnostics = parse(service_doc(body, DECLARED), env={"PW": "x"})
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == ["docker-compose.yml: service 's': " + expected]
