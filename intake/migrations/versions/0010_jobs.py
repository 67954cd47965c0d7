"""jobs: the background worker's queue (PDF renders, EHR sends)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:00:00

Submissions that have no PDF yet (their render failed before this version, when a PDF was made
again only on a download) get a queued render, so none stays without its PDF.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=80), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=80), nullable=True),
        sa.Column('actor', sa.String(length=40), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('upload_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name='ck_jobs_state'
        ),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name='fk_jobs_intake_id'),
        sa.ForeignKeyConstraint(['upload_id'], ['ehr_uploads.id'], name='fk_jobs_upload_id'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_jobs_state_run_after', 'jobs', ['state', 'run_after'])
    op.create_index(
        'uq_jobs_active_kind_intake',
        'jobs',
        ['kind', 'intake_id'],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    op.execute(
        "INSERT INTO jobs (kind, intake_id, state, attempts, created_at, run_after) "
        "SELECT 'pdf', intake_id, 'queued', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "FROM submissions WHERE pdf IS NULL"
    )


def downgrade() -> None:
    op.drop_index('uq_jobs_active_kind_intake', table_name='jobs')
    op.drop_index('ix_jobs_state_run_after', table_name='jobs')
    op.drop_table('jobs')
