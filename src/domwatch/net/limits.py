"""Politeness per server: how many connections one server gets at once, and how many queries.

Every WHOIS ``host:port`` and every RDAP server (``https://host[:port]``) has its own
:class:`Limiter`: a concurrency cap and one or more sliding-window quotas ("5 per second",
"1000 per day"), independent of the run's ``--concurrency``. Requests queue in FIFO order; time
spent queued is not charged to a domain's :class:`Budget`, because it is the price of being
polite, not a sign that the server is failing.

A rate-limit reply (WHOIS text, RDAP 429) is a *strike*. It slows that server only: its
concurrency is halved, it is paused (``Retry-After``, else a short jittered backoff), and
either a quota is learned from what the server let through in the last minute (at the first
strike when it let at least two through: its limit was reached with that many, and most
servers count per minute, so at that pace it is not struck again) or, with nothing to learn
from, its quotas are halved; at the second strike in a row both.
After :data:`BLOCK_AFTER` strikes in a row the server is given up on for the rest of the run.

Defaults (researched; published figures where there are any):

* Nominet (``whois.nic.uk``): 5 queries per second and 1,000 per rolling 24 hours; exceeding
  either gets a block (Nominet WHOIS acceptable use policy).
* Traficom (``whois.fi``): 5 queries per second and 10,000 per 24 hours from one address, or a
  24-hour block (the FICORA/Traficom conditions of the .fi WHOIS service).
* CentralNic (``whois.centralnic.com``): 1,800 queries per 15 minutes per /24.
* PIR (``whois.publicinterestregistry.org``): port 43 is rate limited per address ("WHOIS LIMIT
  EXCEEDED") but no figure is published; its only published figure is 30 queries per minute
  (web WHOIS for registrars), used here.
* DENIC (``whois.denic.de``): no figure published; DENIC varies the limit with load and
  lengthens the block when a client keeps asking (a test reported a stop after five queries in
  a row). Verisign (``whois.verisign-grs.com``): no figure published. Both get the default.
* Any other public WHOIS server: one query at a time, at most one per second. Any other RDAP
  server: four at a time, five per second (RDAP says 429 with ``Retry-After`` when it objects).
* A server given as a loopback or private IP address (a lab, an intranet mirror) is the
  operator's own: no pacing unless configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from domwatch.config import Settings

BLOCK_AFTER = 5  # strikes in a row (no answer in between) after which a server is given up on
LEARN_WINDOW = 60.0  # the window a learned quota assumes: most servers count per minute
MAX_QUEUE_WAIT = 900.0  # a quota that frees up later than this (a daily one) fails fast
MAX_PAUSE = 60.0

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Quota:
    """At most ``count`` query starts in any sliding window of ``seconds``."""

    count: int
    seconds: float

    def __str__(self) -> str:
        units = (("day", 86400.0), ("hour", 3600.0), ("minute", 60.0), ("second", 1.0))
        for unit, length in units:
            if self.seconds == length:
                return f"{self.count} per {unit}"
        return f"{self.count} per {self.seconds:g} s"

    def halved(self) -> Quota:
        """Half the rate: half the count, or twice the window once the count is 1."""
        if self.count >= 2:
            return Quota(self.count // 2, self.seconds)
        return Quota(1, self.seconds * 2)

    @property
    def margin(self) -> float:
        # Our start is not the server's arrival: connect, TLS and scheduling jitter vary by
        # tens of milliseconds, so each window is kept a little longer than the server's.
        return min(self.seconds * 0.02, 2.0) + 0.1


@dataclass(frozen=True)
class ServerLimit:
    """Concurrency and quotas for one server; ``None`` leaves the default's value in place."""

    concurrency: int | None = None
    quotas: tuple[Quota, ...] | None = None

    def over(self, base: ServerLimit) -> ServerLimit:
        """This limit with ``base`` filling in what it leaves unset."""
        return ServerLimit(
            self.concurrency if self.concurrency is not None else base.concurrency,
            self.quotas if self.quotas is not None else base.quotas,
        )

    def __str__(self) -> str:
        quotas = "default quotas" if self.quotas is None else (
            ", ".join(str(q) for q in self.quotas) or "no quota"
        )
        at_once = "default" if self.concurrency is None else str(self.concurrency)
        return f"{at_once} at once, {quotas}"


