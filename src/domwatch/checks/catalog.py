"""The checks, each bound to its function: the one list the runner, serve and the tests use.

What a check is (its name, order, whether it needs the network) is declared with the rest of
the vocabulary in :data:`domwatch.model.CHECK_INFO`; this module binds each declared check to
the function that runs it, and refuses to load when one is missing or one is not declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domwatch.checks import Check, Context
from domwatch.checks.dns import check_dns
from domwatch.checks.mail import check_mail
from domwatch.checks.mail_tls import check_mail_tls
from domwatch.checks.registration import check_registration
from domwatch.checks.web import check_web
from domwatch.model import CHECK_INFO, CheckInfo, CheckResult, Domain


@dataclass(frozen=True)
class BoundCheck:
    """One declared check and the function that runs it."""

    info: CheckInfo
    run: Check

    @property
    def name(self) -> str:
        """The check's public name (``--checks``, ``check`` of its findings)."""
        return self.info.name


async def _mail_with_tls(domain: Domain, ctx: Context) -> CheckResult:
    """The mail records, then (opt-in ``mail_tls``) each MX host's STARTTLS certificate."""
    result = await check_mail(domain, ctx)
    if not domain.mail_tls or not result.mx_hosts or result.data is None:
        return result
    tls = await check_mail_tls(domain, result.mx_hosts, ctx, port=ctx.settings.smtp_port)
    result.findings.extend(tls.findings)
    if tls.data is not None:
        result.data["tls"] = tls.data
    return result


def _bind(functions: Mapping[str, Check]) -> tuple[BoundCheck, ...]:
    declared = [c.name for c in CHECK_INFO]
    if sorted(functions) != sorted(declared):
        raise RuntimeError(f"checks declared {declared}, functions bound {sorted(functions)}")
    return tuple(BoundCheck(info, functions[info.name]) for info in CHECK_INFO)


CATALOG: tuple[BoundCheck, ...] = _bind({
    "registration": check_registration,
    "dns": check_dns,
    "web": check_web,
    "mail": _mail_with_tls,
})


def functions() -> dict[str, Check]:
    """Each check's function by name, in the checks' order."""
    return {c.name: c.run for c in CATALOG}
