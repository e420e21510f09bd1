"""Command-line wiring only: options in, calls into the library, exit status out.

Imports of the heavy modules happen inside the commands so ``domwatch --version`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from domwatch import __version__
from domwatch.redaction import redact_urls
from domwatch.settings import SETTINGS, TAGS, THRESHOLDS, shown_default

EXIT_USAGE = 64
EXIT_SOFTWARE = 70  # sysexits.h: an internal error
F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    """One line on stderr and the usage exit status; never a traceback."""
    first = " ".join(message.split())  # fold any newline into the one line
    click.echo(f"domwatch: error: {first}", err=True)
    sys.exit(EXIT_USAGE)


class _Group(click.Group):
    """Maps click's usage errors (exit 2 by default) to the spec's exit 64."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("domwatch: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            _fail(exc.format_message())
        except Exception as exc:  # a bug: one line (the traceback with -v), never a dump
            logging.getLogger("domwatch").debug("internal error", exc_info=True)
            message = " ".join(redact_urls(str(exc)).split())[:200]
            click.echo(f"domwatch: internal error: {type(exc).__name__}: {message}", err=True)
            sys.exit(EXIT_SOFTWARE)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="domwatch")
def cli() -> None:
    """Watch domains: registration and certificate expiry, broken web and mail records."""


def _given(**values: Any) -> dict[str, Any]:
    """Only the options the user actually gave, so the domain file's settings still apply."""
    return {k: v for k, v in values.items() if v is not None and v != ()}


# Which settings each command takes as options, in --help's order. The options themselves
# (flags, help, the default --help shows) are declared with the settings (domwatch.settings).
# Their click default is None: an option not given leaves the domain file's [settings] in force.
_REPORT = ("format", "output", "sort", "fail_on", "quiet", "progress", "verbose")
_CHECK = (
    "checks", *THRESHOLDS, "concurrency", "timeout", "resolvers", "cache", "cache_dir",
    "state_path", "state",
)
_NOTIFY = ("notify_urls", "notify_min", "dry_run_notify")
_PATH_TYPES = {"file": click.Path(dir_okay=False), "dir": click.Path(file_okay=False)}


def _options(*names: str) -> Callable[[F], F]:
    """The options of settings ``names`` (or ``tags``), in that order, as click decorators."""

    def apply(fn: F) -> F:
        for name in reversed(names):
            spec = TAGS if name == TAGS.name else SETTINGS[name]
            option = spec.option
            assert option is not None, f"setting {name} has no command-line option"
            extra: dict[str, Any] = {"default": None, "metavar": option.metavar}
            if option.sets is not None:
                extra.update(is_flag=True, flag_value=option.sets)
            if option.multiple:
                extra.update(multiple=True, default=())
            if option.number is not None:
                extra["type"] = option.number
            if option.path is not None:
                extra["type"] = _PATH_TYPES[option.path]
            shown = f"{spec.help}  [default: {shown_default(name)}]"
            fn = click.option(*option.flags, name, help=shown, **extra)(fn)
        return fn

    return apply


def _codes_epilog() -> str:
    """``check --help``'s last paragraph: the groups of finding codes, from their declaration."""
    from domwatch.model import CODES  # the vocabulary alone: no I/O, nothing heavy

    groups = dict.fromkeys(f"{name.split('.')[0]}.*" for name in CODES)
    return ("Finding codes (for 'ignore' in a domain file; * allowed): " + ", ".join(groups)
            + ". Each code and what it means: the README's Findings table.")


@cli.command(short_help="Check domains: names, domain files, list files or - (stdin).",
             epilog=_codes_epilog())
@click.argument("targets", nargs=-1)
@_options(*_REPORT[:3], TAGS.name, *_CHECK, *_REPORT[3:], *_NOTIFY)
def check(targets: Sequence[str], **options: Any) -> int:
    """Check domains: TARGETs are domain names, .toml domain files, list files (one name a
    line), or - for a list on stdin; with none, ./domwatch.toml."""
    from domwatch.app import run_check

    return run_check(list(targets), _given(**options), fail=_fail)


@cli.command(short_help="Serve Prometheus metrics; /probe?target=NAME on demand.")
@click.argument("targets", nargs=-1)
@click.option("--listen", required=True, metavar="ADDR:PORT",
              help="Where to serve /metrics, /probe and /healthz (:PORT: every interface).")
@click.option("--interval", default="6h", show_default=True, help="Time between runs.")
@click.option("--max-probes", type=int, default=256, show_default=True,
              help="Distinct /probe lookups in flight at once; more are answered 503.")
@_options(*_CHECK, "verbose")
def serve(targets: Sequence[str], listen: str, interval: str, max_probes: int,
          **options: Any) -> int:
    """Serve Prometheus metrics: a run every --interval, /probe?target=NAME on demand."""
    from domwatch.serve.main import run_serve

    return run_serve(list(targets), _given(**options), listen=listen, interval=interval,
                     max_probes=max_probes, fail=_fail)


@cli.command(short_help="Ask every source about one domain; show raw answers.")
@click.argument("domain")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="A domain file whose [settings] apply (servers, resolver, timeout).")
@_options("resolvers", "timeout")
def lookup(domain: str, config_path: str | None, **options: Any) -> int:
    """Ask every source about one domain and show each server's raw answer."""
    from domwatch.app import run_lookup

    return run_lookup(domain, config_path, _given(**options), fail=_fail)


@cli.command(short_help="Write a commented starter domain file.")
@click.argument("path", required=False, default="domwatch.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> int:
    """Write a commented starter domain file (never overwrites without --force)."""
    from pathlib import Path

    from domwatch.starter import write_starter

    try:
        write_starter(Path(path), force=force)
    except FileExistsError:
        _fail(f"{path}: already exists (use --force to overwrite)")
    except OSError as exc:
        _fail(f"{path}: cannot write: {exc.strerror or exc}")
    click.echo(f"wrote {path}; edit it, then run: domwatch check {path}", err=True)
    return 0


@cli.command(short_help="Check a simulated world on this machine (offline).")
@_options(*_REPORT)
def demo(**options: Any) -> int:
    """Check a simulated world of domains served on this machine (works offline), with the
    report options of check."""
    from domwatch.lab.demo import run_demo

    return run_demo(_given(**options), fail=_fail)


def main() -> None:
    """Console-script entry point."""
    from domwatch.interrupt import exit_on_interrupt

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    with exit_on_interrupt():  # Ctrl-C: one line, exit 130, at once
        cli.main(prog_name="domwatch")
