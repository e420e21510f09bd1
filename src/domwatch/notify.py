"""Tell people what changed, through Apprise URLs (Slack, Teams, Matrix, e-mail, ntfy, webhooks).

After a run, each target gets at most one message: what is new or worse, what got better or was
fixed, compared with what *that target* was last told (remembered in the state file under
``notify``), and now and then a reminder of what is still wrong. A target is marked as told only
when Apprise reports the delivery succeeded, so a target that was down hears it all next time.

Apprise URLs carry tokens and passwords: only :func:`redact`-ed forms are ever printed, logged,
written to the report or to the state file (which keys targets by a salted hash).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote

from domwatch.model import CHECKS, CODES, DomainResult, Finding, Report, Severity
from domwatch.redaction import redact, scrub
from domwatch.settings import Settings

log = logging.getLogger("domwatch")

NOW_ENV = "DOMWATCH_NOW"  # ISO 8601 instant: the notification clock, for reminder tests
STATE_KEY = "notify"
MAX_EVENTS = 200  # pending change events kept per target that keeps failing
FORGET_AFTER = 90 * 86400.0  # a target not configured for this long is dropped from the state
SALT_BYTES = 16
KEY_ROUNDS = 20_000  # ~10 ms per target and run; the same for each guess of a reader

_RANK = {Severity.WARNING: 1, Severity.CRITICAL: 2}


# --------------------------------------------------------------------------- what to tell


@dataclass(frozen=True)
class Item:
    """One line of a message: something about one domain."""

    kind: str  # new | worse | better | fixed | changed | current | still
    domain: str  # A-label
    code: str
    severity: Severity | None  # now (None when fixed)
    message: str
    was: Severity | None = None


@dataclass
class Message:
    """What one target is sent."""

    title: str
    body: str
    level: str  # Apprise notify type: failure | warning | success


@dataclass
class Plan:
    """One target's message this run, and its record to remember once the message is out."""

    url: str
    key: str
    message: Message | None
    on_success: dict[str, Any]
    on_failure: dict[str, Any]


