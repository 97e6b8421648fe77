"""Targets as typed (KIND/NAME, a bare NAME is a pod): what each becomes, and the one line that refuses it."""

from __future__ import annotations

import pytest

from vethctl.errors import BadInput
from vethctl.resolve.target import TargetSpec, parse_target


@pytest.mark.parametrize(
    "text,kind,value",
    [
        ("web-0", "pod", "web-0"),
        ("pod/web-0", "pod", "web-0"),
        ("netns/cni-1", "netns", "cni-1"),
        ("nspath//proc/1/ns/net", "nspath", "/proc/1/ns/net"),
        ("pid/42", "pid", "42"),
        ("ip/198.18.0.2", "ip", "198.18.0.2"),
        ("container/0123abcd", "container", "0123abcd"),
        ("pod/default/web-0", "pod", "default/web-0"),  # only the first '/' separates the kind
    ],
)
def test_each_kind_and_its_value(text, kind, value):
    spec = parse_target(text)
    assert spec == TargetSpec(kind, value)
    assert str(spec) == f"{kind}/{value}"


def refusal(text: str) -> str:
    with pytest.raises(BadInput) as exc:
        parse_target(text)
    assert exc.value.exit_code == 2
    return str(exc.value)


@pytest.mark.parametrize(
    "text,line",
    [
        ("", "the target is empty (e.g. netns/cni-1234..., pod/web-0, pid/4242)"),
        ("  ", "the target is empty (e.g. netns/cni-1234..., pod/web-0, pid/4242)"),
        (
            "bogus/x",
            "unknown target kind 'bogus' in 'bogus/x' (use one of pod/, netns/, nspath/, pid/, ip/, container/)",
        ),
        (
            "Pod/web-0",
            "unknown target kind 'Pod' in 'Pod/web-0' (use one of pod/, netns/, nspath/, pid/, ip/, container/)",
        ),
        (
            "/web-0",
            "unknown target kind '' in '/web-0' (use one of pod/, netns/, nspath/, pid/, ip/, container/)",
        ),
        ("netns/", "the target 'netns/' names no netns (write netns/NAME)"),
        ("pid/", "the target 'pid/' names no pid (write pid/NAME)"),
    ],
)
def test_each_refusal_is_one_line(text, line):
    assert refusal(text) == line
