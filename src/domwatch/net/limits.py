"""Politeness per server: how many connections one host gets at once, and how often."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class Limiter:
    """At most ``concurrency`` requests in flight and ``rate`` starts per second to one server.

    When the server says it is overloaded, :meth:`back_off` pauses every caller of this server
    (and only this server) so that the next try is not another strike.
    """

    concurrency: int = 4
    rate: float = 10.0  # starts per second
    _sem: asyncio.Semaphore | None = None
    _next_start: float = 0.0
    _paused_until: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of this server's slots for the duration of a request."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        self.waiting += 1
        queued = True
        try:
            async with self._sem:
                await self._pace()
                self.waiting -= 1
                queued = False
                yield
        finally:
            if queued:  # cancelled while still waiting for a slot
                self.waiting -= 1

    async def _pace(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start, self._paused_until)
            self._next_start = start + 1.0 / self.rate
        delay = start - now
        if delay > 0:
            await asyncio.sleep(delay)

    def back_off(self, seconds: float) -> None:
        """Pause new requests to this server for ``seconds`` and slow it down afterwards."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self.rate = max(self.rate / 2, 0.2)


@dataclass
class Limits:
    """One :class:`Limiter` per server key (``host:port`` or an RDAP base URL)."""

    concurrency: int = 4
    rate: float = 10.0
    overrides: dict[str, tuple[int, float]] = field(default_factory=dict)
    _limiters: dict[str, Limiter] = field(default_factory=dict)

    def for_server(self, key: str) -> Limiter:
        """The limiter of ``key``, created on first use."""
        limiter = self._limiters.get(key)
        if limiter is None:
            concurrency, rate = self.overrides.get(key, (self.concurrency, self.rate))
            limiter = Limiter(concurrency=concurrency, rate=rate)
            self._limiters[key] = limiter
        return limiter

    @property
    def waiting(self) -> int:
        """Requests currently queued behind a server's limit."""
        return sum(limiter.waiting for limiter in self._limiters.values())
