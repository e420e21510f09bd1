"""What the last run saw of each registration, to report what changed since (``change.*``)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domwatch.model import CheckResult, DomainResult, Finding, Registration, Report, Severity
from domwatch.report import write_atomically

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
    def load(cls, path: Path) -> State:
        """The state at ``path``; a missing file is a first run, a corrupt one is set aside."""
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            log.warning("state file %s unreadable (%s): change detection starts afresh",
                        path, exc.strerror or exc)
            return cls()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError("not a domwatch state file")
            domains = data.get("domains")
            if not isinstance(domains, dict):
                raise ValueError("no domains table")
            return cls(
                {k: v for k, v in domains.items() if isinstance(v, dict)},
                {k: v for k, v in data.items() if k not in ("schema", "domains")},
            )
        except ValueError as exc:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            try:
                path.replace(aside)
                where = f"moved to {aside}"
            except OSError:
                where = "left in place"
            log.warning("state file %s is corrupt (%s); %s, change detection starts afresh",
                        path, str(exc).splitlines()[0][:100], where)
            return cls()

    def save(self, path: Path) -> None:
        """Write atomically, so a killed run leaves the old state or the new, never half."""
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"schema": SCHEMA, **self.extra, "domains": self.domains}
        write_atomically(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


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
        found.append(Finding("change.registrar", Severity.WARNING, CHECK,
                             f"registrar changed from {old_reg} to {new_reg}"))
    old_ns, new_ns = previous.get("nameservers") or [], now["nameservers"]
    if old_ns and new_ns and sorted(old_ns) != new_ns:
        found.append(Finding("change.nameservers", Severity.WARNING, CHECK,
                             f"name servers changed from {', '.join(sorted(old_ns))} "
                             f"to {', '.join(new_ns)}"))
    old_st = previous.get("statuses")
    if old_st is not None and sorted(old_st) != now["statuses"]:
        added = sorted(set(now["statuses"]) - set(old_st))
        removed = sorted(set(old_st) - set(now["statuses"]))
        parts = ([f"added {', '.join(added)}"] if added else []) + (
            [f"removed {', '.join(removed)}"] if removed else []
        )
        found.append(Finding("change.status", Severity.WARNING, CHECK,
                             f"registry statuses changed: {'; '.join(parts)}"))
    old_exp = _parse(previous.get("expires"))
    new_exp = registration.expires
    if old_exp is not None and new_exp is not None and old_exp.date() != new_exp.date():
        if new_exp < old_exp:
            found.append(Finding("change.expiry_earlier", Severity.WARNING, CHECK,
                                 f"expiry date moved earlier, from {old_exp.date()} "
                                 f"to {new_exp.date()}"))
        else:
            found.append(Finding("change.renewed", Severity.INFO, CHECK,
                                 f"renewed: expiry moved from {old_exp.date()} "
                                 f"to {new_exp.date()}"))
    return found


def apply(state: State, report: Report) -> None:
    """Add ``change.*`` findings to ``report`` and remember this run's registrations in ``state``.

    A domain whose lookup failed (or came from the cache) keeps its remembered facts, so a
    failure is not mistaken for a change on the next successful run.
    """
    for result in report.results:
        apply_one(state, result)


def apply_one(state: State, result: DomainResult) -> None:
    """:func:`apply` for one domain's result, as the run hands it over (before it is kept)."""
    registration = result.registration
    if registration is None or registration.source == "manual" or registration.cached:
        return
    previous = state.domains.get(result.domain.name)
    if previous is not None:
        _merge(result, changes(previous, registration))
    state.domains[result.domain.name] = snapshot(registration)


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
