"""``/metrics`` in the Prometheus text format, written by hand from the database (workers are other processes).

Series: queue depth, jobs by status, results by outcome, grading duration histogram, attempts
histogram, live workers, and the API's own request counter.
"""

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Job, Result, Status, Worker, utcnow

DURATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
ATTEMPT_BUCKETS = (1, 2, 3, 5)


def _histogram(name: str, help_text: str, values: list[float], buckets: tuple[float, ...]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for bound in buckets:
        lines.append(f'{name}_bucket{{le="{bound:g}"}} {sum(1 for v in values if v <= bound)}')
    lines.append(f'{name}_bucket{{le="+Inf"}} {len(values)}')
    lines.append(f"{name}_sum {sum(values):.6f}")
    lines.append(f"{name}_count {len(values)}")
    return lines


def render(session: Session, requests: Counter, worker_stale_s: float) -> str:
    lines: list[str] = []
    by_status = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    lines += ["# HELP vitgrade_queue_depth Jobs waiting for a worker.", "# TYPE vitgrade_queue_depth gauge"]
    lines.append(f"vitgrade_queue_depth {by_status.get(Status.queued, 0)}")
    lines += ["# HELP vitgrade_jobs Jobs by status.", "# TYPE vitgrade_jobs gauge"]
    for status in Status:
        lines.append(f'vitgrade_jobs{{status="{status.value}"}} {by_status.get(status.value, 0)}')

    outcomes = session.execute(
        select(Result.succeeded, Result.gradable, func.count()).group_by(Result.succeeded, Result.gradable)
    ).all()
    lines += ["# HELP vitgrade_results_total Grades recorded, by outcome.", "# TYPE vitgrade_results_total counter"]
    counts = Counter()
    for succeeded, gradable, count in outcomes:
        counts["graded" if succeeded and gradable else "not_gradable" if succeeded else "grader_fault"] += count
    for outcome in ("graded", "not_gradable", "grader_fault"):
        lines.append(f'vitgrade_results_total{{outcome="{outcome}"}} {counts[outcome]}')

    durations = [float(d) for d in session.scalars(select(Result.duration_s))]
    lines += _histogram("vitgrade_grading_duration_seconds", "Grader wall time per job.", durations, DURATION_BUCKETS)
    attempts = [float(a) for a in session.scalars(select(Job.attempts).where(Job.status.in_(["done", "error"])))]
    lines += _histogram("vitgrade_job_attempts", "Attempts used by finished jobs.", attempts, ATTEMPT_BUCKETS)

    recent = utcnow() - timedelta(seconds=worker_stale_s)
    live = session.scalar(select(func.count()).where(Worker.heartbeat_at > recent, Worker.stopped_at.is_(None)))
    lines += ["# HELP vitgrade_workers_live Workers with a recent heartbeat.", "# TYPE vitgrade_workers_live gauge"]
    lines.append(f"vitgrade_workers_live {live or 0}")

    lines += [
        "# HELP vitgrade_http_requests_total API requests by status code.",
        "# TYPE vitgrade_http_requests_total counter",
    ]
    for code, count in sorted(requests.items()):
        lines.append(f'vitgrade_http_requests_total{{code="{code}"}} {count}')
    return "\n".join(lines) + "\n"
