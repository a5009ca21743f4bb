#!/usr/bin/env bash
# Run ansible-test on this checkout, offline:   tests/utils/ansible-test.sh sanity|units [ansible-test options]
#
# - ansible-test needs the collection at a path .../ansible_collections/spin/platform:
#   tests/utils/collection-tree.sh gives the checkout itself or a fresh copy of it.
# - ansible-test bootstraps pip in its virtualenvs with a get-pip.py that it downloads from a host
#   this project cannot count on reaching; it looks first in ~/.ansible/test/cache/get_pip_<pip
#   version>.py. This puts tests/utils/get_pip.py there (ensurepip, then pip install from the package
#   index), for the pip version of the ansible-test that runs.
# - ANSIBLE_TEST selects the ansible-test to run (default: the one on PATH), e.g. that of the oldest
#   ansible-core the collection claims, with its own tests/sanity/ignore-<version>.txt.
set -euo pipefail
utils="$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)"
ansible_test="$(command -v "${ANSIBLE_TEST:-ansible-test}")"

at_python="$(head -n 1 "$ansible_test" | sed 's/^#!//')"
pip_version="$("$at_python" - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)"
mkdir -p "$HOME/.ansible/test/cache"
install -m 0644 "$utils/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$("$utils/collection-tree.sh")"
exec "$ansible_test" "$@"
