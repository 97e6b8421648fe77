"""Running things: the only layer that spawns processes (plumbum, subprocess).

executor.py  plan steps run on a host, their results journalled, the undo stack unwound on any failure
processes.py children owned from their spawn, signals held while clean-up runs
stopping.py  how a background capture ends without losing its last packets
hosts/       where commands run: this machine, over ssh, through a node debugging pod; one registry
facts.py     read-only looks through an executor, decoded (ip -j ...)
preflight.py the checks before anything changes: tools, privileges, the capture filter, output paths
tools.py     which package brings each tool
"""
