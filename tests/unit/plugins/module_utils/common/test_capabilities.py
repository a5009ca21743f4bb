"""capabilities: a Linux capability written as compose files write it (NET_ADMIN) or as the Docker API
stores it (CAP_NET_ADMIN), in any case and with stray spaces, spelled one way each."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.capabilities import kernel_name, short_name


@pytest.mark.parametrize("given, short, kernel", [
    ("NET_ADMIN", "NET_ADMIN", "CAP_NET_ADMIN"),
    ("net_admin", "NET_ADMIN", "CAP_NET_ADMIN"),
    ("CAP_NET_ADMIN", "NET_ADMIN", "CAP_NET_ADMIN"),
    ("cap_sys_ptrace", "SYS_PTRACE", "CAP_SYS_PTRACE"),
    (" kill ", "KILL", "CAP_KILL"),
    ("ALL", "ALL", "ALL"),
    ("all", "ALL", "ALL"),
    ("CAP_ALL", "ALL", "ALL"),
])
def test_short_and_kernel_names(given, short, kernel):
    assert (short_name(given), kernel_name(given)) == (short, kernel)


@pytest.mark.parametrize("name", ["NET_ADMIN", "CAP_CHOWN", "all"])
def test_the_two_names_lead_back_to_each_other(name):
    assert short_name(kernel_name(name)) == short_name(name)
    assert kernel_name(short_name(name)) == kernel_name(name)


def test_only_a_leading_cap_prefix_is_taken_off():
    # the prefix is "CAP_" with its underscore, and only at the start
    assert short_name("CAPTURE_X") == "CAPTURE_X"
    assert short_name("SYS_CAP_X") == "SYS_CAP_X"
