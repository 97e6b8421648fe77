"""What outlives one invocation: session and lab records (through a Host, on the node's machine), the
allocation lock. The truth is the kernel (tagged links, namespaces); records add what it cannot say.

Sessions live in the state directory: $VETHCTL_STATE_DIR, else /run/vethctl (gone on reboot, like the
links), read when used, not at import. What belongs to the machine itself, whoever asks, is always under
/run/vethctl: the allocation lock (subnets and lab CIDRs are the machine's, so one lock serialises every
allocation on it) and the lab registry (a lab node is a namespace of the machine).
"""

from __future__ import annotations

import os

DEFAULT_STATE_DIR = "/run/vethctl"


def state_dir() -> str:
    return os.environ.get("VETHCTL_STATE_DIR") or DEFAULT_STATE_DIR


def machine_dir() -> str:
    return DEFAULT_STATE_DIR
