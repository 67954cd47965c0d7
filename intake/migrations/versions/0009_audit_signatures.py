"""audit signatures: each new row signed with AUDIT_KEY

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

One nullable column, audit_events.row_mac. Rows already written keep NULL: they were hashed, not
signed, and ``audit verify`` counts them apart. Adding a column is not an UPDATE, so the
append-only triggers stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('row_mac', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('row_mac')
