"""The JSON report (schema ``domwatch/1``), written domain by domain."""

from __future__ import annotations

import json
from collections.abc import Iterator

from domwatch.model import Report, Status
from domwatch.report import RenderOptions

_DOMAINS = '"domains": []'


def render(report: Report, options: RenderOptions) -> str:
    """The spec's JSON document; with ``quiet``, only domains needing attention are listed."""
    return "".join(chunks(report, options))


def chunks(report: Report, options: RenderOptions) -> Iterator[str]:
    """:func:`render` in pieces: the same text as ``json.dumps(report.to_json(), indent=2)``,
    but one domain at a time, so 100,000 domains never sit in memory as one document."""
    head = report.to_json(domains=False)
    text = json.dumps(head, indent=2, ensure_ascii=False)
    # The key can only occur once as written here: inside a string its quotes are escaped.
    before, after = text.split(_DOMAINS, 1)
    yield before + '"domains": ['
    first = True
    for result in report.results:
        if options.quiet and result.status is Status.OK:
            continue
        body = json.dumps(result.to_json(report.generated), indent=2, ensure_ascii=False)
        yield ("\n" if first else ",\n") + _indent(body, "    ")
        first = False
    yield "]" if first else "\n  ]"
    yield after + "\n"


def _indent(text: str, prefix: str) -> str:
    # json.dumps escapes line breaks inside strings, so every line here is JSON structure.
    return prefix + text.replace("\n", "\n" + prefix)
