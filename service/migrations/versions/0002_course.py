"""The course: policy versions (deadlines, late credit, the grade that counts), extensions, chosen submissions,
TA overrides, regrade requests, and the roster's email and SIS ids.

Revision ID: 0002_course
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from service.models import UTCDateTime

revision = "0002_course"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("email", sa.String(254), nullable=True))
        users.add_column(sa.Column("sis_id", sa.String(64), nullable=True))
        users.add_column(sa.Column("sis_login", sa.String(128), nullable=True))
        users.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("close_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_extensions_user_id", "extensions", ["user_id", "id"])
    op.create_table(
        "choices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_choices_user_id", "choices", ["user_id", "id"])
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("full_credit", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("auto_score", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_overrides_submission_check", "overrides", ["submission_id", "check_id", "id"])
    op.create_table(
        "regrade_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(128), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("override_id", sa.Integer(), sa.ForeignKey("overrides.id"), nullable=True),
        sa.UniqueConstraint("submission_id", "check_id", name="uq_regrade_requests_check"),
    )


def downgrade() -> None:
    for table in ("regrade_requests", "overrides", "choices", "extensions", "policy_versions"):
        op.drop_table(table)
    with op.batch_alter_table("users") as users:
        for column in ("revoked_at", "sis_login", "sis_id", "email"):
            users.drop_column(column)
