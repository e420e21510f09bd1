"""The periodic run of ``serve``: re-read the domain file, run, render the metrics once.

A scrape never waits on a lookup: ``/metrics`` serves :attr:`Runs.text`, the ``prometheus``
format of the last completed run, rendered (in a thread) when the run ends and swapped in
whole. Before the first run completes there is no per-domain series and ``domwatch_up`` is 0.

Change detection: the periodic run keeps its own state file (``--state``, default
``serve-state.json`` beside ``check``'s, so a ``check`` from cron and ``serve`` never consume
each other's changes), so a ``change.*`` finding shows on ``/metrics`` for one interval.
Probes never touch it. The state is written after the run's metrics are published, in a
thread; on SIGTERM a save in progress is finished before the process exits, and a run cut
short saves nothing (its changes are found again by the next one).

The domain file is re-read at every run and on SIGHUP. A file that does not load keeps the
last good configuration, with one line on stderr and ``domwatch_config_last_reload_success
0``; a SIGHUP that changes the configuration starts a run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from domwatch.app import summary_line
from domwatch.config import Config
from domwatch.errors import ConfigError
from domwatch.model import Report
from domwatch.net.limits import Limits
from domwatch.report import RenderOptions, render
from domwatch.report.prometheus_format import family
from domwatch.runner import run
from domwatch.settings import Settings
from domwatch.state import State, default_path

log = logging.getLogger("domwatch")


def state_path(settings: Settings) -> Path:
    """Where serve keeps what its last run saw."""
    return settings.state_path or default_path().with_name("serve-state.json")


class Runs:
    """Runs every ``interval`` seconds and keeps the last completed run's metrics text."""

    def __init__(
        self,
        load: Callable[[], Config],
        config: Config,
        limits: Limits,
        interval: float,
        *,
        on_config: Callable[[Config], None],
        on_run: Callable[[], None],
    ) -> None:
        self._load = load
        self.config = config
        self.limits = limits
        self.interval = interval
        self._on_config = on_config
        self._on_run = on_run
        self.text = b""  # the last completed run's exposition, served as is
        self.completed = 0
        self.in_progress = False
        self.reload_ok = True
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._saving: asyncio.Future[None] | None = None
        self._state: tuple[State, Path] | None = None

    def reload(self) -> bool:
        """Re-read the domain file; True when the configuration changed."""
        try:
            config = self._load()
        except ConfigError as exc:
            self.reload_ok = False
            log.warning("%s; keeping the last good configuration", " ".join(str(exc).split()))
            return False
        self.reload_ok = True
        if config == self.config:
            return False
        if config.settings.server_limits != self.config.settings.server_limits:
            log.warning("per-server limits changed: they apply after a restart")
        self.config = config
        self._on_config(config)
        log.info("configuration reloaded: %d domains", len(config.domains))
        return True

    def hangup(self) -> None:
        """SIGHUP: re-read now, and run at once when something changed."""
        if self.reload():
            self._wake.set()

    def start(self) -> None:
        """Start running: one run now, then one every interval."""
        self._task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        first = True  # the config was loaded just before: no need to read it again
        while True:
            started = time.monotonic()
            self._wake.clear()  # a SIGHUP from now on means "run again after this one"
            if not first:
                self.reload()
            first = False
            try:
                await self._run_once()
            except Exception as exc:  # a bug in one run must not end the exporter
                log.warning("the run failed: %s: %s", type(exc).__name__, exc)
            delay = self.interval - (time.monotonic() - started)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.0))

    async def _run_once(self) -> None:
        config = self.config
        settings = config.settings
        self.in_progress = True
        try:
            state = self._state_for(settings)
            report = await run(config, limits=self.limits,
                               state=state[0] if state is not None else None)
            self.text = await asyncio.to_thread(_render, report)
            self.completed += 1
        finally:
            self.in_progress = False
        sys.stderr.write(summary_line(report) + "\n")
        sys.stderr.flush()
        self._on_run()
        if state is not None:
            self._saving = asyncio.ensure_future(asyncio.to_thread(_save, *state))
            # Shielded: a stop while saving cancels this task, never the write; stop() awaits it.
            await asyncio.shield(self._saving)

    def _state_for(self, settings: Settings) -> tuple[State, Path] | None:
        if not settings.state:
            self._state = None
            return None
        path = state_path(settings)
        if self._state is None or self._state[1] != path:
            self._state = (State.load(path), path)
        return self._state

    async def stop(self) -> float:
        """End the run in progress; a state save in progress is finished. Its seconds."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        saving = self._saving
        if saving is None or saving.done():
            return 0.0
        started = time.monotonic()
        with contextlib.suppress(Exception):
            await saving
        return time.monotonic() - started

    def families(self) -> list[str]:
        """``domwatch_up`` and the other gauges that change between runs."""
        return [
            *family("domwatch_up",
                    "1 once a run has completed and /metrics holds its results; 0 before.",
                    [({}, int(self.completed > 0))]),
            *family("domwatch_run_in_progress", "1 while a periodic run is under way.",
                    [({}, int(self.in_progress))]),
            *family("domwatch_runs_completed_total", "Periodic runs completed since the start.",
                    [({}, self.completed)], "counter"),
            *family("domwatch_config_last_reload_success",
                    "0 when the domain file last failed to load (the last good one is in use).",
                    [({}, int(self.reload_ok))]),
        ]


def _render(report: Report) -> bytes:
    return render(report, "prometheus", RenderOptions()).encode("utf-8")


def _save(state: State, path: Path) -> None:
    try:
        state.save(path)
    except OSError as exc:
        log.warning("cannot write the state file %s: %s", path, exc.strerror or exc)
