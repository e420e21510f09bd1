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


# Every option of check, serve and demo, declared once: (flags, help, default as shown, extra
# click arguments). The defaults are not click defaults: an option not given leaves the domain
# file's [settings] in force, so "default" here is only what --help says (tests/test_cli_help.py
# holds it to config.Settings).
_OPTION_DEFS: dict[str, tuple[tuple[str, ...], str, str | None, dict[str, Any]]] = {
    "format": (("--format", "fmt"), "Report format: table, json, csv, junit, prometheus, "
               "nagios, github, ics or html.", "table", {"metavar": "FORMAT"}),
    "output": (("-o", "--output"), "Write the report to PATH (atomically), not stdout.",
               "stdout", {"type": click.Path(dir_okay=False), "metavar": "PATH"}),
    "sort": (("--sort",), "Table order: urgency (worst state, then fewest days) or input.",
             "urgency", {"metavar": "ORDER"}),
    "tag": (("--tag", "tags"), "Check only the domains with this tag (repeatable: any of them).",
            "every domain", {"multiple": True, "metavar": "TAG"}),
    "checks": (("--checks",), "Categories to run, comma-separated: registration, dns, web, "
               "mail.", "all four", {"metavar": "LIST"}),
    "warn_days": (("--warn-days",), "Registration days left that make a WARNING.", "30",
                  {"type": int, "metavar": "N"}),
    "crit_days": (("--crit-days",), "Registration days left that make it CRITICAL.", "7",
                  {"type": int, "metavar": "N"}),
    "cert_warn_days": (("--cert-warn-days",), "Certificate days left that make a WARNING.",
                       "21", {"type": int, "metavar": "N"}),
    "cert_crit_days": (("--cert-crit-days",), "Certificate days left that make it CRITICAL.",
                       "7", {"type": int, "metavar": "N"}),
    "fail_on": (("--fail-on",), "Worst state that fails the exit status: warning, critical or "
                "never (UNKNOWN fails at all but never).", "warning", {"metavar": "STATE"}),
    "quiet": (("-q", "--quiet"), "Print nothing at all unless a domain needs attention.", "off",
              {"is_flag": True, "default": None}),
    "concurrency": (("--concurrency",), "Domains whose DNS, web and mail checks run at once.",
                    "32", {"type": int, "metavar": "N"}),
    "timeout": (("--timeout",), "Seconds for one network operation.", "10",
                {"type": float, "metavar": "SECONDS"}),
    "resolvers": (("--resolver", "resolvers"), "DNS resolver to ask (repeatable).",
                  "the system's", {"multiple": True, "metavar": "ADDR[:PORT]"}),
    "cache": (("--cache/--no-cache",), "Cache registration answers between runs.", "on",
              {"default": None}),
    "cache_dir": (("--cache-dir",), "Where the cache lives.", "the XDG cache dir",
                  {"type": click.Path(file_okay=False), "metavar": "PATH"}),
    "state": (("--state", "state_path"), "State file: what the last run saw, for change.* "
              "findings.", "the XDG state dir", {"type": click.Path(dir_okay=False),
                                                 "metavar": "PATH"}),
    "no_state": (("--no-state",), "Keep no state (no change.* findings).", "off",
                 {"is_flag": True, "default": None}),
    "notify": (("--notify", "notify_urls"), "Apprise URL to tell what changed (repeatable).",
               "none", {"multiple": True, "metavar": "URL"}),
    "notify_min": (("--notify-min",), "Least severe state that is told: warning or critical.",
                   "warning", {"metavar": "STATE"}),
    "dry_run_notify": (("--dry-run-notify",), "Show what would be told; send nothing.", "off",
                       {"is_flag": True, "default": None}),
    "progress": (("--progress/--no-progress",), "Progress bar on stderr.", "on a terminal",
                 {"default": None}),
    "verbose": (("-v", "--verbose"), "Log every DNS, RDAP, WHOIS, HTTPS and SMTP exchange to "
                "stderr.", "off", {"is_flag": True, "default": None}),
}
_REPORT = ("format", "output", "sort", "fail_on", "quiet", "progress", "verbose")
_CHECK = (
    "checks", "warn_days", "crit_days", "cert_warn_days", "cert_crit_days", "concurrency",
    "timeout", "resolvers", "cache", "cache_dir", "state", "no_state",
)
_NOTIFY = ("notify", "notify_min", "dry_run_notify")


def _options(*names: str) -> Callable[[F], F]:
    """The declared options ``names``, in that order, as click decorators."""

    def apply(fn: F) -> F:
        for name in reversed(names):
            flags, help_text, default, extra = _OPTION_DEFS[name]
            shown = f"{help_text}  [default: {default}]" if default else help_text
            fn = click.option(*flags, help=shown, **extra)(fn)
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
@_options(*_REPORT[:3], "tag", *_CHECK, *_REPORT[3:], *_NOTIFY)
def check(targets: Sequence[str], fmt: str | None, output: str | None, **options: Any) -> int:
    """Check domains: TARGETs are domain names, .toml domain files, list files (one name a
    line), or - for a list on stdin; with none, ./domwatch.toml."""
    from domwatch.app import run_check

    no_state = options.pop("no_state")
    given = _given(format=fmt, output=output, **options)
    if no_state:
        given["state"] = False
    return run_check(list(targets), given, fail=_fail)


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

    no_state = options.pop("no_state")
    given = _given(**options)
    if no_state:
        given["state"] = False
    return run_serve(list(targets), given, listen=listen, interval=interval,
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
def demo(fmt: str | None, output: str | None, **options: Any) -> int:
    """Check a simulated world of domains served on this machine (works offline), with the
    report options of check."""
    from domwatch.lab.demo import run_demo

    return run_demo(_given(format=fmt, output=output, **options), fail=_fail)


def main() -> None:
    """Console-script entry point."""
    from domwatch.interrupt import exit_on_interrupt

    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    with exit_on_interrupt():  # Ctrl-C: one line, exit 130, at once
        cli.main(prog_name="domwatch")
