"""The commented starter domain file that ``domwatch init`` writes."""

from __future__ import annotations

import errno
from pathlib import Path

from domwatch.files import write_atomically

STARTER = """\
# domwatch domain file. Check it with:  domwatch check domwatch.toml
# Every key is optional except a domain list. A mistyped key is an error that names the line.

# Short form: just the names. Top-level keys must come before the first [table].
# Host names are fine (www.example.fi is checked as example.fi; the web check probes the host).
# Unicode names are fine too: "ääkkönen.fi" is looked up as xn--kknen-fraa0m.fi.
domains = [
    "example.fi",
    "www.esimerkki.fi",
]

[settings]
# Registration expiry: a hosting provider wants changes a month before the next billing
# period, so warn early; critical when there is barely time to pay an invoice.
warn_days = 30
crit_days = 7
# TLS certificates: a new one can take one to three working days to issue.
cert_warn_days = 21
cert_crit_days = 7
checks = ["registration", "dns", "web", "mail"]   # tls is part of web
timeout = 10             # seconds for one network operation
concurrency = 32         # domains in flight at once

# [settings.resolver]
# nameservers = ["192.0.2.53", "127.0.0.1:5353"]     # default: the system's resolvers

# [settings.whois]
# servers = { fi = "whois.fi" }                      # per-TLD WHOIS server, HOST[:PORT]

# [settings.notify]
# urls_env = "DOMWATCH_NOTIFY"   # Apprise URLs (space-separated) from this variable
# min = "warning"

# Long form: one [[domain]] table per domain that needs its own settings.
[[domain]]
name = "kauppa.fi"
warn_days = 60           # this one renews through a slow purchase process
mail = true              # it must receive mail: a missing MX is reported
tags = ["team:web"]
# web = ["https://kauppa.fi/", "https://www.kauppa.fi/"]   # default: the apex and www
# ignore = ["mail.dmarc.missing"]                          # finding codes not to report

# A registry that publishes no expiry date (.de, .eu, ...): say when your contract renews.
# [[domain]]
# name = "example.de"
# expires = "2027-06-30"
"""


def write_starter(path: Path, *, force: bool) -> None:
    """Write :data:`STARTER` to ``path``; an existing file is replaced only with ``force``.

    Raises FileExistsError (the CLI turns it into a usage error) rather than clobber a file
    someone has filled in.
    """
    if not force and (path.exists() or path.is_symlink()):
        raise FileExistsError(errno.EEXIST, "file exists (use --force to replace it)", str(path))
    write_atomically(path, STARTER)
