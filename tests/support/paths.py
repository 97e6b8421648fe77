"""Where the tests' inputs are: recorded fixtures, and the shared corpus of real captures."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
# tcpdump's regression captures: $VETHCTL_TCPDUMP_CORPUS, else shared/ beside the work tree (as on CI), else
# /work/shared; read in place, never copied into the project
_CORPUS_CANDIDATES = [
    os.environ.get("VETHCTL_TCPDUMP_CORPUS", ""),
    str(ROOT.parent / "shared" / "corpus" / "tcpdump-tests"),
    "/work/shared/corpus/tcpdump-tests",
]
CORPUS = next((Path(c) for c in _CORPUS_CANDIDATES if c and Path(c).is_dir()), Path(_CORPUS_CANDIDATES[-1]))
