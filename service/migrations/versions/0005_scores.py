"""Stored scores (``question_scores``, ``check_scores``) filled from the existing reports, job progress as
numbers, and the indexes of the instructor's submission list.

The scores of results recorded before this revision are read from their report JSON in batches of
``BATCH`` results (ordered by id), so a large database upgrades in bounded memory. A report names each
question and check once; when one names an id twice the last entry counts, as ``service.scores`` does.

Revision ID: 0005_scores
Revises: 0004_blobs
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0005_scores"
down_revision = "0004_blobs"
branch_labels = None
depends_on = None

BATCH = 500
COUNTED = re.compile(r"^(\d+)/(\d+)\s*(.*)$")

results = sa.table(
    "results", sa.column("id", sa.Integer()), sa.column("submission_id", sa.String()), sa.column("report", sa.JSON())
)
question_scores = sa.table(
    "question_scores",
    sa.column("result_id", sa.Integer()),
    sa.column("question", sa.String()),
    sa.column("score", sa.Float()),
    sa.column("max_score", sa.Float()),
)
check_scores = sa.table(
    "check_scores",
    sa.column("result_id", sa.Integer()),
    sa.column("check_id", sa.String()),
    sa.column("submission_id", sa.String()),
    sa.column("question", sa.String()),
    sa.column("score", sa.Float()),
    sa.column("max_score", sa.Float()),
)
jobs = sa.table(
    "jobs",
    sa.column("id", sa.Integer()),
    sa.column("progress", sa.String()),
    sa.column("progress_done", sa.Integer()),
    sa.column("progress_total", sa.Integer()),
    sa.column("progress_label", sa.String()),
)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _rows(result_id: int, submission_id: str, report: object) -> tuple[list[dict], list[dict]]:
    """The question and check rows of one stored report (JSON text or already decoded)."""
    if isinstance(report, str | bytes):
        report = json.loads(report)
    report = report if isinstance(report, dict) else {}
    questions: dict[str, dict] = {}
    for q in report.get("questions") or []:
        if isinstance(q, dict) and "id" in q:
            questions[str(q["id"])] = {"score": _number(q.get("score")), "max_score": _number(q.get("max_score"))}
    checks: dict[str, dict] = {}
    for c in report.get("checks") or []:
        if isinstance(c, dict) and "id" in c:
            checks[str(c["id"])] = {
                "question": str(c.get("question", "")),
                "score": _number(c.get("score")),
                "max_score": _number(c.get("max_score")),
            }
    return (
        [{"result_id": result_id, "question": qid, **v} for qid, v in questions.items()],
        [{"result_id": result_id, "check_id": cid, "submission_id": submission_id, **v} for cid, v in checks.items()],
    )


def _backfill_scores(conn: sa.Connection) -> None:
    last = 0
    while True:
        batch = conn.execute(
            sa.select(results.c.id, results.c.submission_id, results.c.report)
            .where(results.c.id > last)
            .order_by(results.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        question_rows: list[dict] = []
        check_rows: list[dict] = []
        for result_id, submission_id, report in batch:
            found_questions, found_checks = _rows(result_id, submission_id, report)
            question_rows += found_questions
            check_rows += found_checks
        if question_rows:
            conn.execute(question_scores.insert(), question_rows)
        if check_rows:
            conn.execute(check_scores.insert(), check_rows)
        last = batch[-1][0]


def _backfill_progress(conn: sa.Connection) -> None:
    """The old text ('3/10 q2.shape passed', 'done', ...) as numbers and a label: one statement for the labels,
    then the few counted ones (running jobs) one by one."""
    conn.execute(
        jobs.update().where(jobs.c.progress != "").values(progress_label=sa.func.substr(jobs.c.progress, 1, 128))
    )
    counted = sa.select(jobs.c.id, jobs.c.progress).where(jobs.c.progress.like("%/%"))
    for job_id, text in conn.execute(counted).all():
        found = COUNTED.match(text)
        if found:
            values = {"progress_done": int(found[1]), "progress_total": int(found[2]), "progress_label": found[3][:128]}
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def upgrade() -> None:
    op.create_table(
        "question_scores",
        sa.Column("result_id", sa.Integer(), sa.ForeignKey("results.id"), primary_key=True),
        sa.Column("question", sa.String(32), primary_key=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
    )
    op.create_table(
        "check_scores",
        sa.Column("result_id", sa.Integer(), sa.ForeignKey("results.id"), primary_key=True),
        sa.Column("check_id", sa.String(128), primary_key=True),
        sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("question", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
    )
    # plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of ``jobs`` would have to drop the
    # table that ``results`` references, which SQLite refuses with foreign keys on
    op.add_column("jobs", sa.Column("progress_done", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("jobs", sa.Column("progress_total", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("jobs", sa.Column("progress_label", sa.String(128), nullable=False, server_default=""))
    conn = op.get_bind()
    _backfill_progress(conn)
    op.drop_column("jobs", "progress")
    op.create_index("ix_submissions_created", "submissions", ["created_at", "id"])
    op.create_index("ix_submissions_status_created", "submissions", ["status", "created_at", "id"])
    _backfill_scores(conn)


def downgrade() -> None:
    op.drop_index("ix_submissions_status_created", "submissions")
    op.drop_index("ix_submissions_created", "submissions")
    op.add_column("jobs", sa.Column("progress", sa.String(256), nullable=False, server_default=""))
    conn = op.get_bind()
    for job_id, done, total, label in conn.execute(
        sa.select(jobs.c.id, jobs.c.progress_done, jobs.c.progress_total, jobs.c.progress_label)
    ).all():
        text = " ".join(part for part in (f"{done}/{total}" if total else "", label) if part)
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(progress=text[:256]))
    for column in ("progress_label", "progress_total", "progress_done"):
        op.drop_column("jobs", column)
    op.drop_table("check_scores")
    op.drop_table("question_scores")
