"""Report formats: each module turns a Report into the text one consumer expects."""

from __future__ import annotations

import importlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers never see half a report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
