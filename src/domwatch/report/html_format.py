"""One self-contained HTML page: a 12-month timeline of expiries, then the domains by urgency.

The page is for people who never open a terminal: it can be mailed, published or printed. It
holds its CSS and SVG inline and asks no other host for anything (a Content-Security-Policy
says so to the browser too); it needs no script. The markup is a Jinja2 template with
autoescaping, so registrar names and registry text containing markup appear as text.

This module only computes what the template shows: where each marker goes, which labels fit,
how the domains sort. A page is a whole document: ``quiet`` does not apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from domwatch import __version__
from domwatch.model import DomainResult, Finding, Report, Status
from domwatch.report import RenderOptions, by_urgency

WINDOW_DAYS = 365  # the timeline's span: the next 12 months
PAST_WIDTH = 7.0  # per cent of the chart's width given to the past-due column on the left
RIGHT_MARGIN = 1.0  # per cent kept free on the right, so the last week's markers are whole
STACK_CAP = 12  # markers drawn per column at most; the rest are counted ("+28")
PITCH = 10  # px between stacked markers
MAX_LABELS = 6  # the most urgent expiries named on the chart; the list below has them all
LABEL_ROW = 15  # px per label line
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STATES = (Status.CRITICAL, Status.WARNING, Status.UNKNOWN, Status.OK)  # worst first
_REGISTRATION_CODES = ("expiry.",)
_CERT_CODES = ("tls.expired", "tls.critical", "tls.warning",
               "mail.tls.expired", "mail.tls.critical", "mail.tls.warning")  # fmt: skip


@dataclass(frozen=True)
class Expiry:
    """One dated expiry of one domain: its registration or its earliest certificate."""

    kind: str  # "registration" or "certificate"
    day: date
    days: int  # from the report's day; negative when past
    state: Status  # from this expiry's own findings (so an ignored code stays quiet)
    domain: str  # A-label, for the row's anchor
    display: str

    @property
    def short(self) -> str:
        """The name cut to fit a label on a phone's width."""
        return self.display if len(self.display) <= 32 else self.display[:31] + "\u2026"

    @property
    def when(self) -> str:
        """``in 5 days``, ``today``, ``expired 2 days ago``."""
        return relative(self.days)

    @property
    def urgency(self) -> tuple[int, int]:
        """Sort key: worst state first, then fewest days."""
        return (-self.state.rank, self.days)


@dataclass
class Marker:
    """An expiry placed in its column: ``y`` is the marker's centre in px."""

    expiry: Expiry
    y: int


@dataclass
class Column:
    """The markers of one week (or of the past-due column), bottom to top."""

    x: str  # centre, per cent of the chart's width
    markers: list[Marker] = field(default_factory=list)
    more: int = 0  # expiries in this column not drawn (the list below has them)
    more_y: int = 0


@dataclass(frozen=True)
class Label:
    """A name written above the chart, with a leader line down to its marker."""

    expiry: Expiry
    x: str
    y: int
    anchor: str  # "start" or "end"
    line_top: int
    line_bottom: int


@dataclass(frozen=True)
class Month:
    """A month's band on the axis."""

    x: str
    width: str
    middle: str
    name: str
    year: str  # shown under January and under the first month
    shaded: bool


@dataclass
class Timeline:
    """Everything the template draws."""

    height: int
    top: int  # where the month bands start, below the labels
    axis_y: int
    past: Column
    columns: list[Column]
    months: list[Month]
    labels: list[Label]
    past_width: str
    start: date
    end: date
    later: int  # expiries beyond the window
    dense: bool  # neighbouring weeks both hold markers: draw them smaller on a narrow screen
    undated: list[str]  # domains with no known registration expiry


@dataclass(frozen=True)
class Row:
    """One domain in the list."""

    result: DomainResult
    registration: Expiry | None
    certificate: Expiry | None
    no_date: str  # why the registration has no date, when it has none

    @property
    def anchor(self) -> str:
        """The row's id, the target of the chart's markers."""
        return f"d-{self.result.domain.name}"


def render(report: Report, options: RenderOptions) -> str:
    """The page; the same for a terminal, a pipe or a file."""
    del options  # a page is a whole document, not filtered by --quiet
    # The table's order too (report.urgency): worst state, then fewest days.
    rows = [_row(r, report.generated) for r in by_urgency(report.results, report.generated)]
    expiries = [e for row in rows for e in (row.registration, row.certificate) if e is not None]
    timeline = build_timeline(expiries, report.generated.date(), rows)
    counts = report.summary()
    text: str = _environment().get_template("report.html.j2").render(
        report=report,
        generated=report.generated.strftime("%Y-%m-%d %H:%M UTC"),
        counts=[(s.value, counts[s.value]) for s in _STATES],
        worst=report.status.value,
        rows=rows,
        timeline=timeline,
        version=__version__,
        states=[s.value for s in _STATES],
        pitch=PITCH,
    )
    return text


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("domwatch.report", "templates"),
        autoescape=True,  # every value is text unless the template says otherwise
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = human_day
    return env


