"""Load benchmark of the grading service on loopback (bounded; stops by itself).

1. Status polls at a fixed rate (default 200 requests/s, open loop) while a worker grades on the
   same machine: latency p50/p99 (target p99 < 50 ms).
2. A burst of submissions (default 100, several clients at once): time until all are accepted
   (target < 5 s), then a check in the database that none was lost (rows, jobs, files on disk).

Each phase runs ``--runs`` times; the medians are printed with the machine and its load.

    python benchmarks/api_load.py [--rate 200] [--seconds 10] [--submissions 100] [--runs 3]
"""

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reference.bundle import bundle_submission  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db import Database  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Job, Role, Submission  # noqa: E402
from service.roster import issue_tokens  # noqa: E402
from service.storage import BlobStore  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} {platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def poll_phase(url: str, token: str, sid: str, rate: float, seconds: float) -> tuple[float, float, int, int]:
    """Open-loop polls: request i starts at t0 + i / rate whatever the earlier ones do."""
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits) as client:

        async def one() -> None:
            nonlocal errors
            start = time.perf_counter()
            try:
                answer = await client.get(f"/api/v1/submissions/{sid}", timeout=10)
                if answer.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - start) * 1000)

        t0 = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return statistics.median(latencies), percentile(latencies, 99), len(latencies), errors


async def submit_phase(url: str, tokens: list[str], count: int, clients: int) -> tuple[float, list[str], int]:
    """``count`` small submissions from ``clients`` concurrent clients; returns seconds, accepted ids, failures."""
    accepted: list[str] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            i = queue.get_nowait()
            body = f"# submission {i}\nimport torch\n".encode()
            files = [
                ("files", (f"vit_{i}.py", body, "text/x-python")),
                ("files", ("answers.md", b"## Q3\nx\n", "text/markdown")),
            ]
            answer = await client.post(
                "/api/v1/submissions", files=files, headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                timeout=30,
            )  # fmt: skip
            if answer.status_code == 202:
                accepted.append(answer.json()["id"])
            else:
                failures += 1

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return time.perf_counter() - start, accepted, failures


def verify(settings: Settings, ids: list[str]) -> tuple[int, int, int]:
    """Rows, jobs and stored files found for ``ids``."""
    database = Database(settings)
    store = BlobStore(settings.resolved_storage_dir)
    with database.session() as session:
        rows = session.scalars(select(Submission).where(Submission.id.in_(ids))).all()
        jobs = session.scalar(select(func.count(func.distinct(Job.submission_id))).where(Job.submission_id.in_(ids)))
    files = sum(all(store.path(f["sha256"]).exists() for f in row.files) for row in rows)
    database.dispose()
    return len(rows), int(jobs or 0), files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="", help="default: SQLite (WAL) in a temporary directory")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="vitgrade-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VITGRADE_VAR_DIR": str(var), "VITGRADE_RATE_LIMIT_COUNT": "100000",
           "VITGRADE_DATABASE_URL": args.database_url, "VITGRADE_LOG_LEVEL": "WARNING"}  # fmt: skip
    settings = Settings(var_dir=var, database_url=args.database_url)
    database = Database(settings)
    upgrade(database)
    tokens = list(issue_tokens(database, [f"student{i:02d}" for i in range(20)], Role.student).values())
    database.dispose()
    logs = open(var / "service.log", "ab")  # noqa: SIM115
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"], env=env, stdout=logs, stderr=logs, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "service.worker"], env=env, stdout=logs, stderr=logs, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # keep the worker busy grading real submissions (the reference, fully) during the polls
        reference = bundle_submission().encode()
        sid = ""
        for i in range(3):
            answer = httpx.post(
                url + "/api/v1/submissions",
                files=[("files", ("vit.py", reference + f"# copy {i}\n".encode(), "text/x-python"))],
                headers={"Authorization": f"Bearer {tokens[0]}"},
            )
            sid = sid or answer.json()["id"]
        time.sleep(5)
        sys.stdout.write(f"machine: {machine()}\nload average before: {load()}\n")
        p50s, p99s = [], []
        for run in range(args.runs):
            worker_state = httpx.get(
                f"{url}/api/v1/submissions/{sid}", headers={"Authorization": f"Bearer {tokens[0]}"}
            ).json()["status"]  # noqa: E501
            p50, p99, n, errors = asyncio.run(poll_phase(url, tokens[0], sid, args.rate, args.seconds))
            p50s.append(p50)
            p99s.append(p99)
            sys.stdout.write(
                f"polls run {run + 1}: {n} requests at {args.rate:g}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"errors {errors}, first graded submission {worker_state}, load {load()}\n"
            )
        times, lost_total = [], 0
        for run in range(args.runs):
            seconds, ids, failures = asyncio.run(submit_phase(url, tokens, args.submissions, args.clients))
            rows, jobs, files = verify(settings, ids)
            lost = args.submissions - min(rows, jobs, files)
            lost_total += lost
            times.append(seconds)
            sys.stdout.write(
                f"submissions run {run + 1}: {len(ids)} accepted in {seconds:.2f} s ({failures} refused); "
                f"in the database: {rows} rows, {jobs} with a job, {files} with their files -> lost {lost}\n"
            )
        p50, p99 = statistics.median(p50s), statistics.median(p99s)
        sys.stdout.write(
            f"MEDIAN of {args.runs} runs: polls p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            f" (target < 50 ms); {args.submissions} submissions in {statistics.median(times):.2f} s (target < 5 s), "
            f"lost {lost_total}\nload average after: {load()}\n"
        )
        ok = statistics.median(p99s) < 50 and statistics.median(times) < 5 and lost_total == 0
        return 0 if ok else 1
    finally:
        for process in (worker, api):
            process.send_signal(signal.SIGTERM)
        for process in (worker, api):
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for process in (worker, api):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
