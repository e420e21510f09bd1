"""``domwatch serve``: a long-running Prometheus exporter.

- :mod:`.runs`: a run every ``--interval``; its metrics text is rendered once, when it ends.
- :mod:`.probes`: ``/probe?target=NAME``, one domain on demand, shared and bounded.
- :mod:`.web`: the aiohttp application (``/metrics``, ``/probe``, ``/healthz``).
- :mod:`.main`: options in, the server up, signals (SIGTERM/SIGINT stop, SIGHUP reloads).
"""
