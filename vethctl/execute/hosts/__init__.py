"""Where the node's commands run, behind one interface: base (the interface), local (this machine), remote
(files read with small commands), ssh, kubectl_debug (a node debugging pod), registry (one per place)."""
