"""Which finding codes the test session made, held to their one declaration (model.CODES).

conftest.py wraps :meth:`domwatch.model.Code.finding` (the way domwatch's own code makes every
finding) and :class:`~domwatch.model.Finding`'s check of its code, and asks :func:`problems` at
the end of the session: a code made but not declared always fails the session; a declared code
that no test made fails it only when the whole suite ran (a single file proves nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domwatch.model import CODES, Code, Finding


@dataclass
class Census:
    """Codes seen this session: made through a declaration, and attempted without one."""

    made: set[str] = field(default_factory=set)
    undeclared: set[str] = field(default_factory=set)
    paused: bool = False

    @contextmanager
    def pause(self) -> Iterator[None]:
        """Not counting, for a test that makes a wrong finding on purpose."""
        self.paused, was = True, self.paused
        try:
            yield
        finally:
            self.paused = was

    def install(self) -> Callable[[], None]:
        """Start recording; returns the undo."""
        finding = Code.finding
        post_init = Finding.__post_init__
        census = self

        def recorded_finding(code: Code, *args: Any, **kwargs: Any) -> Finding:
            if not census.paused:
                census.made.add(code.name)
            return finding(code, *args, **kwargs)

        def recorded_post_init(made: Finding) -> None:
            if made.code not in CODES and not census.paused:
                census.undeclared.add(made.code)
            post_init(made)

        Code.finding = recorded_finding  # type: ignore[method-assign]
        Finding.__post_init__ = recorded_post_init  # type: ignore[method-assign]

        def undo() -> None:
            Code.finding = finding  # type: ignore[method-assign]
            Finding.__post_init__ = post_init  # type: ignore[method-assign]

        return undo


# The session's census (conftest.py installs it). Here, not in conftest.py: pytest loads that as
# its own module, and a test importing ``tests.conftest`` would get a second copy.
SESSION = Census()


def whole_suite(ran: Iterable[Path], tests_dir: Path, deselected: int) -> bool:
    """Whether the session ran every test file, none of its tests left out by -k or -m."""
    wanted = {p.resolve() for p in tests_dir.glob("test_*.py")}
    return deselected == 0 and bool(wanted) and wanted <= {p.resolve() for p in ran}


def problems(census: Census, declared: Collection[str], *, whole: bool) -> list[str]:
    """What is wrong with the session's codes (empty when nothing is)."""
    out: list[str] = []
    if census.undeclared:
        out.append("findings made with undeclared codes (declare them in domwatch/model.py): "
                   + ", ".join(sorted(census.undeclared)))
    if whole:
        if not census.made:
            out.append("no finding was made through a declaration this session: the census "
                       "is not recording")
        never = sorted(set(declared) - census.made)
        if never:
            out.append("declared finding codes no test made (test them, or drop the "
                       "declaration if nothing can report them): " + ", ".join(never))
    return out
