"""`domwatch demo`: a full report from a simulated world, offline, in seconds."""

from __future__ import annotations

import json

from tests.conftest import domwatch


def test_demo_prints_a_full_report_and_says_it_is_simulated() -> None:
    run = domwatch("demo", "--format", "json")
    assert "SIMULATED" in run.stderr
    report = json.loads(run.stdout)
    names = [d["name"] for d in report["domains"]]
    assert len(names) >= 12
    codes = {f["code"] for d in report["domains"] for f in d["findings"]}
    # One kind of problem per domain, and healthy ones beside them.
    for code in ("expiry.critical", "expiry.expired", "registration.hold",
                 "registration.not_found", "expiry.unpublished", "dns.servfail",
                 "dns.timeout", "mail.mx_unresolvable", "mail.mx_cname", "tls.expired",
                 "tls.critical", "web.http_error", "lookup.rate_limited"):
        assert code in codes, code
    assert report["summary"]["ok"] >= 1
    assert run.exit_code == 2


def test_demo_table_is_plain_when_piped() -> None:
    run = domwatch("demo")
    assert "\x1b[" not in run.stdout
    assert run.stdout.rstrip().splitlines()[-1].startswith("# domwatch: ")
