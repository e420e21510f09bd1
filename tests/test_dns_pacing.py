"""DNS against a resolver that drops bursts: answers, not timeouts (a real lab DNS server)."""

from __future__ import annotations

import asyncio
from typing import Any

from domwatch.lab import Lab
from domwatch.lab.dns_server import DnsServer
from domwatch.net.resolver import INITIAL_IN_FLIGHT, Flight, Nameserver, Outcome, Resolver


def _zone(n: int) -> dict[str, str]:
    lines = "\n".join(f"host{i} A 127.0.0.{1 + i % 200}" for i in range(n))
    return {"burst.test.": "$ORIGIN burst.test.\n$TTL 300\n"
            "@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n" + lines}


def _ask_all(server: DnsServer, names: list[str], timeout: float) -> tuple[list[Any], Resolver]:
    resolver = Resolver([Nameserver(server.host, server.port)], timeout=timeout)

    async def go() -> list[Any]:
        return list(await asyncio.gather(*(resolver.resolve(n, "A") for n in names)))

    return asyncio.run(go()), resolver


def test_a_resolver_that_drops_past_20_in_flight_still_answers_every_query(lab: Lab) -> None:
    # 600 questions at once at a forwarder that drops whatever arrives while 20 are being
    # answered. The window grows past 20 as answers come, so some are dropped; each dropped
    # one is asked again at the halved pace, and every name resolves: no timeout.
    server = lab.add(DnsServer(_zone(600), latency=0.02, max_in_flight=20))
    names = [f"host{i}.burst.test" for i in range(600)]
    answers, resolver = _ask_all(server, names, timeout=8.0)
    assert [a.outcome for a in answers] == [Outcome.OK] * 600
    assert server.dropped > 0  # the drop path was taken...
    assert resolver.retries >= server.dropped  # ...and each drop was asked again


def test_a_runs_first_burst_stays_under_a_small_resolvers_limit(lab: Lab) -> None:
    # About 64 questions at once (a run's first domains): the window starts at 16 and grows by
    # about one per window of answers, so a forwarder that takes 20 drops none of them.
    server = lab.add(DnsServer(_zone(64), latency=0.05, max_in_flight=20))
    answers, resolver = _ask_all(server, [f"host{i}.burst.test" for i in range(64)], 5.0)
    assert all(a.outcome is Outcome.OK for a in answers)
    assert server.dropped == 0 and resolver.retries == 0


def test_a_silent_server_is_a_timeout_after_the_whole_budget(lab: Lab) -> None:
    # Silence that no pace would fix is still reported, after retries within --timeout.
    server = lab.add(DnsServer(_zone(1), behaviours={"host0.burst.test": "silent"}))
    answers, resolver = _ask_all(server, ["host0.burst.test"], timeout=2.5)
    assert answers[0].outcome is Outcome.TIMEOUT
    assert resolver.retries >= 1  # asked again after the first wait (1 s) before giving up


def test_the_window_halves_on_a_loss_and_grows_back_with_answers() -> None:
    flight = Flight()
    flight.lost(100.0)
    assert flight.window == INITIAL_IN_FLIGHT / 2
    flight.lost(100.1)  # the same loss event: not halved twice
    assert flight.window == INITIAL_IN_FLIGHT / 2
    for _ in range(200):
        flight.answered(0.01)
    assert flight.window > INITIAL_IN_FLIGHT
    assert flight.rto() == 1.0  # never below a second
