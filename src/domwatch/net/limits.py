"""Politeness per server: how many connections one server gets at once, and how many queries.

Every WHOIS ``host:port`` and every RDAP server (``https://host[:port]``) has its own
:class:`Limiter`: a concurrency cap and one or more sliding-window paces ("5 per second",
"1000 per day"), independent of the run's ``--concurrency``. Requests queue in FIFO order; time
spent queued is not charged to a domain's :class:`Budget`, because it is the price of being
polite, not a sign that the server is failing.

**Margin.** A server counts queries when they *arrive*, and arrival lags our start by a
delay that varies from query to query (a cold first connection, a TLS handshake, the network).
Pacing "5 per second" by our own start times lets that jitter put a sixth arrival inside the
server's second. So a query counts in our window from before its connection until its answer,
the latest it can have arrived: whatever the jitter, the server never sees more in its window
than we count in ours. Each window is also kept a little longer than the server's (20 ms, and
0.5 % of long windows, for clock skew). The cost is ``latency / (window + latency)`` of the
pace: nothing measurable on windows of a minute or more, 10-20 % of a per-second pace at
typical latencies.

**Strikes.** A rate-limit reply (WHOIS text, RDAP 429) is a *strike*. It is explained by the
shortest window that explains it, and only that window's pace changes:

* at the edge of a published or configured pace, the server's figure stands and the strike
  was the server counting a little differently (clock skew, rounding): the margin grows, that
  pace drops to three quarters and climbs back one query per window (AIMD); nothing slower is
  learned;
* otherwise the shortest window (1 s, 1 min, 1 h, or a configured one) in which the server has
  just been asked more than it ever accepted before is its limit: as many per window as it
  accepted, learned from then on. So a burst within a second teaches a per-second pace, and a
  per-minute limit is learned only when the per-second pace does not explain the strike,
  which is the case when strikes repeat after the per-second pace was cut;
* a strike nothing explains cuts the shortest pace the same way (without any pace, the
  concurrency is halved and one per second imposed).

The server also pauses (``Retry-After`` when it says, else a short backoff that doubles per
strike in a row); after :data:`BLOCK_AFTER` strikes in a row it is given up on for the run.

**Unknown limits.** An RDAP server without a published figure starts at the polite default
(five per second) and climbs while it answers: one query above the most it has accepted in a
window, one such probe in flight at a time (additive increase), so overshooting costs a single
429 and the pace it had reached is learned (the decrease). A WHOIS server without a published
figure stays at the polite default (one per second): a strike there can mean a day's block.

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
  server: four at a time, five per second to begin with (see "Unknown limits").
* A server given as a loopback or private IP address (a lab, an intranet mirror) is the
  operator's own: no pacing unless configured.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ipaddress
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from domwatch.errors import RateLimited

if TYPE_CHECKING:
    from domwatch.settings import Settings

log = logging.getLogger("domwatch.limits")

BLOCK_AFTER = 5  # strikes in a row (no answer in between) after which a server is given up on
MAX_QUEUE_WAIT = 900.0  # a pace that frees up later than this (a daily one) fails fast
MAX_PAUSE = 60.0
PER_SECOND, PER_MINUTE, PER_HOUR, PER_DAY = 1.0, 60.0, 3600.0, 86400.0
LEARN_WINDOWS = (PER_SECOND, PER_MINUTE, PER_HOUR)  # the windows servers are known to count in
SERVING_WINDOW = PER_MINUTE  # "still answers others" looks this far back

SKEW = 0.02  # each window is kept this much longer than the server's, plus 0.5 % of it
MAX_SKEW = 2.0
CUT = 0.75  # multiplicative decrease of a pace struck at its edge
SPREAD_WINDOW = 1.0  # paces over windows this short space their starts evenly

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Quota:
    """At most ``count`` query starts in any sliding window of ``seconds``."""

    count: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.count} per {window_name(self.seconds)}"


def window_name(seconds: float) -> str:
    """``second``, ``minute``, ``hour``, ``day`` or ``900 s``."""
    units = (("day", PER_DAY), ("hour", PER_HOUR), ("minute", PER_MINUTE), ("second", PER_SECOND))
    for unit, length in units:
        if seconds == length:
            return unit
    return f"{seconds:g} s"


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


class _Times:
    """Instants in order, the oldest dropped from the front, counted by bisection."""

    __slots__ = ("_head", "_items")

    def __init__(self) -> None:
        self._items: list[float] = []
        self._head = 0

    def add(self, moment: float) -> None:
        if not self._items or moment >= self._items[-1]:
            self._items.append(moment)
        else:  # answers come back out of order; they are rarely far out
            bisect.insort(self._items, moment, lo=self._head)

    def after(self, moment: float) -> int:
        """How many are later than ``moment``."""
        return len(self._items) - bisect.bisect_right(self._items, moment, lo=self._head)

    def within(self, low: float, high: float) -> int:
        """How many lie in ``(low, high]``."""
        return bisect.bisect_right(self._items, high, lo=self._head) - bisect.bisect_right(
            self._items, low, lo=self._head
        )

    def last(self, n: int) -> float:
        """The ``n``-th most recent (1: the latest)."""
        return self._items[-n]

    def most_in(self, window: float) -> int:
        """The most instants any half-open window ``(t - window, t]`` has held."""
        items, best, low = self._items, 0, self._head
        for high in range(self._head, len(items)):
            while items[low] <= items[high] - window:
                low += 1
            best = max(best, high - low + 1)
        return best

    def forget(self, before: float, keep: int = 0) -> None:
        """Drop instants older than ``before``, but never the latest ``keep``."""
        stop = min(bisect.bisect_left(self._items, before, lo=self._head),
                   max(len(self._items) - keep, self._head))
        self._head = max(self._head, stop)
        if self._head > 1024 and self._head * 2 > len(self._items):
            del self._items[: self._head]
            self._head = 0


@dataclass(eq=False)
class Pace:
    """One sliding-window pace of a server, as the limiter applies it.

    ``ceiling`` is the server's figure when we trust one (published, configured or learned from
    a strike); without one the pace is ``count``, and a climbing pace may go one above the most
    the server has accepted (``proven``). A query counts in the window from its start until
    its answer.
    """

    window: float
    count: int
    ceiling: int | None = None
    climbs: bool = False
    stated: bool = False  # the ceiling is published or configured, not learned
    climbed: bool = False  # the ceiling was found by climbing to the server's first 429
    proven: int = 0  # the most queries in one window the server has accepted
    probing: bool = False  # a start above ``count`` (a probe) is out and not yet answered
    cut_at: float = -math.inf  # a strike cut the pace to ``cut_to`` at this time
    cut_to: int = 0

    @property
    def by_starts(self) -> bool:
        """Counted from the start of each query for one window (see Limiter._in_window)."""
        return self.climbs or self.climbed

    def limit(self, now: float, span: float) -> int:
        """Starts allowed per window at ``now``; a cut climbs back one per ``span``."""
        if self.ceiling is not None:
            if self.cut_at == -math.inf:
                return self.ceiling
            steps = math.floor((now - self.cut_at) / span)
            return max(1, min(self.ceiling, self.cut_to + steps))
        if self.climbs:
            return max(self.count, self.proven + 1)
        return max(1, self.count)

    def trust(self, count: int) -> None:
        """Take ``count`` as the server's figure from now on."""
        count = max(1, count)
        self.ceiling = count if self.ceiling is None else min(self.ceiling, count)
        self.count = self.ceiling
        self.climbs = False
        self.probing = False
        self.cut_at = -math.inf

    def quota(self, now: float, span: float) -> Quota:
        return Quota(self.limit(now, span), self.window)


