"""A WHOIS server (RFC 3912) for the lab: one query line in, one answer out, then close.

Answers are looked up by the exact query line, then by the domain (the last token of the
line), then ``default``. It can rate-limit and misbehave per domain like real port-43 servers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import time
from collections.abc import Callable, Mapping
from typing import Literal, Union

from domwatch.lab.runner import close_tracked_server, start_tracked_server

# Union spelled out because the alias is evaluated at runtime on Python 3.10 too.
Text = Union[str, bytes]  # noqa: UP007
Answer = Union[Text, Callable[[str], Text]]  # noqa: UP007
WhoisBehaviour = Literal["silent", "close", "garbage", "endless", "huge"]

_BEHAVIOURS = ("silent", "close", "garbage", "endless", "huge")
_MAX_LINE = 1024
_HUGE_SIZE = 10 * 1024 * 1024


def domain_of(query: str) -> str:
    """The domain a query line asks about: last token, lower case, no ``/e`` (JPRS) or dot."""
    tokens = query.split()
    if not tokens:
        return ""
    domain = tokens[-1].lower()
    if domain.endswith("/e"):
        domain = domain[:-2]
    return domain.rstrip(".")


class WhoisServer:
    """WHOIS server on TCP; see the module docstring for how answers are chosen.

    A callable answer (or default) is called with the full query line. ``{query}`` in a string
    ``default`` is replaced by the domain. ``rate_limit=(n, seconds)`` answers at most ``n``
    queries per sliding window of ``seconds``; refused queries do not count towards it.
    """

    def __init__(
        self,
        answers: Mapping[str, Answer],
        *,
        default: Answer = 'No match for "{query}".\r\n',
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        rate_limit_text: str = (
            "Your connection limit exceeded. Please slow down and try again later.\r\n"
        ),
        behaviours: Mapping[str, WhoisBehaviour] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.rate_limit = rate_limit
        self.rate_limit_text = rate_limit_text
        self.default = default
        self.answers: dict[str, Answer] = dict(answers)
        self._by_domain = {domain_of(key): value for key, value in answers.items()}
        self.behaviours: dict[str, WhoisBehaviour] = {}
        for name, behaviour in (behaviours or {}).items():
            self.set_behaviour(name, behaviour)
        self.queries: list[str] = []
        self.limited: list[float] = []
        self._served: collections.deque[float] = collections.deque()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.BaseTransport] = set()
        self._stopping: asyncio.Event | None = None

    @property
    def address(self) -> str:
        """``host:port``, the form ``[settings.whois] servers`` takes."""
        return f"{self.host}:{self.port}"

    def set_behaviour(self, domain: str, behaviour: WhoisBehaviour | None) -> None:
        """Make queries for ``domain`` misbehave (``None`` restores normal answers)."""
        if behaviour is not None and behaviour not in _BEHAVIOURS:
            raise ValueError(f"unknown WHOIS behaviour {behaviour!r}")
        key = domain_of(domain)
        if behaviour is None:
            self.behaviours.pop(key, None)
        else:
            self.behaviours[key] = behaviour

    async def start(self) -> None:
        """Bind and start accepting connections (``port`` is set to the bound port)."""
        self._stopping = asyncio.Event()
        self._server = await start_tracked_server(
            self._handle, self.host, self.port, self._transports
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop accepting and drop every open connection, silent and endless ones included."""
        if self._stopping is not None:
            self._stopping.set()
        if self._server is not None:
            await close_tracked_server(self._server, self._transports)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def answer_for(self, query: str) -> bytes:
        """The answer ``query`` gets when nothing special (limit, behaviour) applies."""
        domain = domain_of(query)
        answer = self.answers.get(query)
        if answer is None:
            answer = self._by_domain.get(domain)
        if answer is None:
            answer = self.default
            if isinstance(answer, str):
                answer = answer.replace("{query}", domain)
        if callable(answer):
            answer = answer(query)
        return answer.encode("utf-8") if isinstance(answer, str) else answer

    def _over_limit(self) -> bool:
        if self.rate_limit is None:
            return False
        limit, window = self.rate_limit
        now = time.monotonic()
        while self._served and now - self._served[0] >= window:
            self._served.popleft()
        if len(self._served) >= limit:
            self.limited.append(now)
            return True
        self._served.append(now)
        return False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        except asyncio.CancelledError:
            # stop() cancels open handlers; re-raising would make asyncio log each one as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_line(self, reader: asyncio.StreamReader) -> bytes:
        line = b""
        while b"\n" not in line and len(line) < _MAX_LINE:
            chunk = await reader.read(_MAX_LINE - len(line))
            if not chunk:
                break
            line += chunk
        return line.split(b"\n", 1)[0].rstrip(b"\r")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        query = (await self._read_line(reader)).decode("utf-8", "replace")
        self.queries.append(query)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self._over_limit():
            writer.write(self.rate_limit_text.encode("utf-8"))
            await writer.drain()
            return
        behaviour = self.behaviours.get(domain_of(query))
        if behaviour == "close":
            return
        if behaviour == "silent":
            assert self._stopping is not None
            await self._stopping.wait()
            return
        if behaviour == "garbage":
            writer.write(os.urandom(4096))
        elif behaviour == "endless":
            await self._endless(writer, query)
        elif behaviour == "huge":
            await self._huge(writer, query)
        else:
            writer.write(self.answer_for(query))
        await writer.drain()

    @staticmethod
    async def _endless(writer: asyncio.StreamWriter, query: str) -> None:
        """Trickle lines until the client gives up (or the server stops)."""
        n = 0
        while not writer.is_closing():
            n += 1
            writer.write(f"% still looking up {domain_of(query)} ... {n}\r\n".encode())
            await writer.drain()
            await asyncio.sleep(0.05)

    @staticmethod
    async def _huge(writer: asyncio.StreamWriter, query: str) -> None:
        """About 10 MB of plausible WHOIS text, then close."""
        line = f"% Remark: {domain_of(query)} " + "x" * 100 + "\r\n"
        block = line.encode() * 1000
        for _ in range(_HUGE_SIZE // len(block) + 1):
            writer.write(block)
            await writer.drain()
