"""Atomic file writes: write a temporary file in the target directory, fsync, then rename.

An interrupted write (crash, Ctrl-C, full disk) leaves the previous file untouched: readers see
either the old complete file or the new complete file, never a mix. A process killed outright
(SIGKILL, power loss) in the middle of a write leaves its temporary file behind, named
``.<name>.<8 random characters>.tmp`` beside the target; ``remove_stale_temps`` deletes those,
and must only be called by the one writer of the target (the training run holding its lock).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_SUFFIX, dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files an interrupted ``atomic_write_*`` of ``path`` left behind.

    Only names of the exact form ``mkstemp`` gives them here (``.<name>.XXXXXXXX.tmp``) are
    removed, so the temporaries of other files in the directory are left alone.

    Returns:
        The paths removed.
    """
    target = Path(path)
    # mkstemp's random part: 8 characters of [a-z0-9_]
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}{re.escape(_SUFFIX)}")
    removed = []
    if target.parent.is_dir():
        for p in target.parent.iterdir():
            if pattern.fullmatch(p.name) and p.is_file():
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed.append(p)
    return removed