def paces(quotas: Sequence[Quota], *, trusted: bool = True, climbs: bool = False) -> list[Pace]:
    """Paces for ``quotas``: the server's own figures, or (``trusted`` False) our guesses,
    which may climb (``climbs``) while the server answers."""
    return [
        Pace(q.seconds, q.count, q.count if trusted else None, climbs and not trusted,
             stated=trusted)
        for q in quotas
    ]


@dataclass(eq=False)
class Ticket:
    """One admitted request; the caller marks it throttled when the answer was a rate limit."""

    limiter: Limiter
    started: float
    places: list[tuple[Pace, int]] = field(default_factory=list)  # each pace's count with us
    probe: Pace | None = None  # the climbing pace this start probes above
    pause: float | None = None  # set by throttled()
    received: float | None = None  # when the answer arrived (set by received())

    def throttled(self, retry_after: float | None = None) -> float:
        """Report a rate-limit reply; returns how long the server is now paused."""
        if self.pause is None:
            self.pause = self.limiter.strike(self, retry_after)
        return self.pause

    def got_answer(self) -> None:
        """Note that the answer is in (its parsing does not count as the server's latency)."""
        if self.received is None:
            self.received = self.limiter.clock()

    def place(self, pace: Pace) -> int:
        """This start's count in ``pace``'s window when it was admitted (0: not counted)."""
        return next((k for p, k in self.places if p is pace), 0)


