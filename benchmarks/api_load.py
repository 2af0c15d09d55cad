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
import json
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
from collections import Counter
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


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the load generator must cost less than the server."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_body = b""

    async def request(self, method: str, path: str, token: str, body: bytes = b"", content_type: str = "") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
        if body:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        self.last_body = await self.reader.readexactly(length)
        return status

    async def get(self, path: str, token: str) -> int:
        return await self.request("GET", path, token)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def poll_phase(
    url: str, targets: list[tuple[str, str]], rate: float, seconds: float
) -> tuple[float, float, int, dict[str, int], float]:
    """Open-loop polls of (token, submission) pairs in turn: request i starts at t0 + i / rate, come what may.

    Returns p50 and p99 latency (ms), requests, errors and the CPU seconds the load generator used.
    """
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    total = int(rate * seconds)
    idle: list[Connection] = []
    cpu0 = time.process_time()

    async def one(token: str, sid: str) -> None:
        reused = bool(idle)
        conn = idle.pop() if idle else Connection(host, int(port))
        start = time.perf_counter()
        for attempt in range(2):
            try:
                status = await conn.get(f"/api/v1/submissions/{sid}", token)
                if status != 200:
                    errors[f"HTTP {status}"] += 1
                idle.append(conn)
                break
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                conn.close()
                if attempt == 0 and reused:  # the server closed an idle keep-alive connection: retry on a new one
                    errors["reconnect (retried, not an error)"] += 1
                    conn = Connection(host, int(port))
                    continue
                errors[type(error).__name__] += 1
                break
        latencies.append((time.perf_counter() - start) * 1000)

    t0 = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(*targets[i % len(targets)])))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()
    return (
        statistics.median(latencies),
        percentile(latencies, 99),
        len(latencies),
        dict(errors),
        time.process_time() - cpu0,
    )


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "vitgradebench"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def submit_phase(url: str, tokens: list[str], count: int, clients: int) -> tuple[float, list[str], int]:
    """``count`` small submissions from ``clients`` concurrent clients; returns seconds, accepted ids, failures."""
    host, port = url.removeprefix("http://").split(":")
    accepted: list[str] = []
    failures = 0
    todo = list(range(count))
    bodies = [multipart([(f"vit_{i}.py", f"# submission {i}\nimport torch\n".encode()), ("answers.md", b"## Q3\nx\n")])
              for i in range(count)]  # fmt: skip

    async def client_loop() -> None:
        nonlocal failures
        conn = Connection(host, int(port))
        while todo:
            i = todo.pop()
            body, content_type = bodies[i]
            if await conn.request("POST", "/api/v1/submissions", tokens[i % len(tokens)], body, content_type) == 202:
                accepted.append(json.loads(conn.last_body)["id"])
            else:
                failures += 1
        conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
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
        targets = []  # every student polls their own submission
        for token in tokens:
            answer = httpx.post(
                url + "/api/v1/submissions",
                files=[("files", ("answers.md", b"## Q3\nattention\n", "text/markdown"))],
                headers={"Authorization": f"Bearer {token}"},
            )
            targets.append((token, answer.json()["id"]))
        time.sleep(5)
        sys.stdout.write(f"machine: {machine()}\nload average before: {load()}\n")
        p50s, p99s = [], []
        for run in range(args.runs):
            worker_state = httpx.get(
                f"{url}/api/v1/submissions/{sid}", headers={"Authorization": f"Bearer {tokens[0]}"}
            ).json()["status"]  # noqa: E501
            p50, p99, n, errors, cpu = asyncio.run(poll_phase(url, targets, args.rate, args.seconds))
            p50s.append(p50)
            p99s.append(p99)
            sys.stdout.write(
                f"polls run {run + 1}: {n} requests at {args.rate:g}/s over {len(targets)} students: "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {errors or 0}, client CPU {cpu:.1f} s; "
                f"worker's first job {worker_state}; load {load()}\n"
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
