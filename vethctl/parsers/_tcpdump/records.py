"""What a raw record is: the keys every record has, how one starts, where unread text goes, and the
continuation modes a reader returns.

A raw record is a dict of strings, the text tcpdump printed (`types.process` converts the values). Each
reader fills a record from the text it is given and returns a MODE_* value: what the lines that follow,
if they continue this packet, will hold.
"""

# continuation modes of a pending record
MODE_NONE = 0
MODE_AWAIT_PAYLOAD = 1  # -v IPv4: addresses are on the next (indented) line
MODE_ICMP_ERROR = 2  # -v ICMP error: a quoted IP header may follow
MODE_AWAIT_INNER = 3  # -v ICMP error: quoted header seen, its addresses follow
MODE_ICMP6_OPTIONS = 4  # -v ICMPv6 ND/RS/RA: option lines (link-layer addresses) follow

#: the keys every record has, null when the line does not show them
ALWAYS_KEYS = ("timestamp", "src_mac", "dst_mac", "ethertype", "length")


def new_record(ts: str | None) -> dict:
    rec = {"timestamp": ts, "src_mac": None, "dst_mac": None, "ethertype": None, "length": None}
    if ts is not None and ":" in ts:
        rec["time"] = ts
    return rec


def add_unparsed(rec: dict, text: str) -> None:
    """keep text no reader understood in `unparsed` (nothing is silently lost)"""
    text = text.strip()
    if text:
        old = rec.get("unparsed")
        rec["unparsed"] = text if old is None else old + " " + text