@dataclass
class Outcome:
    """How delivery to one target went (the report's ``notifications`` entry)."""

    target: str  # redacted
    sent: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"target", "sent", "error"}``."""
        return {"target": self.target, "sent": self.sent, "error": self.error}


def family(code: str) -> str:
    """The problem a code is a state of: ``expiry.warning`` and ``expiry.critical`` are one
    (declared with the code, :attr:`domwatch.model.Code.family`)."""
    declared = CODES.get(code)
    return declared.problem if declared is not None else code


def _is_event(finding: Finding) -> bool:
    # Events (change.*) say something happened between two runs: told once, never "fixed".
    return CODES[finding.code].event


def _at_least(severity: Severity, minimum: str) -> bool:
    return _RANK.get(severity, 0) >= _RANK[Severity(minimum)]


def _states(result: DomainResult) -> dict[str, dict[str, str]]:
    """Warning and critical problems of a domain by family: worst severity, its code, messages."""
    out: dict[str, dict[str, str]] = {}
    for finding in result.findings:
        if finding.severity not in _RANK or _is_event(finding):
            continue
        key = family(finding.code)
        entry = out.get(key)
        if entry is None:
            out[key] = {"severity": finding.severity.value, "code": finding.code,
                        "check": finding.check, "message": finding.message}
            continue
        if finding.message not in entry["message"].split("; "):
            entry["message"] += "; " + finding.message
        if _RANK[finding.severity] > _RANK[Severity(entry["severity"])]:
            entry["severity"], entry["code"] = finding.severity.value, finding.code
    return out


def _unsettled(result: DomainResult) -> set[str]:
    """Checks whose silence this run proves nothing: not run, or could not complete."""
    failed = {f.check for f in result.findings if f.severity is Severity.UNKNOWN}
    return failed | {c for c in CHECKS if c not in result.checks_run}


def _changes(
    result: DomainResult, told: Mapping[str, Mapping[str, str]], minimum: str
) -> tuple[list[Item], dict[str, dict[str, str]]]:
    """What changed for one domain since ``told``, and what the target knows once told."""
    name = result.domain.name
    states = _states(result)
    unsettled = _unsettled(result)
    items: list[Item] = []
    knows: dict[str, dict[str, str]] = {}
    # Told below today's threshold (it was raised since): forgotten quietly, as never told.
    told = {k: v for k, v in told.items()
            if _valid(v) and _at_least(Severity(v["severity"]), minimum)}
    for key, was in told.items():
        old = Severity(was["severity"])
        now = states.get(key)
        if now is None:
            if was.get("check") in unsettled:
                knows[key] = dict(was)  # unknown is not fixed: keep it until we know
            else:
                items.append(Item("fixed", name, was["code"], None, was["message"], old))
            continue
        new = Severity(now["severity"])
        if _RANK[new] > _RANK[old]:
            items.append(Item("worse", name, now["code"], new, now["message"], old))
        elif _RANK[new] < _RANK[old]:
            items.append(Item("better", name, now["code"], new, now["message"], old))
        if _at_least(new, minimum):
            knows[key] = now
    for key, now in states.items():
        if key not in told and _at_least(Severity(now["severity"]), minimum):
            items.append(Item("new", name, now["code"], Severity(now["severity"]), now["message"]))
            knows[key] = now
    return items, knows


def _valid(record: object) -> bool:
    """A told record as this version writes it (a hand-edited state file may hold anything)."""
    return (isinstance(record, dict)
            and all(isinstance(record.get(k), str) for k in ("severity", "code", "message"))
            and record["severity"] in ("warning", "critical"))


def _valid_event(event: object) -> bool:
    return _valid(event) and isinstance(event, dict) and isinstance(event.get("domain"), str)


def _current(result: DomainResult, minimum: str) -> dict[str, dict[str, str]]:
    return {k: v for k, v in _states(result).items()
            if _at_least(Severity(v["severity"]), minimum)}


def _events(result: DomainResult, minimum: str) -> list[dict[str, str]]:
    return [
        {"domain": result.domain.name, "code": f.code, "severity": f.severity.value,
         "message": f.message}
        for f in result.findings
        if _is_event(f) and f.severity in _RANK and _at_least(f.severity, minimum)
    ]


# --------------------------------------------------------------------------- message text

_ORDER = ("new", "worse", "changed", "better", "fixed", "current", "still")
_LABEL = {"new": "NEW", "worse": "WORSE", "changed": "CHANGED", "better": "BETTER",
          "fixed": "FIXED", "current": "", "still": "STILL"}


def _line(item: Item) -> str:
    label = _LABEL[item.kind]
    if item.kind == "fixed":
        head = f"FIXED (was {item.was.value if item.was else '?'})"
    else:
        assert item.severity is not None
        head = f"{label} {item.severity.value}".strip()
        if item.was is not None:
            head += f" (was {item.was.value})"
    return f"  {head}: {item.message} [{item.code}]"


def _domain_head(result: DomainResult, now: datetime) -> str:
    facts = [result.status.value]
    registration = result.registration
    days = registration.days_left(now) if registration is not None else None
    if days is not None:
        facts.append(f"registration {days} days left")
    if result.cert_days_left is not None:
        facts.append(f"certificate {result.cert_days_left} days left")
    return f"{result.domain.display_name} ({'; '.join(facts)})"


def _title(results: Sequence[DomainResult], minimum: str) -> tuple[str, str]:
    worst: list[Severity] = []
    for result in results:
        states = [Severity(v["severity"]) for v in _current(result, minimum).values()]
        if states:
            worst.append(max(states, key=lambda s: _RANK[s]))
    critical = worst.count(Severity.CRITICAL)
    warning = worst.count(Severity.WARNING)
    counts = [f"{n} {word}" for n, word in ((critical, "critical"), (warning, "warning")) if n]
    if not counts:
        return "domwatch: all clear", "success"
    return f"domwatch: {', '.join(counts)}", "failure" if critical else "warning"


def compose(
    items: Sequence[Item], results: Sequence[DomainResult], minimum: str, now: datetime
) -> Message:
    """One message: a summary line, then each domain (input order) with its lines."""
    title, level = _title(results, minimum)
    kinds = [i.kind for i in items]
    if set(kinds) == {"current"}:
        domains = len({i.domain for i in items})
        summary = (f"{domains} domain{'s' if domains != 1 else ''} at or above {minimum} "
                   "(first report to this target).")
    elif set(kinds) == {"still"}:
        domains = len({i.domain for i in items})
        summary = (f"Reminder: {domains} domain{'s' if domains != 1 else ''} "
                   f"still at or above {minimum}.")
    else:
        counted = [f"{kinds.count(k)} {k}" for k in _ORDER if k not in ("current", "still")
                   and k in kinds]
        summary = ", ".join(counted) + "."
        if "still" in kinds:
            summary += " Reminder of what is still wrong below."
    lines = [summary]
    by_domain = {r.domain.name: r for r in results}
    for result in results:
        mine = sorted((i for i in items if i.domain == result.domain.name),
                      key=lambda i: _ORDER.index(i.kind))
        if mine:
            lines.append("")
            lines.append(_domain_head(by_domain[result.domain.name], now))
            lines.extend(_line(i) for i in mine)
    return Message(title, "\n".join(lines) + "\n", level)


# --------------------------------------------------------------------------- targets


def targets(settings: Settings, results: Sequence[DomainResult],
            environ: Mapping[str, str]) -> dict[str, set[str] | None]:
    """Each target URL with the domains it hears about (``None``: every domain), in order.

    A ``file:///path`` entry stands for the URLs listed in that file (whitespace-separated,
    lines starting with ``#`` ignored), so secrets can live in a file only the job can read.
    """
    everyone: list[str] = _expand(settings.notify_urls)
    if settings.notify_urls_env:
        value = environ.get(settings.notify_urls_env, "")
        if value.strip():
            everyone += _expand(value.split())
        else:
            log.warning("notify: the environment variable %s (settings.notify.urls_env) is "
                        "empty or not set", settings.notify_urls_env)
    out: dict[str, set[str] | None] = {url: None for url in everyone}
    for result in results:
        for url in _expand(result.domain.notify):
            scope = out.setdefault(url, set())
            if scope is not None:
                scope.add(result.domain.name)
    return out


def _expand(urls: Iterable[str]) -> list[str]:
    out: list[str] = []
    for url in urls:
        if not url.lower().startswith("file://"):
            out.append(url)
            continue
        path = Path(unquote(url[len("file://"):])).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            # The path is no secret; what the file holds is, and it is not quoted.
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            log.warning("notify: cannot read notification URLs from %s: %s", path, why)
            continue
        out += [word for line in text.splitlines() if not line.lstrip().startswith("#")
                for word in line.split()]
    return out


@functools.lru_cache(maxsize=4096)
def target_key(url: str, salt: bytes) -> str:
    """How the state file names a target: a salted, slow hash, so no secret is written there.

    The salt is random per state file, so a key says nothing about the same URL elsewhere, and
    each guess at a password in the URL costs :data:`KEY_ROUNDS` rounds of HMAC-SHA256.
    """
    return hashlib.pbkdf2_hmac("sha256", url.encode("utf-8"), salt, KEY_ROUNDS).hex()[:32]


def _legacy_key(url: str) -> str:
    """The unsalted key of state files written before salted keys (read once, to migrate)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


