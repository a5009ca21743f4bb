"""The Dockerfile reader (module_utils/dockerfile*.py) against the engine's own builder.

Each Dockerfile below is built on the real engine with the platform's own call (``SwarmClient.build_image``:
``POST /build`` without ``version=2``, network ``none``, no pull of what is local), which runs the engine's
classic builder (its output says ``Step 1/N``; BuildKit's does not), tagged ``h1-agree-*`` and removed
after, with the intermediate images that build made. Then:

- a build that succeeded: the reader saw no problem, and the image the final stage starts from is the
  one the engine used (told by its layers: the longest of the candidates' layer lists it starts with);
  a file copied from the edge's image (its haproxy.cfg) means the reader names that image as a source;
  a URL the engine fetched (from a loopback server) means the reader names that ADD as remote;
- a build that failed: the engine's error says the table's words, and the reader refused the file or
  named an image the engine does not have (it tried to pull it).
"""
import io
import re
import tarfile
import uuid

import pytest

from ansible_collections.spin.platform.plugins.module_utils.build import build, dockerfile_sources
from ansible_collections.spin.platform.plugins.module_utils.policy import policy
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient
from loopback import counting_server

EDGE, BASE, HTTPD = "spin/haproxy:2.6", "spin/base:bookworm", "httpd:2.4"
CANDIDATES = (EDGE, BASE, HTTPD)
CFG = " /etc/haproxy/haproxy.cfg /x\n"  # only the edge's image has it
BUILT = object()

