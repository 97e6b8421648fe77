"""Pure argv builders: each returns the exact command a person would type, as a tuple of strings.

Nothing here runs anything or quotes anything (quoting happens once, in render.py).
"""

from __future__ import annotations

from vethctl.model import IPAddress, IPInterface, Netns

Argv = tuple[str, ...]


def in_netns(netns: Netns | None, argv: Argv) -> Argv:
    """Run argv inside a namespace: `ip -n NAME ...` for ip itself, `ip netns exec NAME` for other tools,
    `nsenter --net=PATH` for a namespace that has no name."""
    if netns is None:
        return argv
    if netns.name is None:
        return ("nsenter", f"--net={netns.path}", *argv)
    if argv[:1] == ("ip",):
        return ("ip", "-n", netns.name, *argv[1:])
    return ("ip", "netns", "exec", netns.name, *argv)


def veth_add(host_name: str, pod_name: str, pod_netns: Netns, *, mtu: int | None) -> Argv:
    """Create the pair with the pod end straight inside the pod's namespace (no moment on the node)."""
    mtu_opt = ("mtu", str(mtu)) if mtu else ()
    return (
        "ip", "link", "add", host_name, *mtu_opt,
        "type", "veth", "peer", "name", pod_name, *mtu_opt, "netns", pod_netns.ref,
    )  # fmt: skip


def link_tag_up(name: str, alias: str) -> Argv:
    """Tag and bring up in one command. The kernel ignores `alias` on `ip link add`, so the tag comes here,
    right after creation. addrgenmode none: no IPv6 link-local address, so no DAD/RS/MLD noise."""
    return ("ip", "link", "set", "dev", name, "alias", alias, "addrgenmode", "none", "up")


def link_del(name: str) -> Argv:
    return ("ip", "link", "del", "dev", name)


def addr_add(address: IPInterface, dev: str) -> Argv:
    extra = ("nodad",) if address.version == 6 else ()
    return ("ip", "addr", "add", address.with_prefixlen, "dev", dev, *extra)


def addr_show_json(dev: str | None = None) -> Argv:
    return ("ip", "-j", "addr", "show", *(("dev", dev) if dev else ()))


def link_show_json(dev: str | None = None) -> Argv:
    return ("ip", "-j", "-d", "link", "show", *(("dev", dev) if dev else ()))


def route_show_json(table: str = "all") -> Argv:
    return ("ip", "-j", "route", "show", "table", table)


def route_show() -> Argv:
    return ("ip", "-j", "route", "show")


def route_get_json(address: IPAddress) -> Argv:
    return ("ip", "-j", "route", "get", str(address))


def tcpdump(iface: str, *, filter_expr: str, pcap: str | None = None, count: int | None = None) -> Argv:
    """tcpdump as the parsers expect it: -nn -tt -e -l; immediate mode so each packet prints as it arrives."""
    write = ("-w", pcap, "--print") if pcap else ()
    limit = ("-c", str(count)) if count else ()
    expr = (filter_expr,) if filter_expr else ()
    return ("tcpdump", "-i", iface, "-nn", "-tt", "-e", "-l", "--immediate-mode", *limit, *write, *expr)


def tcpdump_check_filter(filter_expr: str, iface: str | None = None) -> Argv:
    """Compile the filter without capturing (`-d`): a bad filter is caught before anything is changed."""
    return ("tcpdump", *(("-i", iface) if iface else ()), "-d", filter_expr)


def ping(address: IPAddress, *, count: int, interval: float, wait: int | None = None) -> Argv:
    """The person's `ping -c N`, plus -n (no DNS) and -D (timestamps, to line ping up with the packets).

    No -w: with a deadline ping stops at the first error and hides the walkthrough's three
    "Destination Host Unreachable" lines."""
    wait_opt = ("-W", str(wait)) if wait else ()  # how long to wait for a late reply (ping's default: 10 s)
    return ("ping", "-n", "-D", "-c", str(count), "-i", _num(interval), *wait_opt, str(address))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


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


def cni(
    plugin_path: str, command: str, *, container_id: str, netns_path: str, ifname: str, cni_path: str
) -> Argv:
    """A CNI plugin invoked exactly as a container runtime does: environment, config on stdin."""
    return (
        "env", f"CNI_COMMAND={command}", f"CNI_CONTAINERID={container_id}", f"CNI_NETNS={netns_path}",
        f"CNI_IFNAME={ifname}", f"CNI_PATH={cni_path}", plugin_path,
    )  # fmt: skip


def neigh_show_json(address: IPAddress) -> Argv:
    return ("ip", "-j", "neigh", "show", "to", str(address))


def fdb_get_json(mac: str, bridge: str) -> Argv:
    return ("bridge", "-j", "fdb", "get", mac, "br", bridge)


def probe(address: IPAddress) -> Argv:
    """One echo request, to make the kernel resolve the neighbour (fills `ip neigh`)."""
    return ("ping", "-n", "-q", "-c", "1", "-W", "1", str(address))
