"""patient sessions: server-side, so that signing out ends them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00

A new table, patient_sessions (issue 15, item 1). Patients were signed in by Flask's signed
cookie alone, which lived 4 hours and which no sign-out could take back. Sessions of the old
kind are not carried over: a patient signed in at the upgrade is asked for the date of birth
again, and a page they had open keeps what was typed (its date-of-birth box counts against the
link, as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patient_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('link', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resume_failures', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_sessions_intake_id'), ['intake_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patient_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_sessions_intake_id'))
    op.drop_table('patient_sessions')
