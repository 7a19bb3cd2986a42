"""The warn action through real ansible runs: each message one warning of the task, nothing changed."""

import pytest

from .playbook_runner import run_module


@pytest.mark.parametrize("msg, warnings", [
    (["one, with a comma", "two"], ["one, with a comma", "two"]),
    ("a single message", ["a single message"]),
    ([], []),
])
def test_each_message_is_one_warning(msg, warnings):
    result = run_module("partnermail.links.warn", {"msg": msg})
    assert result.get("failed") is not True, result
    assert result["changed"] is False and result["warned"] == len(warnings)
    assert result.get("warnings", []) == warnings


@pytest.mark.parametrize("args, message", [
    ({"msg": {"partner": "b"}}, "msg: must be a string or a list of strings"),
    ({"msg": ["b", 1]}, "msg: must be a string or a list of strings"),
    ({"msg": "b", "level": "high"}, "Unsupported parameters"),
])
def test_bad_input_names_the_option(args, message):
    result = run_module("partnermail.links.warn", args)
    assert result["failed"] is True and message in result["msg"], result
