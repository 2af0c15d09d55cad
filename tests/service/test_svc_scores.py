"""Stored scores on both backends: written with each result, read by the gradebook without any report, equal
to the rule stated on the reports (latest successful grade, newest override per check, full credit = max)."""

import random
import re

from sqlalchemy import event, select
from test_svc_worker import fake_report

from grader.report import Report
from service import gradebook, queue, scores
from service.db import Database
from service.models import CheckScore, Override, QuestionScore, Result, Role, Submission, User, utcnow

QUESTIONS = {"Q1": ["q1.shape", "q1.equivalence"], "Q2": ["q2.shape", "q2.equivalence"], "Q3": ["q3.written"]}


def random_report(rng: random.Random, *, drop: str | None = None, succeeded: bool = True) -> Report:
    """A valid report with random check scores; ``drop`` leaves one check out (a regrade without it); one check
    belongs to a question the report does not total ('written')."""
    checks, questions = [], []
    for qid, ids in QUESTIONS.items():
        kept = [cid for cid in ids if cid != drop]
        values = [(cid, round(rng.uniform(0, 5), 3)) for cid in kept]
        checks += [{"id": cid, "question": qid, "category": "shape", "status": "passed", "score": v, "max_score": 5.0}
                   for cid, v in values]  # fmt: skip
        questions.append({"id": qid, "score": sum(v for _, v in values), "max_score": 5.0 * len(kept)})
    extra = round(rng.uniform(0, 2), 3)
    checks.append({"id": "written.q8d", "question": "written", "category": "written", "status": "passed",
                   "score": extra, "max_score": 2.0})  # fmt: skip
    total = sum(c["score"] for c in checks)
    base = fake_report(total, succeeded=succeeded).model_dump(mode="json")
    return Report.model_validate({**base, "max_score": 27.0, "questions": questions, "checks": checks})


def grade(database: Database, submission_id: str, report: Report) -> None:
    """What a worker does: a job for the submission, claimed and completed with ``report``."""
    with database.write_session() as session:
        queue.enqueue(session, session.get(Submission, submission_id), kind="regrade")
    claim = queue.claim(database, "test-worker", "cpu", lease_s=30)
    assert claim is not None and claim.submission_id == submission_id
    with database.session() as session:
        user_id = session.get(Submission, submission_id).user_id
    assert queue.complete(database, claim, report, user_id)


def test_scores_are_written_with_the_result(database: Database) -> None:
    report = random_report(random.Random(1))
    with database.write_session() as session:
        user = User(name="alice", role=Role.student, token_hash="a" * 64)
        session.add(user)
        session.flush()
        submission = Submission(user_id=user.id, files=[])
        session.add(submission)
    grade(database, submission.id, report)
    with database.session() as session:
        result_id = session.scalar(select(Result.id))
        stored = {q.question: (q.score, q.max_score) for q in session.scalars(select(QuestionScore))}
        checks = {c.check_id: (c.question, c.score, c.max_score, c.submission_id, c.result_id)
                  for c in session.scalars(select(CheckScore))}  # fmt: skip
    assert stored == {q.id: (q.score, q.max_score) for q in report.questions}
    assert checks == {c.id: (c.question, c.score, c.max_score, submission.id, result_id) for c in report.checks}


def test_an_id_named_twice_counts_once_the_last_entry_winning() -> None:
    report = random_report(random.Random(2))
    twice = report.model_copy(update={"checks": [*report.checks, report.checks[0].model_copy(update={"score": 0.25})]})
    rows = {r["check_id"]: r["score"] for r in scores.check_rows(7, "s", twice)}
    assert len(rows) == len(report.checks) and rows[report.checks[0].id] == 0.25