def _salt(section: object) -> bytes | None:
    text = section.get("salt") if isinstance(section, dict) else None
    if isinstance(text, str) and len(text) == 2 * SALT_BYTES:
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    return None


def _migrate(store: dict[str, Any], urls: Iterable[str], salt: bytes) -> dict[str, Any]:
    """Records under unsalted keys moved to salted ones, for the targets still configured.

    Records of targets no longer configured cannot be re-keyed (their URL is gone) and are
    dropped: they would have been forgotten after :data:`FORGET_AFTER` anyway.
    """
    moved: dict[str, Any] = {}
    for url in urls:
        old = _legacy_key(url)
        if old in store:
            moved[target_key(url, salt)] = store[old]
    return moved


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def clock(environ: Mapping[str, str]) -> datetime:
    """Now, or the instant in ``$DOMWATCH_NOW`` (tests move time without sleeping)."""
    text = environ.get(NOW_ENV)
    if text:
        moment = _parse_time(text)
        if moment is not None:
            return moment
        log.warning("%s=%r is not an ISO 8601 instant; using the real clock", NOW_ENV, text)
    return datetime.now(timezone.utc)


def plan(
    report: Report,
    settings: Settings,
    store: Mapping[str, Any],
    wanted: Mapping[str, set[str] | None],
    *,
    now: datetime,
    salt: bytes,
) -> list[Plan]:
    """Each target's message (or None) and the records to keep after success or failure.

    ``wanted`` is :func:`targets`; ``store`` the remembered records by :func:`target_key`
    with ``salt``.
    """
    minimum = settings.notify_min
    plans: list[Plan] = []
    for url, scope in wanted.items():
        results = [r for r in report.results if scope is None or r.domain.name in scope]
        key = target_key(url, salt)
        record = store.get(key) if isinstance(store.get(key), dict) else None
        told_all = record.get("told") if record is not None else None
        first = not isinstance(told_all, dict)
        told: dict[str, Any] = dict(told_all) if isinstance(told_all, dict) else {}
        kept = record.get("events") if record is not None else None
        pending = [e for e in kept if _valid_event(e)] if isinstance(kept, list) else []
        events = pending + [e for r in results for e in _events(r, minimum) if e not in pending]
        since = _parse_time((record or {}).get("since")) or now
        items: list[Item] = []
        knows = dict(told)
        for result in results:
            if first:
                current = _current(result, minimum)
                items += [Item("current", result.domain.name, v["code"], Severity(v["severity"]),
                               v["message"]) for v in current.values()]
                knows[result.domain.name] = current
            else:
                previous = told.get(result.domain.name)
                found, knows[result.domain.name] = _changes(
                    result, previous if isinstance(previous, dict) else {}, minimum)
                items += found
        items += [Item("changed", e["domain"], e["code"], Severity(e["severity"]), e["message"])
                  for e in events if any(r.domain.name == e["domain"] for r in results)]
        if not first and (now - since).total_seconds() >= settings.notify_remind:
            # Due for a reminder: everything still wrong that this message does not already say.
            said = {(i.domain, family(i.code)) for i in items if i.kind != "fixed"}
            items += [Item("still", r.domain.name, v["code"], Severity(v["severity"]), v["message"])
                      for r in results for k, v in _current(r, minimum).items()
                      if (r.domain.name, k) not in said]
        knows = {name: known for name, known in knows.items() if known}
        message = compose(items, results, minimum, report.generated) if items else None
        base = {"target": redact(url), "seen": _iso(now)}
        if message is None:
            # Nothing to say: the record still learns quiet changes (a threshold raised, say).
            success = {**base, "told": knows, "events": [], "since": _iso(since)}
            plans.append(Plan(url, key, None, success, success))
            continue
        success = {**base, "told": knows, "events": [], "since": _iso(now)}
        failure = {**base, "told": None if first else told, "events": events[-MAX_EVENTS:],
                   "since": _iso(since)}
        plans.append(Plan(url, key, message, success, failure))
    return plans


