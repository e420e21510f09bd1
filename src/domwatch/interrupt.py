"""Ctrl-C ends a run at once: one line, exit status 130, no tracebacks, no stray files.

Letting ``KeyboardInterrupt`` unwind a run means cancelling a thousand tasks, each of which
may log its own traceback, and then waiting for worker threads stuck in DNS or a slow server.
Nothing a run has not finished is worth that wait: the report is not written yet, the state
and cache are changed only by atomic renames and SQLite commits. So the handler removes the
temporary file of any write in progress, says ``domwatch: interrupted`` and leaves with
``os._exit(130)``, which neither runs nor waits for anything else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from domwatch.files import abandon_writes

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
_SHOW_CURSOR = b"\r\x1b[K\x1b[?25h"  # a progress bar on a terminal hides the cursor


def _on_interrupt(_signum: int, _frame: FrameType | None) -> None:
    abandon_writes()
    prefix = _SHOW_CURSOR if _isatty(2) else b""
    # os.write, not sys.stderr: the handler may interrupt a write to sys.stderr itself.
    with contextlib.suppress(OSError):
        os.write(2, prefix + b"domwatch: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


@contextlib.contextmanager
def exit_on_interrupt() -> Iterator[None]:
    """While active (in the main thread), SIGINT ends the process as the module says."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, _on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
