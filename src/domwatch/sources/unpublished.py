"""Registries that publish no expiry date, over RDAP or WHOIS.

For these a registered answer without a date is normal (``expiry.unpublished``), never a parse
failure and never a reason to guess. An answer that does carry a date is still read. Elsewhere
a WHOIS answer with registration data and no expiry is read the same way (the registry shows the
registration and no date); the list decides what a missing date means before any evidence is
weighed: an RDAP answer without an ``expiration`` event is final here, and handed on to WHOIS
for the other registries.
"""

from __future__ import annotations

NO_EXPIRY_TLDS: frozenset[str] = frozenset(
    {
        "de",  # DENIC: Domain, Nserver, Status, Changed only; its RDAP shows the same
        "eu",  # EURid
        "nl",  # SIDN ("Date out of quarantine" is not an expiry)
        "be",  # DNS Belgium
        "at",  # nic.at
        "ch",  # SWITCH
        "li",  # SWITCH
        "lu",  # DNS-LU
        "lv",  # NIC.lv
        "no",  # Norid: created / last updated only
        "au",  # auDA policy keeps the expiry out of public lookups
        "hu",  # nic.hu: "record created" only
        "bg",  # Register.BG: name, status and name servers only since the GDPR
        "kz",  # KazNIC: created and last modified only
        "nz",  # DNC's .nz WHOIS dropped domain_datebilleduntil
        "gov",  # the .gov registry's WHOIS: the name and "Status: ACTIVE"
        "int",  # IANA, the .int registry: created and changed only
    }
)


def publishes_expiry(tld: str) -> bool:
    """False for registries known to publish no expiry date at all."""
    return tld.lower().rstrip(".") not in NO_EXPIRY_TLDS
