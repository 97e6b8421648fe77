#!/usr/bin/env bash
# Record the tcpdump parser fixtures (tests/fixtures/linux/tcpdump-<case>.{pcap,out,json,-streaming.json})
# from lab traffic between throw-away network namespaces.
#
# Needs root, iproute2, tcpdump, ping, curl, python3, nc (netcat-openbsd), dig (bind9-dnsutils), dnsmasq
# (dnsmasq-base), iptables and ip6tables. Creates only namespaces named vtp-*, sends
# traffic only between them, uses only documentation/benchmark addresses (192.0.2.0/24,
# 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32) and deletes everything it created
# on exit, also on failure (trap).
#
# Topology:
#   vtp-a (client)  vtp-a0 192.0.2.1/24 2001:db8:1::1/64
#        |
#   vtp-r (router)  vtp-r0 192.0.2.254/24 2001:db8:1::254/64 | vtp-r1 198.51.100.254/24 2001:db8:2::254/64
#        |                                                    | vtp-r2 198.18.1.1/24 (link-up case)
#   vtp-b (server)  vtp-b0 198.51.100.1/24 2001:db8:2::1/64
#   vtp-l (late)    vtp-l0 198.18.1.2/24 2001:db8:3::2/64, brought up while recording
#
# The kernel of the development VM has no 802.1Q module (CONFIG_VLAN_8021Q is not set), so the
# VLAN/QinQ, LLDP, STP and unknown-ethertype frames are injected with an AF_PACKET socket instead of
# being sent by a vlan device; tcpdump records them on the wire exactly the same way.
#
# Usage: sudo scripts/record_fixtures.sh [CASE...]   (records every case, or the ones named, then writes
#                                                     tests/fixtures/linux)
#        scripts/record_fixtures.sh --json-only      (only re-parses the .out files into the .json files)
#        scripts/record_fixtures.sh --synthetic      (no root: rebuilds the tcpdump-synth-*.pcap files with
#                                                     tests/fixtures/linux/make_pcaps.py, renders each with
#                                                     tcpdump, plain and -v, then writes the .json files)
#        PYTHON=/path/to/python scripts/record_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=tests/fixtures/linux
PY=${PYTHON:-.venv/bin/python}
NAMESPACES=(vtp-a vtp-r vtp-b vtp-l)
export TZ=UTC LC_ALL=C

# --------------------------------------------------------------------------- expected outputs
# produced by the parsers, then reviewed by eye before committing
write_json() {
  "$PY" - "$OUT" <<'EOF'
import glob, json, os, sys
import jc
import vethctl.parsers.tcpdump as batch
import vethctl.parsers.tcpdump_s as streaming

for out in sorted(glob.glob(os.path.join(sys.argv[1], 'tcpdump-*.out'))):
    text = open(out, encoding='utf-8').read()
    base = out[:-4]
    with open(base + '.json', 'w', encoding='utf-8') as f:
        json.dump(jc.parse(batch, text, quiet=True), f, indent=2)
        f.write('\n')
    with open(base + '-streaming.json', 'w', encoding='utf-8') as f:
        json.dump(list(jc.parse(streaming, text.splitlines(), quiet=True)), f, indent=2)
        f.write('\n')
    print('record_fixtures: wrote', os.path.basename(base) + '.json', '-streaming.json')
EOF
}

if [ "${1:-}" = --json-only ]; then
  write_json
  exit 0
fi

# kinds of output real captures show and lab traffic does not (broken record headers, truncated IP,
# timestamps past 2038, -v oddities, DNS and ICMPv6 of every shape): pcaps written byte by byte
if [ "${1:-}" = --synthetic ]; then
  "$PY" "$OUT/make_pcaps.py" "$OUT"
  for pcap in "$OUT"/tcpdump-synth-*.pcap; do
    base=${pcap%.pcap}
    tcpdump -r "$pcap" -nn -tt -e >"$base.out" 2>/dev/null
    tcpdump -r "$pcap" -nn -tt -e -v >"$base-verbose.out" 2>/dev/null
    echo "record_fixtures: $(basename "$base"): $(wc -l <"$base.out") lines, -v $(wc -l <"$base-verbose.out") lines"
  done
  write_json
  exit 0
