"""The table as people see it: the real CLI on a pseudo-terminal of 80 and 200 columns, and piped.

The demo world is the fixture: 17 domains, one kind of problem each, names up to 20 characters.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.cells import cell_len

from domwatch.lab.demo import DEMO_SITES
from domwatch.names import normalise
from tests.conftest import domwatch

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STATES = ("CRITICAL", "WARNING", "UNKNOWN", "OK")
NAMES = [normalise(s.name).display_name for s in DEMO_SITES]


@dataclass
class Screen:
    raw: str  # what the terminal received, escape codes and all
    text: str  # the same without escape codes
    stderr: str
    exit_code: int

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def on_terminal(columns: int, *args: str, tmp: Path, stderr_too: bool = False) -> Screen:
    """Run ``python -m domwatch ARGS`` with stdout (and optionally stderr) on a terminal of
    ``columns`` columns."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(COLUMNS=str(columns), LINES="50", HOME=str(tmp), TERM="xterm")
    err_path = tmp / f"stderr-{columns}.txt"
    with err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "domwatch", *args],
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave if stderr_too else err,
            env=env, cwd=tmp,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=120)
    os.close(master)
    raw = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return Screen(raw, ANSI.sub("", raw), err_path.read_text(encoding="utf-8"), code)


def table_lines(screen: Screen) -> list[str]:
    """The rows of the table: between the rule under the header and the summary line."""
    lines = screen.lines
    start = next(i for i, line in enumerate(lines) if set(line) == {"\u2500"}) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("# domwatch: "))
    return lines[start:end]


def domain_of(line: str) -> str | None:
    words = line.split()
    return words[1] if words and words[0] in STATES else None


@pytest.mark.parametrize("columns", [80, 200])
def test_terminal_table_fits_the_width_and_never_breaks_a_name(
    columns: int, tmp_path: Path
) -> None:
    screen = on_terminal(columns, "demo", tmp=tmp_path)
    assert screen.exit_code == 2, screen.stderr
    assert "\x1b[" in screen.raw  # coloured on a terminal
    rows = table_lines(screen)
    for line in screen.lines:
        assert cell_len(line) <= columns, line  # nothing for the terminal to wrap
    firsts = [domain_of(line) for line in rows if domain_of(line)]
    assert sorted(firsts) == sorted(NAMES)  # every name whole, on its domain's line
    for name in NAMES:  # and never split over lines
        assert sum(name in line for line in rows) >= 1
        assert not any(line.rstrip().endswith(name[: len(name) // 2]) for line in rows)
    assert len(rows) / len(NAMES) <= 3, "\n".join(rows)
    states = [line.split()[0] for line in rows if domain_of(line)]
    assert states == sorted(states, key=STATES.index)  # worst first
    assert any("Lab Registrar Oy" in line for line in rows)  # the registrar is shown
    by_name = {domain_of(line): line for line in rows if domain_of(line)}
    days = [int(by_name[n].split()[2]) for n in ("forgotten.com", "sauna.fi")]
    assert days == sorted(days)  # fewest days first within a state
    # The state and the days are in their columns; the finding does not say them again.
    assert not any("critical:" in line or "in 5 days" in line for line in rows)
    if columns == 200:
        # Wide enough: one line per domain, the most urgent finding on it.
        assert "registration expiring" in by_name["sauna.fi"]
        assert len(rows) <= len(NAMES) + 2
    else:
        assert "Expires" in screen.text and "Registrar" in screen.text


def test_piped_table_is_plain_and_never_cut() -> None:
    run = domwatch("demo")  # stdout is a pipe here
    assert "\x1b[" not in run.stdout and "\u2026" not in run.stdout
    report = domwatch("demo", "--format", "json").json()
    # Every finding that is not about days (those are in columns) is there word for word,
    # except the ports of the lab's servers, which differ between the two runs.
    port = re.compile(r"(?<=port )\d+|(?<=:)\d{4,5}\b")
    table = port.sub(":PORT", run.stdout)
    for domain in report["domains"]:
        for finding in domain["findings"]:
            if not finding["code"].startswith(("expiry.", "tls.")):
                assert port.sub(":PORT", finding["message"]) in table, finding
    assert run.stdout.splitlines()[-1].startswith("# domwatch: 17 domains, ")


def test_sort_input_keeps_the_file_order(tmp_path: Path) -> None:
    screen = on_terminal(200, "demo", "--sort", "input", tmp=tmp_path)
    firsts = [domain_of(line) for line in table_lines(screen) if domain_of(line)]
    domains = domwatch("demo", "--format", "json").json()["domains"]  # in input order
    assert firsts == [d["display_name"] for d in domains]
    states = {d["display_name"]: d["status"].upper() for d in domains}
    assert firsts != sorted(firsts, key=lambda n: STATES.index(states[n]))


def test_stderr_summary_comes_after_the_table_on_a_terminal(tmp_path: Path) -> None:
    screen = on_terminal(120, "demo", tmp=tmp_path, stderr_too=True)
    lines = screen.lines
    table_end = next(i for i, line in enumerate(lines) if line.startswith("# domwatch: "))
    summary = next(i for i, line in enumerate(lines) if line.startswith("domwatch: 17 domains in"))
    assert summary > table_end
