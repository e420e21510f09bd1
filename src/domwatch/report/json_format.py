"""The JSON report (schema ``domwatch/1``)."""

from __future__ import annotations

import json

from domwatch.model import Report
from domwatch.report import RenderOptions


def render(report: Report, options: RenderOptions) -> str:
    """The spec's JSON document; with ``quiet``, only domains needing attention are listed."""
    document = report.to_json()
    if options.quiet:
        document["domains"] = [d for d in document["domains"] if d["status"] != "ok"]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
