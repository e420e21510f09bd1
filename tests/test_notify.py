"""Notifications through Apprise, end to end: the real CLI, lab domains, and lab receivers that
Apprise really sends to (json:// and form:// over HTTP, mailto:// over SMTP)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from domwatch.config import Settings
from domwatch.lab import Lab
from domwatch.lab.world import Site, World
from domwatch.model import CHECKS, CODES, Domain, DomainResult, Finding, Report, Severity
from domwatch.notify import Plan, family, plan, redact, scrub, target_key
from tests.conftest import Run, domwatch
from tests.lab_receivers import HttpReceiver, MailReceiver, Received

SECRET = "Zq8-hunter2-SECRET"
PATH_SECRET = "T0KEN-in-path-9b1f"


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://user:pass@host.example.com/path?token=x", "json://***@host.example.com/***?***"),
        ("json://user:pass@hooks.example.com:8443/p", "json://***@hooks.example.com:8443/***"),
        ("mailto://user:pass@smtp.example.com", "mailto://***@smtp.example.com"),
        ("mailto://ops@example.fi", "mailto://***@example.fi"),
        ("slack://TokenA/TokenB/TokenC", "slack://***/***"),
        ("ntfy://topic", "ntfy://***"),
        ("ntfys://ntfy.example.com/topic", "ntfys://ntfy.example.com/***"),
        ("json://127.0.0.1:8080/hook", "json://127.0.0.1:8080/***"),
        ("json://[::1]:8080", "json://[::1]:8080"),
        ("mailto://u:pa/ss@smtp.example.com", "mailto://***/***"),  # unescaped '/': all hidden
        ("tgram://123456:ABC-DEF/-100200", "tgram://***/***"),
        ("not a url", "***"),
    ],
)
def test_redact_keeps_scheme_and_host_only(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_scrub_hides_every_secret_piece_of_the_url() -> None:
    url = f"json://user:{SECRET}@example.com/hook/{PATH_SECRET}?token=Tok%2Fen42"
    text = (f"HTTP error for /hook/{PATH_SECRET}: user:{SECRET} refused; token Tok/en42, "
            f"example.com")
    cleaned = scrub(text, url)
    assert SECRET not in cleaned and PATH_SECRET not in cleaned and "Tok/en42" not in cleaned
    assert "example.com" in cleaned  # the host is shown anyway


def test_states_of_one_problem_are_one_family() -> None:
    assert family("expiry.warning") == family("expiry.critical") == family("expiry.expired")
    assert family("tls.warning") == family("tls.expired") != family("tls.hostname_mismatch")
    assert family("mail.tls.critical") != family("tls.critical")
    assert family("web.address_unreachable") == family("web.unreachable")


# --------------------------------------------------------------------------- helpers


def _world(lab: Lab, tmp_path: Path, sites: Sequence[Site], extra: str = "",
           domains: Sequence[str] | None = None) -> Path:
    world = World(list(sites)).start(lab)
    return world.config(tmp_path / "domains.toml", extra=extra, domains=domains)


def _check(config: Path, state: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return domwatch("check", str(config), "--format", "json", "--state", str(state),
                    "--no-cache", "--no-progress", *args, env=env)


def _no_secret(*runs: Run, files: Sequence[Path] = ()) -> None:
    for run in runs:
        for text in (run.stdout, run.stderr):
            assert SECRET not in text and PATH_SECRET not in text
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text and PATH_SECRET not in text


def _json_url(receiver: HttpReceiver) -> str:
    return receiver.target("json", f"/hook/{PATH_SECRET}", f"domwatch:{SECRET}")


def _names(received: Received | str) -> set[str]:
    text = received if isinstance(received, str) else received.text
    return {n for n in ("soon.fi", "late.fi", "calm.fi", "fine.fi") if n in text}


CALM = [Site("soon.fi", expires_in=5), Site("late.fi", expires_in=20), Site("calm.fi")]


# --------------------------------------------------------------------------- the story


def test_first_digest_silence_one_new_problem_then_its_fix(lab: Lab, tmp_path: Path) -> None:
    receiver = lab.add(HttpReceiver())
    url = _json_url(receiver)
    state = tmp_path / "state.json"

    config = _world(lab, tmp_path, CALM)
    first = _check(config, state, "--notify", url)
    assert first.exit_code == 2  # soon.fi is critical: notifying changes nothing of that
    assert len(receiver.received) == 1
    digest = receiver.received[0]
    assert digest.method == "POST" and digest.path == f"/hook/{PATH_SECRET}"
    assert digest.title == "domwatch: 1 critical, 1 warning"
    assert _names(digest) == {"soon.fi", "late.fi"}
    assert "registration expires in 5 days" in digest.message
    assert "registration 20 days left" in digest.message
    assert first.json()["notifications"] == [
        {"target": redact(url), "sent": True, "error": None}
    ]
    assert redact(url) == f"json://***@127.0.0.1:{receiver.port}/***"

    second = _check(config, state, "--notify", url)
    assert len(receiver.received) == 1  # nothing changed: nothing sent
    assert second.json()["notifications"] == [
        {"target": redact(url), "sent": False, "error": None}
    ]

    config = _world(lab, tmp_path, [*CALM[:2], Site("calm.fi", expires_in=3)])
    third = _check(config, state, "--notify", url)
    assert len(receiver.received) == 2
    news = receiver.received[1]
    assert _names(news) == {"calm.fi"}  # only the domain that changed
    assert "NEW critical: registration expires in 3 days" in news.message
    assert news.title == "domwatch: 2 critical, 1 warning"

    config = _world(lab, tmp_path, [Site("soon.fi", expires_in=400), *CALM[1:2],
                                    Site("calm.fi", expires_in=3)])
    fourth = _check(config, state, "--notify", url)
    assert len(receiver.received) == 3
    fixed = receiver.received[2]
    assert _names(fixed) == {"soon.fi"}
    assert "FIXED (was critical): registration expires in 5 days" in fixed.message
    assert "registration 400 days left" in fixed.message
    _no_secret(first, second, third, fourth, files=[state])


def test_worse_and_better_are_told_and_unknown_is_not_fixed(lab: Lab, tmp_path: Path) -> None:
    receiver = lab.add(HttpReceiver())
    url = receiver.target("json")
    state = tmp_path / "state.json"
    _check(_world(lab, tmp_path, [Site("late.fi", expires_in=20)]), state, "--notify", url)
    assert len(receiver.received) == 1

    _check(_world(lab, tmp_path, [Site("late.fi", expires_in=4)]), state, "--notify", url)
    assert "WORSE critical (was warning): registration expires in 4 days" in (
        receiver.received[-1].message)

    # The registry cannot be asked: that proves nothing, so nothing is "fixed".
    unknown = _world(lab, tmp_path, [Site("late.fi", whois="close", rdap="down")])
    down = _check(unknown, state, "--notify", url)
    assert "lookup.failed" in down.codes("late.fi")
    assert len(receiver.received) == 2

    _check(_world(lab, tmp_path, [Site("late.fi", expires_in=15)]), state, "--notify", url)
    assert len(receiver.received) == 3
    assert "BETTER warning (was critical): registration expires in 15 days" in (
        receiver.received[-1].message)
    assert receiver.received[-1].title == "domwatch: 1 warning"


def test_a_target_that_was_down_gets_the_message_next_run(lab: Lab, tmp_path: Path) -> None:
    up = lab.add(HttpReceiver())
    flaky = lab.add(HttpReceiver())
    urls = [up.target("json"), _json_url(flaky).replace("json://", "form://")]
    args = [a for u in urls for a in ("--notify", u)]
    state = tmp_path / "state.json"
    config = _world(lab, tmp_path, CALM)
    _check(config, state, *args)
    assert len(up.received) == len(flaky.received) == 1
    assert flaky.received[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert _names(flaky.received[0]) == {"soon.fi", "late.fi"}

    lab.run(flaky.stop())  # connection refused from now on
    config = _world(lab, tmp_path, [*CALM[:2], Site("calm.fi", expires_in=3)])
    failed = _check(config, state, *args)
    assert failed.exit_code == 2  # as it would be without notifications
    assert len(up.received) == 2 and _names(up.received[1]) == {"calm.fi"}
    entries = failed.json()["notifications"]
    assert entries[0] == {"target": redact(urls[0]), "sent": True, "error": None}
    assert entries[1]["target"] == redact(urls[1]) and entries[1]["sent"] is False
    assert "Connection refused" in entries[1]["error"]
    assert f"notification to {redact(urls[1])} failed" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert failed.json()["domains"]  # the report is whole

    lab.run(flaky.start())  # back, on the same port
    back = _check(config, state, *args)
    assert len(up.received) == 2  # the target that heard it is not told twice
    assert len(flaky.received) == 2
    assert _names(flaky.received[1]) == {"calm.fi"}
    assert "NEW critical" in flaky.received[1].message
    assert [e["sent"] for e in back.json()["notifications"]] == [False, True]
    _no_secret(failed, back, files=[state])


def test_a_failing_receiver_is_an_error_and_a_slow_one_times_out(
    lab: Lab, tmp_path: Path
) -> None:
    broken = lab.add(HttpReceiver(status=500))
    # 60 s, far past the 2 s timeout (world.config): while the run lasts, the slow
    # receiver has taken the request but not answered it, whatever the machine's speed.
    slow = lab.add(HttpReceiver(latency=60))
    state = tmp_path / "state.json"
    config = _world(lab, tmp_path, CALM[:1])
    run = _check(config, state, "--notify", broken.target("json"),
                 "--notify", slow.target("json"))
    # The slow target did not hold the run: asked once, and the run was over before it answered.
    assert len(slow.requests) == 1 and slow.received == []
    first, second = run.json()["notifications"]
    assert first["sent"] is False and "500" in first["error"]
    assert second == {"target": redact(slow.target("json")), "sent": False,
                      "error": "no answer within 2 s"}
    assert run.exit_code == 2


def test_reminder_after_the_interval_with_an_injected_clock(lab: Lab, tmp_path: Path) -> None:
    receiver = lab.add(HttpReceiver())
    url = receiver.target("json")
    state = tmp_path / "state.json"
    config = _world(lab, tmp_path, CALM)
    start = datetime.now(timezone.utc)

    def at(hours: float) -> dict[str, str]:
        return {"DOMWATCH_NOW": (start + timedelta(hours=hours)).isoformat()}

    _check(config, state, "--notify", url, env=at(0))
    _check(config, state, "--notify", url, env=at(23))
    assert len(receiver.received) == 1  # within a day: quiet

    _check(config, state, "--notify", url, env=at(24.5))
    assert len(receiver.received) == 2
    reminder = receiver.received[1]
    assert reminder.message.startswith("Reminder: 2 domains still at or above warning.")
    assert "STILL critical: registration expires in 5 days" in reminder.message
    assert _names(reminder) == {"soon.fi", "late.fi"}

    _check(config, state, "--notify", url, env=at(30))
    assert len(receiver.received) == 2  # the clock starts again at the reminder

    # A shorter interval from the file.
    config = _world(lab, tmp_path, CALM, extra='\n[settings.notify]\nremind = "2h"\n')
    _check(config, state, "--notify", url, env=at(27))
    assert len(receiver.received) == 3


def test_mailto_through_a_real_smtp_server(lab: Lab, tmp_path: Path) -> None:
    server = lab.add(MailReceiver(credentials=("domwatch", SECRET)))
    url = (f"mailto://domwatch:{SECRET}@127.0.0.1:{server.port}"
           "?from=domwatch@lab.test&to=hostmaster@lab.test")
    state = tmp_path / "state.json"
    config = _world(lab, tmp_path, CALM)
    run = _check(config, state, "--notify", url)
    assert len(server.received) == 1
    mail = server.received[0]
    assert mail.login == ("domwatch", SECRET)  # Apprise really logged in with the secret
    assert mail.mail_from == "domwatch@lab.test" and mail.rcpt_tos == ["hostmaster@lab.test"]
    assert mail.subject == "domwatch: 1 critical, 1 warning"
    assert _names(mail.body) == {"soon.fi", "late.fi"}
    assert run.json()["notifications"] == [
        {"target": f"mailto://***@127.0.0.1:{server.port}?***", "sent": True, "error": None}
    ]

    _check(config, state, "--notify", url)
    assert len(server.received) == 1
    _no_secret(run, files=[state])


def test_wrong_mail_password_is_a_redacted_failure(lab: Lab, tmp_path: Path) -> None:
    server = lab.add(MailReceiver(credentials=("domwatch", "the-right-one")))
    url = (f"mailto://domwatch:{SECRET}@127.0.0.1:{server.port}"
           "?from=domwatch@lab.test&to=hostmaster@lab.test")
    run = _check(_world(lab, tmp_path, CALM[:1]), tmp_path / "s.json", "--notify", url)
    (entry,) = run.json()["notifications"]
    assert entry["sent"] is False and "535" in entry["error"]  # the server's refusal, quoted
    assert server.received == []
    _no_secret(run)


# --------------------------------------------------------------------------- targets and options


def test_targets_from_file_env_and_per_domain(lab: Lab, tmp_path: Path) -> None:
    team = lab.add(HttpReceiver())
    ops = lab.add(HttpReceiver())
    customer = lab.add(HttpReceiver())
    sites = [Site("soon.fi", expires_in=5), Site("late.fi", expires_in=20)]
    extra = (
        "\n[settings.notify]\n"
        f'urls = ["{team.target("json")}"]\n'
        'urls_env = "DW_TEST_NOTIFY"\n'
        "\n[[domain]]\n"
        'name = "late.fi"\n'
        f'notify = ["{customer.target("form", f"/{PATH_SECRET}")}"]\n'
    )
    config = _world(lab, tmp_path, sites, extra=extra, domains=["soon.fi"])
    env = {"DW_TEST_NOTIFY": f"{ops.target('json')}  {team.target('json')}"}
    run = _check(config, tmp_path / "state.json", env=env)
    assert len(team.received) == 1  # given twice, told once
    assert _names(team.received[0]) == {"soon.fi", "late.fi"}
    assert _names(ops.received[0]) == {"soon.fi", "late.fi"}
    (told,) = customer.received
    assert _names(told) == {"late.fi"}  # the customer hears of its own domain only
    assert told.title == "domwatch: 1 warning"
    assert [e["sent"] for e in run.json()["notifications"]] == [True, True, True]

    # The variable named by urls_env missing: a warning, and the other targets still work.
    missing = _check(config, tmp_path / "state.json")
    assert "DW_TEST_NOTIFY" in missing.stderr and "not set" in missing.stderr
    assert len(missing.json()["notifications"]) == 2
    _no_secret(run, missing)


def test_notify_min_critical_tells_critical_only(lab: Lab, tmp_path: Path) -> None:
    receiver = lab.add(HttpReceiver())
    config = _world(lab, tmp_path, CALM)
    _check(config, tmp_path / "state.json", "--notify", receiver.target("json"),
           "--notify-min", "critical")
    (message,) = receiver.received
    assert _names(message) == {"soon.fi"}
    assert message.title == "domwatch: 1 critical"


def test_dry_run_prints_and_marks_nothing(lab: Lab, tmp_path: Path) -> None:
    receiver = lab.add(HttpReceiver())
    url = _json_url(receiver)
    state = tmp_path / "state.json"
    config = _world(lab, tmp_path, CALM)
    dry = _check(config, state, "--notify", url, "--dry-run-notify")
    assert receiver.received == []
    assert f"would notify {redact(url)}:" in dry.stderr
    assert "title: domwatch: 1 critical, 1 warning" in dry.stderr
    assert "soon.fi" in dry.stderr and "late.fi" in dry.stderr
    assert dry.json()["notifications"] == [{"target": redact(url), "sent": False, "error": None}]
    assert "notify" not in json.loads(state.read_text(encoding="utf-8"))

    real = _check(config, state, "--notify", url)
    assert len(receiver.received) == 1  # the dry run marked nothing as told
    assert _names(receiver.received[0]) == {"soon.fi", "late.fi"}
    _no_secret(dry, real, files=[state])


def test_no_targets_no_notifications_key_and_bad_url_is_reported(
    lab: Lab, tmp_path: Path
) -> None:
    config = _world(lab, tmp_path, CALM[:1])
    plain = _check(config, tmp_path / "state.json")
    assert "notifications" not in plain.json()

    bogus = f"nosuchservice://user:{SECRET}@example.com/{PATH_SECRET}"
    run = _check(config, tmp_path / "state.json", "--notify", bogus)
    (entry,) = run.json()["notifications"]
    assert entry == {"target": "nosuchservice://***@example.com/***", "sent": False,
                     "error": "not a usable Apprise URL (unknown service, or parts missing or "
                              "malformed)"}
    assert run.exit_code == 2
    _no_secret(run)


def test_without_a_state_file_every_run_is_a_first_run(lab: Lab, tmp_path: Path) -> None:
    receiver = lab.add(HttpReceiver())
    config = _world(lab, tmp_path, CALM[:1])
    for _ in range(2):
        run = domwatch("check", str(config), "--format", "json", "--no-state", "--no-cache",
                       "--no-progress", "--notify", receiver.target("json"))
        assert "every run sends the full digest" in run.stderr
    assert len(receiver.received) == 2



def test_urls_from_a_file_and_an_unreadable_file_is_a_warning(lab: Lab, tmp_path: Path) -> None:
    one, two = lab.add(HttpReceiver()), lab.add(HttpReceiver())
    listing = tmp_path / "notify.urls"
    listing.write_text(f"# team channels\n{_json_url(one)}\n  {two.target('form')} \n",
                       encoding="utf-8")
    config = _world(lab, tmp_path, CALM[:1])
    run = _check(config, tmp_path / "state.json", "--notify", f"file://{listing}",
                 "--notify", f"file://{tmp_path}/missing.urls")
    assert len(one.received) == len(two.received) == 1
    assert [e["sent"] for e in run.json()["notifications"]] == [True, True]
    assert f"cannot read notification URLs from {tmp_path}/missing.urls" in run.stderr
    assert run.stderr.count("cannot read") == 1
    _no_secret(run)


# --------------------------------------------------------------------------- planning, offline


def _report(*findings: tuple[str, str, Severity]) -> Report:
    results: dict[str, DomainResult] = {}
    for name, code, severity in findings:
        result = results.setdefault(
            name, DomainResult(Domain(name, name), checks_run=("registration", "dns")))
        result.findings.append(Finding(code, severity, "registration", f"{code} on {name}"))
    return Report(datetime.now(timezone.utc), list(results.values()))


SALT = bytes(16)


def _plan(report: Report, store: dict[str, Any], minimum: str = "warning") -> Plan:
    settings = Settings(notify_urls=("json://example.com/x",), notify_min=minimum)
    (only,) = plan(report, settings, store, {"json://example.com/x": None},
                   now=datetime.now(timezone.utc), salt=SALT)
    return only


def test_raising_the_threshold_forgets_warnings_but_a_critical_is_news_at_once() -> None:
    store: dict[str, Any] = {}
    first = _plan(_report(("a.fi", "expiry.warning", Severity.WARNING)), store)
    store[target_key("json://example.com/x", SALT)] = first.on_success
    quiet = _plan(_report(("a.fi", "expiry.warning", Severity.WARNING)), store, "critical")
    assert quiet.message is None  # forgetting a warning under a raised threshold is no news
    worse = _plan(_report(("a.fi", "expiry.critical", Severity.CRITICAL)), store, "critical")
    assert worse.message is not None
    assert "NEW critical: expiry.critical on a.fi" in worse.message.body


def test_a_hand_mangled_state_record_is_ignored_not_fatal() -> None:
    key = target_key("json://example.com/x", SALT)
    store: dict[str, Any] = {key: {"told": {"a.fi": {"expiry": {"severity": "purple"}},
                                            "b.fi": "nonsense"},
                                   "events": 7, "since": "yesterday"}}
    planned = _plan(_report(("a.fi", "expiry.warning", Severity.WARNING)), store)
    assert planned.message is not None
    assert "NEW warning: expiry.warning on a.fi" in planned.message.body


@pytest.mark.parametrize("check", CHECKS)
def test_a_check_that_did_not_run_fixed_nothing(check: str) -> None:
    # Every declared check counts: a new check cannot be left out of notify's list.
    code = next(c for c in CODES.values() if c.check == check and not c.event
                and Severity.WARNING in (c.severity, *c.also))
    store: dict[str, Any] = {}
    told = DomainResult(Domain("a.fi", "a.fi"), checks_run=CHECKS)
    told.findings.append(Finding(code.name, Severity.WARNING, check, "a problem"))
    first = _plan(Report(datetime.now(timezone.utc), [told]), store)
    assert first.message is not None and code.name in first.message.body
    store[target_key("json://example.com/x", SALT)] = first.on_success
    others = tuple(c for c in CHECKS if c != check)
    silent = DomainResult(Domain("a.fi", "a.fi"), checks_run=others)
    assert _plan(Report(datetime.now(timezone.utc), [silent]), store).message is None
    ran = DomainResult(Domain("a.fi", "a.fi"), checks_run=CHECKS)
    fixed = _plan(Report(datetime.now(timezone.utc), [ran]), store).message
    assert fixed is not None and "FIXED" in fixed.body.upper()