@dataclass
class Limiter:
    """FIFO admission to one server under a concurrency cap and sliding-window paces.

    The decisions are synchronous and read ``clock`` (injectable: the tests drive a simulated
    server on simulated time); :meth:`slot` wraps them for asyncio.
    """

    key: str
    concurrency: int = 1
    paces: list[Pace] = field(default_factory=list)
    strike_pause: float = 1.0  # the first backoff without Retry-After; doubles per strike
    learn_windows: tuple[float, ...] = LEARN_WINDOWS
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    strikes: list[float] = field(default_factory=list)  # when each rate-limit reply came
    lessons: list[str] = field(default_factory=list)  # what each strike was taken to mean
    blocked: str | None = None  # why the server is given up on for this run
    _active: int = 0
    _queue: deque[asyncio.Future[Ticket]] = field(default_factory=deque)
    _starts: _Times = field(default_factory=_Times)
    _ends: _Times = field(default_factory=_Times)  # when each finished query was answered
    _accepted: _Times = field(default_factory=_Times)  # starts of non-throttled answers
    _struck: _Times = field(default_factory=_Times)  # starts of throttled ones
    _skew: float = 0.0  # added to the margin by strikes at the edge of a stated pace
    _last_start: float = -math.inf
    _paused_until: float = 0.0
    _slowed_at: float = -math.inf  # when the last slow-down happened
    _in_a_row: int = 0
    _timer: asyncio.TimerHandle | None = None

    # -- what the limiter knows --------------------------------------------------------------

    @property
    def quotas(self) -> list[Quota]:
        """The paces in force now, as quotas."""
        now = self.clock()
        return [p.quota(now, p.window + self.margin(p.window)) for p in self.paces]

    @property
    def waiting(self) -> int:
        """Requests queued behind this server's limits."""
        return sum(1 for f in self._queue if not f.done())

    @property
    def throttled(self) -> bool:
        """True once the server has sent a rate-limit reply this run."""
        return bool(self.strikes)

    def margin(self, window: float) -> float:
        """How much longer than the server's ``window`` ours is kept."""
        return SKEW + min(0.005 * window, 2.0) + self._skew

    def let_through(self) -> int:
        """Answers (not rate-limit replies) to queries started in the last minute."""
        return self._accepted.after(self.clock() - SERVING_WINDOW)

    def serving(self) -> bool:
        """True when the server still answers others: a wait for it is a pace, not a block."""
        return self.let_through() >= 2

    def _pace(self, window: float) -> Pace | None:
        return next((p for p in self.paces if p.window == window), None)

    # -- admission ---------------------------------------------------------------------------

    def _in_window(self, pace: Pace, now: float) -> tuple[int, int, float]:
        """Queries counting in ``pace``'s window now: (in flight, answered in it, its span).

        A query counts until its answer; on a pace still being found out (climbing, or
        climbed) it counts from its start for one window, as the server counts it (arrival
        lags the start by about as much for every query), with a query to spare instead.
        """
        span = pace.window + self.margin(pace.window)
        if pace.by_starts:
            return 0, self._starts.within(now - span, now), span
        return self._active, self._ends.within(now - span, now), span

    def _pace_wait(self, pace: Pace, now: float) -> float | None:
        """Seconds until ``pace`` allows one more start; None: not before one finishes."""
        flying, ended, span = self._in_window(pace, now)
        times = self._starts if pace.by_starts else self._ends
        limit = pace.limit(now, span)
        # On a short window whose limit is being found, the starts are spread evenly: queries
        # answered together would otherwise leave the window together and go out again as a
        # burst, and a burst that meets the server's limit is refused several times over.
        spread = 0.0
        if pace.window <= SPREAD_WINDOW and not pace.stated:
            spread = self._last_start + span / limit - now
        excess = flying + ended - limit + 1  # answers that must age out
        if excess <= 0:
            return max(spread, 0.0)
        if excess > ended:
            return None
        return max(times.last(ended - excess + 1) + span - now, spread)

    def ready_in(self) -> float:
        """Seconds until the paces allow one more start (ignoring queries in flight)."""
        now = self.clock()
        delay = self._paused_until - now
        for pace in self.paces:
            wait = self._pace_wait(pace, now)
            if wait is not None:
                delay = max(delay, wait)
        return max(delay, 0.0)

    def next_start_in(self) -> float | None:
        """Seconds until one more request may start (0: now); None: not before one finishes."""
        if self._active >= self.concurrency or self._probe_out():
            return None
        now = self.clock()
        delay = self._paused_until - now
        for pace in self.paces:
            wait = self._pace_wait(pace, now)
            if wait is None:
                return None
            delay = max(delay, wait)
        return max(delay, 0.0)

    def _probe_out(self) -> bool:
        """True while a probe is out: nothing else starts until it is answered, so that if
        the server objects, it objects to that one query only."""
        return any(pace.probing for pace in self.paces)

    def begin(self) -> Ticket:
        """Record one start now (the caller has checked :meth:`next_start_in`)."""
        now = self.clock()
        ticket = Ticket(self, now)
        for pace in self.paces:
            flying, ended, _ = self._in_window(pace, now)
            place = flying + ended + 1
            ticket.places.append((pace, place))
            if pace.climbs and place > max(pace.count, pace.proven):
                pace.probing = True
                ticket.probe = pace
        self._starts.add(now)
        self._last_start = now
        self._active += 1
        self._prune(now)
        return ticket

    def finish(self, ticket: Ticket, *, answered: bool) -> None:
        """Release ``ticket``'s slot; ``answered``: an answer that was not a rate limit."""
        self._active -= 1
        # The latest the query can have reached the server: until then it counts.
        self._ends.add(ticket.received if ticket.received is not None else self.clock())
        if ticket.probe is not None:
            ticket.probe.probing = False
        if answered and ticket.pause is None:
            self._accepted.add(ticket.started)
            for pace, place in ticket.places:
                pace.proven = max(pace.proven, place)
            if ticket.started >= self._slowed_at:
                self._in_a_row = 0  # an answer at the slowed-down pace: the pace is right

    def _prune(self, now: float) -> None:
        # Keep what learning looks back on, and what the longest pace counts.
        horizon = now - max((*self.learn_windows, 0.0)) - MAX_SKEW - 5.0
        keep = max((p.limit(now, p.window) for p in self.paces), default=0)
        self._starts.forget(horizon)
        self._ends.forget(horizon, keep)
        self._accepted.forget(horizon)
        self._struck.forget(horizon)

    # -- strikes -----------------------------------------------------------------------------

    def strike(self, ticket: Ticket, retry_after: float | None = None) -> float:
        """Record a rate-limit reply to ``ticket``; slow the server; return the pause."""
        now = self.clock()
        self.strikes.append(now)
        self._struck.add(ticket.started)
        if ticket.started < self._slowed_at:
            # Sent before the last slow-down: the same overload, already answered for.
            return max(self._paused_until - now, retry_after or 0.0, 0.0)
        self._in_a_row += 1
        self._slowed_at = now
        where = ", ".join(f"{k}/{window_name(p.window)}" for p, k in ticket.places)
        lesson = self._explain(ticket, now)
        self.lessons.append(lesson)
        log.debug("%s: rate-limit reply to a query started %.2f s ago (%s in our windows); %s",
                  self.key, now - ticket.started, where or "unpaced", lesson)
        if self._in_a_row >= BLOCK_AFTER:
            self.blocked = (
                f"{self.key} answered {self._in_a_row} queries in a row with a rate limit; "
                "not asked again this run"
            )
        if retry_after is not None:
            pause = retry_after  # the server said how long; it is honoured
        else:
            pause = min(self.strike_pause * 2 ** (self._in_a_row - 1), MAX_PAUSE)
        # Jitter, so that clients slowed down together do not come back together.
        pause *= self.rng.uniform(1.0, 1.25)
        self._paused_until = max(self._paused_until, now + pause)
        with contextlib.suppress(RuntimeError):  # no running loop (synchronous use)
            self._pump()
        return pause

    def _explain(self, ticket: Ticket, now: float) -> str:
        """Change the one pace that explains a strike on ``ticket``; say what was concluded."""
        for climbing in self.paces:
            place = ticket.place(climbing)
            if climbing.climbs and place > climbing.count:
                # The server let one query fewer through; one fewer again is the pace, so
                # that arrival jitter does not make it one too many now and then.
                climbing.trust(max(place - 2, 1))
                climbing.climbed = True
                return (f"climbed past its limit: {climbing.count} per "
                        f"{window_name(climbing.window)} learned")
            if climbing.climbed and climbing.ceiling is not None and climbing.ceiling > 1 and (
                place >= climbing.ceiling
            ):
                # The pace it climbed to was still one too many now and then: one less. (Not
                # a longer window: the run is younger than one, so it would always "explain".)
                climbing.trust(climbing.ceiling - 1)
                return (f"at the edge of the pace it climbed to: {climbing.count} per "
                        f"{window_name(climbing.window)} from now on")
        windows = sorted({*self.learn_windows, *(p.window for p in self.paces)})
        began = ticket.started
        for window in windows:
            pace = self._pace(window)
            if pace is not None and pace.stated and pace.ceiling is not None and (
                ticket.place(pace) >= pace.ceiling
            ):
                self._cut(pace, now)
                return (f"at the edge of its stated {pace.ceiling} per {window_name(window)}: "
                        f"margin now {self.margin(window):.2f} s, pace cut to {pace.cut_to}")
            # Asked more in this window than the server ever accepted in one: its limit. It
            # is what the server accepted here (those still unanswered are not counted: the
            # lesson may come out low, never high).
            asked = (self._starts.within(began - window, began)
                     - self._struck.within(began - window, began) + 1)
            if asked > self._accepted.most_in(window):
                count = max(1, self._accepted.within(began - window, began))
                if pace is not None and pace.ceiling is not None and pace.ceiling <= count:
                    continue  # the pace is that already: a longer window must explain it
                if pace is None:
                    pace = Pace(window, count)
                    self.paces.append(pace)
                pace.trust(count)
                return f"limit of {pace.count} per {window_name(window)} learned"
        if self.paces:
            pace = min(self.paces, key=lambda p: p.window)
            self._cut(pace, now)
            return f"unexplained: {window_name(pace.window)} pace cut to {pace.quota(now, 1.0)}"
        self.concurrency = max(1, self.concurrency // 2)
        self.paces.append(Pace(PER_SECOND, 1))
        return f"unexplained: halved to {self.concurrency} at once, 1 per second"

    def _cut(self, pace: Pace, now: float) -> None:
        """Widen the margin, cut the pace to three quarters, let it climb back (AIMD)."""
        self._skew = min(max(self._skew * 1.5, self._skew + 0.05), MAX_SKEW)
        current = pace.limit(now, pace.window + self.margin(pace.window))
        if pace.ceiling is not None:
            pace.cut_at, pace.cut_to = now, max(1, math.floor(current * CUT))
        else:
            pace.count = max(1, math.floor(current * CUT))
            pace.proven = min(pace.proven, pace.count)

    # -- asyncio -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def slot(self, budget: Budget | None = None) -> AsyncIterator[Ticket]:
        """Hold one of this server's slots for the duration of a request.

        Raises :class:`RateLimited` when the server has been given up on, or when a pace
        would keep every request waiting longer than :data:`MAX_QUEUE_WAIT`.
        """
        queued_at = self.clock()
        ticket = await self._acquire()
        if budget is not None:
            budget.exclude(ticket.started - queued_at)
        try:
            yield ticket
        except BaseException:
            self.finish(ticket, answered=False)
            self._pump()
            raise
        self.finish(ticket, answered=True)
        self._pump()

    async def _acquire(self) -> Ticket:
        """Wait for admission."""
        if self.blocked is not None:
            raise RateLimited(self.blocked)
        future: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        self._queue.append(future)
        self._pump()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                # Admitted just as the caller was cancelled: give it back.
                self.finish(future.result(), answered=False)
                self._pump()
            raise

    def _pump(self) -> None:
        """Admit queued requests while a slot is free and the paces allow."""
        while self._queue:
            head = self._queue[0]
            if head.done():  # cancelled while queued
                self._queue.popleft()
                continue
            if self.blocked is not None:
                self._fail_all(self.blocked)
                return
            delay = self.next_start_in()
            if delay is None:
                return  # a finishing request pumps again
            if delay > MAX_QUEUE_WAIT:
                binding = max(self.quotas, key=lambda q: q.seconds, default=None)
                self._fail_all(
                    f"{self.key}: our own limit ({binding}) would keep the "
                    f"next query waiting {delay / 60:.0f} minutes"
                )
                return
            if delay > 0:
                self._wake_in(delay)
                return
            self._queue.popleft()
            head.set_result(self.begin())

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


@dataclass
class Limits:
    """One :class:`Limiter` per server key (``host:port`` or ``https://host``)."""

    overrides: Mapping[str, ServerLimit] = field(default_factory=dict)
    known: Mapping[str, ServerLimit] = field(default_factory=lambda: dict(KNOWN_LIMITS))
    strike_pause: float = 1.0
    _limiters: dict[str, Limiter] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The run's limits: built-in defaults under ``[settings.whois/rdap] limits``."""
        return cls(overrides=dict(settings.server_limits))

    def _base(self, key: str) -> ServerLimit:
        if is_local(key):
            return LOCAL
        return DEFAULT_RDAP if key.startswith(("https://", "http://")) else DEFAULT_WHOIS

    def limit_for(self, key: str) -> ServerLimit:
        """The effective limit of ``key``: override over known over the default."""
        limit = self.known.get(key, ServerLimit()).over(self._base(key))
        override = self.overrides.get(key)
        return override.over(limit) if override is not None else limit

    def for_server(self, key: str) -> Limiter:
        """The limiter of ``key``, created on first use."""
        limiter = self._limiters.get(key)
        if limiter is None:
            limit = self.limit_for(key)
            # Quotas someone wrote down (published, configured) are the server's; the
            # defaults are our guess, and an RDAP server's may climb (it says 429 when it
            # objects, where a WHOIS server may block us for a day).
            stated = (self.overrides.get(key, ServerLimit()).quotas is not None
                      or self.known.get(key, ServerLimit()).quotas is not None)
            base = self._base(key)
            limiter = Limiter(
                key,
                limit.concurrency or 1,
                paces(limit.quotas or (), trusted=stated, climbs=base is DEFAULT_RDAP),
                strike_pause=self.strike_pause,
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
    run: Callable[[int, T], Awaitable[None]],
    *,
    per_key: int,
    total: int,
) -> None:
    """``run(index, item)`` for every item, at most ``total`` at once and ``per_key`` per key.

    Items wait as plain references rather than as tasks, so a hundred thousand domains cost
    little memory; results go wherever ``run`` puts them (nothing is collected here). The next
    item started is taken round robin from the keys (TLDs) that are below ``per_key``, so the
    domains of a registry that makes them wait (a per-minute quota) never hold up those of the
    others.
    """
    queues: dict[str, deque[int]] = {}
    for index, item in enumerate(items):
        queues.setdefault(key(item), deque()).append(index)
    turn = deque(queues)  # keys with items left, round robin
    busy = dict.fromkeys(queues, 0)
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
            await run(index, items[index])
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
