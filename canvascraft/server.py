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
from collections.abc import Mapping

APPLICATION = "canvascraft.asgi:application"
# A web process answers many predictions side by side (Django's threads, the predict lane's), each
# best on one core. Thread pools sized to every core fight each other instead: one row through a
# 100-round gradient boosting model took ~108 ms with OpenMP on both cores of a busy machine and
# ~7 ms on one thread. Torch takes its default from OMP_NUM_THREADS. Workers keep their own
# settings: training wants every core it is given.
ONE_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


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


def server_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """`environment` for a web process: numeric libraries on one thread per call, unless the
    operator set a count (`OMP_NUM_THREADS=4 make run` keeps 4)."""
    served = dict(environment)
    for variable in ONE_THREAD_VARIABLES:
        served.setdefault(variable, "1")
    return served
