"""Per-server politeness: quotas, concurrency, strikes, learned limits, budgets, WHOIS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from domwatch.config import Endpoint, Settings, load_config
from domwatch.lab import Lab
from domwatch.lab.whois_server import WhoisServer
from domwatch.lab.world import Site, icann_answer
from domwatch.net.limits import (
    BLOCK_AFTER,
    DEFAULT_RDAP,
    DEFAULT_WHOIS,
    KNOWN_LIMITS,
    LOCAL,
    MAX_QUEUE_WAIT,
    Budget,
    Limiter,
    Limits,
    Quota,
    RateLimited,
    ServerLimit,
    admit,
    paces,
    rdap_key,
    whois_key,
)
from domwatch.sources.whois import MAX_ATTEMPTS, WhoisSource

LIMITED = "Your connection limit exceeded. Please slow down and try again later.\r\n"


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


async def _hold(limiter: Limiter, seconds: float, starts: list[float],
                budget: Budget | None = None) -> None:
    async with limiter.slot(budget) as ticket:
        starts.append(ticket.started)
        await asyncio.sleep(seconds)


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_paces_hold_through_slot_and_count_starts_in_the_window() -> None:
    # Through the asyncio door: nine requests against three per 0.3 s; the starts the limiter
    # recorded never put four in one window (margin included). Counted, not timed.
    limiter = Limiter("a:43", 10, paces([Quota(3, 0.3)]))
    starts: list[float] = []

    async def go() -> None:
        await asyncio.gather(*(_hold(limiter, 0.0, starts) for _ in range(9)))

    run(go())
    assert len(starts) == 9
    assert _max_in_window(starts, 0.3 + limiter.margin(0.3)) == 3


def test_concurrency_cap_and_fifo_order() -> None:
    limiter = Limiter("a:43", concurrency=2)
    in_flight = peak = 0
    order: list[int] = []

    async def one(i: int) -> None:
        nonlocal in_flight, peak
        async with limiter.slot():
            order.append(i)
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    async def go() -> None:
        await asyncio.gather(*(one(i) for i in range(8)))

    run(go())
    assert peak == 2
    assert order == list(range(8))


def test_time_queued_is_not_charged_to_the_budget() -> None:
    limiter = Limiter("a:43", concurrency=1)
    budgets = [Budget(1.0), Budget(1.0)]

    async def go() -> None:
        await asyncio.gather(*(_hold(limiter, 0.3, [], b) for b in budgets))

    run(go())
    # The second request waited for the first one's 0.3 s (a sleep never ends early); its
    # deadline moved by as much.
    assert budgets[1].deadline - budgets[0].deadline >= 0.25


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_strike_pauses_and_slows_that_server_only() -> None:
    clock = FakeClock()
    slow = Limiter("slow:43", 4, paces([Quota(10, 1.0)]), strike_pause=0.3, clock=clock)
    other = Limiter("other:43", 4, paces([Quota(10, 1.0)]), clock=clock)
    for _ in range(10):  # a full window at the published pace, answered
        ticket = slow.begin()
        slow.finish(ticket, answered=True)
    clock.now += 1.0 + slow.margin(1.0)
    struck = slow.begin()  # at the edge of 10 per second
    clock.now += 0.05
    pause = struck.throttled()
    slow.finish(struck, answered=True)
    assert 0.3 <= pause <= 0.3 * 1.25
    assert slow.ready_in() >= 0.3 - 0.05  # the throttled one waits out its pause
    assert other.ready_in() == 0  # the other server keeps full speed
    assert other.quotas == [Quota(10, 1.0)] and other.concurrency == 4
    assert slow.concurrency == 4  # a rate is not a connection limit


def test_replies_to_one_burst_slow_the_server_down_once() -> None:
    clock = FakeClock()
    limiter = Limiter("a:43", 4, paces([Quota(8, 1.0)]), strike_pause=0.01, clock=clock)
    tickets = [limiter.begin() for _ in range(4)]  # all four in flight when it objects
    clock.now += 0.05
    for ticket in tickets:
        ticket.throttled()
    for ticket in tickets:
        limiter.finish(ticket, answered=True)
    assert len(limiter.strikes) == 4
    assert len(limiter.lessons) == 1


def test_a_server_answering_nobody_is_given_up_on_quickly() -> None:
    # No answer ever: each refusal teaches a longer window (a second, a minute, an hour), so
    # the next query would wait an hour and the rest fail fast instead.
    clock = FakeClock()
    limiter = Limiter("a:43", 1, [], strike_pause=0.01, clock=clock)
    for _ in range(3):
        clock.now += limiter.ready_in()
        ticket = limiter.begin()
        clock.now += 0.1
        ticket.throttled()
        limiter.finish(ticket, answered=True)
    assert limiter.quotas == [Quota(1, 1.0), Quota(1, 60.0), Quota(1, 3600.0)]
    assert not limiter.serving()
    assert limiter.ready_in() > MAX_QUEUE_WAIT


def test_a_server_that_keeps_refusing_is_given_up_on() -> None:
    clock = FakeClock()
    limiter = Limiter("a:43", 1, [], strike_pause=0.001, clock=clock)

    async def go() -> None:
        for _ in range(BLOCK_AFTER):
            ticket = limiter.begin()
            clock.now += 0.1
            ticket.throttled()
            limiter.finish(ticket, answered=True)
            # Keep the test short: forget the slow-down, keep the count of strikes in a row.
            limiter.paces, limiter._paused_until = [], 0.0
        with pytest.raises(RateLimited, match="in a row"):
            async with limiter.slot():
                pass

    run(go())
    assert limiter.blocked is not None


def test_a_quota_used_up_for_hours_fails_fast() -> None:
    limiter = Limiter("a:43", 1, paces([Quota(2, 86400.0)]))

    async def go() -> None:
        for _ in range(2):
            async with limiter.slot():
                pass
        # It raises at once rather than waiting a day; the bound only catches a hang.
        with pytest.raises(RateLimited, match="2 per day"):
            await asyncio.wait_for(_hold(limiter, 0.0, []), 30)

    run(go())


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (a bounded number of turns, no clock)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def test_cancelled_while_queued_leaves_no_slot_taken() -> None:
    limiter = Limiter("a:43", concurrency=1)

    async def go() -> None:
        release = asyncio.Event()

        async def hold_until_released() -> None:
            async with limiter.slot():
                await release.wait()

        holder = asyncio.ensure_future(hold_until_released())
        await _until(lambda: limiter._active == 1)
        waiter = asyncio.ensure_future(_hold(limiter, 0.0, []))
        await _until(lambda: limiter.waiting == 1)
        waiter.cancel()
        release.set()
        await asyncio.gather(holder, waiter, return_exceptions=True)
        assert limiter.waiting == 0 and limiter._active == 0
        # The slot is free: the next request gets it (the bound only catches a hang).
        await asyncio.wait_for(_hold(limiter, 0.0, []), 30)

    run(go())


def test_defaults_known_servers_and_overrides() -> None:
    limits = Limits(overrides={"whois.nic.uk:43": ServerLimit(concurrency=3)})
    assert limits.limit_for("whois.example:43") == DEFAULT_WHOIS
    assert limits.limit_for("https://rdap.example") == DEFAULT_RDAP
    assert limits.limit_for("127.0.0.1:4343") == LOCAL
    assert limits.limit_for("https://[::1]:8443") == LOCAL
    nominet = limits.limit_for("whois.nic.uk:43")
    assert nominet.concurrency == 3  # the override
    assert nominet.quotas == KNOWN_LIMITS["whois.nic.uk:43"].quotas  # the published quotas
    assert whois_key("WHOIS.Example.", 43) == "whois.example:43"
    assert rdap_key("https://RDAP.example:8443/com/v1/domain/x.com") == "https://rdap.example:8443"


def test_limits_from_the_domain_file(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(
        'domains = ["a.com"]\n'
        "[settings.whois]\n"
        'limits = { "whois.verisign-grs.com" = { concurrency = 2, per_minute = 60 } }\n'
        "[settings.rdap]\n"
        'limits = { "https://rdap.verisign.com/com/v1/" = { per_second = 3, per_day = 5000 } }\n',
        encoding="utf-8",
    )
    settings = load_config([str(path)], {}, cwd=tmp_path).settings
    limits = Limits.from_settings(settings)
    assert limits.limit_for("whois.verisign-grs.com:43") == ServerLimit(2, (Quota(60, 60.0),))
    rdap = limits.limit_for("https://rdap.verisign.com")
    assert rdap == ServerLimit(4, (Quota(3, 1.0), Quota(5000, 86400.0)))


def test_admit_caps_per_key_and_in_all_and_a_slow_key_holds_up_no_one() -> None:
    keys = ["slow"] * 6 + ["fast"] * 6  # sorted by TLD, the worst order for a plain queue
    running = {"slow": 0, "fast": 0}
    peaks = {"slow": 0, "fast": 0}
    results: dict[int, int] = {}
    fast_done_while_slow_held: list[bool] = []
    release = asyncio.Event()

    async def work(i: int, item: int) -> None:
        key = keys[i]
        running[key] += 1
        peaks[key] = max(peaks[key], running[key])
        if key == "slow":
            await release.wait()  # a registry that keeps its domains waiting
        else:
            await asyncio.sleep(0.01)
            fast_done_while_slow_held.append(not release.is_set())
            if len(fast_done_while_slow_held) == 6:
                release.set()
        running[key] -= 1
        results[i] = item * 10

    async def go() -> None:
        # Should the fast ones ever queue behind the slow ones, this lets the test end (and
        # fail) instead of hanging.
        asyncio.get_running_loop().call_later(10, release.set)
        await admit(range(12), lambda i: keys[i], work, per_key=2, total=3)

    run(go())
    assert results == {i: i * 10 for i in range(12)}
    assert peaks == {"slow": 2, "fast": 1}  # two slow ones waiting leave one place in all
    assert fast_done_while_slow_held == [True] * 6  # no fast one waited for a slow one


# -- through a real WHOIS server ---------------------------------------------------------------

NOW = datetime.now(timezone.utc)
SITES = [Site(f"site{i}.lab", expires_in=100 + i) for i in range(6)]


def _registry(lab: Lab, rate_limit: tuple[int, float]) -> WhoisServer:
    answers = {s.name: icann_answer(s, s.expires(NOW)) for s in SITES}
    return lab.add(WhoisServer(answers, rate_limit=rate_limit, rate_limit_text=LIMITED))


def _look_up_all(server: WhoisServer, limits: Limits) -> list[Any]:
    settings = Settings(timeout=2.0, whois_servers={"lab": Endpoint(server.host, server.port)})

    async def go() -> list[Any]:
        source = WhoisSource(settings, limits=limits)
        return list(await asyncio.gather(*(source.lookup(s.name) for s in SITES)))

    return list(run(go()))


def _check_dates(results: list[Any]) -> None:
    for site, result in zip(SITES, results, strict=True):
        assert result.outcome == "registered", result.reason
        expected = site.expires(NOW)
        assert expected is not None
        assert result.registration.expires.date() == expected.date()


def test_known_limit_means_no_rate_limit_reply(lab: Lab) -> None:
    server = _registry(lab, rate_limit=(2, 0.5))
    key = whois_key(server.host, server.port)
    limits = Limits(overrides={key: ServerLimit(8, (Quota(2, 0.5),))})
    _check_dates(_look_up_all(server, limits))
    assert server.limited == []


def test_unknown_limit_is_learned_from_one_overload(lab: Lab) -> None:
    # The server allows 4 per second; domwatch sees a private address and does not pace at
    # first, so the first burst overruns it. After that one overload the server is slowed
    # and never objects again, and every domain still gets its date: waiting for a server that
    # answers others is queueing, not a reason to give up.
    server = _registry(lab, rate_limit=(4, 1.0))
    limits = Limits(strike_pause=0.2)
    results = _look_up_all(server, limits)
    _check_dates(results)
    # One overload, counted rather than timed: the first burst of six against four a second
    # is refused at most twice, and one lesson ends it (a wrong lesson would mean more).
    assert 1 <= len(server.limited) <= len(SITES) - 4, server.limited
    assert len(limits.for_server(whois_key(server.host, server.port)).lessons) == 1
    assert sum(r.throttled for r in results) == len(server.limited)
    assert sum(r.retried for r in results) >= len(server.limited)


def test_rate_limited_reply_is_never_not_found(lab: Lab) -> None:
    server = lab.add(WhoisServer({}, default=LIMITED))
    limits = Limits(strike_pause=0.2)
    settings = Settings(timeout=1.0, whois_servers={"lab": Endpoint(server.host, server.port)})

    async def go() -> Any:
        return await WhoisSource(settings, limits=limits).lookup("busy.lab")

    result = run(go())
    assert result.outcome == "rate_limited"
    assert result.throttled >= 2 and result.retried >= 1
    # It gives up: a bounded number of queries, not retries until the budget runs out.
    assert len(server.queries) <= MAX_ATTEMPTS



def test_progress_texts_and_summary_line() -> None:
    from domwatch.app import progress_fields, summary_line
    from domwatch.model import Report

    limits = Limits()
    limiter = limits.for_server("whois.example:43")
    limiter.strikes.append(0.0)  # it has rate-limited us once
    loop = asyncio.new_event_loop()
    try:
        limiter._queue.extend(loop.create_future() for _ in range(3))
        fields = progress_fields(50, 10.0, limits)
    finally:
        loop.close()
    assert fields["rate"] == "5.0/s"
    assert fields["queue"] == "3 waiting on server limits (3 on throttled servers)"
    assert progress_fields(0, 0.0, Limits()) == {"rate": "", "queue": ""}
    report = Report(datetime.now(timezone.utc), [], 42.12,
                    {"lookups_retried": 12, "lookups_throttled": 3, "cache_hits": 5})
    assert summary_line(report) == (
        "domwatch: 0 domains in 42.1 s; 12 lookups retried, 3 throttled; "
        "5 registrations from the cache"
    )
