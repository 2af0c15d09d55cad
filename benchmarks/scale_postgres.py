"""Scale benchmark on a real PostgreSQL: a class of 2,000 students x 10 submissions, read over real HTTP.

Starts a throwaway PostgreSQL (``initdb`` + ``pg_ctl`` as in the service tests, as user ``postgres`` when
run as root) and uvicorn, fills the database with graded submissions whose reports are the real grader's
report of the reference (graded once here, or ``--report report.json``) with scores, statuses and ids
varied per result, some regrades and grader faults, TA overrides, extensions and a late policy; then
measures, cold (PostgreSQL and uvicorn just restarted) and warm (median of ``--runs``):

- ``GET /api/v1/instructor/grades.csv`` (target < 2 s),
- the instructor's submission list, ``--requests`` pages with filters (target p99 < 100 ms),
- ``GET /metrics`` (target < 100 ms),

and prints the database size per submission, the machine and its load (``uptime``).

    python benchmarks/scale_postgres.py [--students 2000] [--submissions 10] [--runs 5] [--requests 200]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import event, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "service")]

from api_load import machine, percentile  # noqa: E402
from conftest import PostgresServer, free_port, postgres_bin  # noqa: E402 - the tests' throwaway server

from grader.report import Report  # noqa: E402
from service import gradebook, scores, views  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db import Database  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import CheckScore, Extension, Job, Override, QuestionScore, Result, Role, Status, Submission  # noqa: E402
from service.roster import issue_tokens  # noqa: E402

START = datetime(2026, 3, 1, tzinfo=UTC)
DUE = START + timedelta(days=20)


def reference_report(path: str | None) -> dict:
    """The grader's real report of the reference (graded once, on the CPU), or the one in ``path``."""
    if path:
        return json.loads(Path(path).read_text())
    from grader.api import grade_files
    from reference.bundle import bundle_submission

    folder = Path(tempfile.mkdtemp(prefix="vitgrade-scale-"))
    (folder / "vit.py").write_text(bundle_submission())
    return grade_files([folder / "vit.py", ROOT / "reference" / "answers.md"], device="cpu").model_dump(mode="json")


def varied(base: dict, rng: random.Random, succeeded: bool = True) -> dict:
    """The reference's report with each check's score drawn (passed, partly, failed) and totals that add up."""
    report = json.loads(json.dumps(base))
    for check in report["checks"]:
        check["score"] = round(check["max_score"] * rng.choice([1.0, 1.0, 1.0, 0.5, 0.0]), 4)
        check["status"] = "passed" if check["score"] == check["max_score"] else "failed"
        check["duration_s"] = round(rng.uniform(0.01, 3), 3)
    for question in report["questions"]:
        question["score"] = sum(c["score"] for c in report["checks"] if c["question"] == question["id"])
    report["score"] = sum(q["score"] for q in report["questions"])
    report["succeeded"], report["duration_s"] = succeeded, round(rng.uniform(10, 40), 2)
    report["submission"]["sha256"] = uuid.uuid4().hex * 2
    return report


