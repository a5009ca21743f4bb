# Copyright: spin.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-test's pip bootstrap, without a download.

ansible-test creates each sanity/units virtualenv without pip and then runs a
``get-pip.py`` that it downloads from a host this project cannot rely on
reaching. It looks first in ``~/.ansible/test/cache/get_pip_<pip version>.py``;
``tests/utils/ansible-test.sh`` puts this script there. It does what get-pip.py
does with the Python that runs it: install pip (``ensurepip``), then ``pip
install`` the requirements it is given (ansible-test passes ``pip==<version>``)
from the package index pip is configured for.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py options that pip itself does not take
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    main()