fi

# the cases to record: those named on the command line, else all of them
ONLY=("$@")
want() { [ ${#ONLY[@]} -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }

if [ "$(id -u)" != 0 ]; then
  echo "record_fixtures: needs root (network namespaces, raw sockets, capture)" >&2
  exit 4
fi
for tool in ip tcpdump ping curl python3 nc dig dnsmasq iptables ip6tables; do
  command -v "$tool" >/dev/null || { echo "record_fixtures: $tool not found" >&2; exit 4; }
done

WORK=$(mktemp -d /tmp/vtp-record.XXXXXX)
PIDS=()

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  for ns in "${NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT INT TERM

x() { ip netns exec "$@"; }

# --------------------------------------------------------------------------- topology
for ns in "${NAMESPACES[@]}"; do
  if ip netns list | grep -qw "$ns"; then
    echo "record_fixtures: namespace $ns already exists (left over?); delete it first" >&2
    NAMESPACES=()
    exit 5
  fi
done
for ns in "${NAMESPACES[@]}"; do
  ip netns add "$ns"
  x "$ns" ip link set lo up
done
# no router solicitations / DAD noise in the main namespaces (set before the links exist)
for ns in vtp-a vtp-r vtp-b; do
  x "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0
done
x vtp-r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

ip link add vtp-a0 netns vtp-a type veth peer name vtp-r0 netns vtp-r
ip link add vtp-b0 netns vtp-b type veth peer name vtp-r1 netns vtp-r
ip link add vtp-l0 netns vtp-l type veth peer name vtp-r2 netns vtp-r

x vtp-a ip addr add 192.0.2.1/24 dev vtp-a0
x vtp-a ip addr add 2001:db8:1::1/64 dev vtp-a0 nodad
x vtp-r ip addr add 192.0.2.254/24 dev vtp-r0
x vtp-r ip addr add 2001:db8:1::254/64 dev vtp-r0 nodad
x vtp-r ip addr add 198.51.100.254/24 dev vtp-r1
x vtp-r ip addr add 2001:db8:2::254/64 dev vtp-r1 nodad
x vtp-r ip addr add 198.18.1.1/24 dev vtp-r2
x vtp-b ip addr add 198.51.100.1/24 dev vtp-b0
x vtp-b ip addr add 2001:db8:2::1/64 dev vtp-b0 nodad
x vtp-l ip addr add 198.18.1.2/24 dev vtp-l0
x vtp-l ip addr add 2001:db8:3::2/64 dev vtp-l0
for pair in vtp-a:vtp-a0 vtp-r:vtp-r0 vtp-r:vtp-r1 vtp-r:vtp-r2 vtp-b:vtp-b0; do
  x "${pair%%:*}" ip link set "${pair#*:}" up
done
x vtp-a ip route add default via 192.0.2.254
x vtp-a ip -6 route add default via 2001:db8:1::254
x vtp-b ip route add default via 198.51.100.254
x vtp-b ip -6 route add default via 2001:db8:2::254
sleep 3 # let link-local DAD and the unsolicited MLD reports of link-up settle

# servers in vtp-b: HTTP on [::]:8080 (dual stack), UDP echo on [::]:5555
mkdir -p "$WORK/www"
printf 'hello from vtp-b\n' >"$WORK/www/index.html"
(cd "$WORK/www" && exec ip netns exec vtp-b python3 -m http.server 8080 --bind :: >/dev/null 2>&1) &
PIDS+=($!)
cat >"$WORK/udp_echo.py" <<'EOF'
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', 5555))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data.upper(), peer)
EOF
ip netns exec vtp-b python3 "$WORK/udp_echo.py" &
PIDS+=($!)
for _ in $(seq 50); do
  x vtp-b ss -Hltn 'sport = :8080' | grep -q . && break
  sleep 0.1
done

# servers for the probe cases, in vtp-b (what `vethctl lab up --servers` runs): TCP listeners (nc), dnsmasq
# for the zone lab.example with an upstream that answers SERVFAIL for broken.lab.example, and the rules a
# NetworkPolicy would add (iptables/ip6tables REJECT and DROP); no ICMP rate limit, so that every probe
# gets its error
x vtp-b sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
x vtp-r sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
for port in 7001 7081 7082; do
  for family in -4 -6; do
    ip netns exec vtp-b nc "$family" -lk "$port" >/dev/null 2>&1 &
    PIDS+=($!)
  done
done
cat >"$WORK/servfail.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    q, a = s.recvfrom(4096)
    if len(q) >= 12:
        s.sendto(q[:2] + bytes([q[2] | 0x80, (q[3] & 0xF0) | 2]) + q[4:], a)
EOF
ip netns exec vtp-b python3 "$WORK/servfail.py" 127.0.0.2 5353 &
PIDS+=($!)
ip netns exec vtp-b dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
  --listen-address=198.51.100.1 --listen-address=2001:db8:2::1 --port=53 --local=/lab.example/ \
  --host-record=web.lab.example,198.51.100.1,2001:db8:2::1 --cname=www.lab.example,web.lab.example \
  --cname=alias.lab.example,www.lab.example --server=/broken.lab.example/127.0.0.2#5353 \
  --pid-file= --log-facility=/dev/null &
PIDS+=($!)
x vtp-b iptables -A INPUT -p tcp --dport 7081 -j DROP
x vtp-b iptables -A INPUT -p tcp --dport 7082 -j REJECT --reject-with icmp-admin-prohibited
reject4=(icmp-net-unreachable icmp-host-unreachable icmp-port-unreachable icmp-proto-unreachable
         icmp-net-prohibited icmp-host-prohibited icmp-admin-prohibited)
reject6=(icmp6-no-route icmp6-adm-prohibited icmp6-addr-unreachable icmp6-port-unreachable)
for i in "${!reject4[@]}"; do
  x vtp-b iptables -A INPUT -p udp --dport $((9101 + i)) -j REJECT --reject-with "${reject4[$i]}"
done
for i in "${!reject6[@]}"; do
  x vtp-b ip6tables -A INPUT -p udp --dport $((9111 + i)) -j REJECT --reject-with "${reject6[$i]}"
done
x vtp-r ip6tables -A FORWARD -d 2001:db8:2::2 -j REJECT --reject-with icmp6-no-route
x vtp-r ip6tables -A FORWARD -d 2001:db8:2::3 -j REJECT --reject-with icmp6-adm-prohibited
for _ in $(seq 50); do
  x vtp-b ss -Hlun 'sport = :53' | grep -q . && x vtp-b ss -Hltn 'sport = :7001' | grep -q . && break
  sleep 0.1
done

# a TCP ACK for no connection: the kernel that gets it answers with a bare RST (flags [R], no ACK)
cat >"$WORK/stray_ack.py" <<'EOF'
import socket, struct, sys
src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(data):
    data += b'\0' * (len(data) % 2)
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
seg = struct.pack('!HHIIBBHHH', 40123, dport, 1000, 424242, 5 << 4, 0x10, 64240, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(seg))
seg = seg[:16] + struct.pack('!H', csum(pseudo + seg)) + seg[18:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.sendto(seg, (dst, 0))
EOF

# an IPv6 multicast group joined, then left: with force_mld_version=1, an MLDv1 report and done
cat >"$WORK/mld.py" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
mreq = socket.inet_pton(socket.AF_INET6, sys.argv[2]) + struct.pack('@I', socket.if_nametoindex(sys.argv[1]))
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
time.sleep(0.5)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, mreq)
EOF

# a router advertisement from vtp-r's link-local address on vtp-r0 (prefix 2001:db8:1::/64, MTU 1500, its
# link-layer address), as radvd would send it; Linux sends none by itself
cat >"$WORK/ra.py" <<'EOF'
import socket, struct, sys
ifname, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
ra += struct.pack('!BBBBIII', 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, '2001:db8:1::')
ra += struct.pack('!BBHI', 5, 1, 0, 1500) + struct.pack('!BB', 1, 1) + mac
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
s.sendto(ra, ('ff02::1', 0, 0, socket.if_nametoindex(ifname)))
EOF

# raw frame injector (VLAN, QinQ, LLDP, STP, unknown ethertype)
cat >"$WORK/inject.py" <<'EOF'
import socket, struct, sys

def mac(s):
    return bytes.fromhex(s.replace(':', ''))

def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:] + payload

def icmp_echo(ident, seq, data):
    msg = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack('!H', csum(msg)) + msg[4:]

def udp(sport, dport, data):
    return struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data

def arp_request(sha, spa, tpa):
    return struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, mac(sha), socket.inet_aton(spa),
                       b'\0' * 6, socket.inet_aton(tpa))

def tag(tpid, vid, prio=0, dei=0):
    return struct.pack('!HH', tpid, (prio << 13) | (dei << 12) | vid)

def frame(dst, src, *parts):
    f = mac(dst) + mac(src) + b''.join(parts)
    return f + b'\0' * max(0, 60 - len(f))

ifname, src = sys.argv[1], sys.argv[2]
bcast = 'ff:ff:ff:ff:ff:ff'
peer = '02:00:5e:00:53:fe'   # made-up router MAC: the frames are only recorded, never answered
case = sys.argv[3]
frames = []
if case == 'vlan':
    frames = [
        frame(bcast, src, tag(0x8100, 10), struct.pack('!H', 0x0806), arp_request(src, '203.0.113.1', '203.0.113.254')),
        frame(peer, src, tag(0x8100, 10, prio=5), struct.pack('!H', 0x0800),
              ipv4('203.0.113.1', '203.0.113.254', 1, icmp_echo(0x1234, 1, b'vethctl-vlan-probe' * 3), 1)),
        frame(peer, src, tag(0x8100, 20, prio=3, dei=1), struct.pack('!H', 0x0800),
              ipv4('203.0.113.1', '203.0.113.254', 17, udp(40000, 5555, b'vlan-20 datagram'), 2)),
        frame(bcast, src, tag(0x88a8, 100, prio=1), tag(0x8100, 10), struct.pack('!H', 0x0806),
              arp_request(src, '203.0.113.1', '203.0.113.254')),
        frame(peer, src, tag(0x88a8, 100), tag(0x8100, 10, prio=2), struct.pack('!H', 0x0800),
              ipv4('203.0.113.1', '203.0.113.254', 1, icmp_echo(0x1234, 2, b'qinq'), 3)),
    ]
elif case == 'l2':
    chassis = struct.pack('!HB6s', (1 << 9) | 7, 4, mac(src))
    port = struct.pack('!HB', (2 << 9) | 7, 5) + b'vtp-a0'
    ttl = struct.pack('!HH', (3 << 9) | 2, 120)
    name = struct.pack('!H', (5 << 9) | 7) + b'vtp-lab'
    lldp = chassis + port + ttl + name + b'\0\0'
    bridge = struct.pack('!H6s', 0x8000, mac(src))
    bpdu = struct.pack('!HBBB8sI8sHHHHH', 0, 0, 0, 0, bridge, 0, bridge, 0x8001, 0, 20 * 256, 2 * 256, 15 * 256)
    llc = b'\x42\x42\x03' + bpdu
    frames = [
        frame('01:80:c2:00:00:0e', src, struct.pack('!H', 0x88cc), lldp),
        frame('01:80:c2:00:00:00', src, struct.pack('!H', len(llc)), llc),
        frame(bcast, src, struct.pack('!H', 0x88b5), b'vethctl local experimental ethertype'),
    ]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for f in frames:
    s.send(f)
EOF

# --------------------------------------------------------------------------- capture helpers
CAP_PID=
start_capture() { # start_capture NS IFACE CASE -> tcpdump -nn -tt -e -l -w $OUT/tcpdump-CASE.pcap
  # (--immediate-mode: without it a short capture can end with its packets still in the ring buffer)
  local ns=$1 ifname=$2 case=$3
  rm -f "$OUT/tcpdump-$case.pcap"
  ip netns exec "$ns" tcpdump -nn -tt -e -l -U --immediate-mode -Z root -i "$ifname" -w "$OUT/tcpdump-$case.pcap" \
    2>"$WORK/$case.err" &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  for _ in $(seq 50); do
    grep -q 'listening on' "$WORK/$case.err" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "record_fixtures: tcpdump did not start for $case:" >&2
  cat "$WORK/$case.err" >&2
  return 1
}
stop_capture() { # stop_capture CASE: write the .out with `tcpdump -r FILE -nn -tt -e`
  local case=$1
  sleep 0.5
  kill -INT "$CAP_PID"
  wait "$CAP_PID" || true
  tcpdump -r "$OUT/tcpdump-$case.pcap" -nn -tt -e >"$OUT/tcpdump-$case.out" 2>/dev/null
  echo "record_fixtures: $case: $(wc -l <"$OUT/tcpdump-$case.out") lines"
}
render() { # render CASE NAME TCPDUMP-OPTIONS...: another rendering of an existing pcap
  local case=$1 name=$2
  shift 2
  tcpdump -r "$OUT/tcpdump-$case.pcap" "$@" >"$OUT/tcpdump-$name.out" 2>/dev/null
  echo "record_fixtures: $name: $(wc -l <"$OUT/tcpdump-$name.out") lines (tcpdump -r tcpdump-$case.pcap $*)"
}
flush_neigh() {
  x vtp-a ip neigh flush all
  x vtp-r ip neigh flush all
}

mkdir -p "$OUT"

# --------------------------------------------------------------------------- cases

# arp: ARP request/reply, then an unanswered who-has (3 tries)
#   ip netns exec vtp-a ping -c 1 192.0.2.254 ; ip netns exec vtp-a ping -c 1 -W 2 192.0.2.99
if want arp; then
  flush_neigh
  start_capture vtp-a vtp-a0 arp
  x vtp-a ping -n -c 1 192.0.2.254 >/dev/null
  x vtp-a ping -n -c 1 -W 2 192.0.2.99 >/dev/null || true
  sleep 1.5
  stop_capture arp
fi

# icmp: IPv4 echo request/reply through the router
#   ip netns exec vtp-a ping -c 3 -i 0.2 198.51.100.1
if want icmp; then
  start_capture vtp-a vtp-a0 icmp
  x vtp-a ping -n -c 3 -i 0.2 198.51.100.1 >/dev/null
  stop_capture icmp
fi

# icmp6: neighbor solicitation/advertisement, then ICMPv6 echo through the router
#   ip netns exec vtp-a ip -6 neigh flush all ; ip netns exec vtp-a ping -6 -c 3 -i 0.2 2001:db8:2::1
if want icmp6; then
  x vtp-a ip -6 neigh flush all
  x vtp-r ip -6 neigh flush all
  start_capture vtp-a vtp-a0 icmp6
  x vtp-a ping -6 -n -c 3 -i 0.2 2001:db8:2::1 >/dev/null
  stop_capture icmp6
fi

# unreachable: UDP to a closed port (v4 and v6) -> port unreachable; ping of an absent host behind
# the router -> host unreachable after the router's ARP gives up
#   ip netns exec vtp-a python3 -c 'socket...sendto(b"probe", ("198.51.100.1", 9))'   (and 2001:db8:2::1)
#   ip netns exec vtp-a ping -c 1 -W 5 198.51.100.77
if want unreachable; then
  start_capture vtp-a vtp-a0 unreachable
  x vtp-a python3 -c '
  import socket
  s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"probe", ("198.51.100.1", 9))
  s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.sendto(b"probe", ("2001:db8:2::1", 9))
  '
  x vtp-a ping -n -c 1 -W 5 198.51.100.77 >/dev/null || true
  stop_capture unreachable
  render unreachable unreachable-verbose -nn -tt -e -v
