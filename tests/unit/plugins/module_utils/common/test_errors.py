"""SpinError: the one exception of the collection, and the failed result a module or action plugin
returns for it."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError


def test_the_message_is_the_exceptions_text_and_the_results_msg():
    error = SpinError("service 'web': key 'image': write an image name")
    assert str(error) == error.message == "service 'web': key 'image': write an image name"
    assert error.to_result() == {"failed": True, "msg": "service 'web': key 'image': write an image name"}
    assert (error.diagnostics, error.details) == ([], {})


def test_diagnostics_and_details_reach_the_result():
    diagnostics = ({"severity": "error", "message": "a"}, {"severity": "error", "message": "b"})
    error = SpinError("2 problems", diagnostics=diagnostics, refused=True, violations=["privileged"])
    assert error.diagnostics == list(diagnostics)      # a list of its own, whatever was given
    assert error.to_result() == {"failed": True, "msg": "2 problems", "diagnostics": list(diagnostics),
                                 "refused": True, "violations": ["privileged"]}


def test_a_detail_may_say_more_than_failed_and_msg_but_not_hide_them():
    # the details come last: a caller that passes msg= means it (the message is the exception's text)
    assert SpinError("short", msg="long form").to_result() == {"failed": True, "msg": "long form"}


def test_it_is_raised_and_caught_as_an_exception():
    with pytest.raises(SpinError, match="^no such stack$") as caught:
        raise SpinError("no such stack", stack="magic")
    assert caught.value.details == {"stack": "magic"}
    assert isinstance(caught.value, Exception)
