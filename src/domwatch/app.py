"""What each command does, between the click wiring and the library."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from domwatch.config import Config, Settings, check_report_path, load_config
from domwatch.errors import ConfigError
from domwatch.files import write_atomically
from domwatch.model import Report, Status
from domwatch.report import (
    RenderOptions,
    fit_encoding,
    plural,
    render_chunks,
    unicode_encoding,
)

if TYPE_CHECKING:
    from domwatch.net.limits import Limits
    from domwatch.state import State

Fail = Callable[[str], NoReturn]
LOCK_SLACK = 5.0  # seconds beyond the timeout to wait for another run's hold on the state


class _Held(logging.Handler):
    """Under ``-q``: warnings wait for the report, and are told only if a domain needs
    attention (cron mails stderr too: a run where all is well must print nothing at all)."""

    LIMIT = 100  # a run that warns more than this has the first hundred told

    def __init__(self, target: logging.Handler) -> None:
        super().__init__()
        self.target = target
        self.records: list[logging.LogRecord] = []
        self.concluded = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.concluded:
            self.target.handle(record)
        elif len(self.records) < self.LIMIT:
            self.records.append(record)

    def conclude(self, tell: bool) -> None:
        """Tell the held warnings (or drop them), and pass any later ones straight through."""
        if tell:
            for record in self.records:
                self.target.handle(record)
        self.records.clear()
        self.concluded = True


def setup_logging(verbose: bool, quiet: bool = False) -> _Held | None:
    """Log to stderr (``-v``: every exchange); under ``quiet`` warnings are held (see _Held)."""
    root = logging.getLogger("domwatch")
    for old in [h for h in root.handlers if getattr(h, "domwatch_cli", False)]:
        root.removeHandler(old)  # a second command in one process (tests) replaces the first's
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("domwatch: %(message)s"))
    held = _Held(handler) if quiet and not verbose else None
    installed = held or handler
    installed.domwatch_cli = True  # type: ignore[attr-defined]
    root.addHandler(installed)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    return held


def exit_status(report: Report, fail_on: str) -> int:
    """The process exit status for the report's worst state under ``--fail-on``.

    A check that could not be done is not a pass: UNKNOWN gives 3 at every level but
    ``never``; ``--fail-on critical`` only stops WARNING from counting.
    """
    worst = report.status
    if fail_on == "never":
        return 0
    if fail_on == "critical" and worst is Status.WARNING:
        unknown = Status.UNKNOWN in report.statuses()  # no result read back (see spool)
        return Status.UNKNOWN.exit_code if unknown else 0
    return worst.exit_code


def run_check(targets: list[str], options: dict[str, Any], *, fail: Fail) -> int:
    """``domwatch check``: load, run, report, exit status."""
    try:
        config = load_config(targets, options, stdin=sys.stdin, cwd=Path.cwd())
        check_report_path(config.settings)
    except ConfigError as exc:
        fail(str(exc))
    settings = config.settings
    held = setup_logging(settings.verbose, settings.quiet)
    with contextlib.ExitStack() as lock:
        # Held from reading the state (the run compares each registration with it) to
        # saving it.
        state = _load_state(settings, lock) if settings.state else None
        report = asyncio.run(_run_with_progress(config, state[0] if state else None))
        code = _conclude(report, settings, state, fail=fail)
    if held is not None:
        held.conclude(report.status is not Status.OK)
    _after_report(report, settings)
    return code


def _after_report(report: Report, settings: Settings) -> None:
    """stderr's closing lines, after the report (on a terminal: below the table, not above)."""
    lines: list[str] = []
    if report.network_problem is not None:
        lines.append(
            f"domwatch: the network or DNS resolver is not usable: {report.network_problem}; "
            "the DNS, web and mail checks were not run and their domains are UNKNOWN"
        )
    if not settings.quiet:
        lines.append(summary_line(report))
    if lines:
        sys.stderr.write("".join(line + "\n" for line in lines))
        sys.stderr.flush()


def _conclude(report: Report, settings: Settings, state: tuple[State, Path, bool] | None, *,
              fail: Fail) -> int:
    """Notifications, report, state (still under the state lock, when there is a state)."""
    if state is None or state[2]:
        _notify(report, settings, state[0] if state is not None else None)
    stdout_tty = sys.stdout.isatty()
    color = stdout_tty and settings.output is None and not os.environ.get("NO_COLOR")
    width = shutil.get_terminal_size().columns if stdout_tty else None
    if settings.output is not None:
        pieces = render_chunks(report, settings.format, RenderOptions(sort=settings.sort))
        try:
            write_atomically(settings.output, pieces)
        except OSError as exc:
            fail(f"{settings.output}: cannot write the report: {exc.strerror or exc}")
    else:
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        options = RenderOptions(
            color, width, settings.quiet, settings.sort, ascii=not unicode_encoding(encoding)
        )
        # Written as it is rendered: a big JSON report is never one string in memory. Each
        # piece can be fitted on its own: fit_encoding works character by character.
        for piece in render_chunks(report, settings.format, options):
            text = fit_encoding(piece, settings.format, encoding)
            if text:
                sys.stdout.write(text)
        sys.stdout.flush()
    if state is not None and state[2]:
        # After the report is out: a state file that cannot be written costs no report.
        try:
            state[0].save(state[1])
        except OSError as exc:
            logging.getLogger("domwatch").warning(
                "cannot write the state file %s: %s", state[1], exc.strerror or exc
            )
    return exit_status(report, settings.fail_on)