fi

# ttl: TTL / hop limit 1 through the router -> time exceeded (v4 and v6)
#   ip netns exec vtp-a ping -c 2 -t 1 198.51.100.1 ; ip netns exec vtp-a ping -6 -c 2 -t 1 2001:db8:2::1
if want ttl; then
  start_capture vtp-a vtp-a0 ttl
  x vtp-a ping -n -c 2 -i 0.3 -t 1 198.51.100.1 >/dev/null || true
  x vtp-a ping -6 -n -c 2 -i 0.3 -t 1 2001:db8:2::1 >/dev/null || true
  stop_capture ttl
  render ttl ttl-verbose -nn -tt -e -v
fi

# frag: 3000-byte pings over a 1500 MTU -> IPv4 and IPv6 fragments
#   ip netns exec vtp-a ping -c 1 -s 3000 198.51.100.1 ; ip netns exec vtp-a ping -6 -c 1 -s 3000 2001:db8:2::1
if want frag; then
  start_capture vtp-a vtp-a0 frag
  x vtp-a ping -n -c 1 -s 3000 198.51.100.1 >/dev/null
  x vtp-a ping -6 -n -c 1 -s 3000 2001:db8:2::1 >/dev/null
  stop_capture frag
  render frag frag-verbose -nn -tt -e -v
