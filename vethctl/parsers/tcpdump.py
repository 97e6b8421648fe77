r"""jc - JSON Convert `tcpdump` command output parser

Parses the text tcpdump prints for each packet, one object per packet.
Written against tcpdump 4.99 run as `tcpdump -nn -tt -e -l` (numeric
addresses and ports, epoch timestamps, link-level header), and tolerant of:

- no `-e`: `src_mac`, `dst_mac` and `length` are `null`, `ethertype` is
  inferred from the protocol tag (`IP`, `IP6`, `ARP`...) or `null`
- no `-tt`: the default time of day (`08:10:01.123456`) or `-tttt` date
  and time are kept as printed in `time`, and `timestamp` is the time of
  day in seconds since midnight; with `-t` (no time) `timestamp` is `null`
- `-v`: the IPv4 header (`ttl`, `ip_id`, fragment offset and flags...) and
  the quoted packet of ICMP errors (`inner`) are read too
- `-i any`: the cooked header's interface name, direction and ifindex

Lines that start with whitespace continue the packet above them (`-v`,
`-x`/`-X` hex dumps, undecoded TLVs...). Their text is kept in `details`
unless the parser reads it (the addresses of a `-v` IPv4 packet, the packet
quoted by a `-v` ICMP error, the link-layer address options of `-v` ICMPv6
neighbor discovery). After a packet, a line at column 0 that is not a packet
line continues it too: tcpdump's decoders print some there (a truncation
mark such as `[|BGP Update]` after a `-v` BGP decode, SMB fields). On a
capture that shows timestamps, a packet line without a timestamp also
belongs to the packet above it (VXLAN prints the inner frame on a line of
its own). One record per packet, always. `-A` is not supported (it prints
the payload unindented): use `-X`.

What tcpdump prints in place of a packet is a record too: a pcap record it
refuses (`[Invalid header: caplen==0, len==0]`: every key null, the text in
`unparsed`), a frame too short for its header (`[|ether]`), a time it
cannot format (`[Error converting time]` for -tt times at or past 2^31 s in
tcpdump 4.99: `timestamp` null, the text in `time`, everything else read
from the rest of the line as usual). `truncated-ip - N bytes missing!` and
`truncated-ip6 - N bytes missing!` (an IP header that says more than was
captured) keep the addresses, ports and the rest (`ip_bytes_missing`: N);
a transport header cut short (`A > B:  [|udp]`, `[|tcp]`, `[|icmp6]`) gives
its protocol.

The lines tcpdump prints that are not packets (`tcpdump: verbose output
suppressed...`, `listening on ...`, `reading from file ...`, `N packets
captured`, `N packets received by filter`, `N packets dropped by kernel`)
are skipped.

Whatever part of a packet line the parser does not turn into fields is kept
in `unparsed` (application-layer decodes such as NTP, LLDP and STP frames,
IGMP, OSPF...), so nothing is silently lost. Only a line before the first
packet can fail: one that does not look like tcpdump output at all raises
`ParseError` (or, with `quiet=True`, becomes an object of its own with the
text in `unparsed`). A number too long for Python's int() (more than 4,300
digits) or a time past a float's range stays the text as printed.

`ethertype` is the name tcpdump prints, lowercased (`ipv4`, `ipv6`, `arp`,
`802.1q`, `802.1q-qinq`, `lldp`, `loopback`...), the hex value
(`0x88b5`) when tcpdump has no name for it, and `802.3` for 802.3/LLC
frames (a length, not an ethertype). For 802.1Q/802.1ad frames
`ethertype` is the ethertype inside the tag(s) and `outer_ethertype` the
one on the frame.

What tcpdump does not print, hence no record has (the packet holds it):
an ARP reply's target addresses (`target_ip`, `target_mac`) and a request's
target MAC unless it is not zero; without -v, the IPv4/IPv6 header fields
(`ttl`, `ip_id`, `hop_limit`...), the source address and ports of the packet
an ICMP error quotes (`inner` has what the message text names: the
destination, and protocol and port for a port unreachable), ND's
link-layer address options; DNS: the question of a response (only with
-vv), each answer's name (only with -v), its TTL (-vvv), the authority and
additional records (-vv, where an OPT record gives `dns_edns`), the
counts of a query that are 0 (and 1 for its questions); the inner packet of
an ICMPv6 error. TCP sequence numbers are tcpdump's (relative after the
first segment unless -S).

Limitations: with -t (no time) a tunnel's inner frame becomes an object of
its own; `-A` is not supported.

Usage (cli):

    $ tcpdump -nn -tt -e -l | jc --tcpdump       (with jc's plugin directory)

Usage (module):

    import jc
    import vethctl.parsers.tcpdump
    result = jc.parse(vethctl.parsers.tcpdump, tcpdump_command_output)

Schema:

    Keys not applicable to a packet are absent, except the first five,
    which are always present (null when not printed).

    [
      {
        "timestamp":            float,    # null if no time printed [0]
        "src_mac":              string,   # null without -e
        "dst_mac":              string,   # null without -e
        "ethertype":            string,   # [1]
        "length":               integer,  # frame length; null without -e [1]
        "llc_length":           integer,  # 802.3 frames: the length field [1]
        "time":                 string,   # time of day as printed, or tcpdump's
                                          # text for a time it could not print [0]
        "interface":            string,   # -i any
        "direction":            string,   # -i any: in, out, broadcast, multicast, otherhost
        "ifindex":              integer,  # -i any
        "outer_ethertype":      string,   # 802.1q, 802.1q-qinq
        "vlan":                 integer,  # outermost VLAN id
        "vlan_priority":        integer,  # outermost priority (p N)
        "vlan_dei":             boolean,  # true when a tag has DEI set
        "vlans": [
                                integer   # stacked tags only, outer first
        ],
        "vlan_priorities": [
                                integer   # stacked tags only, outer first
        ],
        "arp_op":               string,   # request, reply, reverse request...
        "sender_ip":            string,
        "sender_mac":           string,   # ARP reply (is-at)
        "target_ip":            string,   # ARP request; ICMPv6 neighbor
                                          # solicitation/advertisement [6]
        "target_mac":           string,   # when printed
        "src_ip":               string,
        "dst_ip":               string,
        "ip_tos":               string,   # -v
        "ip_ecn":               string,   # -v
        "ttl":                  integer,  # -v, IPv4 (0 when tcpdump leaves it out)
        "hop_limit":            integer,  # -v, IPv6
        "ip_id":                integer,  # -v (IPv6: fragment id)
        "frag_offset":          integer,  # -v IPv4, IPv6 fragments
        "ip_flags":             string,   # -v IPv4: DF, +, none...
        "dont_fragment":        boolean,  # -v IPv4
        "more_fragments":       boolean,  # -v IPv4
        "ip_length":            integer,  # -v: IP (payload) length
        "ip_bytes_missing":     integer,  # "truncated-ip(6) - N bytes missing!"
        "ip_class":             string,   # -v IPv6 traffic class
        "flow_label":           string,   # -v IPv6
        "next_header":          string,   # -v IPv6
        "ext_headers": [
                                string    # IPv6 extension headers as printed
        ],
        "src_port":             integer,
        "dst_port":             integer,
        "protocol":             string,   # [2]
        "checksum":             string,   # -v: ok or bad
        "tcp_flags":            string,   # inside "Flags [...]": S, S., P., R...
        "tcp_checksum":         string,   # -v
        "tcp_seq":              integer,
        "tcp_seq_end":          integer,  # seq printed as a range "1:101"
        "tcp_ack":              integer,
        "tcp_win":              integer,
        "tcp_urg":              integer,
        "tcp_options":          string,   # inside "options [...]"
        "payload_length":       integer,  # the trailing "length N" [3]
        "icmp_type":            string,   # [4]
        "icmp_code":            string,   # [4]
        "icmp_id":              integer,
        "icmp_seq":             integer,
        "mtu":                  integer,  # need to frag, packet too big
        "gateway":              string,   # ICMP redirect
        "pointer":              integer,  # ICMPv6 parameter problem
        "nd_target":            string,   # = target_ip of ND (kept for compatibility)
        "nd_flags":             string,   # -v ICMPv6 neighbor advertisement
        "source_lladdr":        string,   # -v ND/RS/RA source link-address option
        "target_lladdr":        string,   # -v ND target link-address option
        "mld_group":            string,   # MLDv1 report/done/query, MLDv2 query
        "mld_max_resp_delay":   integer,  # MLD query (and MLDv1 messages)
        "mld_group_records":    integer,  # MLDv2 report
        "mld_groups": [
                                string    # -v MLDv2 report: each record's group
        ],
        "dns_id":               integer,  # [7]
        "dns_response":         boolean,
        "dns_opcode":           string,   # when printed: notify, update...
        "dns_flags":            string,   # after the id, as printed: + % * - | $
        "dns_rcode":            string,   # responses: NoError, NXDomain, ServFail...
        "dns_qtype":            string,   # the question: A, AAAA, MX... [7]
        "dns_qname":            string,   # "web.example."
        "dns_questions": [                # more than one question ("[2q]")
          {
            "type":             string,
            "name":             string
          }
        ],
        "dns_qdcount":          integer,  # when printed ("[Nq]")
        "dns_ancount":          integer,  # responses "a/n/r"; queries "[Na]"
        "dns_nscount":          integer,  # responses "a/n/r"; queries "[Nn]"
        "dns_arcount":          integer,  # responses "a/n/r"; queries "[Nau]"
        "dns_answers": [
          {
            "name":             string,   # -v only
            "type":             string,   # A, AAAA, CNAME...
            "data":             string    # as printed: "192.0.2.7"
          }
        ],
        "dns_edns":             string,   # -vv: the OPT record ("UDPsize=1232 DO")
        "dns_length":           integer,  # the message length tcpdump prints last
        "inner": {                        # the packet an ICMP error is about [5]
          "src_ip":             string,
          "dst_ip":             string,
          "protocol":           string,
          "src_port":           integer,
          "dst_port":           integer,
          ...                             # -v: ttl, ip_id, icmp_type... as above
        },
        "unparsed":             string,   # text not turned into fields
        "details": [
                                string    # continuation lines
        ]
      }
    ]

    [0] -tt epoch seconds as a float; for a time of day (default or -tttt)
        the seconds since midnight, and the text as printed in `time`.
    [1] tcpdump's name lowercased, the hex value for unnamed ethertypes,
        "802.3" for 802.3/LLC frames; inferred from the protocol tag
        without -e ("ipv4" for "IP", "ipv6" for "IP6", "arp"...), else null.
        For an 802.3 frame tcpdump prints its length field (the LLC
        payload length) where it prints the frame length of an Ethernet II
        frame: it goes to `llc_length`, and `length` is null.
    [2] icmp, icmp6, tcp, udp, igmp, gre, esp, ah, ospf, pim, vrrp, sctp,
        ipip, ipv6, ipv6-nonxt, ipcomp, mobile, mobility... or the protocol
        number as a string. A header cut short names it: "[|udp]" -> udp.
        A packet with ports whose payload is neither TCP, SCTP nor DCCP
        is "udp" (tcpdump prints TCP with "Flags [...]").
    [3] TCP/UDP payload length, ICMP/ICMPv6 message length, ARP length,
        or the length printed at the end of another protocol's decode.
    [4] icmp_type: "echo request", "echo reply", "destination unreachable",
        "time exceeded", "redirect", "parameter problem", "router
        solicitation", "router advertisement", "neighbor solicitation",
        "neighbor advertisement", "multicast listener report v2",
        "multicast listener query v2", "packet too big"... or the type
        number as a string when tcpdump prints it as a number.
        icmp_code (RFC 792/1812/4443 names): ICMP "net unreachable",
        "host unreachable", "protocol unreachable", "port unreachable",
        "fragmentation needed", "source route failed", "net unknown",
        "host unknown", "source host isolated", "net prohibited", "host
        prohibited", "net unreachable for tos", "host unreachable for tos",
        "communication prohibited", "host precedence violation",
        "precedence cutoff", "time to live exceeded", "fragment reassembly
        time exceeded"; ICMPv6 "no route to destination", "administratively
        prohibited", "beyond scope of source address", "address
        unreachable", "port unreachable", "hop limit exceeded", "fragment
        reassembly time exceeded", "erroneous header field", "unrecognized
        next header", "unrecognized ipv6 option"; the code number as a
        string when tcpdump prints a number ("unknown unreach code (5)").
        What iptables/ip6tables REJECT --reject-with sends, as tcpdump
        prints it -> icmp_code:
          icmp-net-unreachable   "ICMP net B unreachable"    net unreachable
          icmp-host-unreachable  "ICMP host B unreachable"   host unreachable
          icmp-port-unreachable  "ICMP B udp port P unreachable"
                                                             port unreachable
          icmp-proto-unreachable "ICMP B protocol 17 unreachable"
                                                             protocol unreachable
          icmp-net-prohibited    "... unreachable - admin prohibited" (net)
                                                             net prohibited
          icmp-host-prohibited   "... unreachable - admin prohibited" (host)
                                                             host prohibited
          icmp-admin-prohibited  "... - admin prohibited filter"
                                                             communication prohibited
          icmp6-no-route         "unreachable route B"       no route to destination
          icmp6-adm-prohibited   "unreachable prohibited B"  administratively prohibited
          icmp6-addr-unreachable "unreachable address B"     address unreachable
          icmp6-port-unreachable "unreachable port, B udp port P"
                                                             port unreachable
          tcp-reset              no ICMP: a TCP segment with tcp_flags "R."
    [5] without -v only what the ICMP text names (dst_ip, protocol and
        dst_port of a port unreachable, dst_ip and protocol of a protocol
        unreachable, dst_ip of a net/host unreachable or of an ICMPv6
        error); with -v the quoted IPv4 packet as a record of its own
        (src_ip, dst_ip, protocol, src_port, dst_port, IP header, TCP flags
        and ICMP fields). tcpdump prints no inner packet of ICMPv6 errors.
    [6] ND records carry `target_ip` as ARP's do (and `nd_target`, the
        same). -v prints ND's link-layer address options on lines of their
        own: `source_lladdr` (NS, RS, RA), `target_lladdr` (NA).
    [7] DNS over UDP and TCP on port 53 (and mDNS on 5353), as tcpdump
        prints it: a query "12345+ [1au] A? web.example. (40)" (flags "+"
        recursion desired, "%" checking disabled); a response
        "12345*- 1/0/1 A 192.0.2.7 (56)" or "12345 NXDomain 0/1/0 (98)"
        (flags "*" authoritative, "-" recursion not available, "|"
        truncated, "$" authenticated data). `dns_qtype`/`dns_qname` are a
        query's first question (a response's only with -vv); `dns_rcode`
        is "NoError" for a response that prints none; `dns_answers` are
        in the order printed. What is not read stays in `unparsed`
        ("[b2&3=0x...]", "[|domain]").

Examples:

    $ tcpdump -nn -tt -e -r lab.pcap | jc --tcpdump -p
    [
      {
        "timestamp": 1795682628.343756,
        "src_mac": "e6:42:a5:4d:e8:d3",
        "dst_mac": "ff:ff:ff:ff:ff:ff",
        "ethertype": "arp",
        "length": 42,
        "arp_op": "request",
        "sender_ip": "192.0.2.1",
        "target_ip": "192.0.2.99",
        "payload_length": 28
      },
      {
        "timestamp": 1795682632.485983,
        "src_mac": "e6:42:a5:4d:e8:d3",
        "dst_mac": "8a:9f:17:21:3e:47",
        "ethertype": "ipv4",
        "length": 98,
        "src_ip": "192.0.2.1",
        "dst_ip": "198.51.100.1",
        "protocol": "icmp",
        "icmp_type": "echo request",
        "icmp_id": 19353,
        "icmp_seq": 1,
        "payload_length": 64
      },
      {
        "timestamp": 1795682634.662889,
        "src_mac": "8a:9f:17:21:3e:47",
        "dst_mac": "e6:42:a5:4d:e8:d3",
        "ethertype": "ipv4",
        "length": 75,
        "src_ip": "198.51.100.1",
        "dst_ip": "192.0.2.1",
        "protocol": "icmp",
        "icmp_type": "destination unreachable",
        "icmp_code": "port unreachable",
        "inner": {
          "dst_ip": "198.51.100.1",
          "protocol": "udp",
          "dst_port": 9
        },
        "payload_length": 41
      },
      {
        "timestamp": 1795682640.308178,
        "src_mac": "e6:42:a5:4d:e8:d3",
        "dst_mac": "8a:9f:17:21:3e:47",
        "ethertype": "ipv4",
        "length": 147,
        "src_ip": "192.0.2.1",
        "dst_ip": "198.51.100.1",
        "src_port": 36130,
        "dst_port": 8080,
        "protocol": "tcp",
        "tcp_flags": "P.",
        "tcp_seq": 1,
        "tcp_seq_end": 82,
        "tcp_ack": 1,
        "tcp_win": 63,
        "tcp_options": "nop,nop,TS val 200357951 ecr 4194831199",
        "payload_length": 81,
        "unparsed": "HTTP: GET / HTTP/1.1"
      },
      {
        "timestamp": 1796047073.383926,
        "src_mac": "ee:06:ca:3e:77:3a",
        "dst_mac": "06:a2:b0:6d:12:09",
        "ethertype": "ipv4",
        "length": 162,
        "src_ip": "198.51.100.1",
        "dst_ip": "192.0.2.1",
        "src_port": 53,
        "dst_port": 47532,
        "protocol": "udp",
        "dns_id": 25519,
        "dns_response": true,
        "dns_rcode": "NoError",
        "dns_flags": "*",
        "dns_ancount": 3,
        "dns_nscount": 0,
        "dns_arcount": 1,
        "dns_answers": [
          {"type": "CNAME", "data": "www.lab.example."},
          {"type": "CNAME", "data": "web.lab.example."},
          {"type": "A", "data": "198.51.100.1"}
        ],
        "dns_length": 120
      },
      {
        "timestamp": 1795682642.293579,
        "src_mac": "e6:42:a5:4d:e8:d3",
        "dst_mac": "ff:ff:ff:ff:ff:ff",
        "ethertype": "arp",
        "length": 60,
        "outer_ethertype": "802.1q-qinq",
        "vlan": 100,
        "vlan_priority": 1,
        "vlans": [
          100,
          10
        ],
        "vlan_priorities": [
          1,
          0
        ],
        "arp_op": "request",
        "sender_ip": "203.0.113.1",
        "target_ip": "203.0.113.254",
        "payload_length": 38
      }
    ]

    $ tcpdump -nn -tt -e -r lab.pcap | jc --tcpdump -p -r
    [
      {
        "timestamp": "1795682632.485983",
        "src_mac": "e6:42:a5:4d:e8:d3",
        "dst_mac": "8a:9f:17:21:3e:47",
        "ethertype": "ipv4",
        "length": "98",
        "src_ip": "192.0.2.1",
        "dst_ip": "198.51.100.1",
        "protocol": "icmp",
        "icmp_type": "echo request",
        "icmp_id": "19353",
        "icmp_seq": "1",
        "payload_length": "64"
      }
    ]
"""

