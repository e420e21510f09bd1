"""Report formats: each module turns a Report into the text one consumer expects."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from domwatch.files import write_atomically as write_atomically
from domwatch.model import Report

FORMATS = ("table", "json", "csv", "junit", "prometheus", "nagios", "github", "ics", "html")


@dataclass(frozen=True)
class RenderOptions:
    """How the report is shown, beyond the data itself."""

    color: bool = False  # escape codes allowed (a terminal, NO_COLOR unset)
    width: int | None = None  # terminal width; None: never wrap or cut
    quiet: bool = False  # only domains needing attention


def render(report: Report, fmt: str, options: RenderOptions) -> str:
    """The report in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"domwatch.report.{fmt}_format")
    text: str = module.render(report, options)
    return text
