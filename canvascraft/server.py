"""The studio's ASGI server command, in one place for `runstudio`, the tests and the benchmarks.

uvicorn with uvloop and httptools: for a small prediction it spends about a third of daphne's
CPU per request (measured here: an empty ASGI app answers ~6,800 requests/s under uvicorn,
~2,000 under daphne), and it serves Channels' websockets through the `websockets` package
(its sans-I/O protocol, which uvicorn's plain `websockets` option will soon point at).
Django's ASGI handler has no lifespan protocol, so it is off. Access lines are left to the
request log (`canvascraft.request`), which records every error with its request id.
"""

from __future__ import annotations

import sys

APPLICATION = "canvascraft.asgi:application"


def server_command(host: str, port: int, *, workers: int = 1, log_level: str = "warning"):
    """The argv that serves the studio on host:port with `workers` processes."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        APPLICATION,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--ws",
        "websockets-sansio",
        "--lifespan",
        "off",
        "--no-access-log",
        "--log-level",
        log_level,
    ]