PER_SECOND, PER_MINUTE, PER_HOUR, PER_DAY = 1.0, 60.0, 3600.0, 86400.0

DEFAULT_WHOIS = ServerLimit(1, (Quota(1, PER_SECOND),))
DEFAULT_RDAP = ServerLimit(4, (Quota(5, PER_SECOND),))
LOCAL = ServerLimit(8, ())  # loopback / private address literals: the operator's own server

KNOWN_LIMITS: dict[str, ServerLimit] = {
    "whois.nic.uk:43": ServerLimit(1, (Quota(5, PER_SECOND), Quota(1000, PER_DAY))),
    "whois.fi:43": ServerLimit(1, (Quota(5, PER_SECOND), Quota(10000, PER_DAY))),
    "whois.centralnic.com:43": ServerLimit(2, (Quota(2, PER_SECOND), Quota(1800, 900.0))),
    "whois.publicinterestregistry.org:43": ServerLimit(1, (Quota(30, PER_MINUTE),)),
}


def whois_key(host: str, port: int) -> str:
    """The limiter key of a WHOIS server."""
    host = host.lower().rstrip(".")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def rdap_key(url: str) -> str:
    """The limiter key of the RDAP server at ``url`` (one per host, whatever the path)."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    return f"{parts.scheme or 'https'}://{(parts.netloc or url).lower()}"


def _host_of(key: str) -> str:
    netloc = key.split("://", 1)[1] if "://" in key else key
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def is_local(key: str) -> bool:
    """True when the server is given as a loopback, private or link-local address literal."""
    try:
        address = ipaddress.ip_address(_host_of(key))
    except ValueError:
        return False
    return not address.is_global


class RateLimited(Exception):
    """The server refuses us for the rest of the run, or our own quota is used up for long."""


class Budget:
    """One domain's time for one source: network and backoff time count, queueing does not."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds still available (negative when overspent)."""
        return self.deadline - time.monotonic()

    def exclude(self, seconds: float) -> None:
        """Give back time that was spent waiting behind the server's limit."""
        self.deadline += max(seconds, 0.0)


@dataclass
class Ticket:
    """One admitted request; the caller marks it throttled when the answer was a rate limit."""

    limiter: Limiter
    started: float
    pause: float | None = None  # set by throttled()

    def throttled(self, retry_after: float | None = None) -> float:
        """Report a rate-limit reply; returns how long the server is now paused."""
        if self.pause is None:
            self.pause = self.limiter.strike(self, retry_after)
        return self.pause