def fill(database: Database, base: dict, students: int, per_student: int, seed: int = 0) -> dict[str, str]:
    """The class: students, submissions (1 in 10 regraded, 1 in 50 with a grader fault), overrides, extensions."""
    rng = random.Random(seed)
    names = [f"student{i:05d}" for i in range(students)]
    tokens = issue_tokens(database, names, Role.student) | issue_tokens(database, ["prof"], Role.instructor)
    with database.write_session() as session:
        user_ids = dict(session.execute(text("SELECT name, id FROM users")).all())
        next_job = next_result = 1
        for chunk in range(0, students, 100):
            subs, jobs, results, questions, checks = [], [], [], [], []
            for name in names[chunk : chunk + 100]:
                for k in range(per_student):
                    sid, uid = str(uuid.uuid4()), user_ids[name]
                    created = START + timedelta(days=25 * (k + rng.random()) / per_student)
                    files = [{"name": "vit.py", "sha256": uuid.uuid4().hex * 2, "size": 20_000}]
                    subs.append({"id": sid, "user_id": uid, "created_at": created, "status": Status.done,
                                 "files": files})  # fmt: skip
                    outcomes = [True] + [True] * (rng.random() < 0.1) + [False] * (rng.random() < 0.02)
                    for succeeded in outcomes:
                        report = varied(base, rng, succeeded)
                        jobs.append({"id": next_job, "submission_id": sid, "status": Status.done, "attempts": 1,
                                     "created_at": created, "finished_at": created,
                                     "progress_label": "done"})  # fmt: skip
                        typed = Report.model_validate(report)  # the results column stores a Report
                        results.append({"id": next_result, "job_id": next_job, "submission_id": sid, "user_id": uid,
                                        "score": report["score"], "max_score": report["max_score"],
                                        "succeeded": succeeded, "gradable": True, "duration_s": report["duration_s"],
                                        "message": "", "report": typed, "created_at": created})  # fmt: skip
                        questions += scores.question_rows(next_result, typed)
                        checks += scores.check_rows(next_result, sid, typed)
                        next_job, next_result = next_job + 1, next_result + 1
            for model, rows in ((Submission, subs), (Job, jobs), (Result, results)):
                session.execute(insert(model), rows)
            session.execute(insert(QuestionScore), questions)
            session.execute(insert(CheckScore), checks)
        sids = [r[0] for r in session.execute(text("SELECT id FROM submissions"))]
        check_ids = [c["id"] for c in base["checks"]]
        overrides = [{"submission_id": rng.choice(sids), "check_id": rng.choice(check_ids),
                      "full_credit": rng.random() < 0.5, "score": 0.5, "reason": "TA review", "author": "prof",
                      "feedback": "", "auto_score": 0.0} for _ in range(students // 2)]  # fmt: skip
        session.execute(insert(Override), overrides)
        granted = [{"user_id": user_ids[n], "action": "grant", "due_at": DUE + timedelta(days=3), "reason": "medical",
                    "author": "prof"} for n in rng.sample(names, max(1, students // 20))]  # fmt: skip
        session.execute(insert(Extension), granted)
        session.execute(text(f"ALTER SEQUENCE jobs_id_seq RESTART WITH {int(next_job)}"))
        session.execute(text(f"ALTER SEQUENCE results_id_seq RESTART WITH {int(next_result)}"))
    with database.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return tokens


def size_per_submission(database: Database) -> tuple[int, dict[str, int], int]:
    with database.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        sizes = {t: conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": t}).scalar() for t in tables}
        count = conn.execute(text("SELECT count(*) FROM submissions")).scalar()
    return sum(sizes.values()), sizes, count


def explain(database: Database, students: int, full: bool) -> dict[str, float]:
    """EXPLAIN ANALYZE of the statements grades.csv and a list page run: execution times (ms), plans if ``full``."""
    captured: list[tuple[str, str, object]] = []
    label = ["gradebook"]
    listen = lambda conn, cursor, statement, params, *_: captured.append((label[0], statement, params))  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        with database.session() as session:
            gradebook.load(session)
            label[0] = "list offset 10000"
            views.listing(session, limit=100, offset=10_000)
            label[0] = "list by student"
            views.listing(session, student=f"student{students // 2:05d}", limit=100)
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)
    times: dict[str, float] = {}
    with database.engine.connect() as conn:
        for index, (name, statement, params) in enumerate(captured):
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
            times[f"{index} {name}"] = float(plan[-1].split(":")[1].split()[0])
            if full:
                print(f"--- {name}\n{statement}\n" + "\n".join(plan), file=sys.stderr)
    return times


def start_api(env: dict, port: int, log: Path) -> subprocess.Popen:
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return api
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"uvicorn did not start: {log.read_text()[-2000:]}")


def timed(client: httpx.Client, path: str, **params: object) -> float:
    start = time.perf_counter()
    answer = client.get(path, params=params)
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} {params}: HTTP {answer.status_code} {answer.text[:300]}")
    return elapsed


def list_pages(client: httpx.Client, rng: random.Random, requests: int, students: int, total: int) -> list[float]:
    """Pages of the instructor's list: plain (any offset), by student, by status, since a date."""
    times = []
    for i in range(requests):
        kind = i % 4
        params: dict[str, object] = {"limit": 100}
        if kind == 0:
            params["offset"] = rng.randrange(0, max(1, total - 100))
        elif kind == 1:
            params["student"] = f"student{rng.randrange(students):05d}"
        elif kind == 2:
            params.update(status=rng.choice(["done", "error", "queued"]), offset=rng.choice([0, 100, 1000]))
        else:
            params["since"] = (START + timedelta(days=rng.uniform(0, 25))).isoformat()
        times.append(timed(client, "/api/v1/instructor/submissions", **params))
    return times


def measure(url: str, token: str, args: argparse.Namespace, total: int) -> dict[str, float]:
    rng = random.Random(1)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        figures = {"grades_csv_ms": timed(client, "/api/v1/instructor/grades.csv")}
        pages = list_pages(client, rng, args.requests, args.students, total)
        figures |= {"list_p50_ms": statistics.median(pages), "list_p99_ms": percentile(pages, 99)}
        scrapes = [timed(client, "/metrics") for _ in range(20)]
        figures |= {"metrics_median_ms": statistics.median(scrapes), "metrics_max_ms": max(scrapes)}
        figures["stats_ms"] = timed(client, "/api/v1/instructor/stats")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--submissions", type=int, default=10, help="per student")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="list pages per run")
    parser.add_argument("--report", help="a report JSON to vary (default: grade the reference once)")
    parser.add_argument("--explain", action="store_true", help="print the query plans on stderr")
    args = parser.parse_args()
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not found (apt-get install -y postgresql)")
    base = reference_report(args.report)
    work = Path(tempfile.mkdtemp(prefix="vitgrade-scale-"))
    os.chmod(work, 0o777)
    server = PostgresServer(bin_dir, work, free_port())
    server.init()
    server.start()
    api = None
    try:
        url_db = server.url()
        settings = Settings(var_dir=work / "var", database_url=url_db)
        database = Database(settings)
        upgrade(database)
        began = time.perf_counter()
        tokens = fill(database, base, args.students, args.submissions)
        filled_s = time.perf_counter() - began
        total, sizes, count = size_per_submission(database)
        plans = explain(database, args.students, args.explain)
        database.dispose()
        port = free_port()
        env = {**os.environ, "VITGRADE_VAR_DIR": str(work / "var"), "VITGRADE_DATABASE_URL": url_db,
               "PYTHONPATH": str(ROOT)}  # fmt: skip
        teacher = {"Authorization": f"Bearer {tokens['prof']}"}
        policy = {"due_at": DUE.isoformat(), "late_mode": "decay", "decay_percent_per_hour": 1,
                  "decay_floor_percent": 40, "counts": "best"}  # fmt: skip
        runs = []
        for run in range(args.runs):
            server.stop()  # cold: PostgreSQL's buffers and uvicorn's pools start empty on the first run's figures
            server.start()
            api = start_api(env, port, work / "api.log")
            url = f"http://127.0.0.1:{port}"
            if run == 0:
                answer = httpx.put(f"{url}/api/v1/instructor/policy", json=policy, headers=teacher, timeout=30)
                answer.raise_for_status()
            cold = measure(url, tokens["prof"], args, count)
            warm = [measure(url, tokens["prof"], args, count) for _ in range(2)]
            runs.append({"cold": cold, "warm": {k: statistics.median(w[k] for w in warm) for k in cold}})
            api.terminate()
            api.wait(30)
            api = None
        summary = {
            "machine": machine(),
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
            "class": f"{args.students} students x {args.submissions} submissions = {count} submissions",
            "report_bytes": len(json.dumps(base)),
            "fill_s": round(filled_s, 1),
            "db_bytes_per_submission": round(total / count),
            "table_bytes_per_submission": {t: round(s / count) for t, s in sorted(sizes.items(), key=lambda x: -x[1])},
            **{
                phase: {k: round(statistics.median(r[phase][k] for r in runs), 1) for k in runs[0][phase]}
                for phase in ("cold", "warm")
            },
            "runs": args.runs,
            "explain_analyze_ms": plans,
        }
        print(json.dumps(summary, indent=2))
    finally:
        if api is not None:
            api.kill()
        server.stop("immediate")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
