# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linux capability names, spelled one way each: the short name that compose files, the policy and
``docker run --cap-add`` use (``NET_ADMIN``), and the kernel's name that the Docker API stores in a
service's spec (``CAP_NET_ADMIN``). ``ALL`` is ``ALL`` in both."""
from __future__ import annotations


def short_name(name):
    """``cap_net_admin`` -> ``NET_ADMIN``."""
    name = str(name).strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def kernel_name(name):
    """``net_admin`` -> ``CAP_NET_ADMIN``; ``ALL`` stays."""
    name = short_name(name)
    return name if name == "ALL" else "CAP_" + name