def expected_grades(database: Database) -> dict[str, tuple[float, dict[str, float]]]:
    """The rule, computed from the stored reports: submission id -> (effective total, per-question scores)."""
    with database.session() as session:
        results = session.execute(select(Result.submission_id, Result.id, Result.report, Result.succeeded)).all()
        decided = session.scalars(select(Override).order_by(Override.id)).all()
    latest: dict[str, dict] = {}
    for sid, _, report, succeeded in sorted(results, key=lambda r: r[1]):
        if succeeded:
            latest[sid] = report if isinstance(report, dict) else report.model_dump(mode="json")
    newest = {(o.submission_id, o.check_id): o for o in decided}  # the last made wins
    expected = {}
    for sid, report in latest.items():
        total = report["score"]
        questions = {q["id"]: q["score"] for q in report["questions"]}
        checks = {c["id"]: c for c in report["checks"]}
        for (osid, check_id), o in sorted(newest.items(), key=lambda item: item[1].id):
            if osid != sid or check_id not in checks:
                continue
            check = checks[check_id]
            delta = (check["max_score"] if o.full_credit else (o.score or 0.0)) - check["score"]
            total += delta
            if check["question"] in questions:
                questions[check["question"]] += delta
        expected[sid] = (total, questions)
    return expected


def test_the_gradebook_reads_stored_scores_only_and_follows_the_rule(database: Database) -> None:
    rng = random.Random(11)
    with database.write_session() as session:
        users = [User(name=f"s{i}", role=Role.student, token_hash=f"{i:064d}") for i in range(6)]
        session.add_all(users)
        session.flush()
        submissions = [Submission(user_id=u.id, files=[]) for u in users for _ in range(3)]
        session.add_all(submissions)
    for submission in submissions:
        grade(database, submission.id, random_report(rng))
        if rng.random() < 0.5:  # a regrade, sometimes without a check, sometimes a grader fault (never counts)
            grade(database, submission.id, random_report(rng, drop=rng.choice([None, "q1.shape"])))
        if rng.random() < 0.3:
            grade(database, submission.id, random_report(rng, succeeded=False))
    with database.write_session() as session:
        for submission in submissions:
            for _ in range(rng.randrange(4)):  # repeated decisions on a check: the newest is in force
                check = rng.choice(["q1.shape", "q2.equivalence", "q3.written", "written.q8d", "q9.gone"])
                full = rng.random() < 0.3
                session.add(Override(submission_id=submission.id, check_id=check, full_credit=full,
                                     score=None if full else round(rng.uniform(0, 2), 2), reason="r", author="ta",
                                     auto_score=0.0, created_at=utcnow()))  # fmt: skip

    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.session() as session:
            book = gradebook.load(session)
            one = gradebook.load(session, users[0].id)
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if re.search(r"\breport\b", s)], statements
    assert len(statements) <= 2 * 8, len(statements)  # a handful of queries per load, none per row

    expected = expected_grades(database)
    graded = {g.submission_id: g for gs in book.graded.values() for g in gs}
    assert set(graded) == set(expected)
    for sid, (total, questions) in expected.items():  # the same arithmetic in the same order: equal, not close
        assert (graded[sid].raw, graded[sid].questions) == (total, questions), sid
    with database.session() as session:
        counted = select(Result.submission_id, Result.score).where(Result.succeeded.is_(True)).order_by(Result.id)
        automatic = dict(session.execute(counted).all())
    assert sum(graded[sid].raw != automatic[sid] for sid in graded) >= 5  # the overrides did change grades
    assert one.graded[users[0].id] == book.graded[users[0].id]
    assert book.questions == ["Q1", "Q2", "Q3"] and book.maxima["Q3"] == 5.0


def test_the_listener_would_see_a_report_read(database: Database) -> None:
    """The check above can fail: reading a report shows in the statements it watches."""
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.session() as session:
            session.execute(select(Result.report)).all()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    assert any(re.search(r"\breport\b", s) for s in statements)


def test_postgresql_connections_run_without_jit(database: Database) -> None:
    """JIT compilation cost more than the gradebook's whole statement at 20,000 submissions: it is off."""
    if database.sqlite:
        return
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
