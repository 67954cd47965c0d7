"""totp: optional two-factor sign-in for clinician accounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00

Three nullable columns on users: the encrypted TOTP secret (set while enrolling, in use once
totp_enabled_at is set) and the time step of the last code accepted, so no code works twice.
Existing accounts start without two-factor sign-in; REQUIRE_TOTP makes them enrol at next sign-in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
