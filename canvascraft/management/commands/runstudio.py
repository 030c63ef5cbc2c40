"""`manage.py runstudio`: the ASGI web server and one django-q2 worker, stopped together.

Used by `make run`. Ctrl-C (or SIGTERM) stops both; if either dies, the other is stopped and the
command exits non-zero, so a half-running studio is never left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from canvascraft.server import server_command, server_environment

GRACE_S = 10


class Command(BaseCommand):
    help = "Runs the web server (uvicorn) and a task worker (qcluster) until Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--web-workers",
            type=int,
            default=1,
            help="Web server processes (uvicorn workers); more serve predictions in parallel.",
        )
        parser.add_argument("--no-worker", action="store_true", help="Serve pages only.")

    def handle(
        self, *args, host: str, port: int, web_workers: int, no_worker: bool, **options
    ) -> None:
        python = sys.executable
        commands = {"web": server_command(host, port, workers=web_workers)}
        if not no_worker:
            commands["worker"] = [python, "manage.py", "qcluster"]
        environments = {"web": server_environment(os.environ), "worker": os.environ.copy()}
        processes = {
            name: subprocess.Popen(command, cwd=settings.BASE_DIR, env=environments[name])
            for name, command in commands.items()
        }
        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self._announce(host, port, no_worker)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping.")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.2)
        self._stop_all(processes)
        if exit_code:
            sys.exit(exit_code)

    def _announce(self, host: str, port: int, no_worker: bool) -> None:
        creator, creator_password = settings.DEMO_CREATOR
        operator, operator_password = settings.DEMO_OPERATOR
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = "Redis" if settings.REDIS_URL else "database (ORM)"
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  CanvasCraft ML Studio is running at http://{host}:{port}/\n"
                f"  Creator login:  {creator} / {creator_password}\n"
                f"  Operator login: {operator} / {operator_password}  (admin site at /admin/)\n"
                f"  Database: {database}   task broker: {broker}   "
                f"worker: {'off' if no_worker else 'on'}\n"
                "  Press Ctrl-C to stop.\n"
            )
        )

    def _stop_all(self, processes: dict[str, subprocess.Popen]) -> None:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for process in processes.values():
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("CanvasCraft stopped.")
