#!/usr/bin/env bash
# Run ansible-test on this checkout, offline:   tests/utils/ansible-test.sh sanity|units [ansible-test options]
#
# - ansible-test needs the collection at a path .../ansible_collections/spin/platform. A checkout
#   that already sits at such a path is tested in place; any other checkout (a clean CI clone) is
#   copied there first: the files git tracks plus untracked files git does not ignore, into
#   $SPIN_ANSIBLE_TEST_ROOT (default: a directory per checkout under $TMPDIR or /tmp, outside any
#   git repository, where ansible-test would list files with git) — uncommitted changes count.
# - ansible-test bootstraps pip in its virtualenvs with a script it would download; this provides
#   tests/utils/get_pip.py in its cache instead (ensurepip + pip install from the package index).
# - ANSIBLE_TEST selects the ansible-test to run (default: the one on PATH).
set -euo pipefail
checkout="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)"
ansible_test="${ANSIBLE_TEST:-ansible-test}"

# The pip version ansible-test bootstraps its virtualenvs with, e.g. pip='24.2'
at_python="$(head -n 1 "$(command -v "$ansible_test")" | sed 's/^#!//')"
pip_version="$("$at_python" - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
install -m 0644 "$checkout/tests/utils/get_pip.py" "$cache/get_pip_${pip_version//./_}.py"

case "$checkout" in
    */ansible_collections/spin/platform)
        root="$checkout"
        ;;
    *)
        root="${SPIN_ANSIBLE_TEST_ROOT:-${TMPDIR:-/tmp}/spin-ansible-test-$(printf %s "$checkout" | md5sum | cut -c1-8)}"
        root="$root/ansible_collections/spin/platform"
        rm -rf "$root"
        mkdir -p "$root"
        (cd "$checkout" && git ls-files -z --cached --others --exclude-standard) \
            | (cd "$checkout" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh) \
            | (cd "$checkout" && tar --null --no-recursion -T - -cf -) \
            | tar -C "$root" -xf -
        ;;
esac

cd "$root"
exec "$ansible_test" "$@"
