"""A lab's Services: `--service` specs as a user writes them, the ClusterIPs they get, and the kube-proxy rules
written for them (iptables and nftables modes), for a Service with endpoints and one without."""

from __future__ import annotations

import re

import pytest

from tests.support import recorded
from vethctl.errors import BadInput
from vethctl.model import Netns
from vethctl.plan.services import (
    Service,
    assign,
    iptables_rules,
    nft_ruleset,
    parse_service,
    sep_chain,
    service_cidr,
    service_steps,
    svc_chain,
)

NODE = Netns.named("vg-svc")
POD_CIDR = "198.18.1.0/24"
SERVER = "198.18.1.3"


def lab_services(*specs: str) -> list[Service]:
    return assign([parse_service(s) for s in specs], POD_CIDR, SERVER)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("web:80", Service("web", 80, "tcp", 8080)),  # the server pod's TCP listener
        ("dns:53/udp", Service("dns", 53, "udp", 9000)),  # its UDP echo
        ("web:80/tcp", Service("web", 80, "tcp", 8080)),
        ("web:80/tcp:8081", Service("web", 80, "tcp", 8081)),
        ("kdns:53/udp:53", Service("kdns", 53, "udp", 53)),
        ("empty:81:none", Service("empty", 81, "tcp", None)),
        ("a:1:1", Service("a", 1, "tcp", 1)),  # the bounds
        ("a-9:65535:65535", Service("a-9", 65535, "tcp", 65535)),
        ("x" * 63 + ":80", Service("x" * 63, 80, "tcp", 8080)),  # a DNS label: 63 characters at most
    ],
)
def test_a_service_spec_is_read_as_written(spec, expected):
    assert parse_service(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message", "hint"),
    [
        ("web", "--service 'web' is not NAME:PORT[/udp][:TARGETPORT|:none]", "--service web:80"),
        ("web:80:81:82", "is not NAME:PORT[/udp][:TARGETPORT|:none]", "--service empty:80:none"),
        ("Web:80", "is not NAME:PORT", "e.g. --service web:80"),
        ("-web:80", "is not NAME:PORT", "e.g."),
        ("web-:80", "is not NAME:PORT", "e.g."),
        (":80", "is not NAME:PORT", "e.g."),
        ("x" * 64 + ":80", "is not NAME:PORT", "e.g."),
        ("web:0", "--service 'web:0': the port must be 1 to 65535, /tcp or /udp", "write NAME:PORT"),
        (
            "web:65536",
            "the port must be 1 to 65535, /tcp or /udp",
            "write NAME:PORT[/udp][:TARGETPORT|:none]",
        ),
        ("web:http", "the port must be 1 to 65535", "write NAME:PORT"),
        ("web:80/sctp", "the port must be 1 to 65535, /tcp or /udp", "write NAME:PORT"),
        ("web:/udp", "the port must be 1 to 65535", "write NAME:PORT"),
        ("web:80:0", "--service 'web:80:0': the target port must be 1 to 65535 or none", "write NAME:PORT"),
        ("web:80:65536", "the target port must be 1 to 65535 or none", "[:TARGETPORT|:none]"),
        ("web:80:None", "the target port must be 1 to 65535 or none", "write NAME:PORT"),
        ("web:80:", "the target port must be 1 to 65535 or none", "write NAME:PORT"),
    ],
)
def test_a_bad_service_spec_says_what_is_wrong_and_how_to_write_it(spec, message, hint):
    with pytest.raises(BadInput) as err:
        parse_service(spec)
    assert message in str(err.value)
    assert hint in err.value.hint
    assert err.value.hint in (
        "e.g. --service web:80 or --service empty:80:none",
        "write NAME:PORT[/udp][:TARGETPORT|:none]",
    )


@pytest.mark.parametrize("spec", ["web:²", "web:80:³", "web:٣"])
def test_a_port_of_other_digits_is_refused_not_a_traceback(spec):
    with pytest.raises(BadInput):
        parse_service(spec)


def test_each_lab_has_its_own_service_range_beside_its_pod_range():
    assert str(service_cidr("198.18.0.0/24")) == "198.19.0.0/24"
    assert str(service_cidr("198.18.7.0/24")) == "198.19.7.0/24"
    assert str(service_cidr("198.18.255.0/24")) == "198.19.255.0/24"


