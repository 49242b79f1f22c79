"""``RunLock``: one training run at a time per checkpoint, even across processes.

The lock is an advisory ``fcntl.flock`` (``msvcrt.locking`` on Windows) on a lock file beside
the checkpoint (``<checkpoint>.lock``), taken without waiting: a second run on the same
checkpoint fails at once with ``RunLockedError`` naming the process that holds it. The kernel
releases the lock when its process ends, however it ends, so a run killed with SIGKILL leaves at
most a lock *file* behind, never a held lock: the next run simply takes it. (A lock file created
with ``O_EXCL`` would instead need a pid check to tell a stale file from a live run, and pids are
reused.) The holder's pid is written into the file for the message only.

Within one process the lock is re-entrant (the ``glassnet`` command holds it for the whole run
and the ``Trainer`` takes it again for ``fit``). Advisory locks need a local file system; on
network file systems without ``flock`` support they may not exclude other machines.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

_HELD: dict[str, list[Any]] = {}  # resolved lock path -> [file descriptor, depth]


class RunLockedError(RuntimeError):
    """Another process holds the lock of this checkpoint."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(path.read_text().strip() or "x")
        return f"process {pid}"
    return "another process"


class RunLock:
    """Exclusive lock on ``<path>.lock`` held while the ``with`` block runs.

    Args:
        path: the checkpoint (or any file) the run writes; the lock file is ``<path>.lock``.
        what: how to name the locked thing in the error (default: the path).

    Raises:
        RunLockedError: another process holds the lock.
    """

    def __init__(self, path: str | os.PathLike[str], what: str | None = None) -> None:
        self.path = Path(str(path) + ".lock")
        self.what = what or str(path)

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = self._key = str(self.path.resolve())
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
            return self
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                raise RunLockedError(
                    f"{self.what} is in use by {_holder(self.path)} (lock file {self.path}); "
                    "wait for that run to finish or choose another output"
                )
            # The file may have been unlinked by the previous holder between our open and our
            # lock: then we hold a lock nobody else can see. Retry on the file now at the path.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[key] = [fd, 1]
        return self

    def __exit__(self, *exc: object) -> None:
        key = self._key
        held = _HELD[key]
        held[1] -= 1
        if held[1]:
            return
        del _HELD[key]
        with contextlib.suppress(OSError):  # Windows keeps an open file: it stays, harmless
            self.path.unlink()  # while still holding it: see the samestat check above
        os.close(held[0])  # releases the lock
