"""``domwatch serve``: options in, the exporter up until SIGTERM or SIGINT.

Everything runs on domwatch's own event loop: aiohttp's AppRunner/TCPSite beside the periodic
run and the probes, so the server and the checks share the cache, limits and clock without
threads. SIGHUP re-reads the domain file.

Stopping (SIGTERM or SIGINT): stop accepting, end the run in progress (a state save under way
is finished first), cancel the probes, close open connections after at most
:data:`SHUTDOWN_GRACE` seconds, exit 0. The spec's bound is 5 s.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from domwatch.app import setup_logging
from domwatch.config import Config, load_config, parse_duration
from domwatch.errors import ConfigError, ListenError
from domwatch.values import Endpoint

log = logging.getLogger("domwatch")

SHUTDOWN_GRACE = 1.0  # seconds an open HTTP connection gets to finish when stopping


def parse_listen(text: str) -> tuple[str | None, int]:
    """``ADDR:PORT``, ``[v6]:PORT`` or ``:PORT`` (every interface); port 0 picks a free one."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        host, rest = (text[1:end], text[end + 1 :]) if end > 0 else ("", "")
        if not rest.startswith(":"):
            raise ValueError(f"{text!r}: expected [ADDR]:PORT")
        port = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{text!r}: only an IPv6 address goes inside [...]") from None
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            raise ValueError(f"{text!r}: expected ADDR:PORT (or :PORT for every interface)")
        if ":" in host:
            raise ValueError(f"{text!r}: write an IPv6 address as [ADDR]:PORT")
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r}: port must be a number from 0 to 65535")
    return (host or None), int(port)


def run_serve(
    targets: list[str],
    options: dict[str, Any],
    *,
    listen: str,
    interval: str,
    max_probes: int,
    fail: Callable[[str], NoReturn],
) -> int:
    """Serve until SIGTERM or SIGINT; bad options or domain files are usage errors."""
    if "-" in targets:
        fail("serve re-reads its targets, and stdin ('-') cannot be read twice: give a file")
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        fail(f"--listen: {exc}")
    try:
        seconds = parse_duration(interval)
    except ValueError as exc:
        fail(f"--interval: {exc}")
    if max_probes < 1:
        fail(f"--max-probes: must be at least 1, got {max_probes}")
    cwd = Path.cwd()

    def load() -> Config:
        return load_config(targets, options, cwd=cwd)

    try:
        config = load()
    except ConfigError as exc:
        fail(str(exc))
    _setup_serve_logging(config.settings.verbose)
    try:
        return asyncio.run(_serve(load, config, host, port, seconds, max_probes))
    except ListenError as exc:
        fail(str(exc))


class _OneLine(logging.Formatter):
    """A record and its exception's own words on one line; never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f": {type(exc).__name__}: {exc}"
        return "domwatch: " + " ".join(text.split())[:300]


def _setup_serve_logging(verbose: bool) -> None:
    setup_logging(verbose)  # domwatch's own records, as the other commands log them
    # aiohttp logs a malformed request (a scanner, a TLS client on the HTTP port) with its
    # traceback, and asyncio a leaked task's: one line each, aiohttp's only with -v.
    one_line = logging.StreamHandler(sys.stderr)
    one_line.setFormatter(_OneLine())
    for name, level in (("aiohttp", logging.DEBUG if verbose else logging.CRITICAL + 1),
                        ("asyncio", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.addHandler(one_line)
        logger.setLevel(level)
        logger.propagate = False


async def _serve(
    load: Callable[[], Config],
    config: Config,
    host: str | None,
    port: int,
    interval: float,
    max_probes: int,
) -> int:
    from aiohttp import web

    from domwatch.net.limits import Limits
    from domwatch.serve.probes import Prober
    from domwatch.serve.runs import Runs
    from domwatch.serve.web import AccessLog, access_log, make_app

    limits = Limits.from_settings(config.settings)  # one for the process: runs and probes
    prober = Prober(config, limits, max_probes)
    runs = Runs(load, config, limits, interval, on_config=prober.configure, on_run=prober.retire)
    runner = web.AppRunner(
        make_app(runs, prober),
        access_log_class=AccessLog,
        access_log=access_log,
        shutdown_timeout=SHUTDOWN_GRACE,
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{host or ''}:{port}"
        raise ListenError(f"--listen: cannot listen on {where}: {exc.strerror or exc}") from None
    urls = ", ".join(_url(address) for address in runner.addresses)
    sys.stderr.write(
        f"domwatch: serving {urls} (/metrics, /probe?target=NAME, /healthz); "
        f"{len(config.domains)} domains, a run every {_duration(interval)}\n"
    )
    sys.stderr.flush()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []

    def on_stop(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_stop, sig)
    loop.add_signal_handler(signal.SIGHUP, runs.hangup)
    runs.start()
    await stop.wait()
    started = time.monotonic()
    # The handlers stay: a second signal while stopping changes nothing (stopping is bounded).
    await site.stop()  # no new connections while the rest winds down
    saving = await runs.stop()
    await prober.close()
    await runner.cleanup()
    took = time.monotonic() - started
    note = f" (finished saving the state in {saving:.2f} s)" if saving else ""
    sys.stderr.write(f"domwatch: {received[0]}: stopped in {took:.2f} s{note}\n")
    return 0


def _url(address: Any) -> str:
    return f"http://{Endpoint(address[0], address[1])}/"


def _duration(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length and seconds % length == 0:
            return f"{int(seconds // length)}{unit}"
    return f"{seconds:g}s"