# --------------------------------------------------------------------------- delivery


class _Capture(logging.Handler):
    """Apprise's warnings, per thread: they become the error text, and never reach stderr raw
    (Apprise logs URLs, paths included, when it cannot parse or reach them)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a bad format string in a library log call: keep the raw template
            text = str(record.msg)
        # Apprise warns in general words ("Connection error ..."); the cause (a 535 reply,
        # "Connection refused") is only in its debug line about the exception.
        if record.levelno < logging.WARNING:
            if not text.startswith("Socket Exception:"):
                return
            text = _cause(text.removeprefix("Socket Exception:").strip())
        if record.thread is not None:
            self.lines.setdefault(record.thread, []).append(text)

    def take(self) -> list[str]:
        """The lines logged so far by the calling thread (and forget them)."""
        return self.lines.pop(threading.get_ident(), [])


def _cause(text: str) -> str:
    """The gist of an exception text (requests wraps ``[Errno 111] Connection refused`` deep)."""
    errno = re.search(r"\[Errno -?\d+\] [^'\")]*", text)
    if errno:
        return errno[0].strip()
    if "timed out" in text.lower():
        return "timed out"
    return text[:200]


_CAPTURE = _Capture()
_CAPTURE_LOCK = threading.Lock()


def _install_capture() -> None:
    with _CAPTURE_LOCK:
        apprise_log = logging.getLogger("apprise")
        if _CAPTURE not in apprise_log.handlers:
            apprise_log.addHandler(_CAPTURE)
            apprise_log.setLevel(logging.DEBUG)  # for the exception lines; nothing else sees it
            apprise_log.propagate = False


def _send(url: str, message: Message, timeout: float) -> str | None:
    """Deliver ``message`` to ``url`` in this thread; an error text (unredacted) or None."""
    _CAPTURE.take()  # thread ids are reused: drop what an earlier thread left
    try:
        import apprise
    except ImportError:
        return "apprise is not installed (pip install apprise)"
    try:
        asset = apprise.AppriseAsset(app_id="domwatch", app_desc="domwatch",
                                     storage_mode="memory")
    except TypeError:  # Apprise before 1.9 has no persistent storage to switch off
        asset = apprise.AppriseAsset(app_id="domwatch", app_desc="domwatch")
    service = apprise.Apprise.instantiate(url, asset=asset)
    if service is None:
        # Apprise's own words here quote the URL with secrets half-masked (first and last
        # letters shown): say it in ours.
        _CAPTURE.take()
        return "not a usable Apprise URL (unknown service, or parts missing or malformed)"
    # Apprise's defaults (4 s, 15 s for SMTP) know nothing of our budget.
    service.socket_connect_timeout = timeout
    service.socket_read_timeout = timeout
    ok = service.notify(body=message.body, title=message.title,
                        notify_type=message.level, body_format="text")
    lines = _CAPTURE.take()
    if ok:
        return None
    return "; ".join(lines) or "the service did not accept the message"


def deliver(plans: Sequence[Plan], timeout: float) -> dict[str, str | None]:
    """Send every planned message at once, each within ``timeout`` seconds; errors by URL.

    Apprise is synchronous and cannot be cancelled: each send runs in a daemon thread, and one
    still running at the deadline is reported as timed out (it may yet arrive; then the target
    hears it again next run, which beats never).
    """
    _install_capture()
    errors: dict[str, str | None] = {}
    lock = threading.Lock()

    def work(url: str, message: Message) -> None:
        try:
            error = _send(url, message, timeout)
        except Exception as exc:  # a plugin bug must cost this target only, never the run
            error = f"{type(exc).__name__}: {exc}"
        with lock:
            errors.setdefault(url, error)

    threads = []
    for p in plans:
        if p.message is None:
            continue
        thread = threading.Thread(target=work, args=(p.url, p.message), daemon=True,
                                  name=f"domwatch-notify-{p.key[:8]}")
        thread.start()
        threads.append((p.url, thread))
    deadline = time.monotonic() + timeout
    for _url, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        for url, thread in threads:
            if thread.is_alive():
                errors.setdefault(url, f"no answer within {timeout:g} s")
        return dict(errors)


# --------------------------------------------------------------------------- the run


def notify(
    report: Report,
    settings: Settings,
    extra: dict[str, Any] | None,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    err: TextIO | None = None,
) -> list[Outcome] | None:
    """Tell every target what changed; remember in ``extra`` (the state file's spare room).

    ``extra`` None means no state file: every run is a first run. Returns one outcome per
    target, or None when no target is configured. Never raises for a delivery problem.
    """
    env = os.environ if environ is None else environ
    stream = sys.stderr if err is None else err
    moment = now if now is not None else clock(env)
    wanted = targets(settings, report.results, env)
    if not wanted:
        if settings.dry_run_notify:
            stream.write("domwatch: --dry-run-notify: no notification targets configured\n")
        return None
    if extra is None:
        log.warning("notify: no state file (--no-state), so every run sends the full digest")
    section = extra.get(STATE_KEY) if extra is not None else None
    store: dict[str, Any] = {}
    if isinstance(section, dict) and isinstance(section.get("targets"), dict):
        store = dict(section["targets"])
    salt = _salt(section)
    if salt is None:  # a first run, or a state file from before salted keys
        salt = os.urandom(SALT_BYTES)
        store = _migrate(store, wanted, salt)
    plans = plan(report, settings, store, wanted, now=moment, salt=salt)
    if settings.dry_run_notify:
        for p in plans:
            _show(p, stream)
        return [Outcome(redact(p.url), False) for p in plans]
    errors = deliver(plans, settings.timeout)
    outcomes: list[Outcome] = []
    for p in plans:
        shown = redact(p.url)
        if p.message is None:
            store[p.key] = p.on_success
            outcomes.append(Outcome(shown, False))
            continue
        error = errors.get(p.url)
        if error is None:
            log.info("notified %s: %s", shown, p.message.title)
            store[p.key] = p.on_success
            outcomes.append(Outcome(shown, True))
        else:
            error = " ".join(scrub(error, p.url).split())
            log.warning("notification to %s failed (it is retried next run): %s", shown, error)
            store[p.key] = p.on_failure
            outcomes.append(Outcome(shown, False, error))
    if extra is not None:
        keep = {p.key for p in plans}
        for key, record in list(store.items()):
            seen = _parse_time(record.get("seen")) if isinstance(record, dict) else None
            if key not in keep and (seen is None or
                                    (moment - seen).total_seconds() > FORGET_AFTER):
                del store[key]
        extra[STATE_KEY] = {"salt": salt.hex(), "targets": store}
    return outcomes


def _show(p: Plan, stream: TextIO) -> None:
    shown = redact(p.url)
    if p.message is None:
        stream.write(f"domwatch: would notify {shown}: nothing (no change)\n")
        return
    stream.write(f"domwatch: would notify {shown}:\n  title: {p.message.title}\n")
    for line in p.message.body.rstrip("\n").split("\n"):
        stream.write(f"  | {line}\n")


def outcomes_json(outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    """The report's ``notifications`` list."""
    return [o.to_json() for o in outcomes]


__all__ = ["Item", "Message", "Outcome", "Plan", "compose", "deliver", "family", "notify",
           "plan", "redact", "scrub", "targets"]