def _notify(report: Report, settings: Settings, state: State | None) -> None:
    """Send what changed to the notification targets, before rendering so the JSON report can
    say how delivery went; bounded by the timeout, and no failure here may cost the report."""
    from domwatch.notify import notify, outcomes_json

    try:
        outcomes = notify(report, settings, state.extra if state is not None else None)
    except Exception as exc:  # a bug in notifying must never lose the report or exit status
        logging.getLogger("domwatch").warning("notifications failed: %s", type(exc).__name__)
        return
    if outcomes is not None:
        report.notifications = outcomes_json(outcomes)


def _load_state(settings: Settings, held: contextlib.ExitStack) -> tuple[State, Path, bool]:
    """The state, its path, and whether this run holds its lock (may notify and save)."""
    from domwatch.errors import StateBusy
    from domwatch.state import State, StateLock, default_path

    path = settings.state_path or default_path()
    # The other run holds the lock from reading the state to saving it (change detection is
    # part of the run): wait a bounded time, then go on reading a copy, without notifying or
    # saving, so overlapping cron runs never block each other for a whole run.
    lock = StateLock(path, wait=settings.timeout + LOCK_SLACK)
    try:
        held.enter_context(lock)
    except StateBusy:
        logging.getLogger("domwatch").warning(
            "another domwatch run is using the state file %s: this run reports the changes it "
            "sees but sends no notifications and does not update the state", path
        )
        return State.load(path, set_aside=False), path, False
    except OSError as exc:  # no lock file possible (a read-only directory): as before, unlocked
        logging.getLogger("domwatch").debug("state lock %s: %s", lock.path, exc)
    return State.load(path), path, True


async def _run_with_progress(config: Config, state: State | None = None) -> Report:
    """Run, with a progress bar on stderr when it is a terminal; then the one-line summary."""
    from domwatch.net.limits import Limits
    from domwatch.runner import run

    settings = config.settings
    limits = Limits.from_settings(settings)
    show = settings.progress
    if show is None:
        show = sys.stderr.isatty() and not settings.quiet
    if not show:
        report = await run(config, limits=limits, state=state)
    else:
        report = await _run_with_bar(config, limits, state)
    return report


async def _run_with_bar(config: Config, limits: Limits, state: State | None) -> Report:
    import time

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from domwatch.runner import run

    started = time.monotonic()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[queue]}"),
        console=Console(file=sys.stderr),
        transient=True,
    ) as bar:
        task = bar.add_task("checking", total=len(config.domains), rate="", queue="")

        async def refresh() -> None:
            # The queue behind rate limits changes without any domain finishing.
            while True:
                done = int(bar.tasks[0].completed)
                fields = progress_fields(done, time.monotonic() - started, limits)
                bar.update(task, rate=fields["rate"], queue=fields["queue"])
                await asyncio.sleep(0.5)

        refresher = asyncio.ensure_future(refresh())
        try:
            return await run(config, progress=lambda _r: bar.advance(task), limits=limits,
                             state=state)
        finally:
            refresher.cancel()


def progress_fields(done: int, elapsed: float, limits: Limits) -> dict[str, str]:
    """The progress bar's rate and queue texts."""
    rate = f"{done / elapsed:.1f}/s" if done and elapsed > 0 else ""
    queue = ""
    if limits.waiting:
        queue = f"{limits.waiting} waiting on server limits"
        if limits.waiting_throttled:
            queue += f" ({limits.waiting_throttled} on throttled servers)"
    return {"rate": rate, "queue": queue}


def summary_line(report: Report) -> str:
    """``domwatch: 1000 domains in 42.1 s; 12 lookups retried, 3 throttled`` (for stderr)."""
    stats = report.stats
    line = (
        f"domwatch: {plural(len(report.results), 'domain')} in {report.duration:.1f} s; "
        f"{plural(stats.get('lookups_retried', 0), 'lookup')} retried, "
        f"{stats.get('lookups_throttled', 0)} throttled"
    )
    if stats.get("cache_hits"):
        line += f"; {plural(stats['cache_hits'], 'registration')} from the cache"
    if stats.get("cache_stale"):
        line += f", {stats['cache_stale']} stale"
    return line


def run_lookup(domain: str, config_path: str | None, options: dict[str, Any], *,
               fail: Fail) -> int:
    """``domwatch lookup``: every server asked, in order, with its raw answer and reading."""
    from domwatch.checks.registration import judge
    from domwatch.names import normalise
    from domwatch.runner import open_context

    try:
        name = normalise(domain)
        targets = [config_path] if config_path else []
        config = load_config([*targets, name.name], options, cwd=Path.cwd())
    except ConfigError as exc:
        fail(str(exc))
    setup_logging(config.settings.verbose)
    target = next(d for d in config.domains if d.name == name.name)

    async def ask() -> int:
        async with open_context(config.settings) as ctx:
            result = await ctx.registry.lookup(target.name)
        out = sys.stdout
        out.write(f"domain: {target.display_name} ({target.name})\n")
        for step, exchange in enumerate(result.trail, 1):
            out.write(f"\n[{step}] {exchange.server}  query: {exchange.query!r}\n")
            out.write(f"    read: {exchange.note}\n")
            for line in exchange.answer.splitlines():
                out.write(f"    | {line}\n")
        judged = judge(target, result, ctx.now)
        out.write(f"\noutcome: {result.outcome}")
        out.write(f" ({result.reason})\n" if result.reason else "\n")
        registration = judged.registration
        if registration is not None:
            for key, value in registration.to_json(ctx.now).items():
                out.write(f"{key}: {value}\n")
        for finding in judged.findings:
            out.write(f"finding: {finding.code} [{finding.severity.value}] {finding.message}\n")
        statuses = [f.severity.status for f in judged.findings]
        return Status.worst(statuses).exit_code

    return asyncio.run(ask())
