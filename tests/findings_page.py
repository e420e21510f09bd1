"""The README's findings table, generated from the declaration of the codes (model.CODES).

``python -m tests.findings_page`` rewrites the table in README.md; tests/test_codes.py fails
while the README's table is not what this renders.
"""

from __future__ import annotations

import sys
from pathlib import Path

from domwatch.model import CODES, Code

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Findings\n"
HEADER = "| code | check | severity | when |\n| --- | --- | --- | --- |\n"


def row(code: Code) -> str:
    """One code's line of the table."""
    severities = " / ".join(s.value for s in (code.severity, *code.also))
    return f"| `{code.name}` | {code.check} | {severities} | {code.meaning} |\n"


def render() -> str:
    """The whole table, one row per declared code, in declaration order."""
    return HEADER + "".join(row(code) for code in CODES.values())


def updated(readme: str) -> str:
    """``readme`` with its findings table replaced by :func:`render`'s."""
    head, found, rest = readme.partition(SECTION)
    if not found:
        raise ValueError(f"README has no {SECTION.strip()!r} section")
    start = rest.index("| code |")
    end = rest.index("\n\n", start) + 1
    return head + found + rest[:start] + render() + rest[end:]


if __name__ == "__main__":
    README.write_text(updated(README.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
