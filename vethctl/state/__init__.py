"""What outlives one invocation: session and lab records (through a Host, on the node's machine), the
allocation lock. The truth is the kernel (tagged links, namespaces); records add what it cannot say.

The state directory is $VETHCTL_STATE_DIR, else /run/vethctl (gone on reboot, like the links), read when
used, not at import.
"""

from __future__ import annotations

import os

DEFAULT_STATE_DIR = "/run/vethctl"


def state_dir() -> str:
    return os.environ.get("VETHCTL_STATE_DIR") or DEFAULT_STATE_DIR