fi

# tcp: HTTP GET over IPv4 and IPv6 (handshake, data, FIN), then a SYN to a closed port (RST)
#   ip netns exec vtp-a curl http://198.51.100.1:8080/ ; curl -g 'http://[2001:db8:2::1]:8080/'
#   ip netns exec vtp-a curl http://198.51.100.1:8081/
if want tcp; then
  start_capture vtp-a vtp-a0 tcp
  x vtp-a curl -s -o /dev/null http://198.51.100.1:8080/
  x vtp-a curl -s -g -o /dev/null 'http://[2001:db8:2::1]:8080/'
  x vtp-a curl -s -m 2 -o /dev/null http://198.51.100.1:8081/ || true
  sleep 0.5
  stop_capture tcp
fi

# udp: datagrams to the UDP echo server and its replies (v4 and v6)
#   ip netns exec vtp-a python3 -c 'socket...sendto(b"ping N", ("198.51.100.1", 5555)); recv'
if want udp; then
  start_capture vtp-a vtp-a0 udp
  x vtp-a python3 -c '
  import socket
  for fam, addr in ((socket.AF_INET, "198.51.100.1"), (socket.AF_INET6, "2001:db8:2::1")):
      s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2)
      for i in range(2):
          s.sendto(b"ping %d" % i, (addr, 5555)); s.recv(100)
  '
  stop_capture udp
  render udp udp-plain -nn -t