def human_day(day: date) -> str:
    """``8 Dec 2026``: no locale, no ambiguity between day and month."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def relative(days: int) -> str:
    """Days left in words."""
    if days == 0:
        return "today"
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    return f"in {days} day{'s' if days != 1 else ''}"


def _row(result: DomainResult, now: datetime) -> Row:
    domain = result.domain
    registration = result.registration
    def _expiry(kind: str, day: date, codes: tuple[str, ...]) -> Expiry:
        state = _state(result.findings, codes)
        return Expiry(kind, day, (day - now.date()).days, state, domain.name, domain.display_name)

    reg: Expiry | None = None
    no_date = "no date" if "registration" in result.checks_run else "not checked"
    if registration is not None:
        if registration.expires is not None:
            reg = _expiry("registration", registration.expires.date(), _REGISTRATION_CODES)
        elif not registration.expiry_published:
            no_date = "not published by the registry"
        else:
            no_date = "unknown"
    cert: Expiry | None = None
    cert_day = result.cert_expires.date() if result.cert_expires is not None else None
    if cert_day is None and result.cert_days_left is not None:
        # Reports made without the date (older callers): days are counted from the same day.
        cert_day = now.date() + timedelta(days=result.cert_days_left)
    if cert_day is not None:
        cert = _expiry("certificate", cert_day, _CERT_CODES)
    return Row(result, reg, cert, no_date)


def _state(findings: Iterable[Finding], codes: tuple[str, ...]) -> Status:
    return Status.worst(f.severity.status for f in findings if f.code.startswith(codes))


def _pct(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def build_timeline(expiries: list[Expiry], today: date, rows: list[Row]) -> Timeline:
    """Place each expiry: past ones in the left column, the next 12 months by week."""
    span = 100.0 - PAST_WIDTH - RIGHT_MARGIN

    def x_of(days: float) -> float:
        return PAST_WIDTH + span * days / WINDOW_DAYS

    past: list[Expiry] = []
    weeks: dict[int, list[Expiry]] = {}
    later = 0
    for expiry in expiries:
        if expiry.days < 0:
            past.append(expiry)
        elif expiry.days < WINDOW_DAYS:
            weeks.setdefault(expiry.days // 7, []).append(expiry)
        else:
            later += 1
    fullest = max([len(past), *(len(v) for v in weeks.values())], default=0)
    rows_drawn = max(4, min(fullest, STACK_CAP))
    chosen = _choose_labels(
        [*past, *(e for v in weeks.values() for e in v)], lambda e: max(-1, e.days // 7)
    )
    label_band = len(chosen) * LABEL_ROW + (8 if chosen else 4)
    overflow_band = 26 if fullest > STACK_CAP else 0
    axis_y = label_band + overflow_band + rows_drawn * PITCH + 8

    def column(x: float, members: list[Expiry]) -> Column:
        ordered = sorted(members, key=lambda e: e.urgency)
        shown = ordered if len(ordered) <= STACK_CAP else ordered[: STACK_CAP - 1]
        col = Column(_pct(x))
        col.markers = [Marker(e, axis_y - 7 - i * PITCH) for i, e in enumerate(shown)]
        col.more = len(ordered) - len(shown)
        col.more_y = axis_y - 7 - len(shown) * PITCH + 4
        return col

    past_column = column(PAST_WIDTH / 2, past)
    columns = []
    for week in sorted(weeks):
        first = week * 7
        middle = first + min(7, WINDOW_DAYS - first) / 2
        columns.append(column(x_of(middle), weeks[week]))
    positions = {id(m.expiry): (c.x, m.y) for c in [past_column, *columns] for m in c.markers}
    labels = _place_labels(chosen, positions)
    return Timeline(
        height=axis_y + 34,
        top=label_band,
        axis_y=axis_y,
        past=past_column,
        columns=columns,
        months=_months(today, x_of),
        labels=labels,
        past_width=_pct(PAST_WIDTH),
        start=today,
        end=today + timedelta(days=WINDOW_DAYS - 1),
        later=later,
        dense=any(week + 1 in weeks for week in weeks),
        undated=[r.result.domain.display_name for r in rows if r.registration is None],
    )


def _choose_labels(expiries: list[Expiry], column_of: Callable[[Expiry], int]) -> list[Expiry]:
    """The most urgent expiries that need attention, for naming on the chart: at most two per
    column, so that a crowd of past-due ones leaves room for what comes next."""
    chosen: list[Expiry] = []
    per_column: dict[int, int] = {}
    pressing = [e for e in expiries if e.state is not Status.OK]
    for expiry in sorted(pressing, key=lambda e: e.urgency):
        column = column_of(expiry)
        if per_column.get(column, 0) < 2:
            per_column[column] = per_column.get(column, 0) + 1
            chosen.append(expiry)
            if len(chosen) == MAX_LABELS:
                break
    return chosen


def _place_labels(chosen: list[Expiry], positions: dict[int, tuple[str, int]]) -> list[Label]:
    # One label per line, the leftmost on top: a leader line then runs down past labels that
    # start further right, never through their text.
    drawn = [e for e in chosen if id(e) in positions]  # a label for a drawn marker only
    drawn.sort(key=lambda e: (float(positions[id(e)][0]), e.urgency))
    labels = []
    for line, expiry in enumerate(drawn):
        x, marker_y = positions[id(expiry)]
        y = 4 + (line + 1) * LABEL_ROW - 4
        anchor = "end" if float(x) > 55 else "start"
        labels.append(Label(expiry, x, y, anchor, y + 4, marker_y - 6))
    return labels


def _months(today: date, x_of: Callable[[float], float]) -> list[Month]:
    months: list[Month] = []
    start = today
    end = today + timedelta(days=WINDOW_DAYS)
    while start < end:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        stop = min(following, end)
        left = x_of((start - today).days)
        right = x_of((stop - today).days)
        wide_enough = (stop - start).days >= 12  # a sliver of a month gets no name
        months.append(
            Month(
                x=_pct(left),
                width=_pct(right - left),
                middle=_pct((left + right) / 2),
                name=_MONTHS[start.month - 1] if wide_enough else "",
                year=(
                    str(start.year)
                    if wide_enough and (start.month == 1 or not any(m.name for m in months))
                    else ""
                ),
                shaded=start.month % 2 == 0,
            )
        )
        start = stop
    return months
