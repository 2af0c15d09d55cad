"""Uploads in the database (the ``blobs`` table), for deployments where workers share only PostgreSQL.

Revision ID: 0004_blobs
Revises: 0003_similarity
"""

import sqlalchemy as sa
from alembic import op

from service.models import UTCDateTime

revision = "0004_blobs"
down_revision = "0003_similarity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("blobs")