fi

# vlan: 802.1Q tagged ARP, ICMP (priority 5) and UDP (priority 3, DEI), 802.1ad QinQ ARP and ICMP
#   ip netns exec vtp-a python3 inject.py vtp-a0 <mac> vlan     (AF_PACKET; no 8021q in this kernel)
if want vlan; then
  start_capture vtp-a vtp-a0 vlan
  x vtp-a python3 "$WORK/inject.py" vtp-a0 "$(x vtp-a cat /sys/class/net/vtp-a0/address)" vlan
  stop_capture vlan
fi

# l2: frames with no IP inside: LLDP, an STP BPDU (802.3/LLC) and an unknown ethertype (0x88b5)
#   ip netns exec vtp-a python3 inject.py vtp-a0 <mac> l2
if want l2; then
  start_capture vtp-a vtp-a0 l2
  x vtp-a python3 "$WORK/inject.py" vtp-a0 "$(x vtp-a cat /sys/class/net/vtp-a0/address)" l2
  stop_capture l2
fi

# linkup: a host's interface comes up: MLDv2 reports (behind a hop-by-hop header), DAD neighbor
# solicitation from ::, router solicitation; recorded on the router side
#   ip netns exec vtp-l ip link set vtp-l0 up
if want linkup; then
  start_capture vtp-r vtp-r2 linkup
  x vtp-l ip link set vtp-l0 up
  sleep 5.5
  stop_capture linkup
