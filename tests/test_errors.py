"""One root for domwatch's errors, and retries decided by the error's type, not its words."""

from __future__ import annotations

import asyncio
import inspect
import socket

from domwatch import errors
from domwatch.config import Endpoint, Settings
from domwatch.lab import Lab, WhoisServer
from domwatch.net.limits import Limits, ServerLimit, whois_key
from domwatch.sources.whois import WhoisSource


def test_every_public_error_has_the_one_root() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, BaseException) and c.__module__ == errors.__name__]
    assert len(classes) > 20
    for cls in classes:
        assert issubclass(cls, errors.DomwatchError), cls
    # validators raise ValueError; these stay validators
    for cls in (errors.BadName, errors.JsonError, errors.BootstrapError, errors.BadProbe):
        assert issubclass(cls, ValueError)


def test_finality_is_carried_by_the_error() -> None:
    assert errors.Unresolvable("x").final and errors.AddressRefused("x").final
    assert errors.WhoisRefused("refused: x").final
    assert not errors.WhoisError("no complete answer within 1 s").final
    assert errors.WhoisError("connection refused", final=True).final
    assert not errors.HttpTimeout("x").final


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lookup(server: Endpoint, domain: str) -> object:
    # A budget of three timeouts: room for one repeat after a backoff of a second or so.
    settings = Settings(timeout=1.0, whois_servers={"lab": server})
    # the lab's servers are the operator's own (loopback): no pace to wait for
    limits = Limits(overrides={whois_key(server.host, server.port or 43): ServerLimit(4, ())})

    async def go() -> object:
        return await WhoisSource(settings, limits=limits).lookup(domain)

    return asyncio.run(go())


def test_a_refused_connection_is_not_asked_again() -> None:
    result = _lookup(Endpoint("127.0.0.1", _free_port()), "nobody.lab")
    assert result.outcome == "failed" and result.retried == 0  # type: ignore[attr-defined]
    assert result.reason == "connection refused"  # type: ignore[attr-defined]
    assert len(result.trail) == 1  # type: ignore[attr-defined]


def test_a_server_that_hangs_up_without_an_answer_is_asked_again(lab: Lab) -> None:
    server = lab.add(WhoisServer({}, behaviours={"flaky.lab": "close"}))
    result = _lookup(Endpoint(server.host, server.port), "flaky.lab")
    assert result.outcome == "failed" and result.retried >= 1  # type: ignore[attr-defined]
    assert len(server.queries) == 1 + result.retried  # type: ignore[attr-defined]