def test_services_get_cluster_ips_in_order_and_the_server_as_endpoint_when_they_have_one():
    got = lab_services("web:80", "kdns:53/udp:53", "empty:81:none")
    assert [(s.cluster_ip, s.endpoint, s.target_port) for s in got] == [
        ("198.19.1.10", SERVER, 8080),
        ("198.19.1.11", SERVER, 53),
        ("198.19.1.12", None, None),
    ]
    assert [(s.name, s.port, s.protocol) for s in got] == [
        ("web", 80, "tcp"),
        ("kdns", 53, "udp"),
        ("empty", 81, "tcp"),
    ]


def test_a_service_in_json_as_lab_status_shows_it():
    web, empty = lab_services("web:80", "empty:81:none")
    assert web.to_json() == {
        "name": "default/web",
        "cluster_ip": "198.19.1.10",
        "port": 80,
        "protocol": "tcp",
        "endpoints": ["198.18.1.3:8080"],
    }
    assert empty.to_json()["endpoints"] == []
    assert web.port_name == "default/web:80/tcp"


def test_chain_names_are_kube_proxys_hashes_and_stable():
    """The names a recorded lab had (tests/golden/plans/lab-up-services-text.json; trace-service-udp-text
    names KUBE-SEP-B224DX77CHRFHZ2J): a trace explains a DNAT by them."""
    web, kdns, _ = lab_services("web:80", "kdns:53/udp:53", "empty:81:none")
    assert svc_chain(web) == "KUBE-SVC-DXNON4QYZIBCCX22"
    assert svc_chain(kdns) == "KUBE-SVC-UQQVGGVSRQJ4JPMP"
    assert sep_chain(kdns) == "KUBE-SEP-B224DX77CHRFHZ2J"
    # the endpoint chain changes with the endpoint (address or port), the service chain does not
    other = Service("kdns", 53, "udp", 5353, kdns.cluster_ip, SERVER)
    assert svc_chain(other) == svc_chain(kdns) and sep_chain(other) != sep_chain(kdns)
    moved = Service("kdns", 53, "udp", 53, kdns.cluster_ip, "198.18.1.4")
    assert sep_chain(moved) != sep_chain(kdns)
    assert len(svc_chain(web)) == len("KUBE-SVC-") + 16


def test_iptables_mode_rejects_a_service_without_endpoints_in_the_filter_table():
    (empty,) = lab_services("empty:81:none")
    rules = [" ".join(r) for r in iptables_rules([empty])]
    assert rules[-1] == (
        "iptables -t filter -A KUBE-SERVICES -d 198.19.1.10/32 -p tcp -m comment --comment"
        " default/empty has no endpoints -m tcp --dport 81 -j REJECT --reject-with icmp-port-unreachable"
    )
    assert not [r for r in rules if "KUBE-SVC-" in r or "DNAT" in r]


def test_iptables_mode_dnats_a_service_to_its_endpoint():
    (dns,) = lab_services("kdns:53/udp:53")
    rules = [" ".join(r) for r in iptables_rules([dns], "iptables-legacy")]
    assert {r.split()[0] for r in rules} == {"iptables-legacy"}
    assert rules[:4] == [
        "iptables-legacy -t nat -N KUBE-SERVICES",
        "iptables-legacy -t nat -N KUBE-MARK-MASQ",
        "iptables-legacy -t nat -N KUBE-POSTROUTING",
        "iptables-legacy -t filter -N KUBE-SERVICES",
    ]
    assert (
        "iptables-legacy -t nat -A KUBE-SEP-B224DX77CHRFHZ2J -p udp -m comment --comment default/kdns -m udp"
        " -j DNAT --to-destination 198.18.1.3:53"
    ) in rules


def test_nftables_mode_for_a_service_without_endpoints_rejects_it_and_has_no_service_chain():
    (empty,) = lab_services("empty:81:none")
    text = nft_ruleset([empty])
    assert text.startswith("table ip kube-proxy {\n") and text.endswith("}\n")
    assert (
        "  chain services {\n  }\n  chain service-endpoints-check {\n"
        '    ip daddr 198.19.1.10 tcp dport 81 counter reject comment "default/empty has no endpoints"\n  }\n}\n'
    ) in text
    assert "dnat" not in text and "chain service-" not in text.replace("chain service-endpoints-check", "")


