"""Network failures in words a person reads, never ``[Errno -2] Name or service not known``."""

from __future__ import annotations

import errno
import re
import socket

_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed by peer",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "no route to host",
    errno.EHOSTDOWN: "host is down",
    errno.ENETUNREACH: "network unreachable",
    errno.ENETDOWN: "network is down",
    errno.EADDRNOTAVAIL: "no local address to connect from",
    errno.EAFNOSUPPORT: "address family not supported (no IPv6 here?)",
    errno.EACCES: "not permitted (a firewall?)",
    errno.EPERM: "not permitted (a firewall?)",
}
_ERRNO_TAG = re.compile(r"\[Errno -?\d+\]\s*")


def os_error_words(exc: OSError, host: str | None = None) -> str:
    """What an ``OSError`` from a socket means, lower case, without its number."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {host}" if host else "cannot resolve the server's name"
    if exc.errno in _WORDS:
        return _WORDS[exc.errno]
    return without_errno(exc.strerror or str(exc)) or type(exc).__name__


def without_errno(text: str) -> str:
    """``text`` without ``[Errno N]`` tags, first letter lower case (it follows a colon)."""
    text = _ERRNO_TAG.sub("", text).strip()
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def first_os_error(exc: BaseException) -> OSError | None:
    """The first ``OSError`` in an exception's chain (libraries wrap socket errors)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno is not None:
            return cause
        cause = cause.__cause__ or cause.__context__
    return None
