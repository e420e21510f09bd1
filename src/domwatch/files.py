"""Files domwatch writes: atomically, with the right permissions, and nothing left behind.

* Reports are the operator's files: a new one gets the mode the umask gives (as ``>`` in a
  shell would), a replaced one keeps its mode.
* The state file and the cache hold what was seen and told (and notification bookkeeping):
  mode 0600 in directories domwatch creates 0700.
* A write goes to a temporary ``.NAME.*`` file next to the target and is renamed over it, so a
  reader sees the old file or the new one. A run interrupted by Ctrl-C removes its temporary
  file (:func:`abandon_writes`); one killed outright leaves it, and the next save of the same
  file, made under the state lock, removes such leftovers (:func:`remove_stale_temps`).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

_in_progress: set[str] = set()
_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it, and set it back
    os.umask(mask)
    return mask


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; the directory domwatch creates is 0700."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        with contextlib.suppress(OSError):
            os.chmod(path, PRIVATE_DIR)  # mkdir's mode is cut by the umask; 0700 is meant
    return path


def temp_prefix(path: Path) -> str:
    """The name prefix of the temporary files written for ``path``."""
    return f".{path.name}."


def write_atomically(
    path: Path, data: str | bytes | Iterable[str], *, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` (or its pieces, written as they come) so readers never
    see half a file.

    ``mode`` None: an existing file keeps its mode, a new one gets what the umask allows
    (0666 less the umask); otherwise exactly ``mode``.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), dir=directory)  # created 0600
    with _lock:
        _in_progress.add(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                for piece in [data] if isinstance(data, str) else data:
                    handle.write(piece.encode("utf-8"))
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        with _lock:
            _in_progress.discard(tmp)


def abandon_writes() -> None:
    """Remove the temporary files of writes still in progress (the process is about to end)."""
    with _lock:
        pending = list(_in_progress)
    for tmp in pending:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def remove_stale_temps(path: Path) -> int:
    """Remove temporary files a killed run left beside ``path``; how many were removed.

    Only safe while no other process can be writing ``path`` (the state lock is held).
    """
    removed = 0
    directory = path.parent if str(path.parent) else Path(".")
    prefix = temp_prefix(path)
    with _lock:
        ours = set(_in_progress)
    try:
        candidates = [p for p in directory.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return 0
    for candidate in candidates:
        if str(candidate) in ours or not candidate.is_file() or candidate.is_symlink():
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed += 1
    return removed
