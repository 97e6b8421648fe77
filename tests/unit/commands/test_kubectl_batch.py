"""commands/kubectl.py: an ip batch for the debugging image's own tools (--tools image)."""


def test_an_image_batch_names_the_node_s_netns_file():
    """--tools image: a batch line's `netns NAME` would be looked up in the image's /var/run/netns (main's
    `ip -batch -` attach made the pair with a name the image does not have); a path or an id stays."""
    from vethctl.commands.kubectl import image_batch

    text = (
        "link add vh-1 type veth peer name vp-1 netns cni-1\nlink set vp-2 netns /proc/7/ns/net\naddr add x\n"
    )
    assert image_batch(text) == (
        "link add vh-1 type veth peer name vp-1 netns /host/run/netns/cni-1\n"
        "link set vp-2 netns /proc/7/ns/net\naddr add x\n"
    )
