"""``domwatch demo``: a built-in simulated world, served on this machine, checked for real."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from domwatch.lab.runner import Lab
from domwatch.lab.world import Site, World

if TYPE_CHECKING:
    from domwatch.app import Fail

RATE_LIMITED = "WHOIS LIMIT EXCEEDED - SEE WWW.PIR.ORG/WHOIS FOR DETAILS\r\n"

DEMO_SITES = (
    Site("kahvila.fi", expires_in=400, web="ok"),
    Site("kauppa.fi", expires_in=200, web="soon"),
    Site("vanha-sertti.fi", expires_in=150, web="expired"),
    Site("puolikas.com", expires_in=330, web="halfdown"),
    Site("sauna.fi", expires_in=5),
    Site("xn--kknen-fraa0m.fi", expires_in=25),  # ääkkönen.fi
    Site("acme-shop.com", expires_in=210, web="503"),
    Site("forgotten.com", expires_in=-2),
    Site("suspended.com", statuses=("clientHold",)),
    Site("never-registered.com", registered=False),
    Site("brand.de", expires_in=None),
    Site("lame.net", dns="servfail"),
    Site("slow.net", dns="silent"),
    Site("nomail.org", mx=["."]),
    Site("broken-mx.org", mx=["mx.gone.org"]),
    Site("alias-mx.org", mx=["mx.alias-mx.org"], records="mx CNAME mail\nmail A 127.0.0.1"),
    Site("busy.org", rdap="down", whois_text=RATE_LIMITED),
)


def run_demo(options: dict[str, object], *, fail: Fail) -> int:
    """Serve the demo world, run ``check`` on it, and return its exit status.

    ``fail`` reports a usage error (the command line's way: one line, exit 64).
    """
    from domwatch.app import run_check

    sys.stderr.write(
        f"domwatch demo: a SIMULATED world of {len(DEMO_SITES)} domains, served by DNS, WHOIS, "
        "RDAP and HTTPS servers on 127.0.0.1 (nothing here is real; no network is used)\n"
    )
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="domwatch-demo-") as tmp:
        world = World(DEMO_SITES).start(lab)
        config = world.config(Path(tmp) / "demo.toml", extra="")
        given = {"cache": False, "state": False, "timeout": 1.0, **options}
        return run_check([str(config)], given, fail=fail)