@dataclass
class Limiter:
    """FIFO admission to one server under a concurrency cap and sliding-window quotas."""

    key: str
    concurrency: int = 1
    quotas: list[Quota] = field(default_factory=list)
    strike_pause: float = 1.0  # the first backoff without Retry-After; doubles per strike
    learn_window: float = LEARN_WINDOW
    clock: Callable[[], float] = time.monotonic
    strikes: list[float] = field(default_factory=list)  # when each rate-limit reply came
    blocked: str | None = None  # why the server is given up on for this run
    _active: int = 0
    _queue: deque[asyncio.Future[float]] = field(default_factory=deque)
    _starts: deque[float] = field(default_factory=deque)
    _answers: deque[float] = field(default_factory=deque)  # starts of non-throttled answers
    _paused_until: float = 0.0
    _slowed_at: float = -math.inf  # when the last slow-down happened
    _in_a_row: int = 0
    _learned: Quota | None = None
    _timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        """Requests queued behind this server's limits."""
        return sum(1 for f in self._queue if not f.done())

    @property
    def throttled(self) -> bool:
        """True once the server has sent a rate-limit reply this run."""
        return bool(self.strikes)

    def _all_quotas(self) -> list[Quota]:
        return [*self.quotas, self._learned] if self._learned is not None else list(self.quotas)

    def ready_in(self) -> float:
        """Seconds until the next start would be allowed (ignoring the queue)."""
        now = self.clock()
        delay = self._paused_until - now
        for quota in self._all_quotas():
            if len(self._starts) >= quota.count:
                oldest = self._starts[-quota.count]
                delay = max(delay, oldest + quota.seconds + quota.margin - now)
        return max(delay, 0.0)

    @contextlib.asynccontextmanager
    async def slot(self, budget: Budget | None = None) -> AsyncIterator[Ticket]:
        """Hold one of this server's slots for the duration of a request.

        Raises :class:`RateLimited` when the server has been given up on, or when a quota
        would keep every request waiting longer than :data:`MAX_QUEUE_WAIT`.
        """
        queued_at = self.clock()
        started = await self._acquire()
        if budget is not None:
            budget.exclude(started - queued_at)
        ticket = Ticket(self, started)
        try:
            yield ticket
        except BaseException:
            self._release()
            raise
        if ticket.pause is None:
            self._answered(ticket)
        self._release()

    async def _acquire(self) -> float:
        """Wait for admission; returns the start time."""
        if self.blocked is not None:
            raise RateLimited(self.blocked)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._queue.append(future)
        self._pump()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release()  # admitted just as the caller was cancelled: give it back
            raise

    def _release(self) -> None:
        self._active -= 1
        self._pump()

    def _pump(self) -> None:
        """Admit queued requests while a slot is free and the quotas allow."""
        while self._queue and self._active < self.concurrency:
            head = self._queue[0]
            if head.done():  # cancelled while queued
                self._queue.popleft()
                continue
            if self.blocked is not None:
                self._fail_all(self.blocked)
                return
            delay = self.ready_in()
            if delay > MAX_QUEUE_WAIT:
                self._fail_all(
                    f"{self.key}: our own limit ({self._binding_quota()}) would keep the "
                    f"next query waiting {delay / 60:.0f} minutes"
                )
                return
            if delay > 0:
                self._wake_in(delay)
                return
            self._queue.popleft()
            self._active += 1
            now = self.clock()
            self._starts.append(now)
            self._prune()
            head.set_result(now)

    def _binding_quota(self) -> Quota | None:
        quotas = self._all_quotas()
        return max(quotas, key=lambda q: q.seconds) if quotas else None

    def _wake_in(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        if self._timer is not None and not self._timer.cancelled():
            if self._timer.when() <= when:
                return  # an earlier wake-up will re-check anyway
            self._timer.cancel()
        self._timer = loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    def _fail_all(self, reason: str) -> None:
        while self._queue:
            future = self._queue.popleft()
            if not future.done():
                future.set_exception(RateLimited(reason))

    def _prune(self) -> None:
        # Keep what the longest quota (and the learning window) still needs to look at.
        longest = max((q.count for q in self._all_quotas()), default=0)
        horizon = self.clock() - self.learn_window - 5.0
        while len(self._starts) > longest and self._starts[0] < horizon:
            self._starts.popleft()
        while self._answers and self._answers[0] < horizon:
            self._answers.popleft()

    def let_through(self) -> int:
        """Answers (not rate-limit replies) to queries started in the last learning window."""
        horizon = self.clock() - self.learn_window
        return sum(1 for t in self._answers if t >= horizon)

    def serving(self) -> bool:
        """True when the server still answers others: a wait for it is a pace, not a block."""
        return self.let_through() >= 2

    def _answered(self, ticket: Ticket) -> None:
        self._answers.append(ticket.started)
        if ticket.started >= self._slowed_at:
            self._in_a_row = 0  # an answer at the slowed-down pace: the pace is right

    def strike(self, ticket: Ticket, retry_after: float | None = None) -> float:
        """Record a rate-limit reply to ``ticket``; slow the server; return the pause."""
        now = self.clock()
        self.strikes.append(now)
        if ticket.started < self._slowed_at:
            # Sent before the last slow-down: the same overload, already answered for.
            return max(self._paused_until - now, retry_after or 0.0)
        self._in_a_row += 1
        self._slowed_at = now
        self.concurrency = max(1, self.concurrency // 2)
        let_through = self.let_through()
        if let_through >= 2 and self._in_a_row == 1:
            # It answered that many at our pace before objecting: the pace suits its short
            # window, and the limit it reached counts over a longer one. Which is unknown; a
            # minute is the common one: no more per minute than it let through in the last.
            self._learned = Quota(let_through, self.learn_window)
        else:
            self.quotas = [q.halved() for q in self.quotas] or [Quota(1, PER_SECOND)]
            if self._in_a_row >= 2:
                self._learned = Quota(max(1, let_through), self.learn_window)
        if self._in_a_row >= BLOCK_AFTER:
            self.blocked = (
                f"{self.key} answered {self._in_a_row} queries in a row with a rate limit; "
                "not asked again this run"
            )
        if retry_after is not None:
            pause = retry_after
        else:
            pause = min(self.strike_pause * 2 ** (self._in_a_row - 1), MAX_PAUSE)
        # Jitter, so that clients slowed down together do not come back together.
        pause *= random.uniform(1.0, 1.25)
        self._paused_until = max(self._paused_until, now + pause)
        with contextlib.suppress(RuntimeError):  # no running loop (unit use)
            self._pump()
        return pause


@dataclass
class Limits:
    """One :class:`Limiter` per server key (``host:port`` or ``https://host``)."""

    overrides: Mapping[str, ServerLimit] = field(default_factory=dict)
    known: Mapping[str, ServerLimit] = field(default_factory=lambda: dict(KNOWN_LIMITS))
    strike_pause: float = 1.0
    learn_window: float = LEARN_WINDOW
    _limiters: dict[str, Limiter] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The run's limits: built-in defaults under ``[settings.whois/rdap] limits``."""
        return cls(overrides=dict(settings.server_limits))

    def limit_for(self, key: str) -> ServerLimit:
        """The effective limit of ``key``: override over known over the default."""
        base = DEFAULT_RDAP if key.startswith(("https://", "http://")) else DEFAULT_WHOIS
        if is_local(key):
            base = LOCAL
        limit = self.known.get(key, ServerLimit()).over(base)
        override = self.overrides.get(key)
        return override.over(limit) if override is not None else limit

    def for_server(self, key: str) -> Limiter:
        """The limiter of ``key``, created on first use."""
        limiter = self._limiters.get(key)
        if limiter is None:
            limit = self.limit_for(key)
            limiter = Limiter(
                key,
                concurrency=limit.concurrency or 1,
                quotas=list(limit.quotas or ()),
                strike_pause=self.strike_pause,
                learn_window=self.learn_window,
            )
            self._limiters[key] = limiter
        return limiter

    @property
    def servers(self) -> list[Limiter]:
        """Every limiter used so far."""
        return list(self._limiters.values())

    @property
    def waiting(self) -> int:
        """Requests currently queued behind a server's limits."""
        return sum(limiter.waiting for limiter in self._limiters.values())

    @property
    def waiting_throttled(self) -> int:
        """Requests queued behind servers that have sent a rate-limit reply."""
        return sum(lim.waiting for lim in self._limiters.values() if lim.throttled)

    @property
    def strikes(self) -> int:
        """Rate-limit replies received this run, all servers together."""
        return sum(len(limiter.strikes) for limiter in self._limiters.values())



async def admit(
    items: Sequence[T],
    key: Callable[[T], str],
    run: Callable[[T], Awaitable[R]],
    *,
    per_key: int,
    total: int,
) -> list[R]:
    """``run(item)`` for every item, at most ``total`` at once and ``per_key`` per key.

    Results come back in input order. Items wait as plain references rather than as tasks,
    so ten thousand domains cost little memory; and the next item started is taken round
    robin from the keys (TLDs) that are below ``per_key``, so the domains of a registry that
    makes them wait (a per-minute quota) never hold up those of the others.
    """
    queues: dict[str, deque[int]] = {}
    for index, item in enumerate(items):
        queues.setdefault(key(item), deque()).append(index)
    turn = deque(queues)  # keys with items left, round robin
    busy = dict.fromkeys(queues, 0)
    results: dict[int, R] = {}
    tasks: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []
    finished = asyncio.Event()

    def start_more() -> None:
        while len(tasks) < total and turn and not failures:
            for _ in range(len(turn)):
                if busy[turn[0]] < per_key:
                    break
                turn.rotate(-1)
            else:
                break  # every key with items left is at its own limit
            name = turn[0]
            turn.rotate(-1)
            index = queues[name].popleft()
            if not queues[name]:
                turn.remove(name)
            busy[name] += 1
            tasks.add(asyncio.ensure_future(one(index, name)))
        if not tasks:
            finished.set()

    async def one(index: int, name: str) -> None:
        try:
            results[index] = await run(items[index])
        except Exception as exc:
            failures.append(exc)
        finally:
            busy[name] -= 1
            task = asyncio.current_task()
            if task is not None:
                tasks.discard(task)
            start_more()

    start_more()
    try:
        await finished.wait()
    finally:
        for task in list(tasks):
            task.cancel()
    if failures:
        raise failures[0]
    return [results[i] for i in range(len(items))]
