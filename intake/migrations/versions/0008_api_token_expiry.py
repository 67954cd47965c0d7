"""api tokens: an expiry date

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00

One nullable column, api_tokens.expires_at. Tokens made from now on always get one (365 days
unless the admin chose otherwise). Tokens that exist already keep NULL, which means they never
expire: giving them a date here would cut off an EHR interface on a day nobody chose. The admin
page shows them as never expiring, so a clinic can replace them with expiring ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
