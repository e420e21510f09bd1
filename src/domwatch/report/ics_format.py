"""iCalendar (RFC 5545): the renewal dates as all-day events to subscribe to in any calendar.

A cron job publishes the file to a web folder; Google Calendar, Outlook or Thunderbird poll it.
Stable ``UID`` values make a re-import update each event instead of adding a copy, and
``DTSTAMP`` is the report's own time, so two runs over the same facts differ only where the
facts (or the run's time) differ. A calendar is one whole document: ``quiet`` does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from domwatch import __version__
from domwatch.model import DomainResult, Finding, Report, Status
from domwatch.report import RenderOptions

PRODID = f"-//domwatch//domwatch {__version__}//EN"
_CERT_CODES = ("tls.", "mail.tls.")


def render(report: Report, options: RenderOptions) -> str:
    """The calendar: per domain one event on its registration expiry and one on its earliest
    certificate expiry, each with alarms at the domain's warning and critical thresholds."""
    del options  # a calendar is a whole document; nothing about it depends on the terminal
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # RFC 7986 NAME and REFRESH-INTERVAL, and the older X- spellings clients still read.
    calendar.add("name", "domwatch renewal dates")
    calendar.add("x-wr-calname", "domwatch renewal dates")
    calendar.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "P1D")
    for result in report.results:
        for event in _events(result, report.generated):
            calendar.add_component(event)
    text: str = calendar.to_ical().decode("utf-8")
    return text


def _events(result: DomainResult, now: datetime) -> Iterable[Event]:
    domain = result.domain
    thresholds = domain.thresholds
    registration = result.registration
    if registration is not None and registration.expires is not None:
        days = (registration.expires.date() - now.date()).days  # as Registration.days_left
        source = registration.source
        if registration.server:
            source += f" ({registration.server})"
        lines = [
            f"Registrar: {registration.registrar or 'not published'}",
            f"Source: {source}",
            f"Days left: {_days(days, now.date())}",
        ]
        yield _event(
            uid=f"{domain.name}@domwatch",
            summary=f"{domain.display_name} registration expires",
            day=registration.expires.date(),
            now=now,
            description=_description(
                lines, [f for f in result.findings if f.check == "registration"]
            ),
            alarms=(thresholds.warn_days, thresholds.crit_days),
        )
    if result.cert_expires is not None:
        days = (result.cert_expires.date() - now.date()).days
        lines = [
            "The earliest expiry of the certificates checked "
            f"({result.cert_expires.strftime('%Y-%m-%d %H:%M UTC')}).",
            f"Days left: {_days(days, now.date())}",
        ]
        findings = [f for f in result.findings if f.code.startswith(_CERT_CODES)]
        yield _event(
            uid=f"{domain.name}.tls@domwatch",
            summary=f"{domain.display_name} TLS certificate expires",
            day=result.cert_expires.date(),
            now=now,
            description=_description(lines, findings),
            alarms=(thresholds.cert_warn_days, thresholds.cert_crit_days),
        )


def _event(
    *,
    uid: str,
    summary: str,
    day: date,
    now: datetime,
    description: str,
    alarms: tuple[int, int],
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", day)  # a DATE value: an all-day event
    event.add("dtend", day + timedelta(days=1))  # exclusive, as RFC 5545 defines it
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")  # a reminder, not a meeting: the day stays free
    event.add("categories", ["domwatch"])
    for before in sorted(set(alarms), reverse=True):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(days=-before))
        alarm.add("description", f"{summary} in {before} day{'s' if before != 1 else ''}")
        event.add_component(alarm)
    return event


def _days(days: int, today: date) -> str:
    if days < 0:
        return f"{days} (expired {-days} day{'s' if days != -1 else ''} ago, as of {today})"
    return f"{days} (as of {today})"


def _description(lines: list[str], findings: list[Finding]) -> str:
    state = Status.worst(f.severity.status for f in findings)
    lines = [*lines, f"State: {state.value}"]
    lines.extend(f"{f.severity.value} {f.code}: {f.message}" for f in findings)
    return "\n".join(lines)