import jc.utils
from jc.exceptions import ParseError

from vethctl.parsers._tcpdump import LineParser, process
from vethctl.parsers._tcpdump.dns import as_dns  # noqa: F401  (public: DNS captured with -T domain)


class info:
    """Provides parser metadata (version, author, etc.)"""

    version = "1.0"
    description = "`tcpdump` command parser"
    author = "vethctl contributors"
    author_email = "vethctl@example.invalid"
    details = "Reads tcpdump 4.x text output; best with -nn -tt -e -l"
    compatible = ["linux", "darwin", "freebsd"]
    tags = ["command"]
    magic_commands = ["tcpdump"]


__version__ = info.version


def _process(proc_data: list[dict]) -> list[dict]:
    """
    Final processing to conform to the schema.

    Parameters:

        proc_data:   (List of Dictionaries) raw structured data to process

    Returns:

        List of Dictionaries. Structured to conform to the schema.
    """
    for entry in proc_data:
        process(entry)
    return proc_data


def parse(data: str, raw: bool = False, quiet: bool = False) -> list[dict]:
    """
    Main text parsing function

    Parameters:

        data:        (string)  text data to parse
        raw:         (boolean) unprocessed output if True
        quiet:       (boolean) suppress warning messages if True; lines
                                that are not tcpdump output then become
                                objects with only `unparsed` instead of
                                raising ParseError

    Returns:

        List of Dictionaries. Raw or processed structured data.
    """
    jc.utils.compatibility(__name__, info.compatible, quiet)
    jc.utils.input_type_check(data)

    raw_output: list[dict] = []

    if jc.utils.has_data(data):
        parser = LineParser(lenient=quiet)
        for lineno, line in enumerate(data.splitlines(), 1):
            try:
                record = parser.push(line)
            except ParseError as e:
                raise ParseError(f"line {lineno}: {e}") from None
            if record is not None:
                raw_output.append(record)
        record = parser.flush()
        if record is not None:
            raw_output.append(record)

    return raw_output if raw else _process(raw_output)
