"""``python -m service.worker``: claims jobs, grades them with ``grader.api.grade_files``, records results.

One grading slot per device (``--device cpu --concurrency 2`` or ``--devices cuda:0,cuda:1``). A
heartbeat thread renews the leases of running jobs and the worker's own row (``/readyz``). SIGTERM
stops claiming, lets running jobs finish for ``shutdown_grace_s`` and hands back the rest.
A report with ``succeeded=False`` (a grader fault) is never recorded as a grade: the job is retried and,
after ``max_attempts``, ends in ``error`` with the grader's message and no score.
The worker never runs student code itself: the grader runs it in its sandbox.
"""

import argparse
import importlib
import logging
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from grader import runner
from grader.devices import parse_device
from grader.report import Report
from service import logs, queue
from service.config import Settings, get_settings
from service.db import Database
from service.migrate import upgrade
from service.models import Submission, utcnow
from service.models import Worker as WorkerRow
from service.progress import Progress
from service.storage import open_store
from service.uploads import work_name

log = logging.getLogger(__name__)
GradeFunction = Callable[..., Any]


def load_grader(entry: str) -> GradeFunction:
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name or "grade_files")


class Worker:
    """Grading slots, a heartbeat, and a clean stop."""

    def __init__(self, settings: Settings, database: Database | None = None, grade: GradeFunction | None = None):
        self.settings = settings
        self.database = database or Database(settings)
        self.store = open_store(settings, self.database)
        self._grade = grade
        self.id = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.stop = threading.Event()
        self._active: dict[int, queue.Claim] = {}
        self._progress: dict[int, Progress] = {}
        self._lock = threading.Lock()
        # ``auto`` is settled once, so the jobs and the worker row name the device a grade really ran on
        self.slot_devices = [runner.resolve_device(d) if d == "auto" else d for d in settings.slot_devices]

    @property
    def grade(self) -> GradeFunction:
        if self._grade is None:
            self._grade = load_grader(self.settings.grade_function)
        return self._grade

    # --- one job -------------------------------------------------------------------------------
    def run_once(self, device: str | None = None) -> bool:
        """Claim and grade one job; False when the queue was empty."""
        device = device or self.slot_devices[0]
        claim = queue.claim(self.database, self.id, device, self.settings.lease_s)
        if claim is None:
            return False
        with self._lock:
            self._active[claim.job_id] = claim
        try:
            self._grade_claim(claim, device)
        finally:
            with self._lock:
                self._active.pop(claim.job_id, None)
                self._progress.pop(claim.job_id, None)
        return True

    def _grade_claim(self, claim: queue.Claim, device: str) -> None:
        extra = {"submission_id": claim.submission_id, "job_id": claim.job_id, "attempt": claim.attempt}
        log.info("grading", extra={**extra, "device": device})
        with self.database.session() as session:
            submission = session.get(Submission, claim.submission_id)
            files, user_id = (list(submission.files), submission.user_id) if submission else ([], "")
        started = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="vitgrade-job-") as tmp:
                paths = []
                for index, entry in enumerate(files):
                    folder = Path(tmp) / str(index)
                    folder.mkdir()
                    path = folder / work_name(entry["name"], index)  # a safe name, whatever the row holds
                    path.write_bytes(self.store.get(entry["sha256"]))
                    paths.append(path)
                graded = self.grade(
                    paths,
                    device=device,
                    data_profile=self.settings.data_profile,
                    seed=self.settings.seed,
                    select=self.settings.select_globs,
                    progress=self._progress_callback(claim.job_id),
                    settings=self.settings.grader,
                )
            # where the grader's output enters the service: validated once (a Report passes as it is), typed after
            report = Report.model_validate(graded)
        except Exception as exc:  # the grader promises not to raise; if it does, say so and retry
            log.exception("grader raised", extra=extra)
            queue.fail(self.database, claim, f"the grader raised {type(exc).__name__}: {exc}")
            return
        if not report.succeeded:  # a grader fault is never the student's: retry, then error, no score
            log.warning("grader fault", extra={**extra, "grader_message": report.message[:1000]})
            queue.fail(self.database, claim, f"grader fault (not the student's): {report.message}")
            return
        recorded = self._record(claim, report, user_id)
        log.info(
            "graded",
            extra={
                **extra,
                "status": "recorded" if recorded else "discarded",
                "duration_s": round(time.monotonic() - started, 3),
            },
        )

    def _record(self, claim: queue.Claim, report: Report, user_id: str) -> bool:
        """Write the result, retrying while the database is briefly unavailable (until half the lease is gone)."""
        deadline = time.monotonic() + self.settings.lease_s / 2
        delay = 0.5
        while True:
            try:
                return queue.complete(self.database, claim, report, user_id)
            except OperationalError:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("database unavailable; retrying the result", extra={"submission_id": claim.submission_id})
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _progress_callback(self, job_id: int) -> Callable[[str, int, int, str], None]:
        """The grader's ``progress(check_id, done, total, status)``, kept for the next heartbeat."""

        def progress(check_id: str, done: int, total: int, status: str) -> None:
            self._progress[job_id] = Progress.of(done, total, f"{check_id} {status}")

        return progress

    # --- the process ---------------------------------------------------------------------------
    def beat(self) -> None:
        """Renew our row and the leases of running jobs."""
        with self.database.write_session() as session:
            row = session.get(WorkerRow, self.id)
            if row is None:
                session.add(WorkerRow(id=self.id, devices=",".join(self.slot_devices)))
            else:
                row.heartbeat_at = utcnow()
        with self._lock:
            active = list(self._active.values())
        for claim in active:
            if not queue.heartbeat(self.database, claim, self.settings.lease_s, self._progress.get(claim.job_id)):
                log.warning("lease lost", extra={"submission_id": claim.submission_id, "job_id": claim.job_id})

    def _heartbeat_loop(self) -> None:
        while not self.stop.wait(self.settings.heartbeat_s):
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat failed")

    def _slot_loop(self, device: str) -> None:
        while not self.stop.is_set():
            try:
                busy = self.run_once(device)
            except Exception:
                log.exception("slot error", extra={"device": device})
                busy = False
            if not busy:
                self.stop.wait(self.settings.poll_s)

    def run(self) -> None:
        """Run until ``stop`` is set, then finish or hand back running jobs."""
        self.beat()
        log.info("worker started", extra={"worker_id": self.id, "device": ",".join(self.slot_devices)})
        beat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        beat.start()
        slots = [
            threading.Thread(target=self._slot_loop, args=(d,), name=f"slot-{i}", daemon=True)
            for i, d in enumerate(self.slot_devices)
        ]
        for slot in slots:
            slot.start()
        self.stop.wait()
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        for slot in slots:
            slot.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._active.values())
        for claim in leftovers:
            queue.hand_back(self.database, claim)
            log.warning("handed back", extra={"submission_id": claim.submission_id, "job_id": claim.job_id})
        with self.database.write_session() as session:
            row = session.get(WorkerRow, self.id)
            if row is not None:
                row.stopped_at = utcnow()
        log.info("worker stopped", extra={"worker_id": self.id})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service.worker", description="Grade queued submissions.")
    parser.add_argument("--device", help="device of every slot (cpu, cuda, cuda:0 ...)")
    parser.add_argument("--devices", help="comma-separated devices, one slot each (e.g. cuda:0,cuda:1)")
    parser.add_argument("--concurrency", type=int, help="slots on --device")
    args = parser.parse_args(argv)
    settings = get_settings()
    overrides: dict[str, Any] = {}
    if args.device:
        overrides["grader"] = settings.grader.model_copy(update={"device": str(parse_device(args.device))})
    if args.devices:
        overrides["devices"] = args.devices
    if args.concurrency:
        overrides["worker_concurrency"] = args.concurrency
    settings = settings.model_copy(update=overrides)
    logs.configure(settings.log_level)
    if settings.worker_nice > 0:
        os.nice(settings.worker_nice)  # inherited by the grader's sandbox children
    database = Database(settings)
    upgrade(database)
    worker = Worker(settings, database)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
    worker.run()
    database.dispose()


if __name__ == "__main__":
    main()
