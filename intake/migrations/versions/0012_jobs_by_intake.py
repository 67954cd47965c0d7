"""jobs: an index for an intake's newest job of a kind

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 03:00:00

``queue.latest_job`` (the intake page, a download, the worker's sweep of missing PDFs) asked
for one intake's newest job by scanning the whole table: about 1.5 ms at 20,000 jobs, and the
sweep asks it for every submission still without its PDF (3,000 after a restore took 4.7 s in
one write transaction on SQLite).
"""

from __future__ import annotations

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_kind_intake_id', ['kind', 'intake_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_kind_intake_id')
