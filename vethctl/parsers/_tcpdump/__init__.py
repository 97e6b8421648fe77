"""The tcpdump text parser behind the `tcpdump` and `tcpdump_s` jc parsers, so that the two never disagree.

Not a jc parser itself. patterns: the regexes and name tables; records: what a raw record is; protocols
icmp and dns: the readers of each protocol's text; lines: the reference line parser and the LineParser
state machine; stream: its streaming loop; fastpath: the flood fast paths of one LineParser; convert: type
conversion (`process`).
"""

from vethctl.parsers._tcpdump.convert import process
from vethctl.parsers._tcpdump.lines import LineParser

__all__ = ["LineParser", "process"]
