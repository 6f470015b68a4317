"""What every worker process of ours does first."""

import ctypes
import ctypes.util
import os
import signal
import sys


def die_with_parent() -> None:
    """A worker must not outlive a killed parent (Linux: PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def one_render_thread() -> None:
    """One core per worker: Mesa's llvmpipe would otherwise start a render thread per core
    in every worker, and the workers would fight over them (measured in bench/collect.py)."""
    os.environ.setdefault("LP_NUM_THREADS", "1")