fi

# any: capture on the Linux "any" pseudo-interface (cooked v2 header: interface, direction, ifindex)
#   ip netns exec vtp-a tcpdump -nn -tt -e -i any ; ip netns exec vtp-a ping -c 2 192.0.2.254
if want any; then
  flush_neigh
  start_capture vtp-a any any
  x vtp-a ping -n -c 2 -i 0.2 192.0.2.254 >/dev/null
  stop_capture any
  # rendered inside vtp-a, so that tcpdump names ifindex 2 after the namespace's own interface
  ip netns exec vtp-a tcpdump -r "$OUT/tcpdump-any.pcap" -nn -tt -e >"$OUT/tcpdump-any.out" 2>/dev/null
  ip netns exec vtp-a tcpdump -r "$OUT/tcpdump-any.pcap" -nn >"$OUT/tcpdump-any-plain.out" 2>/dev/null
fi

# live: what a live `tcpdump -nn -tt -e -l -c 6` prints, with its stderr lines (listening on...,
# N packets captured/received/dropped) in the same stream
#   ip netns exec vtp-a tcpdump -nn -tt -e -l -c 6 -i vtp-a0 -w FILE --print 2>&1
if want live; then
  rm -f "$OUT/tcpdump-live.pcap"
  ip netns exec vtp-a tcpdump -nn -tt -e -l -c 6 --immediate-mode -Z root -i vtp-a0 -w "$OUT/tcpdump-live.pcap" --print \
    >"$WORK/live.out" 2>&1 &
  CAP_PID=$!
  PIDS+=("$CAP_PID")
  sleep 1
  x vtp-a ping -n -c 3 -i 0.2 198.51.100.1 >/dev/null
  wait "$CAP_PID" || true
  mv "$WORK/live.out" "$OUT/tcpdump-live.out"
  echo "record_fixtures: live: $(wc -l <"$OUT/tcpdump-live.out") lines"
