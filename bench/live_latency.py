"""Live progress benchmark: from a metric logged by a worker process to a websocket client.

    .venv/bin/python bench/live_latency.py                    # embedded default, then Redis
    .venv/bin/python bench/live_latency.py --mode embedded --seconds 10 --rate 20
    .venv/bin/python bench/live_latency.py --mode embedded --tail-ms 50   # another tail interval

Each mode gets a private studio (`tests.studio.Studio`: its own data dir and SQLite file, or a
fresh PostgreSQL database with `--database postgres`) and a real ASGI server (uvicorn, as `make
run` serves). A separate process — not the web server — calls
`registry.services.run_log_metrics`, the service the training worker's metric writer calls, at a
steady rate (one point per batch), with its wall-clock send time (`time.time()` just before the
call) as the value and the batch number as the step. Websocket clients in this process,
authenticated with an API token, note the arrival time of each point; the delay is arrival minus
send, so it covers the write, the commit, the way to the web process (database tail, or the
Redis push on commit), the consumer and the socket. Figures: p50 and p99 over all points, with
one client and with 100 clients on the same run, and whether every client got every point once
and in order (steps 0..n-1, `seq` without gaps or repeats). Also printed: the five slowest
points, the CPU seconds the server and the clients used meanwhile, and how long
`run_log_metrics` took in the logger (commit included).

Before its first point the logger announces a progress phase, as a training worker does before
its first epoch, so a process's one-off first push (imports, a thread, a Redis connection:
~0.3 s) is not counted as a metric's delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.studio import Studio  # noqa: E402  (needs the repo root on sys.path)

METRIC_KEY = "sent_at"
N_MANY_CLIENTS = 100
GOALS_P99_MS = {"embedded": 250, "redis": 50}
REDIS_DEFAULT_URL = "redis://127.0.0.1:6379/0"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# Creates the user, a token and the runs (open, `running`, as a script's run is); prints ids.
SETUP = """
import json
from django.contrib.auth import get_user_model
from registry import services
user = get_user_model().objects.create_user("bench", password="bench-password-123")
_token, key = services.api_token_create(user=user, name="live bench")
experiment = services.experiment_create(owner=user, name="live latency")
runs = [services.run_create(owner=user, experiment=experiment, name=f"phase-{{i}}").pk
        for i in range({n_runs})]
