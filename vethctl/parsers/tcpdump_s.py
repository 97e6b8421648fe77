r"""jc - JSON Convert `tcpdump` command output streaming parser

> This streaming parser outputs JSON Lines (cli) or returns an Iterable of
> Dictionaries (module)

Parses the text tcpdump prints for each packet, one object per packet, as
the lines arrive. Same input, same objects and same caveats as the
`tcpdump` batch parser (see its documentation): best with
`tcpdump -nn -tt -e -l`, tolerant of output without `-e`, without `-tt`,
with `-v` and from `-i any`.

Indented continuation lines belong to the packet above them, so an object
is yielded when the next packet line (or the end of the input) arrives,
not when its own line does: with `tcpdump -l` an object lags one packet
behind the capture. Non-packet lines (`listening on ...`, `N packets
captured`...) are skipped.

Every line tcpdump prints gives a record or belongs to one: `[Invalid
header: ...]` and `[Error converting time] ...` start packets of their own
(whose continuation lines follow them as usual), and after a packet a line
at column 0 that is not a packet line (`[|BGP Update]`) continues it. Only a
line before the first packet that does not look like tcpdump output raises
`ParseError`, or with `ignore_exceptions=True` yields an object with only
`_jc_meta` (success false, the error and the line); the packets after it
are not affected.

Usage (cli):

    $ tcpdump -nn -tt -e -l | jc --tcpdump-s       (with jc's plugin directory)

Usage (module):

    import jc
    import vethctl.parsers.tcpdump_s

    result = jc.parse(vethctl.parsers.tcpdump_s, tcpdump_output.splitlines())
    for item in result:
        # do something

Schema:

    Same keys as the `tcpdump` batch parser; keys not applicable to a
    packet are absent, except the first five.

    {
      "timestamp":            float,    # null if no time printed
      "src_mac":              string,   # null without -e
      "dst_mac":              string,   # null without -e
      "ethertype":            string,
      "length":               integer,  # null without -e
      "src_ip":               string,
      "dst_ip":               string,
      "protocol":             string,
      "src_port":             integer,
      "dst_port":             integer,
      "tcp_flags":            string,   # S, S., ., P., F., R, R....
      "tcp_seq":              integer,
      "tcp_ack":              integer,
      "icmp_type":            string,
      "icmp_code":            string,   # "port unreachable", "communication
                                        # prohibited" (REJECT icmp-admin-
                                        # prohibited)... see `tcpdump`
      "icmp_id":              integer,
      "icmp_seq":             integer,
      "inner": {                        # the packet an ICMP error quotes
        "src_ip":             string,   # -v
        "dst_ip":             string,
        "protocol":           string,
        "src_port":           integer,  # -v
        "dst_port":           integer
      },
      "target_ip":            string,   # ARP; ICMPv6 NS/NA (= nd_target)
      "source_lladdr":        string,   # -v ND/RS/RA
      "target_lladdr":        string,   # -v NA
      "mtu":                  integer,  # packet too big, need to frag
      "mld_group":            string,
      "ip_bytes_missing":     integer,  # truncated-ip(6)
      "dns_id":               integer,
      "dns_response":         boolean,
      "dns_opcode":           string,   # when printed
      "dns_flags":            string,   # "+", "*-", "$"... as printed
      "dns_rcode":            string,   # responses: NoError, NXDomain...
      "dns_qtype":            string,
      "dns_qname":            string,
      "dns_ancount":          integer,
      "dns_nscount":          integer,
      "dns_arcount":          integer,
      "dns_answers": [
        {
          "type":             string,
          "data":             string    # (and "name" with -v)
        }
      ],
      "dns_edns":             string,   # -vv
      "payload_length":       integer,
      ...                               # every other key of `tcpdump`,
                                        # documented there with what
                                        # tcpdump does not print
      "unparsed":             string,
      "details": [
                              string
      ],

      # below object only exists if using -qq or ignore_exceptions=True
      "_jc_meta": {
        "success":            boolean,  # false if error parsing
        "error":              string,   # exists if "success" is false
        "line":               string    # exists if "success" is false
      }
    }

Examples:

    $ tcpdump -nn -tt -e -l | jc --tcpdump-s
    {"timestamp":1795682632.485983,"src_mac":"e6:42:a5:4d:e8:d3","dst_mac":"8a:...}
    {"timestamp":1795682632.48603,"src_mac":"8a:9f:17:21:3e:47","dst_mac":"e6:4...}
    ...

    $ tcpdump -nn -tt -e -l | jc --tcpdump-s -r
    {"timestamp":"1795682632.485983","src_mac":"e6:42:a5:4d:e8:d3","dst_mac":"8...}
    {"timestamp":"1795682632.486030","src_mac":"8a:9f:17:21:3e:47","dst_mac":"e...}
    ...
"""

from collections.abc import Iterable

import jc.utils
from jc.jc_types import StreamingOutputType
from jc.streaming import add_jc_meta, raise_or_yield, streaming_input_type_check

from vethctl.parsers._tcpdump import LineParser, process


class info:
    """Provides parser metadata (version, author, etc.)"""

    version = "1.0"
    description = "`tcpdump` command streaming parser"
    author = "vethctl contributors"
    author_email = "vethctl@example.invalid"
    details = "Reads tcpdump 4.x text output; best with -nn -tt -e -l"
    compatible = ["linux", "darwin", "freebsd"]
    tags = ["command"]
    streaming = True


__version__ = info.version


def _process(proc_data: dict) -> dict:
    """
    Final processing to conform to the schema.

    Parameters:

        proc_data:   (Dictionary) raw structured data to process

    Returns:

        Dictionary. Structured data to conform to the schema.
    """
    return process(proc_data)


def parse(
    data: Iterable[str], raw: bool = False, quiet: bool = False, ignore_exceptions: bool = False
) -> StreamingOutputType:
    """
    Main text parsing generator function. Returns an iterable object.

    Parameters:

        data:              (iterable)  line-based text data to parse
                                       (e.g. sys.stdin or str.splitlines())

        raw:               (boolean)   unprocessed output if True
        quiet:             (boolean)   suppress warning messages if True
        ignore_exceptions: (boolean)   ignore parsing exceptions if True

    Returns:

        Iterable of Dictionaries
    """
    jc.utils.compatibility(__name__, info.compatible, quiet)
    streaming_input_type_check(data)

    # the line parser applies _process itself when a record is finished (its fast paths build the most
    # common records with typed values directly), and reads each line in one loop (LineParser.stream)
    parser = LineParser(process=None if raw else _process)
    records = parser.stream(data, lambda e, line: raise_or_yield(ignore_exceptions, e, line))
    if ignore_exceptions:
        # jc's add_jc_meta, as its streaming parsers are decorated: `_jc_meta` on every object, an error
        # object in place of each line that raised
        return add_jc_meta(lambda **_: records)(ignore_exceptions=True)
    # Without ignore_exceptions that decorator changes nothing (an error is raised before it, each object
    # goes through as it is) but costs a generator step per object: a flood's records skip it
    return records