fi

# probe-tcp: what `vethctl probe tcp:...` sees, with nc: a handshake and FIN (v4 and v6), a SYN to a closed
# port (RST-ACK), a bare RST (answer to a stray ACK), a SYN behind REJECT --reject-with icmp-admin-prohibited
# (ICMP host unreachable - admin prohibited filter), SYNs behind DROP (retransmitted)
#   ip netns exec vtp-a nc -N -w 2 198.51.100.1 7001 </dev/null   (7090 closed, 7082 REJECT, 7081 DROP)
if want probe-tcp; then
  start_capture vtp-a vtp-a0 probe-tcp
  x vtp-a nc -N -w 2 198.51.100.1 7001 </dev/null || true
  x vtp-a nc -6 -N -w 2 2001:db8:2::1 7001 </dev/null || true
  x vtp-a nc -N -w 2 198.51.100.1 7090 </dev/null || true
  x vtp-a nc -6 -N -w 2 2001:db8:2::1 7090 </dev/null || true
  x vtp-a python3 "$WORK/stray_ack.py" 192.0.2.1 198.51.100.1 7090
  x vtp-a nc -N -w 2 198.51.100.1 7082 </dev/null || true
  x vtp-a nc -N -w 2 198.51.100.1 7081 </dev/null || true
  stop_capture probe-tcp
  render probe-tcp probe-tcp-verbose -nn -tt -e -v
fi

# probe-udp: a datagram to the UDP echo server and its answer (v4, v6), one to a closed port (port
# unreachable, v4 and v6), then one to a port behind each REJECT --reject-with type of iptables (9101-9107)
# and ip6tables (9111-9114)
#   echo probe | ip netns exec vtp-a nc -u -w 1 198.51.100.1 PORT
if want probe-udp; then
  start_capture vtp-a vtp-a0 probe-udp
  echo probe | x vtp-a nc -u -w 1 198.51.100.1 5555 >/dev/null || true
  echo probe | x vtp-a nc -6 -u -w 1 2001:db8:2::1 5555 >/dev/null || true
  echo probe | x vtp-a nc -u -w 1 198.51.100.1 9 || true
  echo probe | x vtp-a nc -6 -u -w 1 2001:db8:2::1 9 || true
  for i in "${!reject4[@]}"; do
    echo probe | x vtp-a nc -u -w 1 198.51.100.1 $((9101 + i)) || true
  done
  for i in "${!reject6[@]}"; do
    echo probe | x vtp-a nc -6 -u -w 1 2001:db8:2::1 $((9111 + i)) || true
  done
  stop_capture probe-udp
  render probe-udp probe-udp-verbose -nn -tt -e -v
