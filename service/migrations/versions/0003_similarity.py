"""Similarity runs, pair reviews and the archive of earlier terms.

Revision ID: 0003_similarity
Revises: 0002_course
"""

import sqlalchemy as sa
from alembic import op

from service.models import UTCDateTime

revision = "0003_similarity"
down_revision = "0002_course"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "similarity_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("include_archive", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("template_sha256", sa.String(64), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("code_report", sa.JSON(), nullable=False),
        sa.Column("answers_report", sa.JSON(), nullable=False),
    )
    op.create_table(
        "similarity_reviews",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("student_a", sa.String(128), nullable=False),
        sa.Column("student_b", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_similarity_reviews_pair", "similarity_reviews", ["kind", "student_a", "student_b"])
    op.create_table(
        "archived_submissions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("term", "owner", name="uq_archived_term_owner"),
    )


def downgrade() -> None:
    op.drop_table("archived_submissions")
    op.drop_index("ix_similarity_reviews_pair", table_name="similarity_reviews")
    op.drop_table("similarity_reviews")
    op.drop_table("similarity_runs")
