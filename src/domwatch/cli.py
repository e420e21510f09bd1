"""Command-line wiring only: options in, calls into the library, exit status out.

Imports of the heavy modules happen inside the commands so ``domwatch --version`` stays fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from domwatch import __version__
from domwatch.redaction import redact_urls

EXIT_USAGE = 64
EXIT_SOFTWARE = 70  # sysexits.h: an internal error


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


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("--format", "fmt", help="table|json|csv|junit|prometheus|nagios|github|ics|html")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option("--checks", help="Comma list: registration,dns,web,mail.")
@click.option("--warn-days", type=int)
@click.option("--crit-days", type=int)
@click.option("--cert-warn-days", type=int)
@click.option("--cert-crit-days", type=int)
@click.option("--fail-on", help="warning|critical|never")
@click.option("-q", "--quiet", is_flag=True, default=None, help="Print nothing when all is OK.")
@click.option("--concurrency", type=int)
@click.option("--timeout", type=float, help="Seconds for one network operation.")
@click.option("--resolver", "resolvers", multiple=True, help="ADDR[:PORT], repeatable.")
@click.option("--cache/--no-cache", default=None)
@click.option("--cache-dir", type=click.Path(file_okay=False))
@click.option("--state", "state_path", type=click.Path(dir_okay=False))
@click.option("--no-state", is_flag=True, default=None)
@click.option("--notify", "notify_urls", multiple=True, help="Apprise URL, repeatable.")
@click.option("--notify-min")
@click.option("--dry-run-notify", is_flag=True, default=None)
@click.option("--progress/--no-progress", default=None)
@click.option("-v", "--verbose", is_flag=True, default=None)
def check(targets: Sequence[str], fmt: str | None, output: str | None, **options: Any) -> int:
    """Check domains (names, .toml domain files, list files, or - for stdin)."""
    from domwatch.app import run_check

    no_state = options.pop("no_state")
    given = _given(format=fmt, output=output, **options)
    if no_state:
        given["state"] = False
    return run_check(list(targets), given, fail=_fail)


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("--listen", required=True, metavar="ADDR:PORT",
              help="Where to serve /metrics, /probe and /healthz (:PORT: every interface).")
@click.option("--interval", default="6h", show_default=True, help="Time between runs.")
@click.option("--max-probes", type=int, default=256, show_default=True,
              help="Distinct /probe lookups in flight at once; more are answered 503.")
@click.option("--checks", help="Comma list: registration,dns,web,mail.")
@click.option("--warn-days", type=int)
@click.option("--crit-days", type=int)
@click.option("--cert-warn-days", type=int)
@click.option("--cert-crit-days", type=int)
@click.option("--concurrency", type=int)
@click.option("--timeout", type=float, help="Seconds for one network operation.")
@click.option("--resolver", "resolvers", multiple=True, help="ADDR[:PORT], repeatable.")
@click.option("--cache/--no-cache", default=None)
@click.option("--cache-dir", type=click.Path(file_okay=False))
@click.option("--state", "state_path", type=click.Path(dir_okay=False))
@click.option("--no-state", is_flag=True, default=None)
@click.option("-v", "--verbose", is_flag=True, default=None, help="Log each request and query.")
def serve(targets: Sequence[str], listen: str, interval: str, max_probes: int,
          **options: Any) -> int:
    """Serve Prometheus metrics: a run every --interval, /probe?target=NAME on demand."""
    from domwatch.serve.main import run_serve

    no_state = options.pop("no_state")
    given = _given(**options)
    if no_state:
        given["state"] = False
    return run_serve(list(targets), given, listen=listen, interval=interval,
                     max_probes=max_probes, fail=_fail)


@cli.command()
@click.argument("domain")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="A domain file whose [settings] apply (servers, resolver, timeout).")
@click.option("--resolver", "resolvers", multiple=True, help="ADDR[:PORT], repeatable.")
@click.option("--timeout", type=float)
def lookup(domain: str, config_path: str | None, **options: Any) -> int:
    """Ask every source about one domain and show each server's raw answer."""
    from domwatch.app import run_lookup

    return run_lookup(domain, config_path, _given(**options), fail=_fail)


@cli.command()
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


@cli.command()
@click.option("--format", "fmt", help="table|json|csv|junit|prometheus|nagios|github|ics|html")
def demo(fmt: str | None) -> int:
    """Check a simulated world of domains served on this machine (works offline)."""
    from domwatch.lab.demo import run_demo

    return run_demo(_given(format=fmt))


def main() -> None:
    """Console-script entry point."""
    from domwatch.interrupt import exit_on_interrupt

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    with exit_on_interrupt():  # Ctrl-C: one line, exit 130, at once
        cli.main(prog_name="domwatch")