fi

# probe-dns: dig against dnsmasq (zone lab.example): A, AAAA, a CNAME chain, NXDOMAIN, SERVFAIL (from the
# upstream of broken.lab.example), REFUSED (a name outside the zone: no upstream), over TCP, over IPv6
#   ip netns exec vtp-a dig +tries=1 +time=2 @198.51.100.1 web.lab.example A
if want probe-dns; then
  start_capture vtp-a vtp-a0 probe-dns
  for query in "@198.51.100.1 web.lab.example A" "@198.51.100.1 web.lab.example AAAA" \
    "@198.51.100.1 alias.lab.example A" "@198.51.100.1 missing.lab.example A" \
    "@198.51.100.1 broken.lab.example A" "@198.51.100.1 other.test A" "+tcp @198.51.100.1 www.lab.example A" \
    "-6 @2001:db8:2::1 web.lab.example AAAA"; do
    # shellcheck disable=SC2086 # the query's words are dig's arguments
    x vtp-a dig +tries=1 +time=2 $query >/dev/null || true
  done
  stop_capture probe-dns
  render probe-dns probe-dns-verbose -nn -tt -e -v
fi

# nd: IPv6 neighbour discovery and ICMPv6 errors: NS/NA (-v: link-layer address options), a ping to an
# absent address behind the router (its NS go unanswered: address unreachable), packet too big (the
# router's link to vtp-b at MTU 1280), no route and administratively prohibited (ip6tables REJECT on the
# router), an MLDv1 report and done (a group joined and left with force_mld_version=1), a router
# advertisement (sent by a script: Linux sends none) and the DAD of the address vtp-a makes from it
#   ip netns exec vtp-a ping -6 -c 1 2001:db8:2::77 ; ping -6 -c 1 -s 1400 -M do 2001:db8:2::1 ...
if want nd; then
  x vtp-a ip -6 neigh flush all
  x vtp-r ip -6 neigh flush all
  x vtp-r ip link set vtp-r1 mtu 1280
  x vtp-b ip link set vtp-b0 mtu 1280
  x vtp-a sysctl -qw net.ipv6.conf.vtp-a0.force_mld_version=1
  start_capture vtp-a vtp-a0 nd
  x vtp-a ping -6 -n -c 1 2001:db8:2::1 >/dev/null
  x vtp-a ping -6 -n -c 1 -W 5 2001:db8:2::77 >/dev/null || true
  x vtp-a ping -6 -n -c 1 -W 1 -s 1400 -M do 2001:db8:2::1 >/dev/null || true
  x vtp-a ping -6 -n -c 1 -W 1 2001:db8:2::2 >/dev/null || true
  x vtp-a ping -6 -n -c 1 -W 1 2001:db8:2::3 >/dev/null || true
  x vtp-a python3 "$WORK/mld.py" vtp-a0 ff05::db8
  x vtp-r python3 "$WORK/ra.py" vtp-r0 "$(x vtp-r cat /sys/class/net/vtp-r0/address)"
  sleep 1.5  # vtp-a takes the prefix (SLAAC): its address's DAD neighbor solicitation follows
  stop_capture nd
  render nd nd-verbose -nn -tt -e -v
  x vtp-a sysctl -qw net.ipv6.conf.vtp-a0.force_mld_version=0
  x vtp-r ip link set vtp-r1 mtu 1500
  x vtp-b ip link set vtp-b0 mtu 1500
fi

# other renderings of the same captures: time of day without -e, no time with -e
if want icmp; then render icmp icmp-tod -nn; fi
if want arp; then render arp arp-notime -nn -t -e; fi

write_json