print(json.dumps({{"key": key, "runs": runs}}))
"""


# --- the logging process -------------------------------------------------------------------
def log_metrics(run_id: int, rate: float, seconds: float) -> None:
    """Child process: one point per batch at `rate` batches/s; prints the write times."""
    import django

    django.setup()
    from registry import services
    from registry.models import Run

    run = Run.objects.get(pk=run_id)
    n_points = round(rate * seconds)
    write_s: list[float] = []
    # A training worker announces its phases before its first metric, so its first push (a
    # Redis connection, a thread, imports: ~0.3 s once per process) is long done by then.
    services.run_report_progress(run_id=run_id, progress={"phase": "train"})
    time.sleep(1)
    start = time.monotonic()
    for step in range(n_points):
        pause = start + step / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        sent = time.time()
        batch = services.check_metric_batch([{"key": METRIC_KEY, "step": step, "value": sent}])
        services.run_log_metrics(run=run, batch=batch)
        write_s.append(time.time() - sent)
    print("RESULTS " + json.dumps({"n_points": n_points, "write_s": write_s}), flush=True)


# --- the clients ---------------------------------------------------------------------------
@dataclass
class ClientRecord:
    delays_s: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    error: str = ""


async def watch(url: str, key: str, n_points: int, ready: asyncio.Queue) -> ClientRecord:
    """One client: subscribes (a ping's pong says the consumer is set up), then notes each
    point's delay until the last step arrives."""
    from websockets.asyncio.client import connect

    record = ClientRecord()
    headers = {"Authorization": f"Token {key}"}
    async with connect(url, additional_headers=headers, max_queue=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "pong":
                break
        await ready.put(True)
        while not record.steps or record.steps[-1] < n_points - 1:
            text = await ws.recv()
            arrived = time.time()
            message = json.loads(text)
            record.seqs.append(message["seq"])
            if message["type"] != "metric":
                continue
            for step, value in message["points"].get(METRIC_KEY, []):
                record.steps.append(step)
                record.delays_s.append(arrived - value)
    return record


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class PhaseResult:
    n_clients: int
    n_points: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    complete_clients: int
    write_p50_ms: float
    write_p99_ms: float
    problems: list[str]
    slowest: list[tuple[int, float]]  # (step, delay in ms) of the slowest deliveries
    # CPU seconds while the points were logged: the ASGI server, these clients, and wall time.
    server_cpu_s: float
    clients_cpu_s: float
    wall_s: float


async def run_phase(
    studio: Studio, key: str, run_id: int, n_clients: int, rate: float, seconds: float
) -> PhaseResult:
    url = studio.base_url.replace("http://", "ws://", 1) + f"/ws/runs/{run_id}/"
    n_points = round(rate * seconds)
    ready: asyncio.Queue = asyncio.Queue()
    clients = [asyncio.create_task(watch(url, key, n_points, ready)) for _ in range(n_clients)]
    for _ in range(n_clients):
        await asyncio.wait_for(ready.get(), timeout=120)
    server_pid = studio.workers[-1].pid  # `serve()` started it last
    server_cpu, clients_cpu, wall = _cpu_s(server_pid), time.process_time(), time.monotonic()
    logger = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child-log",
        str(run_id),
        "--rate",
        str(rate),
        "--seconds",
        str(seconds),
        cwd=ROOT,
        env=studio.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await logger.communicate()
    lines = [line for line in stdout.decode().splitlines() if line.startswith("RESULTS ")]
    if logger.returncode != 0 or not lines:
        raise SystemExit(f"the logging process failed:\n{stderr.decode()[-3000:]}")
    written = json.loads(lines[-1].removeprefix("RESULTS "))
    # Whatever has not arrived 15 s after the last write counts as lost.
    done, pending = await asyncio.wait(clients, timeout=15)
    server_cpu, clients_cpu = _cpu_s(server_pid) - server_cpu, time.process_time() - clients_cpu
    wall = time.monotonic() - wall
    for task in pending:
        task.cancel()
    records = [task.result() for task in done if task.exception() is None]
    problems = [f"{len(pending)} clients still waiting 15 s after the last point"] * bool(pending)
    problems += [f"client failed: {task.exception()!r}" for task in done if task.exception()]
    complete = 0
    for record in records:
        in_order = record.steps == list(range(n_points))
        contiguous = record.seqs == list(range(record.seqs[0], record.seqs[0] + len(record.seqs)))
        complete += in_order and contiguous
        if not in_order:
            problems.append(f"a client got {len(record.steps)} points, not 0..{n_points - 1}")
        if not contiguous:
            problems.append("a client saw a gap or a repeat in seq")
    delays = [delay for record in records for delay in record.delays_s]
    return PhaseResult(
        n_clients=n_clients,
        n_points=n_points,
        p50_ms=1000 * _percentile(delays, 0.50),
        p99_ms=1000 * _percentile(delays, 0.99),
        max_ms=1000 * max(delays),
        complete_clients=complete,
        write_p50_ms=1000 * _percentile(written["write_s"], 0.50),
        write_p99_ms=1000 * _percentile(written["write_s"], 0.99),
        problems=sorted(set(problems)),
        server_cpu_s=server_cpu,
        clients_cpu_s=clients_cpu,
        wall_s=wall,
        slowest=sorted(
            (
                (step, 1000 * delay)
                for r in records
                for step, delay in zip(r.steps, r.delays_s, strict=True)
            ),
            key=lambda pair: -pair[1],
        )[:5],
    )


# --- one mode ------------------------------------------------------------------------------
def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def run_mode(mode: str, arguments: argparse.Namespace) -> list[PhaseResult] | None:
    if mode == "redis":
        url = os.environ.get("REDIS_URL") or REDIS_DEFAULT_URL
        if not _redis_answers(url):
            print(f"\nredis: no answer at {url}, skipped")
            return None
    with tempfile.TemporaryDirectory(prefix="canvascraft-live-bench-") as data_dir:
        studio = Studio(Path(data_dir), redis=mode == "redis")
        studio.env["LOG_LEVEL"] = "WARNING"
        if arguments.tail_ms:
            studio.env["CANVASCRAFT_LIVE_TAIL_MS"] = str(arguments.tail_ms)
        try:
            studio.manage("migrate", "--noinput", "-v0")
            output = studio.manage("shell", input_text=SETUP.format(n_runs=2))
            setup = json.loads(output.strip().splitlines()[-1])
            studio.serve()
            return [
                asyncio.run(
                    run_phase(
                        studio, setup["key"], run_id, n_clients, arguments.rate, arguments.seconds
                    )
                )
                for run_id, n_clients in zip(setup["runs"], (1, N_MANY_CLIENTS), strict=True)
            ]
        finally:
            studio.close()


def _report(mode: str, phases: list[PhaseResult], arguments: argparse.Namespace) -> bool:
    tail_ms = arguments.tail_ms or (2000 if mode == "redis" else 100)
    how = (
        "pushed on commit through Redis" if mode == "redis" else f"database tail every {tail_ms} ms"
    )
    print(f"\n{mode} ({arguments.database}, {how})")
    print(
        f"  {'clients':>7} {'points':>7} {'p50':>9} {'p99':>9} {'max':>9}   "
        f"{'goal':<16} {'complete':>8}   write p50/p99"
    )
    all_met = True
    goal = GOALS_P99_MS[mode]
    for phase in phases:
        met = phase.p99_ms <= goal and phase.complete_clients == phase.n_clients
        if phase.n_clients > 1:
            met = phase.complete_clients == phase.n_clients  # the goal here is no loss
            goal_text = "no loss"
        else:
            goal_text = f"p99 <= {goal} ms"
        all_met &= met
        print(
            f"  {phase.n_clients:>7} {phase.n_points:>7} {phase.p50_ms:>6.1f} ms "
            f"{phase.p99_ms:>6.1f} ms {phase.max_ms:>6.0f} ms   {goal_text:<12} "
            f"{'ok  ' if met else 'MISS'} {phase.complete_clients:>4}/{phase.n_clients:<4} "
            f"{phase.write_p50_ms:.1f}/{phase.write_p99_ms:.1f} ms"
        )
        slowest = ", ".join(f"#{step} {delay_ms:.0f} ms" for step, delay_ms in phase.slowest)
        print(f"    slowest points: {slowest}")
        print(
            f"    CPU meanwhile: server {phase.server_cpu_s:.1f} s, clients "
            f"{phase.clients_cpu_s:.1f} s in {phase.wall_s:.1f} s (includes the logger's start)"
        )
        for problem in phase.problems:
            print(f"    ! {problem}")
    return all_met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "redis", "both"], default="both")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, default=20.0, help="batches per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to log")
    parser.add_argument("--tail-ms", type=int, default=0, help="CANVASCRAFT_LIVE_TAIL_MS")
    parser.add_argument("--child-log", type=int, metavar="RUN", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child_log:
        log_metrics(arguments.child_log, arguments.rate, arguments.seconds)
        return
    if arguments.database == "postgres":
        os.environ["DATABASE_URL"] = PG_ADMIN_URL
    else:
        os.environ.pop("DATABASE_URL", None)
    modes = ["embedded", "redis"] if arguments.mode == "both" else [arguments.mode]
    print(
        f"CanvasCraft live progress benchmark — {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, {arguments.rate:g} batches/s for "
        f"{arguments.seconds:g} s, load average {os.getloadavg()[0]:.2f} at start"
    )
    all_met = True
    for mode in modes:
        phases = run_mode(mode, arguments)
        if phases is not None:
            all_met &= _report(mode, phases, arguments)
    print("\nall goals met" if all_met else "\nsome goals missed")


if __name__ == "__main__":
    main()
