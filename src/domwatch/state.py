"""What the last run saw of each registration, to report what changed since (``change.*``).

The file is read, used and written back by one run at a time: :class:`StateLock` is held from
reading it to saving it, so two overlapping runs (cron and a person) neither lose each other's
facts nor notify twice. It is mode 0600 in a 0700 directory (it says what each notification
target was told), and anything in it that is not as this version writes it sets the whole
file aside with one warning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from domwatch import model, safe_json
from domwatch.errors import StateBusy
from domwatch.files import PRIVATE_FILE, private_dir, remove_stale_temps, write_atomically
from domwatch.model import (
    CheckResult,
    DomainResult,
    Finding,
    Registration,
)

log = logging.getLogger("domwatch")

SCHEMA = "domwatch-state/1"
CHECK = "registration"


def default_path() -> Path:
    """``$XDG_STATE_HOME/domwatch/state.json`` (platformdirs picks the platform's place)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("domwatch")) / "state.json"


@dataclass
class State:
    """The remembered registration facts, per domain (A-label)."""

    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # room for other remembered things

    @classmethod
    def load(cls, path: Path, *, set_aside: bool = True) -> State:
        """The state at ``path``; a missing file is a first run, a corrupt one is set aside.

        ``set_aside`` False (not holding the lock) leaves a corrupt file where it is.
        """
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            log.warning("state file %s unreadable (%s): change detection starts afresh",
                        path, exc.strerror or exc)
            return cls()
        try:
            data = safe_json.loads(raw)
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError("not a domwatch state file")
            domains = data.get("domains")
            if not isinstance(domains, dict):
                raise ValueError("no domains table")
            for name, record in domains.items():
                problem = _bad_record(record)
                if problem:
                    raise ValueError(f"domain {name[:80]!r}: {problem}")
            return cls(
                dict(domains),
                {k: v for k, v in data.items() if k not in ("schema", "domains")},
            )
        except ValueError as exc:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            try:
                if not set_aside:
                    raise OSError("not holding the state lock")
                path.replace(aside)
                where = f"moved to {aside}"
            except OSError:
                where = "left in place"
            log.warning("state file %s is corrupt (%s); %s, change detection starts afresh",
                        path, str(exc).splitlines()[0][:100], where)
            return cls()

    def save(self, path: Path) -> None:
        """Write atomically, so a killed run leaves the old state or the new, never half.

        Call it holding the :class:`StateLock`: temporary files of runs that were killed while
        saving are removed first.
        """
        private_dir(path.parent)
        remove_stale_temps(path)
        document = {"schema": SCHEMA, **self.extra, "domains": self.domains}
        text = json.dumps(document, indent=1, sort_keys=True) + "\n"
        write_atomically(path, text, mode=PRIVATE_FILE)


def _bad_record(record: object) -> str:
    """What is wrong with one domain's remembered facts ("" when nothing is)."""
    if not isinstance(record, dict):
        return "not a table"
    registrar = record.get("registrar")
    if registrar is not None and not isinstance(registrar, str):
        return "registrar is not text"
    for key in ("nameservers", "statuses"):
        value = record.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return f"{key} is not a list of text"
    expires = record.get("expires")
    if expires is not None:
        moment = _parse(expires)
        if moment is None or moment.tzinfo is None:  # this version writes UTC instants
            return "expires is not a date and time with its zone"
    return ""


class StateLock:
    """An exclusive lock on ``<state>.lock``, held from reading the state to saving it.

    ``acquire`` waits up to ``wait`` seconds (checking every ``poll``), then raises
    :class:`StateBusy`. The operating system drops the lock when the process ends, however it
    ends, so a killed run never leaves it held. Where ``fcntl`` is missing (Windows) there is
    no lock.
    """

    def __init__(self, path: Path, *, wait: float, poll: float = 0.1,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = path.with_name(path.name + ".lock")
        self.wait = wait
        self.poll = poll
        self._clock = clock
        self._sleep = sleep
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock (see the class docstring)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        handle = os.fdopen(fd, "r+b")
        deadline = self._clock() + self.wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if self._clock() >= deadline:
                    handle.close()
                    raise StateBusy(f"{self.path} is held by another domwatch run") from None
                self._sleep(self.poll)
            except OSError:
                handle.close()
                raise
        self._handle = handle

    def release(self) -> None:
        """Let the next run in (safe to call twice)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()  # closing the descriptor drops the flock
            self._handle = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def snapshot(registration: Registration) -> dict[str, Any]:
    """The facts of a registration that are compared between runs."""
    return {
        "registrar": registration.registrar,
        "nameservers": sorted(registration.nameservers),
        "statuses": sorted(registration.statuses),
        "expires": registration.expires.isoformat() if registration.expires else None,
    }


def changes(previous: dict[str, Any], registration: Registration) -> list[Finding]:
    """Findings for what differs from the previous run (nothing where either side is unknown)."""
    now = snapshot(registration)
    found: list[Finding] = []
    old_reg, new_reg = previous.get("registrar"), now["registrar"]
    if old_reg and new_reg and old_reg != new_reg:
        found.append(model.CHANGE_REGISTRAR.finding(
            f"registrar changed from {old_reg} to {new_reg}"))
    old_ns, new_ns = previous.get("nameservers") or [], now["nameservers"]
    if old_ns and new_ns and sorted(old_ns) != new_ns:
        found.append(model.CHANGE_NAMESERVERS.finding(
            f"name servers changed from {', '.join(sorted(old_ns))} to {', '.join(new_ns)}"))
    old_st = previous.get("statuses")
    if old_st is not None and sorted(old_st) != now["statuses"]:
        added = sorted(set(now["statuses"]) - set(old_st))
        removed = sorted(set(old_st) - set(now["statuses"]))
        parts = ([f"added {', '.join(added)}"] if added else []) + (
            [f"removed {', '.join(removed)}"] if removed else []
        )
        found.append(model.CHANGE_STATUS.finding(
            f"registry statuses changed: {'; '.join(parts)}"))
    old_exp = _parse(previous.get("expires"))
    new_exp = registration.expires
    if old_exp is not None and new_exp is not None and old_exp.date() != new_exp.date():
        if new_exp < old_exp:
            found.append(model.CHANGE_EXPIRY_EARLIER.finding(
                f"expiry date moved earlier, from {old_exp.date()} to {new_exp.date()}"))
        else:
            found.append(model.CHANGE_RENEWED.finding(
                f"renewed: expiry moved from {old_exp.date()} to {new_exp.date()}"))
    return found


def apply_one(state: State, result: DomainResult) -> None:
    """Add ``change.*`` findings to ``result`` and remember its registration in ``state``.
    The run calls it on each result before spooling it.

    A domain whose lookup failed (or came from the cache) keeps its remembered facts, so a
    failure is not mistaken for a change on the next successful run.
    """
    registration = result.registration
    if registration is None or registration.source == "manual" or registration.cached:
        return
    previous = state.domains.get(result.domain.name)
    state.domains[result.domain.name] = snapshot(registration)
    if previous is not None:
        _merge(result, changes(previous, registration))


def _merge(result: DomainResult, findings: list[Finding]) -> None:
    result.add(CHECK, CheckResult(findings=findings))
    result.findings.sort(key=lambda f: -f.severity.status.rank)


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
