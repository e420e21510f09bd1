"""The HTTP side of ``serve``, on aiohttp: ``/metrics``, ``/probe``, ``/healthz``.

Every answer is plain text. A bad request is a 400 with one line; a refused probe is a 503
with ``Retry-After``; an unexpected error is a 500 with one line (and one line on stderr),
never a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from domwatch.errors import BadProbe, ProbeRejected
from domwatch.report import get_format
from domwatch.serve.probes import Prober, exposition
from domwatch.serve.runs import Runs

log = logging.getLogger("domwatch")
access_log = logging.getLogger("domwatch.access")

# /metrics and /probe answer in the prometheus format (the text exposition format, 0.0.4).
METRICS_FORMAT = get_format("prometheus")
EXPOSITION = METRICS_FORMAT.media_type
RETRY_AFTER = "5"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

INDEX = """domwatch serve
/metrics                     the last completed run, in the prometheus format
/probe?target=NAME[&checks=registration,dns,web,mail]   one domain, now
/healthz                     200 while serving
"""


class AccessLog(AbstractAccessLogger):
    """``-v``: one line per request (client, method, path and query, status, seconds)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        # raw_path is the request target as sent: percent-encoded, no control characters.
        self.logger.info(
            "%s %s %s %d %.3f s",
            request.remote, request.method, request.raw_path, response.status, time,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _text(status: int, line: str, **headers: str) -> web.Response:
    one = " ".join(line.split())  # whatever it quotes, one line
    return web.Response(status=status, text=one + "\n", headers=headers or None)


@web.middleware
async def _contained(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise  # aiohttp's own 404/405
    except Exception as exc:
        log.warning("%s %s failed: %s: %s", request.method, request.path, type(exc).__name__, exc)
        return _text(500, f"internal error: {type(exc).__name__}")


def make_app(runs: Runs, prober: Prober) -> web.Application:
    """The application: every handler answers from memory or through ``prober``."""

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=INDEX)

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def metrics(_request: web.Request) -> web.Response:
        # Precomputed text plus a few gauges: nothing here waits on a lookup.
        extra = "\n".join([*runs.families(), *prober.families()]) + "\n"
        body = runs.text + extra.encode("utf-8")
        return web.Response(body=body, headers={"Content-Type": EXPOSITION})

    async def probe(request: web.Request) -> web.Response:
        started = time.monotonic()
        targets = request.query.getall("target", [])
        checks = request.query.getall("checks", [])
        if len(targets) != 1 or not targets[0].strip():
            return _text(400, "give one target: /probe?target=example.com")
        if len(checks) > 1:
            return _text(400, "give checks once, comma-separated: &checks=registration,web")
        try:
            domain = prober.domain_for(targets[0], checks[0] if checks else None)
            result, checked = await prober.probe(domain)
        except BadProbe as exc:
            return _text(400, str(exc))
        except ProbeRejected as exc:
            return _text(503, str(exc), **{"Retry-After": RETRY_AFTER})
        text = exposition(result, checked, time.monotonic() - started)
        return web.Response(body=text.encode("utf-8"), headers={"Content-Type": EXPOSITION})

    app = web.Application(middlewares=[_contained])
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/probe", probe)
    return app