def test_nftables_mode_dnats_a_service_to_its_endpoint():
    (web,) = lab_services("web:80:8081")
    text = nft_ruleset([web])
    assert "ip daddr 198.19.1.10 tcp dport 80 counter goto service-DXNON4QY-default-web-tcp-80" in text
    assert "  chain service-DXNON4QY-default-web-tcp-80 {\n    counter goto endpoint-" in text
    assert 'meta l4proto tcp counter dnat to 198.18.1.3:8081 comment "default/web"' in text
    assert "ip saddr 198.18.1.3 counter jump mark-for-masquerade" in text
    assert "-198-18-1-3-8081 {" in text  # the endpoint chain: its address and port in its name


@pytest.mark.parametrize("mode", ["iptables", "iptables-legacy", "nftables"])
def test_service_steps_run_in_the_lab_node_after_the_route_of_the_service_range(mode):
    services = lab_services("web:80", "empty:81:none")
    steps = service_steps(services, NODE, mode, "198.19.1.0/24")
    assert [s.argv for s in steps[:4]] == [
        ("ip", "link", "add", "svc0", "type", "veth", "peer", "name", "svc1"),
        ("ip", "link", "set", "dev", "svc0", "up"),
        ("ip", "link", "set", "dev", "svc1", "up"),
        ("ip", "route", "add", "198.19.1.0/24", "dev", "svc0"),
    ]
    assert {(s.netns, s.place, s.phase) for s in steps} == {(NODE, "node", "lab")}
    if mode == "nftables":
        assert [s.argv for s in steps[4:]] == [("nft", "-f", "-")]
        assert steps[4].stdin == nft_ruleset(services)
    else:
        assert [s.argv for s in steps[4:]] == iptables_rules(services, mode)
        assert steps[4].purpose == f"kube-proxy's iptables rules ({mode})"


def recorded_lab(name: str):
    """A `lab up --service ...` recorded from a real lab: its commands, and the Services as its args and output
    give them."""
    rec = recorded.case(name)
    args = rec["args"]
    specs = [args[i + 1] for i, a in enumerate(args) if a == "--service"]
    mode = args[args.index("--proxy-mode") + 1] if "--proxy-mode" in args else "iptables"
    pod_cidr = re.search(r"pods (\S+)\)", rec["stdout"]).group(1)
    server = re.search(r"servers in netns/\S+ \(([0-9.]+)\)", rec["stdout"]).group(1)
    services = assign([parse_service(s) for s in specs], pod_cidr, server)
    node = Netns.named(args[args.index("--name") + 1])
    return rec, service_steps(services, node, mode, str(service_cidr(pod_cidr))), services


@pytest.mark.parametrize("case", ["lab-up-services-text", "lab-up-legacy-text", "lab-up-nftables-text"])
def test_the_rules_are_the_ones_a_real_lab_up_ran(case):
    rec, steps, services = recorded_lab(case)
    assert recorded.ran_in_order(steps, rec)
    if "nftables" in case:
        assert recorded.stdins(rec, "nft") == [nft_ruleset(services)]
    for s in services:  # as lab up printed them
        to = f"{s.endpoint}:{s.target_port}" if s.endpoint else "no endpoints"
        assert f"service {s.ref} {s.cluster_ip}:{s.port}/{s.protocol} -> {to}" in rec["stdout"]


def test_a_service_without_endpoints_does_not_end_the_rules_of_the_services_after_it():
    empty, web = lab_services("empty:81:none", "web:80")
    text = nft_ruleset([empty, web])
    assert 'reject comment "default/empty has no endpoints"' in text
    assert f"ip daddr {web.cluster_ip} tcp dport 80 counter goto service-" in text
    assert "dnat to 198.18.1.3:8080" in text
    rules = [" ".join(r) for r in iptables_rules([empty, web])]
    assert "has no endpoints" in rules[-7] and f"-j DNAT --to-destination {SERVER}:8080" in rules[-1]
