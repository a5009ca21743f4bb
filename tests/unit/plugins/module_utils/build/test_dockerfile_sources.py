"""What a Dockerfile builds from, resolved as the engine's classic builder resolves it: stages, the images
of FROM and COPY --from, ONBUILD triggers where they fire, remote ADD sources, and what it refuses."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.build import dockerfile_sources


def refs(text, args=None):
    """-> [(line, how, image | "stage N" | "scratch")]."""
    out = []
    for ref in dockerfile_sources.read(text, args)["references"]:
        target = ref.get("image") or ("scratch" if ref.get("scratch") else "stage %d" % ref["stage"])
        out.append((ref["line"], ref["how"], target))
    return out


def problems(text, args=None):
    return [(p["line"], p["message"]) for p in dockerfile_sources.read(text, args)["problems"]]


@pytest.mark.parametrize("text, args, expected", [
    ("FROM a AS one\nFROM one\nFROM scratch\n", None,
     [(1, "FROM", "a"), (2, "FROM", "stage 0"), (3, "FROM", "scratch")]),
    ("FROM a AS One\nFROM ONE\n", None, [(1, "FROM", "a"), (2, "FROM", "stage 0")]),
    ("FROM a AS \u212aa\nFROM ka\n", None, [(1, "FROM", "a"), (2, "FROM", "stage 0")]),
    ("FROM a a\u017f b\nFROM b\n", None, [(1, "FROM", "a"), (2, "FROM", "stage 0")]),
    ("FROM a\nFROM 0\n", None, [(1, "FROM", "a"), (2, "FROM", "0")]),  # FROM takes names, not indexes
    # ARG before the first FROM, build args over defaults; undeclared build args unseen but the proxy ones
    ("ARG B=a\nFROM $B\n", {"B": "b"}, [(2, "FROM", "b")]),
    ("ARG B\nFROM ${B:-a}\n", {"B": "b"}, [(2, "FROM", "b")]),
    ("FROM ${B:-a}\n", {"B": "b"}, [(1, "FROM", "a")]),
    ("FROM ${HTTP_PROXY:-a}\n", {"HTTP_PROXY": "b"}, [(1, "FROM", "b")]),
    ("FROM ${ALL_PROXY:-a}\n", {"ALL_PROXY": "b"}, [(1, "FROM", "a")]),
    ("ARG A=x\nARG ${A}=b\nFROM $x\n", None, [(3, "FROM", "b")]),
    ("ARG A=b B=$A\nFROM a$B\n", None, [(2, "FROM", "a")]),  # one ARG line does not see itself
    ("ARG A=b\nARG B=$A\nFROM a$B\n", None, [(3, "FROM", "ab")]),
    # COPY --from: earlier stages by name (any case) or index (Go's ParseInt), else an image, unprocessed
    ("FROM a AS s\nFROM b\nCOPY --from=S /x /y\nCOPY --from=+0 /x /y\nCOPY --from=00 /x /y\n", None,
     [(1, "FROM", "a"), (2, "FROM", "b"), (3, "COPY --from", "stage 0"), (4, "COPY --from", "stage 0"),
      (5, "COPY --from", "stage 0")]),
    ("FROM a AS s\nCOPY --from=s /x /y\n", None, [(1, "FROM", "a"), (2, "COPY --from", "s")]),
    ("ARG X=a\nFROM b\nCOPY --from=$X /x /y\n", None, [(2, "FROM", "b"), (3, "COPY --from", "$X")]),
    ("FROM b\nCOPY --from=\"c d\" /x /y\n", None, [(1, "FROM", "b"), (2, "COPY --from", "c d")]),
    ("FROM b\nCOPY --from=99999999999999999999 /x /y\n", None,
     [(1, "FROM", "b"), (2, "COPY --from", "99999999999999999999")]),
    # ONBUILD: where a later stage starts FROM its stage, with the stages built by then
    ("FROM a AS s\nONBUILD COPY --from=t /x /y\nFROM c AS t\nFROM s\n", None,
     [(1, "FROM", "a"), (3, "FROM", "c"), (4, "FROM", "stage 0"), (2, "ONBUILD COPY --from", "stage 1")]),
    ("FROM a AS s\nONBUILD COPY --from=i /x /y\n", None, [(1, "FROM", "a")]),  # never fires in this build
    # a byte-order mark hides the trigger's instruction when ONBUILD is read, not when it fires
    ("FROM a AS s\nONBUILD \ufeffCOPY --from=i /x /y\nFROM s\n", None,
     [(1, "FROM", "a"), (3, "FROM", "stage 0"), (2, "ONBUILD COPY --from", "i")]),
    # ONBU\u0130LD escapes the prefix match: each time it fires it is an ONBUILD again, never a COPY
    ("FROM a AS s\nONBU\u0130LD COPY --from=i /x /y\nFROM s AS t\nFROM t\n", None,
     [(1, "FROM", "a"), (3, "FROM", "stage 0"), (4, "FROM", "stage 1")]),
])
def test_references(text, args, expected):
    assert refs(text, args) == expected


@pytest.mark.parametrize("text, expected", [
    ("FROM a\nFOO x\n", [(2, "unknown instruction: FOO")]),
    ("LABEL a=1\nFROM a\n", [(1, "no build stage in current context: only ARG may come before the first FROM")]),
    ("FROM a b\n", [(1, "FROM requires either one or three arguments")]),
    ("FROM a AS 1b\n", [(1, 'invalid name for build stage: "1b", name can\'t start with a number or contain '
                            'symbols')]),
    ("FROM a AS b\nFROM c AS B\n", [(2, "b stage name already used")]),
    ("FROM --foo=1 a\n", [(1, "Unknown flag: foo")]),
    ("ARG B\nFROM $B\n", [(2, "base name ($B) should not be blank")]),
    ("ARG =x\nFROM a\n", [(1, "ARG names can not be blank")]),
    ("FROM a\nCOPY --from=0 /x /y\n", [(2, "invalid from flag value 0: refers to current build stage")]),
    ("FROM a\nCOPY --from=1 /x /y\n", [(2, "invalid from flag value 1: index out of bounds")]),
    ("FROM a\nCOPY --from=-1 /x /y\n", [(2, "invalid from flag value -1: index out of bounds")]),
    ("FROM a\nCOPY --from=scratch /x /y\n", [(2, "invalid from flag value scratch: 'scratch' is a reserved name")]),
    ("FROM a\nCOPY --from=b --from=c /x /y\n", [(2, "Duplicate flag specified: from")]),
    ("FROM a\nCOPY --from b /x /y\n", [(2, "Missing a value on flag: from")]),
    ("FROM a\nCOPY /x\n", [(2, "COPY requires at least two arguments")]),
    ("FROM a\nADD --from=b /x /y\n", [(2, "Unknown flag: from")]),
    ("FROM a\nRUN --network=host x\n", [(2, "Unknown flag: network")]),
    ("FROM a\nRUN --mount=from=b,target=/c x\n", [(2, "RUN --mount " + dockerfile_sources.BUILDKIT_ONLY)]),
    ("FROM a\nCOPY --chmod=644 /x /y\n", [(2, "COPY --chmod " + dockerfile_sources.BUILDKIT_ONLY)]),
    ("FROM a\nONBUILD ONBUILD RUN x\n", [(2, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]),
    ("FROM a\nONBUILD FROM b\n", [(2, "FROM isn't allowed as an ONBUILD trigger")]),
    ("FROM a AS s\nONBUILD COPY --from=1 /x /y\nFROM s\n",
     [(2, "ONBUILD: invalid from flag value 1: refers to current build stage")]),
    ("# escape=`\n# escape=`\nFROM a\n", [(2, "only one escape parser directive can be used")]),
])
def test_what_the_builder_refuses(text, expected):
    assert problems(text) == expected


@pytest.mark.parametrize("source, remote", [
    ("http://h/x", True),
    ("https://h/x", True),
    ("\"http://h/x\"", True),
    ("h\\ttp://h/x", True),
    ("HTTP://h/x", True),  # the 20.10 builder would read a local file; refused all the same
    ("git://h/x.git", True),
    ("git@h:x.git", True),
    ("$U", True),
    ("${U}/x", True),
    ("ht${U}", True),
    ("src/$U", False),
    ("./$U", False),
    ("app-${V}.tar.gz", False),
    ("src/x", False),
    ("'$U'", False),
])
def test_remote_add_sources(source, remote):
    found = dockerfile_sources.read("FROM a\nADD %s /y\n" % source)
    assert bool(found["remote"]) is remote, found


def test_remote_sources_of_an_onbuild_add_are_judged_where_it_fires_with_the_escape_of_its_own():
    text = "# escape=`\nFROM a AS s\nONBUILD ADD h\\ttp://h/x /y\nFROM s\n"
    assert dockerfile_sources.read(text)["remote"] == [{"line": 3, "how": "ONBUILD ADD", "source": "h\\ttp://h/x"}]
