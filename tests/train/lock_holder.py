"""A second process holding a ``RunLock``, for the lock tests of the trainer and the command."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

# lock.py imports nothing of glassnet: the child loads it alone, without the package's import time
_HOLD = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("lock", sys.argv[2])
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)
with lock.RunLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


@contextlib.contextmanager
def lock_held_elsewhere(path: os.PathLike[str]) -> Iterator[subprocess.Popen[str]]:
    """Another process holds ``RunLock(path)`` inside the block; it is SIGKILLed on exit."""
    from glassnet.train import lock

    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path), lock.__file__], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
        yield proc
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
