"""Each report format, read back with its consumer's own rules, and all agreeing with JSON."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from prometheus_client.parser import text_string_to_metric_families

from domwatch.model import (
    CHECKS,
    Domain,
    DomainResult,
    Finding,
    HostCertificate,
    Registration,
    Report,
    Severity,
    Status,
    Thresholds,
)
from domwatch.report import (
    FORMATS,
    RenderOptions,
    csv_format,
    github_format,
    junit_format,
    nagios_format,
    prometheus_format,
    render,
)

NOW = datetime(2026, 11, 25, 6, 0, 0, tzinfo=timezone.utc)
ALL_CHECKS = CHECKS
# Everything a message can hold that a format must escape or quote.
NASTY = 'registrar says "renew, now" | 100% sure:\r\nsecond line, a,b'


def _reg(expires: str | None, **kw: Any) -> Registration:
    moment = None if expires is None else datetime.fromisoformat(expires + "T00:00:00+00:00")
    return Registration(source=kw.pop("source", "rdap"), expires=moment, **kw)


def _f(code: str, severity: Severity, check: str, message: str) -> Finding:
    return Finding(code, severity, check, message)


def _certs(*hosts: tuple[str, list[int | None]]) -> list[HostCertificate]:
    """What the web check hands the writers for the hosts of :func:`_web`."""
    return [HostCertificate(host, days, NOW + timedelta(days=days))
            for host, days_list in hosts for days in days_list if days is not None]


def _web(*hosts: tuple[str, list[int | None]]) -> dict[str, Any]:
    return {
        "hosts": [
            {
                "host": host,
                "addresses": [
                    {
                        "address": f"192.0.2.{i + 1}",
                        "tls": None if days is None else {"days_left": days, "not_after": "x"},
                    }
                    for i, days in enumerate(days_list)
                ],
            }
            for host, days_list in hosts
        ]
    }


def sample_report() -> Report:
    warning = DomainResult(
        Domain("example.fi", "example.fi"),
        findings=[
            _f(
                "expiry.warning",
                Severity.WARNING,
                "registration",
                "registration expires in 25 days",
            ),
            _f(
                "tls.warning",
                Severity.WARNING,
                "web",
                "certificate of example.fi expires in 12 days",
            ),
            _f("mail.dmarc.missing", Severity.INFO, "mail", "no DMARC record"),
        ],
        registration=_reg("2026-12-20"),
        sections={"web": _web(("example.fi", [40, 12]), ("www.example.fi", [50, None]))},
        certificates=_certs(("example.fi", [40, 12]), ("www.example.fi", [50, None])),
        cert_days_left=12,
        checks_run=ALL_CHECKS,
    )
    critical = DomainResult(
        Domain("kriittinen.fi", "kriittinen.fi", thresholds=Thresholds(60, 10, 21, 7)),
        findings=[
            _f("expiry.critical", Severity.CRITICAL, "registration", "expires in 5 days"),
            _f("registration.hold", Severity.CRITICAL, "registration", NASTY),
            _f("dns.ns_lame", Severity.WARNING, "dns", "ns2.kriittinen.fi is lame"),
            _f("dns.timeout", Severity.UNKNOWN, "dns", "no answer in time"),
        ],
        registration=_reg("2026-11-30", source="whois"),
        checks_run=("registration", "dns"),
    )
    ok = DomainResult(
        Domain("xn--kknen-fraa0m.fi", "ääkkönen.fi"),
        registration=_reg("2027-09-21"),
        checks_run=("registration", "dns"),
    )
    unknown = DomainResult(
        Domain("tuntematon.fi", "tuntematon.fi"),
        findings=[_f("lookup.failed", Severity.UNKNOWN, "registration", "RDAP and WHOIS failed")],
        checks_run=("registration",),
    )
    unpublished = DomainResult(
        Domain("denic.de", "denic.de"),
        findings=[
            _f("expiry.unpublished", Severity.INFO, "registration", "no expiry published"),
            # A check that was not in checks_run (e.g. a change.* finding) still shows up.
            _f("change.registrar", Severity.WARNING, "change", "registrar changed: A -> B"),
        ],
        registration=_reg(None, expiry_published=False),
        checks_run=("registration",),
    )
    return Report(
        generated=NOW, results=[warning, critical, ok, unknown, unpublished], duration=3.25
    )


def ok_report() -> Report:
    result = DomainResult(
        Domain("example.fi", "example.fi"), registration=_reg("2027-09-21"), checks_run=("dns",)
    )
    return Report(generated=NOW, results=[result], duration=1.0)


OPTS = RenderOptions()
QUIET = RenderOptions(quiet=True)


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    # Running these tests inside GitHub Actions must not write to the real job summary.
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


# --------------------------------------------------------------------------- csv


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def test_csv_header_one_row_per_finding_and_empty_cells_for_clean_domains() -> None:
    report = sample_report()
    rows = _csv_rows(csv_format.render(report, OPTS))
    assert rows[0] == list(csv_format.COLUMNS)
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == sum(max(1, len(r.findings)) for r in report.results)
    clean = [row for row in body if row["domain"] == "xn--kknen-fraa0m.fi"]
    assert len(clean) == 1
    assert clean[0]["display_name"] == "ääkkönen.fi"
    assert [clean[0][c] for c in ("code", "severity", "check", "message")] == ["", "", "", ""]
    assert clean[0]["status"] == "ok" and clean[0]["days_left"] == "300"
    first = body[0]
    assert first["expires"] == "2026-12-20T00:00:00Z" and first["source"] == "rdap"
    unpublished = next(row for row in body if row["domain"] == "denic.de")
    assert unpublished["expires"] == "" and unpublished["days_left"] == ""


def test_csv_quotes_per_rfc4180() -> None:
    text = csv_format.render(sample_report(), OPTS)
    column = csv_format.COLUMNS.index("message")
    messages = [row[column] for row in _csv_rows(text)]
    assert NASTY in messages  # commas, quotes, CR LF inside a field survive the round trip
    # RFC 4180: records end in CRLF, and a field with a quote is quoted with the quote doubled.
    assert text.startswith(",".join(csv_format.COLUMNS) + "\r\n")
    assert text.endswith("\r\n")
    assert '"registrar says ""renew, now""' in text


def test_csv_quiet() -> None:
    assert csv_format.render(ok_report(), QUIET) == ""
    rows = _csv_rows(csv_format.render(sample_report(), QUIET))
    assert "xn--kknen-fraa0m.fi" not in {row[0] for row in rows}
    assert "example.fi" in {row[0] for row in rows}


# --------------------------------------------------------------------------- junit

# The shape Jenkins (xunit junit-10.xsd) and GitLab read, written down as a schema.
JUNIT_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="time">
    <xs:restriction base="xs:decimal"><xs:minInclusive value="0"/></xs:restriction>
  </xs:simpleType>
  <xs:complexType name="outcome">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute name="message" type="xs:string"/>
        <xs:attribute name="type" type="xs:string"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:element name="testsuites">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="testsuite" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="testcase" minOccurs="0" maxOccurs="unbounded">
                <xs:complexType>
                  <xs:sequence>
                    <xs:choice minOccurs="0">
                      <xs:element name="skipped" type="outcome"/>
                      <xs:element name="error" type="outcome"/>
                      <xs:element name="failure" type="outcome"/>
                    </xs:choice>
                    <xs:element name="system-out" type="xs:string" minOccurs="0"/>
                    <xs:element name="system-err" type="xs:string" minOccurs="0"/>
                  </xs:sequence>
                  <xs:attribute name="name" type="xs:string" use="required"/>
                  <xs:attribute name="classname" type="xs:string" use="required"/>
                  <xs:attribute name="time" type="time" use="required"/>
                </xs:complexType>
              </xs:element>
            </xs:sequence>
            <xs:attribute name="name" type="xs:string" use="required"/>
            <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="skipped" type="xs:nonNegativeInteger" use="required"/>
            <xs:attribute name="time" type="time" use="required"/>
            <xs:attribute name="timestamp" type="timestamp" use="required"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="name" type="xs:string"/>
      <xs:attribute name="tests" type="xs:nonNegativeInteger"/>
      <xs:attribute name="failures" type="xs:nonNegativeInteger"/>
      <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
      <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
      <xs:attribute name="time" type="time"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(JUNIT_XSD)


def test_junit_valid_against_schema(junit_schema: xmlschema.XMLSchema) -> None:
    for report in (sample_report(), ok_report()):
        junit_schema.validate(junit_format.render(report, OPTS))


def test_junit_schema_can_reject(junit_schema: xmlschema.XMLSchema) -> None:
    # The schema is not a rubber stamp: a case without a classname, or two outcomes, fail.
    text = junit_format.render(sample_report(), OPTS)
    assert not junit_schema.is_valid(text.replace('classname="example.fi"', "", 1))
    doubled = text.replace("</failure>", '</failure><error message="x" type="y"/>', 1)
    assert not junit_schema.is_valid(doubled)


def test_junit_cases_and_outcomes() -> None:
    report = sample_report()
    root = ET.fromstring(junit_format.render(report, OPTS))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "domwatch"
    cases = suite.findall("testcase")
    expected = [(r.domain.name, c) for r in report.results for c in r.checks_run]
    expected.append(("denic.de", "change"))
    assert sorted((c.get("classname"), c.get("name")) for c in cases) == sorted(expected)
    by_key = {(c.get("classname"), c.get("name")): c for c in cases}

    failure = by_key["kriittinen.fi", "registration"].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert failure.get("message") == "expires in 5 days"
    assert NASTY.replace("\r\n", "\n") in (failure.text or "")  # XML normalises CR LF

    dns = by_key["kriittinen.fi", "dns"]
    dns_failure = dns.find("failure")  # warning + unknown: a failure telling both
    assert dns_failure is not None and dns_failure.get("type") == "warning"
    assert "dns.timeout" in (dns_failure.text or "") and dns.find("error") is None

    error = by_key["tuntematon.fi", "registration"].find("error")
    assert error is not None and error.get("message") == "RDAP and WHOIS failed"

    mail = by_key["example.fi", "mail"]
    assert list(mail) == [mail.find("system-out")]
    assert "mail.dmarc.missing" in (mail.findtext("system-out") or "")
    assert list(by_key["example.fi", "dns"]) == []  # passed

    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(failures) == "5"
        assert element.get("errors") == str(errors) == "1"
    assert suite.get("timestamp") == "2026-11-25T06:00:00" and suite.get("time") == "3.250"


def test_junit_survives_control_characters(junit_schema: xmlschema.XMLSchema) -> None:
    report = ok_report()
    report.results[0].findings.append(
        _f("lookup.unparsed", Severity.UNKNOWN, "dns", "garbage \x00\x1b[31m <&> from server")
    )
    text = junit_format.render(report, OPTS)
    junit_schema.validate(text)
    assert "<&>" in (ET.fromstring(text).findtext("testsuite/testcase/error") or "")


# --------------------------------------------------------------------------- prometheus


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _samples(families: dict[str, Any], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for s in families[name].samples}


def test_prometheus_textfile_parses_with_help_and_type() -> None:
    text = prometheus_format.render(sample_report(), OPTS)
    families = _families(text)
    expected = {
        "domwatch_registration_days_left",
        "domwatch_registration_expiry_timestamp_seconds",
        "domwatch_certificate_days_left",
        "domwatch_domain_state",
        "domwatch_findings",
        "domwatch_domains",
        "domwatch_last_run_timestamp_seconds",
        "domwatch_last_run_duration_seconds",
    }
    assert set(families) == expected
    for name, family in families.items():
        assert family.type == "gauge" and family.documentation
        assert text.count(f"# HELP {name} ") == 1 and text.count(f"# TYPE {name} gauge") == 1
        # The textfile collector rejects samples carrying their own timestamps.
        assert all(s.timestamp is None for s in family.samples)
    assert text.endswith("\n")


def test_prometheus_values() -> None:
    report = sample_report()
    families = _families(prometheus_format.render(report, OPTS))
    days = _samples(families, "domwatch_registration_days_left")
    assert days == {
        (("domain", "example.fi"),): 25,
        (("domain", "kriittinen.fi"),): 5,
        (("domain", "xn--kknen-fraa0m.fi"),): 300,
    }
    expiry = _samples(families, "domwatch_registration_expiry_timestamp_seconds")
    assert (
        expiry[(("domain", "example.fi"),)]
        == datetime(2026, 12, 20, tzinfo=timezone.utc).timestamp()
    )
    certs = _samples(families, "domwatch_certificate_days_left")
    assert certs == {
        (("domain", "example.fi"), ("host", "example.fi")): 12,
        (("domain", "example.fi"), ("host", "www.example.fi")): 50,
    }
    state = _samples(families, "domwatch_domain_state")
    assert [state[(("domain", r.domain.name),)] for r in report.results] == [1, 2, 0, 3, 1]
    findings = _samples(families, "domwatch_findings")
    key = (("code", "expiry.critical"), ("domain", "kriittinen.fi"), ("severity", "critical"))
    assert findings[key] == 1
    assert len(findings) == sum(len(r.findings) for r in report.results)
    assert _samples(families, "domwatch_domains")[(("state", "warning"),)] == 2
    assert families["domwatch_last_run_timestamp_seconds"].samples[0].value == NOW.timestamp()
    assert families["domwatch_last_run_duration_seconds"].samples[0].value == 3.25


def test_prometheus_counts_repeated_codes() -> None:
    report = ok_report()
    report.results[0].findings.extend(
        _f("dns.ns_lame", Severity.WARNING, "dns", f"ns{i} is lame") for i in (1, 2)
    )
    findings = _samples(_families(prometheus_format.render(report, OPTS)), "domwatch_findings")
    assert list(findings.values()) == [2]


def test_prometheus_escapes_label_values() -> None:
    report = ok_report()
    weird = 'we"ird\\host\nname'
    report.results[0].sections["web"] = _web((weird, [9]))
    report.results[0].certificates = _certs((weird, [9]))
    text = prometheus_format.render(report, OPTS)
    assert 'host="we\\"ird\\\\host\\nname"' in text
    certs = _samples(_families(text), "domwatch_certificate_days_left")
    assert certs == {(("domain", "example.fi"), ("host", weird)): 9}


def test_prometheus_ignores_quiet() -> None:
    # Series of OK domains must not vanish from the textfile because of -q.
    assert prometheus_format.render(ok_report(), QUIET) == prometheus_format.render(
        ok_report(), OPTS
    )


# --------------------------------------------------------------------------- nagios

# Nagios plugin guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]
_RANGE = r"@?(?:~|-?\d+(?:\.\d+)?)?(?::(?:-?\d+(?:\.\d+)?)?)?"
_PERF = re.compile(
    rf"(?P<label>'(?:[^'=]|'')+'|[^'= ]+)=(?P<value>-?\d+(?:\.\d+)?)(?P<uom>[a-zA-Z%]*)"
    rf"(?:;(?P<warn>{_RANGE})(?:;(?P<crit>{_RANGE})(?:;-?[\d.]*){{0,2}})?)?"
)
_STATUS = re.compile(r"DOMWATCH (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+?)(?: \| (.*))?")


def _perfdata(text: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    pos = 0
    for match in _PERF.finditer(text):
        assert text[pos : match.start()].strip() == "", f"garbage in perfdata: {text[pos:]}"
        pos = match.end()
        label = match["label"].strip("'").replace("''", "'")
        out[label] = {k: v for k, v in match.groupdict().items() if k != "label"}
    assert text[pos:].strip() == ""
    return out


def _nagios_parts(text: str) -> tuple[str, list[str], dict[str, dict[str, str]]]:
    """(status line, long text lines, the perfdata after them) per the plugin guidelines:
    ``LONG TEXT LINE N | PERFDATA LINE 2`` then ``PERFDATA LINE 3``..."""
    lines = text.splitlines()
    long_text: list[str] = []
    perf_text = ""
    for i, line in enumerate(lines[1:], 1):
        if "|" in line:
            head, _, first = line.partition("|")
            long_text.append(head.rstrip())
            perf_text = " ".join([first, *lines[i + 1 :]])
            break
        long_text.append(line)
    return lines[0], long_text, _perfdata(perf_text)


def _alerts(value: float, spec: str) -> bool:
    """Whether ``value`` is outside the range ``spec`` (the plugin guidelines' rules)."""
    inside = spec.startswith("@")
    spec = spec.lstrip("@")
    low_text, _, high_text = spec.rpartition(":") if ":" in spec else ("0", "", spec)
    low = float("-inf") if low_text == "~" else float(low_text or 0)
    high = float(high_text) if high_text else float("inf")
    outside = value < low or value > high
    return not outside if inside else outside


def test_nagios_status_line_grammar_and_perfdata() -> None:
    report = sample_report()
    first, _, perf = _nagios_parts(nagios_format.render(report, OPTS))
    match = _STATUS.fullmatch(first)
    assert match is not None, first
    assert match[1] == "CRITICAL"
    assert match[2].startswith(
        "1 critical, 2 warning, 1 unknown: kriittinen.fi: expires in 5 days;"
    )
    # Worst first: the critical domain is named before the warning ones.
    assert match[2].index("kriittinen.fi") < match[2].index("example.fi")
    counts = _perfdata(match[3])  # the first line's perfdata: domains per state
    assert {k: v["value"] for k, v in counts.items()} == {
        "critical": "1", "warning": "2", "unknown": "1", "ok": "1"
    }
    # Days are plain numbers: the plugin guidelines define no unit for days.
    assert perf["example.fi"] == {"value": "25", "uom": "", "warn": "30:", "crit": "7:"}
    assert perf["kriittinen.fi"]["warn"] == "60:" and perf["kriittinen.fi"]["crit"] == "10:"
    assert perf["example.fi cert"] == {"value": "12", "uom": "", "warn": "21:", "crit": "7:"}
    assert "denic.de" not in perf and "tuntematon.fi" not in perf  # no days known


def test_nagios_thresholds_alert_in_the_right_direction() -> None:
    _, _, perf = _nagios_parts(nagios_format.render(sample_report(), OPTS))
    # 25 days with warn 30 / crit 7 is a warning, not critical; 5 of 60/10 is critical;
    # 300 days is fine.
    assert (_alerts(25, perf["example.fi"]["warn"]), _alerts(25, perf["example.fi"]["crit"])) == (
        True,
        False,
    )
    assert _alerts(5, perf["kriittinen.fi"]["crit"])
    ok = perf["xn--kknen-fraa0m.fi"]
    assert not _alerts(300, ok["warn"]) and not _alerts(300, ok["crit"])


def test_nagios_long_output_one_line_per_finding_no_pipes() -> None:
    report = sample_report()
    text = nagios_format.render(report, OPTS)
    first, long_output, _ = _nagios_parts(text)
    assert len(long_output) == sum(len(r.findings) for r in report.results)
    assert all("|" not in line for line in long_output)
    assert "CRITICAL kriittinen.fi: expiry.critical: expires in 5 days" in long_output
    assert first.count("|") == 1  # only the perfdata separator
    assert text.count("|") == 2  # and the one before the long output's perfdata


def test_nagios_headline_names_the_domain_once() -> None:
    report = ok_report()
    report.results[0].findings.append(
        _f("mail.no_mx", Severity.WARNING, "mail", "example.fi has no MX record")
    )
    assert nagios_format.render(report, OPTS).startswith(
        "DOMWATCH WARNING - 1 warning: example.fi has no MX record | "
    )


def test_nagios_ok() -> None:
    text = nagios_format.render(ok_report(), QUIET)
    assert text == (
        "DOMWATCH OK - 1 domain ok | critical=0;;;0 warning=0;;;0 unknown=0;;;0 ok=1;;;0\n"
        "1 domain checked | 'example.fi'=300;30:;7:\n"
    )


# --------------------------------------------------------------------------- github

_COMMAND = re.compile(r"::(?P<cmd>[a-z]+)(?: (?P<props>[^:]*))?::(?P<msg>.*)")


def _unescape(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def _commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    out = []
    for line in text.splitlines():
        match = _COMMAND.fullmatch(line)
        if match is None:
            continue
        props = {}
        for prop in (match["props"] or "").split(","):
            key, _, value = prop.partition("=")
            props[key] = _unescape(value)
        out.append((match["cmd"], props, _unescape(match["msg"])))
    return out


def test_github_annotations() -> None:
    report = sample_report()
    text = github_format.render(report, OPTS)
    commands = _commands(text)
    assert len(commands) == sum(len(r.findings) for r in report.results)
    assert commands[0] == (
        "warning",
        {"title": "domwatch example.fi"},
        "registration expires in 25 days [expiry.warning]",
    )
    kinds = {msg.rsplit("[", 1)[1].rstrip("]"): cmd for cmd, _, msg in commands}
    assert kinds["expiry.critical"] == "error"
    assert kinds["lookup.failed"] == "warning"
    assert kinds["mail.dmarc.missing"] == "notice"
    # The message with CR LF, '%', ':' and ',' is one line and comes back intact.
    assert (
        "error",
        {"title": "domwatch kriittinen.fi"},
        f"{NASTY} [registration.hold]",
    ) in commands
    assert "%0D%0A" in text and "100%25" in text
    assert text.splitlines()[-1].startswith("# domwatch: 5 domains")


def test_github_property_escaping() -> None:
    assert github_format.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github_format.escape_data("a:b,c%\r") == "a:b,c%25%0D"


def test_github_step_summary_is_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = sample_report()
    github_format.render(report, OPTS)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## domwatch")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(report.results)  # header, delimiter, one per domain
    for row in rows:  # every row has the header's six cells despite '|' in messages
        assert len(re.split(r"(?<!\\)\|", row)) == 8
    assert any(row.startswith("| ääkkönen.fi | ✅ ok | 2027-09-21 | 300 |") for row in rows)
    github_format.render(report, OPTS)
    assert summary.read_text(encoding="utf-8").count("## domwatch") == 2


def test_github_unwritable_step_summary_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    text = github_format.render(sample_report(), OPTS)
    assert text.count("::error ") == 2
    assert "GITHUB_STEP_SUMMARY" in caplog.text


def test_github_quiet() -> None:
    assert github_format.render(ok_report(), QUIET) == ""
    assert "::notice" not in github_format.render(sample_report(), QUIET)


# --------------------------------------------------------------------------- agreement


def test_dispatch_finds_every_format() -> None:
    for fmt in FORMATS:
        assert isinstance(render(sample_report(), fmt, OPTS), str)


def test_every_format_agrees_with_json() -> None:
    report = sample_report()
    outputs = {fmt: render(report, fmt, OPTS) for fmt in FORMATS}
    assert_agree(report.to_json(), outputs)


def test_cli_formats_agree_with_json(tmp_path: Path) -> None:
    """The real CLI against the lab: each format written with ``-o``, read back."""
    from domwatch.lab import Lab
    from domwatch.lab.world import Site, World
    from tests.conftest import domwatch

    sites = [
        Site("healthy.fi", expires_in=300),
        Site("soon.fi", expires_in=5),
        Site("month.com", expires_in=20),
        Site("nodate.de", expires_in=None),
        Site("nomx.com", mx=[]),
        Site(
        "unparsed.lab",
        whois_text="Domain Name: UNPARSED.LAB\r\nRegistrar: Somebody\r\nExpiry: spring 2027\r\n",
    ),
    ]
    outputs: dict[str, str] = {}
    with Lab() as lab:
        config = World(sites).start(lab).config(tmp_path / "domains.toml")
        for fmt in ("json", "csv", "junit", "prometheus", "nagios", "github"):
            target = tmp_path / f"report.{fmt}"
            run = domwatch(
                "check", str(config), "--format", fmt, "-o", str(target),
                "--no-cache", "--no-state", "--no-progress",
            )  # fmt: skip
            assert run.exit_code == 2, run.stderr  # the Nagios numbering: CRITICAL
            assert run.stdout == ""
            outputs[fmt] = target.read_text(encoding="utf-8")
    document = json.loads(outputs.pop("json"))
    assert {d["status"] for d in document["domains"]} == {"ok", "warning", "critical", "unknown"}
    assert_agree(document, outputs)


def assert_agree(document: dict[str, Any], outputs: dict[str, str]) -> None:
    """States, days left and finding codes in every format are those of the JSON report."""
    truth = {d["name"]: d for d in document["domains"]}
    states = {name: d["status"] for name, d in truth.items()}
    days = {
        n: d["registration"]["days_left"]
        for n, d in truth.items()
        if d["registration"] and d["registration"]["days_left"] is not None
    }
    certs = {
        (n, host["host"]): min(a["tls"]["days_left"] for a in host["addresses"] if a.get("tls"))
        for n, d in truth.items()
        for host in (d.get("web") or {}).get("hosts", [])
        if any(a.get("tls") for a in host["addresses"])
    }
    codes = _nonempty({n: sorted(f["code"] for f in d["findings"]) for n, d in truth.items()})
    display = {d["display_name"]: name for name, d in truth.items()}
    rank = ["ok", "unknown", "warning", "critical"]

    rows = _csv_rows(outputs["csv"])
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {r["domain"]: r["status"] for r in table} == states
    assert {r["domain"]: int(r["days_left"]) for r in table if r["days_left"]} == days
    assert _group((r["domain"], r["code"]) for r in table if r["code"]) == codes

    families = _families(outputs["prometheus"])
    numbering = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
    state = {s.labels["domain"]: s.value for s in families["domwatch_domain_state"].samples}
    assert state == {name: numbering[s] for name, s in states.items()}
    reg = families["domwatch_registration_days_left"].samples
    assert {s.labels["domain"]: s.value for s in reg} == days
    cert = families["domwatch_certificate_days_left"].samples
    assert {(s.labels["domain"], s.labels["host"]): s.value for s in cert} == certs
    prom_codes: dict[str, list[str]] = {}
    for s in families["domwatch_findings"].samples:
        prom_codes.setdefault(s.labels["domain"], []).extend([s.labels["code"]] * int(s.value))
    assert {k: sorted(v) for k, v in prom_codes.items()} == codes

    suite = ET.fromstring(outputs["junit"])
    junit_state: dict[str, str] = {}
    junit_codes: list[tuple[str, str]] = []
    for case in suite.iter("testcase"):
        name = case.get("classname", "")
        case_state = "ok"
        for child in case:
            if child.tag == "failure":
                case_state = child.get("type", "")
            elif child.tag == "error":
                case_state = "unknown"
            for line in (child.text or "").split("\n"):
                if re.match(r"(info|unknown|warning|critical): [a-z_.]+: ", line):
                    junit_codes.append((name, line.split(": ")[1]))
        previous = junit_state.get(name, "ok")
        junit_state[name] = max(previous, case_state, key=rank.index)
    assert junit_state == states
    assert _group(junit_codes) == codes

    first, long_text, perf = _nagios_parts(outputs["nagios"])
    match = _STATUS.fullmatch(first)
    assert match is not None
    assert match[1].lower() == max(states.values(), key=rank.index)
    assert {k: int(v["value"]) for k, v in perf.items() if not k.endswith(" cert")} == days
    for name in {n for n, _ in certs}:
        fewest = min(v for (n, _), v in certs.items() if n == name)
        assert perf[f"{name} cert"]["value"] == str(fewest)
    # Long output: "SEVERITY display_name: code: message".
    nagios_codes = [line.split(": ", 2)[:2] for line in long_text]
    assert _group((display[d.split(" ", 1)[1]], c) for d, c in nagios_codes) == codes

    gh_codes = []
    for _, props, msg in _commands(outputs["github"]):
        shown = props["title"].removeprefix("domwatch ")
        gh_codes.append((display[shown], msg.rsplit("[", 1)[1].rstrip("]")))
    assert _group(gh_codes) == codes


def _group(pairs: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for domain, code in pairs:
        out.setdefault(domain, []).append(code)
    return {k: sorted(v) for k, v in out.items()}


def _nonempty(codes: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in codes.items() if v}


def test_state_numbering_is_nagios() -> None:
    # domwatch_domain_state follows the exit status numbering, not the severity rank.
    report = sample_report()
    for result, expected in zip(report.results, (1, 2, 0, 3, 1), strict=True):
        assert result.status.exit_code == expected
    assert report.status is Status.CRITICAL
