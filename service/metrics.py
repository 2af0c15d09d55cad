"""``/metrics``: the standard Prometheus exposition (``prometheus_client``) of SQL aggregates.

Workers are other processes (often on other hosts), so the figures come from the database at scrape
time through a custom collector: counts by status and outcome, and histograms whose buckets are counted
by the database (``SUM(CASE WHEN value <= bound ...)``), never by loading the results. Series: queue
depth, jobs by status, results by outcome, grading duration and attempts histograms, live workers, and
the API's own request counter.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.models import Job, Result, Status, Worker, utcnow

DURATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
ATTEMPT_BUCKETS = (1, 2, 3, 5)


def _histogram(session: Session, name: str, doc: str, column, where, buckets: tuple[float, ...]) -> Metric:  # noqa: ANN001
    """A histogram of ``column`` over the rows matching ``where``, bucketed in SQL."""
    counts = [func.coalesce(func.sum(case((column <= bound, 1), else_=0)), 0) for bound in buckets]
    query = select(func.count(), func.coalesce(func.sum(column), 0.0), *counts)
    if where is not None:
        query = query.where(where)
    total, total_sum, *cumulative = session.execute(query).one()
    pairs = [(floatToGoString(bound), int(count)) for bound, count in zip(buckets, cumulative, strict=True)]
    return HistogramMetricFamily(name, doc, buckets=[*pairs, ("+Inf", int(total))], sum_value=float(total_sum))


class DatabaseCollector:
    """Collects the service's series from one database session (a new collector per scrape)."""

    def __init__(self, session: Session, requests: Counter, worker_stale_s: float):
        self.session, self.requests, self.worker_stale_s = session, requests, worker_stale_s

    def collect(self) -> Iterator[Metric]:
        session = self.session
        by_status = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        yield GaugeMetricFamily("vitgrade_queue_depth", "Jobs waiting for a worker.", by_status.get(Status.queued, 0))
        jobs = GaugeMetricFamily("vitgrade_jobs", "Jobs by status.", labels=["status"])
        for status in Status:
            jobs.add_metric([status.value], by_status.get(status.value, 0))
        yield jobs

        outcomes = Counter()
        grouped = select(Result.succeeded, Result.gradable, func.count()).group_by(Result.succeeded, Result.gradable)
        for succeeded, gradable, count in session.execute(grouped):
            outcomes["graded" if succeeded and gradable else "not_gradable" if succeeded else "grader_fault"] += count
        results = CounterMetricFamily("vitgrade_results", "Grades recorded, by outcome.", labels=["outcome"])
        for outcome in ("graded", "not_gradable", "grader_fault"):
            results.add_metric([outcome], outcomes[outcome])
        yield results

        yield _histogram(
            session,
            "vitgrade_grading_duration_seconds",
            "Grader wall time per job.",
            Result.duration_s,
            None,
            DURATION_BUCKETS,
        )
        yield _histogram(
            session,
            "vitgrade_job_attempts",
            "Attempts used by finished jobs.",
            Job.attempts,
            Job.status.in_([Status.done, Status.error]),
            ATTEMPT_BUCKETS,
        )

        recent = utcnow() - timedelta(seconds=self.worker_stale_s)
        live = session.scalar(select(func.count()).where(Worker.heartbeat_at > recent, Worker.stopped_at.is_(None)))
        yield GaugeMetricFamily("vitgrade_workers_live", "Workers with a recent heartbeat.", live or 0)

        requests = CounterMetricFamily("vitgrade_http_requests", "API requests by status code.", labels=["code"])
        for code, count in sorted(self.requests.items()):
            requests.add_metric([str(code)], count)
        yield requests


def render(session: Session, requests: Counter, worker_stale_s: float) -> str:
    """The exposition text of every series."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(session, requests, worker_stale_s))
    return generate_latest(registry).decode()