# (id, Dockerfile, build args, files of the context, BUILT or a fragment of the engine's error)
CASES = [
    # byte-order mark, directives, lines
    ("bom", b"\xef\xbb\xbfFROM " + EDGE.encode() + b"\nFROM spin/base:bookworm\nCOPY --from=0" + CFG.encode(), {}, {},
     BUILT),
    ("bom-twice", b"\xef\xbb\xbf\xef\xbb\xbfFROM spin/haproxy:2.6\n", {}, {}, "unknown instruction"),
    ("bom-on-line-2", b"FROM spin/base:bookworm\n\xef\xbb\xbfFROM spin/haproxy:2.6\n", {}, {}, "unknown instruction"),
    ("escape-first", "# escape=`\nFROM scratch\nMAINTAINER a \\\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("escape-after-bom", b"\xef\xbb\xbf# escape=`\nFROM scratch\nMAINTAINER a \\\nFROM spin/haproxy:2.6\n", {}, {},
     BUILT),
    ("escape-after-syntax", "# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\nMAINTAINER a \\\n"
     "FROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("escape-indented-upper-spaced", "   # ESCAPE = ` \nFROM scratch\nMAINTAINER a \\\nFROM spin/haproxy:2.6\n", {},
     {}, BUILT),
    ("escape-after-comment", "# c\n# escape=`\nFROM scratch\nMAINTAINER a \\\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("escape-after-unknown-directive", "# foo=bar\n# escape=`\nFROM scratch\nMAINTAINER a \\\nFROM spin/haproxy:2.6\n",
     {}, {}, BUILT),
    ("escape-after-blank-line", "\n# escape=`\nFROM scratch\nMAINTAINER a \\\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("escape-twice", "# escape=`\n# escape=`\nFROM scratch\n", {}, {}, "only one escape parser directive"),
    ("escape-invalid", "# escape=x\nFROM scratch\n", {}, {}, "invalid escape token"),
    ("syntax-twice", "# syntax=a\n# syntax=b\nFROM spin/base:bookworm\n", {}, {}, "only one syntax parser directive"),
    ("escape-without-value", "# escape=\nFROM spin/base:bookworm\n", {}, {}, BUILT),
    ("heredoc-not-read", "FROM scratch\nCOPY <<EOF /x\nFROM spin/haproxy:2.6\nEOF\n", {}, {}, "unknown instruction: EOF"),
    ("heredoc-body-is-instructions", "FROM scratch\nCOPY <<FROM /x\nFROM spin/haproxy:2.6\n", {}, {"<<FROM": b"x"},
     BUILT),
    ("crlf", b"FROM scratch\r\nMAINTAINER a \\\r\nFROM spin/haproxy:2.6\r\n", {}, {}, BUILT),
    ("line-separator-is-no-line-end", "FROM scratch\nMAINTAINER a\u2028FROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("form-feed-is-no-line-end", "FROM scratch\nMAINTAINER a\x0cFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("vertical-tab-lead", "\x0bFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("no-break-space-lead", "\u00a0FROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("file-separator-lead", "\x1cFROM spin/haproxy:2.6\n", {}, {}, "unknown instruction"),
    ("no-break-space-after-escape", "FROM spin/base:bookworm\nMAINTAINER a \\\u00a0\nFROM spin/haproxy:2.6\n", {}, {},
     BUILT),
    ("spaces-after-escape", "FROM scratch\nMAINTAINER a \\   \t\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("comment-in-continuation", "FROM scratch\nMAINTAINER a \\\n   # FROM spin/haproxy:2.6\n b=2\n"
     "FROM spin/base:bookworm\n", {}, {}, BUILT),
    ("empty-continuation-line", "FROM spin/base:bookworm\nMAINTAINER a \\\n\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("lone-escape-line", "\\\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("hash-mid-line", "FROM scratch\nMAINTAINER a # x \\\nFROM spin/haproxy:2.6\n", {}, {}, BUILT),
    ("line-of-65535-bytes", b"FROM spin/base:bookworm\nLABEL a=" + b"x" * 65527 + b"\n", {}, {}, BUILT),
    ("line-of-65536-bytes", b"FROM spin/base:bookworm\nLABEL a=" + b"x" * 65528 + b"\n", {}, {},
     "line greater than max allowed size"),
    ("empty", b"", {}, {}, "cannot be empty"),
    ("comments-only", "# x\n\n", {}, {}, "file with no instructions"),
    # instructions and stages
    ("lower-case", "from spin/haproxy:2.6\n", {}, {}, BUILT),
    ("dotted-capital-i-is-i", "FROM spin/base:bookworm AS a\nONBU\u0130LD COPY --from=spin/haproxy:2.6" + CFG +
     "FROM a\n", {}, {}, BUILT),
    ("unknown-instruction", "FROM spin/base:bookworm\nFOO bar\n", {}, {}, "unknown instruction: FOO"),
    ("instruction-before-from", "ENV a=1\nFROM spin/base:bookworm\n", {}, {}, "no build stage in current context"),
    ("stage-name-any-case", "FROM spin/base:bookworm AS Base\nFROM BASE\n", {}, {}, BUILT),
    ("kelvin-sign-stage", "FROM spin/haproxy:2.6 AS \u212aa\nFROM spin/base:bookworm\nCOPY --from=ka" + CFG, {}, {},
     BUILT),
    ("long-s-as", "FROM spin/haproxy:2.6 a\u017f hh\nFROM spin/base:bookworm\nCOPY --from=hh" + CFG, {}, {}, BUILT),
    ("stage-name-invalid", "FROM spin/base:bookworm AS 1b\n", {}, {}, "invalid name for build stage"),
    ("stage-name-twice", "FROM spin/base:bookworm AS b\nFROM spin/base:bookworm AS b\n", {}, {},
     "stage name already used"),
    ("from-two-words", "FROM spin/base:bookworm spin/haproxy:2.6\n", {}, {}, "either one or three arguments"),
    ("from-json-is-a-name", 'FROM ["spin/haproxy:2.6"]\n', {}, {}, "invalid reference format"),
    ("from-platform", "FROM --platform=linux/amd64 spin/haproxy:2.6\n", {}, {}, BUILT),
    ("from-unknown-flag", "FROM --foo=bar spin/haproxy:2.6\n", {}, {}, "Unknown flag: foo"),
    ("from-no-break-space-is-no-separator", "FROM spin/base:bookworm\u00a0AS\u00a0b\n", {}, {},
     "invalid reference format"),
    ("from-scratch-upper", "FROM SCRATCH\n", {}, {}, "must be lowercase"),
    # words: quotes, escapes, variables
    ("from-quoted", 'FROM "spin/haproxy:2.6"\n', {}, {}, BUILT),
    ("from-escaped", "FROM spin/hap\\roxy:2.6\n", {}, {}, BUILT),
    ("from-backtick-escape", "# escape=`\nFROM spin/hap`roxy:2.6\n", {}, {}, BUILT),
    ("from-backslash-under-backtick", "# escape=`\nFROM spin/hap\\roxy:2.6\n", {}, {}, "invalid reference format"),
    ("arg-plus", "ARG X=httpd\nFROM ${X:+spin/haproxy:2.6}\n", {}, {}, BUILT),
    ("arg-plus-unset", "ARG X\nFROM spin/base:bookworm${X:+x}\n", {}, {}, BUILT),
    ("arg-minus-empty", "ARG X=\nFROM ${X:-spin/base:bookworm}\n", {}, {}, BUILT),
    ("arg-question", "ARG X=httpd:2.4\nFROM ${X:?oops}\n", {}, {}, BUILT),
    ("arg-question-unset", "ARG X\nFROM spin/base:bookworm${X?}\n", {}, {}, "is not allowed to be unset"),
    ("arg-question-no-colon", "ARG X=spin/base:bookworm\nFROM ${X?unset}\n", {}, {}, BUILT),
    ("arg-minus-no-colon", "FROM ${X-spin/haproxy:2.6}\n", {}, {}, "missing ':' in substitution"),
    ("arg-percent", "ARG X=spin/haproxy:2.6x\nFROM ${X%x}\n", {}, {}, "missing ':' in substitution"),
    ("arg-digits", "ARG B=spin/base:bookwor\nFROM ${B}m$12\n", {}, {}, BUILT),
    ("arg-special", "ARG B=spin/base:bookworm\nFROM ${B}$@\n", {}, {}, BUILT),
    ("arg-dollar-last", "ARG X=spin/base:bookworm\nFROM $X$\n", {}, {}, "invalid reference format"),
    ("arg-quoted", 'ARG X="spin/haproxy:2.6"\nFROM $X\n', {}, {}, BUILT),
    ("arg-single-quoted", "ARG X='spin/haproxy:2.6'\nFROM $X\n", {}, {}, BUILT),
    ("arg-from-arg", "ARG A=spin\nARG X=${A}/haproxy:2.6\nFROM $X\n", {}, {}, BUILT),
    ("arg-twice", "ARG X=spin/base:bookworm\nARG X=spin/haproxy:2.6\nFROM $X\n", {}, {}, BUILT),
    ("arg-two-on-a-line", "ARG A=spin/base:bookworm B=spin/haproxy:2.6\nFROM $B\n", {}, {}, BUILT),
    ("arg-name-from-arg", "ARG A=X\nARG ${A}=spin/haproxy:2.6\nFROM $X\n", {}, {}, BUILT),
    ("arg-name-blank", "ARG =x\nFROM spin/base:bookworm\n", {}, {}, "ARG names can not be blank"),
    ("arg-after-from-unseen", "FROM spin/base:bookworm\nARG X=spin/haproxy:2.6\nFROM $X\n", {}, {},
     "should not be blank"),
    ("arg-name-case", "ARG x=spin/haproxy:2.6\nFROM $X\n", {}, {}, "should not be blank"),
    ("build-arg-undeclared-unseen", "FROM ${BA:-spin/base:bookworm}\n", {"BA": EDGE}, {}, BUILT),
    ("build-arg-declared", "ARG BA\nFROM ${BA:-spin/base:bookworm}\n", {"BA": EDGE}, {}, BUILT),
    ("build-arg-over-default", "ARG BA=spin/base:bookworm\nFROM ${BA}\n", {"BA": EDGE}, {}, BUILT),
    ("proxy-build-arg", "FROM ${HTTP_PROXY:-spin/base:bookworm}\n", {"HTTP_PROXY": EDGE}, {}, BUILT),
    ("proxy-build-arg-lower", "FROM ${ftp_proxy:-spin/base:bookworm}\n", {"ftp_proxy": EDGE}, {}, BUILT),
    ("all-proxy-is-no-proxy-arg", "FROM ${ALL_PROXY:-spin/base:bookworm}\n", {"ALL_PROXY": EDGE}, {}, BUILT),
    ("proxy-build-arg-in-arg", "ARG X=${NO_PROXY}\nFROM ${X:-spin/base:bookworm}\n", {"NO_PROXY": EDGE}, {}, BUILT),
    # COPY --from
    ("copy-from-stage-index", "FROM spin/haproxy:2.6\nFROM spin/base:bookworm\nCOPY --from=0" + CFG, {}, {}, BUILT),
    ("copy-from-plus-zero", "FROM spin/haproxy:2.6\nFROM spin/base:bookworm\nCOPY --from=+0" + CFG, {}, {}, BUILT),
    ("copy-from-zero-zero", "FROM spin/haproxy:2.6\nFROM spin/base:bookworm\nCOPY --from=00" + CFG, {}, {}, BUILT),
    ("copy-from-name-any-case", "FROM spin/haproxy:2.6 AS hap\nFROM spin/base:bookworm\nCOPY --from=HAP" + CFG, {},
     {}, BUILT),
    ("copy-from-own-stage-name", "FROM spin/base:bookworm AS haproxy\nCOPY --from=haproxy /etc/hostname /x\n", {}, {},
     "invalid from flag value haproxy"),
    ("copy-from-current-index", "FROM spin/base:bookworm\nCOPY --from=0 /etc/hostname /x\n", {}, {},
     "refers to current build stage"),
    ("copy-from-later-index", "FROM spin/base:bookworm\nCOPY --from=1 /etc/hostname /x\nFROM spin/haproxy:2.6\n", {},
     {}, "index out of bounds"),
    ("copy-from-variable-unread", "ARG X=spin/haproxy:2.6\nFROM spin/base:bookworm\nARG X\nCOPY --from=$X" + CFG, {},
     {}, "invalid reference format"),
    ("copy-from-quoted", 'FROM spin/base:bookworm\nCOPY --from="spin/haproxy:2.6"' + CFG, {}, {}, BUILT),
    ("copy-from-single-quoted", "FROM spin/base:bookworm\nCOPY --from='spin/haproxy:2.6'" + CFG, {}, {}, BUILT),
    ("copy-from-escaped", "FROM spin/base:bookworm\nCOPY --from=spin/hap\\roxy:2.6" + CFG, {}, {}, BUILT),
    ("copy-from-backtick-no-escape", "# escape=`\nFROM spin/base:bookworm\nCOPY --from=spin/hap`roxy:2.6" + CFG, {},
     {}, "invalid reference format"),
    ("copy-from-backslash-under-backtick", "# escape=`\nFROM spin/base:bookworm\nCOPY --from=spin/hap\\roxy:2.6" + CFG,
     {}, {}, BUILT),
    ("copy-from-json-sources", 'FROM spin/base:bookworm\nCOPY --from=spin/haproxy:2.6 ["/etc/haproxy/haproxy.cfg", '
     '"/x"]\n', {}, {}, BUILT),
    ("copy-from-empty-is-the-context", "FROM spin/base:bookworm\nCOPY --from= Dockerfile /x\n", {}, {}, BUILT),
    ("copy-double-dash", "FROM spin/base:bookworm\nCOPY -- --from=spin/haproxy:2.6 /x\n", {},
     {"--from=spin/haproxy:2.6": b"a file"}, BUILT),
    ("copy-from-twice", "FROM spin/base:bookworm\nCOPY --from=httpd:2.4 --from=spin/haproxy:2.6" + CFG, {}, {},
     "Duplicate flag specified: from"),
    ("copy-from-without-equals", "FROM spin/base:bookworm\nCOPY --from spin/haproxy:2.6" + CFG, {}, {},
     "Missing a value on flag: from"),
    ("copy-flag-upper", "FROM spin/base:bookworm\nCOPY --FROM=spin/haproxy:2.6" + CFG, {}, {}, "Unknown flag: FROM"),
    ("copy-from-scratch", "FROM spin/base:bookworm\nCOPY --from=scratch /x /x\n", {}, {}, "reserved name"),
    ("copy-chmod", "FROM spin/base:bookworm\nCOPY --chmod=644 --from=spin/haproxy:2.6" + CFG, {}, {}, "BuildKit"),
    ("add-from", "FROM spin/base:bookworm\nADD --from=spin/haproxy:2.6" + CFG, {}, {}, "Unknown flag: from"),
    ("run-mount", "FROM spin/base:bookworm\nRUN --mount=from=spin/haproxy:2.6,target=/h true\n", {}, {}, "BuildKit"),
    ("run-network", "FROM spin/base:bookworm\nRUN --network=host true\n", {}, {}, "Unknown flag: network"),
    # ONBUILD
    ("onbuild-copy-from", "FROM spin/base:bookworm AS a\nONBUILD COPY --from=spin/haproxy:2.6" + CFG + "FROM a\n", {},
     {}, BUILT),
    ("onbuild-lower", "FROM spin/base:bookworm AS a\nonbuild copy --from=spin/haproxy:2.6" + CFG + "FROM a\n", {}, {},
     BUILT),
    ("onbuild-later-stage", "FROM spin/base:bookworm AS a\nONBUILD COPY --from=b" + CFG +
     "FROM spin/haproxy:2.6 AS b\nFROM a\n", {}, {}, BUILT),
    ("onbuild-bom-trigger", "FROM spin/base:bookworm AS a\nONBUILD \ufeffCOPY --from=spin/haproxy:2.6" + CFG +
     "FROM a\n", {}, {}, BUILT),
    ("onbuild-unknown-trigger", "FROM spin/base:bookworm AS a\nONBUILD FOO x\nFROM a\n", {}, {},
     "unknown instruction"),
    ("onbuild-onbuild", "FROM spin/base:bookworm\nONBUILD ONBUILD RUN true\n", {}, {}, "Chaining ONBUILD"),
    ("onbuild-from", "FROM spin/base:bookworm\nONBUILD FROM x\n", {}, {}, "FROM isn't allowed as an ONBUILD trigger"),
]

# (id, Dockerfile with {url}, build args): the engine fetches every one of these itself
ADD_CASES = [
    ("add-url", "FROM spin/base:bookworm\nADD {url} /x\n", {}),
    ("add-url-quoted", 'FROM spin/base:bookworm\nADD "{url}" /x\n', {}),
    ("add-url-escaped", "FROM spin/base:bookworm\nADD h\\ttp{rest} /x\n", {}),
    ("add-url-from-arg", "FROM spin/base:bookworm\nARG U={url}\nADD $U /x\n", {}),
    ("add-url-from-env", "FROM spin/base:bookworm\nENV U={url}\nADD ${{U}} /x\n", {}),
    ("add-url-from-legacy-env", "FROM spin/base:bookworm\nENV U {url}\nADD $U /x\n", {}),
    ("add-url-from-build-arg", "FROM spin/base:bookworm\nARG U\nADD $U /x\n", {"U": "{url}"}),
    ("add-url-json", 'FROM spin/base:bookworm\nADD ["{url}", "/x"]\n', {}),
    ("onbuild-add-url", "FROM spin/base:bookworm AS a\nONBUILD ADD {url} /x\nFROM a\n", {}),
]


@pytest.fixture(scope="module")
def loopback():
    """An HTTP server on the loopback address, recording the paths asked for."""
    with counting_server() as served:
        yield served


@pytest.fixture(scope="module")
def layers(docker_client):
    return {name: docker_client.images.get(name).attrs["RootFS"]["Layers"] for name in CANDIDATES}


def _archive(dockerfile, files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in dict(files, Dockerfile=dockerfile).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def engine_build(docker_client, dockerfile, args, files):
    """Build with the platform's own call (SwarmClient.build_image: no network); -> (error or None, the
    image's layers and its /x). Removes what the build made."""
    tag = "h1-agree-%s:x" % uuid.uuid4().hex[:8]
    before = {image.id for image in docker_client.images.list(all=True)}
    built = SwarmClient(api=docker_client.api).build_image(_archive(dockerfile, files), tag, "Dockerfile",
                                                           buildargs=args, network=False, deadline=120)
    assert any(line.startswith("Step 1/") for line in built["output"]) or built["error"], built
    made = [found for line in built["output"] for found in re.findall(r"^ ---> ([0-9a-f]{12})$", line)]
    result = None
    if not built["error"]:
        image = docker_client.images.get(built["id"])
        result = {"layers": image.attrs["RootFS"].get("Layers") or [], "copied": _copied(docker_client, built["id"])}
    _remove(docker_client, tag, made, before)
    return built["error"], result


def _copied(docker_client, image_id):
    container = docker_client.containers.create(image_id, command=["none"], name="h1-agree-" + uuid.uuid4().hex[:8])
    try:
        bits, _stat = container.get_archive("/x")
        with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
            member = tar.getmembers()[0]
            return tar.extractfile(member).read() if member.isfile() else b""
    except Exception:  # noqa: BLE001 - no /x in the image
        return None
    finally:
        container.remove(force=True)


def _remove(docker_client, tag, made, before):
    """The tag (only the tag, where the build's image is an image that was there before: FROM alone), and
    the images this build made (a stage's, an intermediate one), never one that existed before it."""
    try:
        docker_client.images.remove(tag)
    except Exception:  # noqa: BLE001 - the build made no image
        pass
    for short in reversed(made):
        try:
            image = docker_client.images.get(short)
        except Exception:  # noqa: BLE001 - gone already, with the tagged image it was a parent of
            continue
        if image.id not in before and not image.tags:
            try:
                docker_client.images.remove(image.id)
            except Exception:  # noqa: BLE001 - still the parent of another image of this build: removed with it
                pass


def engine_base(result, layers):
    """The candidate whose layers the image starts with (the longest such), else scratch."""
    best, length = "scratch", 0
    for name, own in layers.items():
        if result["layers"][:len(own)] == own and len(own) > length:
            best, length = name, len(own)
    return best


def resolved(found, ref):
    """A reference followed through the stages to the image it starts from (or scratch)."""
    seen = 0
    while ref is not None and "stage" in ref and seen < 100:
        ref, seen = found["stages"][ref["stage"]]["base"], seen + 1
    if ref is None:
        return None
    return "scratch" if ref.get("scratch") else ref.get("image")


@pytest.mark.parametrize("dockerfile, args, files, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_reader_sees_what_the_engine_builds(docker_client, layers, dockerfile, args, files, expected):
    dockerfile = dockerfile if isinstance(dockerfile, bytes) else dockerfile.encode("utf-8")
    found = dockerfile_sources.read(dockerfile, args)
    error, result = engine_build(docker_client, dockerfile, args, files)
    if expected is BUILT:
        assert error is None, error
        assert found["problems"] == [], found["problems"]
        assert resolved(found, found["stages"][-1]["base"]) == engine_base(result, layers), found
        sources = {resolved(found, ref) for ref in found["references"] if "COPY" in ref["how"]}
        if (result["copied"] or b"").startswith(b"global"):  # the edge's haproxy.cfg
            assert EDGE in sources, found
    else:
        assert error and expected in error, error
        missing = [ref["image"] for ref in found["references"] if ref.get("image") and ref["image"] not in CANDIDATES]
        assert found["problems"] or missing, (error, found)


@pytest.mark.parametrize("template, args", [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES])
def test_the_reader_names_every_url_the_engine_fetches(docker_client, loopback, template, args):
    base, hits = loopback
    path = "/%s" % uuid.uuid4().hex[:8]
    url = base + path
    dockerfile = template.format(url=url, rest=url[len("http"):]).encode()
    args = {name: value.format(url=url) for name, value in args.items()}
    found = dockerfile_sources.read(dockerfile, args)
    error, result = engine_build(docker_client, dockerfile, args, {})
    assert error is None, error
    assert path in hits, "the engine did not fetch %s" % url
    assert result["copied"] == b"fetched\n"
    assert found["remote"], found


def test_a_path_after_a_variable_is_no_url(docker_client, loopback):
    dockerfile = b"FROM spin/base:bookworm\nARG U=Dockerfile\nADD ./$U /x\n"
    assert dockerfile_sources.read(dockerfile, {})["remote"] == []
    error, result = engine_build(docker_client, dockerfile, {}, {})
    assert error is None and result["copied"].startswith(b"FROM spin/base"), error


def test_a_from_index_is_no_stage(docker_client, layers):
    """``FROM 0`` is an image name (or an image ID's prefix: the engine looks for both), never stage 0."""
    dockerfile = b"FROM spin/base:bookworm\nFROM 0\n"
    found = dockerfile_sources.read(dockerfile, {})
    assert found["stages"][-1]["base"]["image"] == "0"
    # which images the engine may take '0' for depends on the IDs this engine holds (an image built from
    # stage 0's base can start with '0'): what it built from must be that image, never stage 0
    starting_with_0 = [image for image in docker_client.images.list(all=True) if image.id.startswith("sha256:0")]
    error, result = engine_build(docker_client, dockerfile, {}, {})
    if error:
        return      # no image of that name or ID prefix: refused, so nothing came from stage 0
    assert len(starting_with_0) == 1, "the engine built from '0' though %d image IDs start with it" % len(
        starting_with_0)
    own = starting_with_0[0].attrs["RootFS"].get("Layers") or []
    assert result["layers"][:len(own)] == own, "the engine started from stage 0, not from the image with ID 0..."


def test_a_name_the_engine_lacks_is_an_image_id_prefix_and_refused(docker_client, layers):
    """The engine looks a name it lacks up as the start of an image ID: the shortest prefix of the edge
    image's ID builds from the edge. The verdict refuses such a name whatever the policy's patterns."""
    ids = [image.id.split(":", 1)[1] for image in docker_client.images.list(all=True)]
    edge = docker_client.images.get(EDGE).id.split(":", 1)[1]
    prefix = next(edge[:n] for n in range(1, 65) if sum(1 for other in ids if other.startswith(edge[:n])) == 1)
    dockerfile = ("FROM %s\n" % prefix).encode()
    error, result = engine_build(docker_client, dockerfile, {}, {})
    assert error is None and engine_base(result, layers) == EDGE, error
    everything = policy_settings.merge_policy({"spin_policy": {"images": ["*"]}})
    spec = {"context": ".", "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {}}
    found = build.check("app", spec, dockerfile, everything, "docker-compose.yml", policy.image_allowed,
                        policy_settings.violation)
    assert [v["message"] for v in found] == ["line 1: base image '%s' can name an image by its ID (or the start of "
                                             "one), whichever image the build node holds" % prefix]
