"""JUnit XML for CI test reporters (Jenkins, GitLab, GitHub test-report actions).

One ``<testsuite name="domwatch">``; one ``<testcase>`` per domain and check run
(``classname`` = domain, ``name`` = check). Warning and critical findings fail the case,
unknown ones (a lookup that could not be completed) make it an error, info findings go to
``system-out``. Each case has at most one outcome element, as the strictest readers demand.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from domwatch.model import DomainResult, Finding, Report, Severity
from domwatch.report import RenderOptions

_FAILING = (Severity.CRITICAL, Severity.WARNING)
# Characters XML 1.0 cannot carry even escaped; a WHOIS answer may hold any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report, options: RenderOptions) -> str:
    """The XML document. ``quiet`` is ignored: a test report lists the passing cases too."""
    del options
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name="domwatch")
    tests = failures = errors = 0
    for result in report.results:
        for check, findings in _cases(result):
            tests += 1
            case = ET.SubElement(
                suite, "testcase", name=check, classname=result.domain.name, time="0"
            )
            failing = [f for f in findings if f.severity in _FAILING]
            unknown = [f for f in findings if f.severity is Severity.UNKNOWN]
            info = [f for f in findings if f.severity is Severity.INFO]
            if failing:
                failures += 1
                # Critical before warning, so the message attribute shows the worst.
                failing.sort(key=lambda f: f.severity is not Severity.CRITICAL)
                _outcome(case, "failure", failing[0].severity.value, [*failing, *unknown])
            elif unknown:
                errors += 1
                _outcome(case, "error", "unknown", unknown)
            if info:
                ET.SubElement(case, "system-out").text = _lines(info)
    time = f"{report.duration:.3f}"
    # xs:dateTime without a zone, as Jenkins' junit-10.xsd wants; the value is UTC.
    stamp = report.generated.strftime("%Y-%m-%dT%H:%M:%S")
    counts = {"tests": tests, "failures": failures, "errors": errors, "skipped": 0}
    for element in (root, suite):
        for key, value in counts.items():
            element.set(key, str(value))
        element.set("time", time)
    suite.set("timestamp", stamp)
    root.set("name", "domwatch")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _cases(result: DomainResult) -> list[tuple[str, list[Finding]]]:
    """(check, its findings) in run order; a finding of a check not run still gets a case."""
    order = list(result.checks_run)
    for finding in result.findings:
        if finding.check not in order:
            order.append(finding.check)
    return [(check, [f for f in result.findings if f.check == check]) for check in order]


def _outcome(case: ET.Element, tag: str, kind: str, findings: list[Finding]) -> None:
    element = ET.SubElement(case, tag, message=_one_line(findings[0].message), type=kind)
    element.text = _lines(findings)


def _lines(findings: list[Finding]) -> str:
    text = "\n".join(f"{f.severity.value}: {f.code}: {f.message}" for f in findings)
    return _NOT_XML.sub("\ufffd", text)


def _one_line(text: str) -> str:
    return _NOT_XML.sub("\ufffd", " ".join(text.split()))
