"""iproute2's commands: links, addresses, routes, neighbours, the bridge fdb, namespaces."""

from __future__ import annotations

from vethctl.commands import Argv
from vethctl.model import IPAddress, IPInterface, Netns


def veth_add(host_name: str, pod_name: str, pod_netns: Netns, *, mtu: int | None) -> Argv:
    """Create the pair with the pod end straight inside the pod's namespace (no moment on the node)."""
    mtu_opt = ("mtu", str(mtu)) if mtu else ()
    return (
        "ip",
        "link",
        "add",
        host_name,
        *mtu_opt,
        "type",
        "veth",
        "peer",
        "name",
        pod_name,
        *mtu_opt,
        "netns",
        pod_netns.ref,
    )


def link_tag_up(name: str, alias: str) -> Argv:
    """Tag and bring up in one command. The kernel ignores `alias` on `ip link add`, so the tag comes here,
    right after creation. addrgenmode none: no IPv6 link-local address, so no DAD/RS/MLD noise."""
    return ("ip", "link", "set", "dev", name, "alias", alias, "addrgenmode", "none", "up")


def link_del(name: str) -> Argv:
    return ("ip", "link", "del", "dev", name)


def addr_add(address: IPInterface, dev: str) -> Argv:
    """IPv6 addresses with `nodad`: usable at once. With DAD the address stays tentative for about a second
    (it cannot be a source, and its Neighbor Solicitations are not answered), so a ping at once would fail."""
    extra = ("nodad",) if address.version == 6 else ()
    return ("ip", "addr", "add", address.with_prefixlen, "dev", dev, *extra)


def addr_show_json(dev: str | None = None) -> Argv:
    return ("ip", "-j", "addr", "show", *(("dev", dev) if dev else ()))


def link_show_json(dev: str | None = None) -> Argv:
    return ("ip", "-j", "-d", "link", "show", *(("dev", dev) if dev else ()))


def route_show_json(table: str = "all") -> Argv:
    return ("ip", "-j", "route", "show", "table", table)


def route_show(family: int = 4) -> Argv:
    """The main table of one family: `ip route show` alone is IPv4's, IPv6's needs -6."""
    return ("ip", "-j", *(("-6",) if family == 6 else ()), "route", "show")


def route_get_json(address: IPAddress) -> Argv:
    return ("ip", "-j", "route", "get", str(address))


def netns_add(name: str) -> Argv:
    return ("ip", "netns", "add", name)


def netns_del(name: str) -> Argv:
    return ("ip", "netns", "del", name)


def netns_list_json() -> Argv:
    """Every named namespace with its id as seen from here (`id` absent when it has none): one process, and
    complete, unlike an unfiltered `list-id`."""
    return ("ip", "-j", "netns", "list")


def netns_list_id(nsid: int) -> Argv:
    """The names behind netns ids. Ask for one id when you can: iproute2's unfiltered `list-id` dump stops
    after its first netlink batch (about 134 entries here), so on a busy node the id you want is missing."""
    return ("ip", "-j", "netns", "list-id", "nsid", str(nsid))


def neigh_show_json(address: IPAddress) -> Argv:
    return ("ip", "-j", "neigh", "show", "to", str(address))


def fdb_get_json(mac: str, bridge: str) -> Argv:
    return ("bridge", "-j", "fdb", "get", mac, "br", bridge)


def route_get_from_json(address: IPAddress, src: str | None, iif: str) -> Argv:
    """How the node routes a packet that arrives by `iif` (from `src`): the forwarding decision."""
    return ("ip", "-j", "route", "get", str(address), *(("from", src) if src else ()), "iif", iif)


# `ip -all netns exec CMD`'s output (a `netns: NAME` line before each namespace's answer), entering each
# namespace with nsenter: ip's own loop makes a mount namespace and remounts /sys for each one, which took
# up to 13 s for ~60 namespaces while others were being made and removed (the loop here: 0.3 s at most)
EVERY_NETNS = 'for f in {dir}/*; do [ -e "$f" ] || continue; printf "\\nnetns: %s\\n" "${{f##*/}}"; nsenter --net="$f" "$@"; done'


def in_every_netns(argv: Argv, netns_dir: str = "/var/run/netns") -> Argv:
    """ARGV in every named namespace, one command: `sh -c 'for f in /var/run/netns/*; ...' sh ARGV`."""
    return ("sh", "-c", EVERY_NETNS.format(dir=netns_dir), "sh", *argv)


def addr_holders_json(address: str) -> Argv:
    """In every named namespace at once (one command, a `netns: NAME` line before each one's answer, as
    `ip -all netns exec` prints them), the links holding `address`."""
    return in_every_netns(("ip", "-j", "addr", "show", "to", address))


def addr_to_json(address: str) -> Argv:
    """The links holding `address` (in the namespace the command runs in)."""
    return ("ip", "-j", "addr", "show", "to", address)


def veths_json() -> Argv:
    return ("ip", "-j", "link", "show", "type", "veth")


def link_json_all() -> Argv:
    """Every link of the namespace, without the details."""
    return ("ip", "-j", "link", "show")


def link_json(dev: str) -> Argv:
    """One link, without the details (-d) that link_show_json asks for."""
    return ("ip", "-j", "link", "show", "dev", dev)


def veth_pair(name: str, peer: str, peer_netns: str) -> Argv:
    return ("ip", "link", "add", name, "type", "veth", "peer", "name", peer, "netns", peer_netns)


def link_up(name: str) -> Argv:
    return ("ip", "link", "set", "dev", name, "up")


def link_alias_up(name: str, alias: str) -> Argv:
    return ("ip", "link", "set", "dev", name, "alias", alias, "up")


def addr_add_text(address: str, dev: str) -> Argv:
    return ("ip", "addr", "add", address, "dev", dev)


def route_add_default(gateway: str, dev: str) -> Argv:
    return ("ip", "route", "add", "default", "via", gateway, "dev", dev)
