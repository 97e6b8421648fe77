"""What `ip -batch -` says, read: which lines failed, which happened, the JSON documents of a batch of reads.
The texts are iproute2 6.1's own (a line that fails prints its error, then `Command failed -:N`)."""

from __future__ import annotations

import pytest

from vethctl.parsers.ipbatch import document_texts, documents, done_lines, failed_lines
from vethctl.parsers.ipjson import NotJson

STOPPED_AT_2 = "RTNETLINK answers: Address family not supported by protocol\nCommand failed -:2\n"
FORCED = 'Cannot find device "vh-1"\nCommand failed -:1\nCannot find device "vh-3"\nCommand failed -:3\n'


def test_each_failed_line_with_its_own_error():
    assert failed_lines(STOPPED_AT_2) == {2: "RTNETLINK answers: Address family not supported by protocol"}
    assert failed_lines(FORCED) == {1: 'Cannot find device "vh-1"', 3: 'Cannot find device "vh-3"'}
    assert failed_lines("") == {}


def test_without_force_the_lines_before_the_failure_happened():
    assert done_lines(3, STOPPED_AT_2, 1, force=False) == [1]
    assert done_lines(3, "", 0, force=False) == [1, 2, 3]


def test_with_force_every_line_but_the_failed_ones_happened():
    assert done_lines(4, FORCED, 1, force=True) == [2, 4]


def test_a_failure_before_any_line_was_read_did_nothing():
    err = 'Cannot open network namespace "cni-gone": No such file or directory\n'
    assert done_lines(3, err, 1, force=False) == [] and done_lines(3, err, 1, force=True) == []


def test_the_documents_of_a_batch_of_reads_in_order():
    out = '[{"ifname":"lo"}]\n[]\n[{"dst":"default","dev":"eth0"}]\n'
    assert documents(out) == [[{"ifname": "lo"}], [], [{"dst": "default", "dev": "eth0"}]]
    assert document_texts(out) == ['[{"ifname":"lo"}]', "[]", '[{"dst":"default","dev":"eth0"}]']
    assert documents('[{"a":1}][{"b":2}]') == [[{"a": 1}], [{"b": 2}]]  # no newline between: still two
    assert documents('[{"ifname":"a\tb"}]') == [[{"ifname": "a\tb"}]]  # iproute2's raw control characters
    assert documents("") == []


def test_text_that_is_not_json_is_an_error_not_a_traceback():
    with pytest.raises(NotJson):
        documents('[{"ifname":"lo"}]\nDevice "x" does not exist.\n')
