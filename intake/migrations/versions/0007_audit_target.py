"""audit events: the account or token an event acted on

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:10:00

One nullable column, audit_events.target ("user:3", "api_token:2"). Adding a column fires no row
trigger, so the append-only triggers stay as they are, and old rows keep their hashes: the target
is hashed only when it is set (intake.audit.compute_row_hash).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('target', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('target')
