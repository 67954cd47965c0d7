"""ehr hand-off: api tokens and ehr uploads

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:01:04

Two new tables, nothing changed in the old ones: api_tokens (hashes of the tokens admins give to
other systems for the export API) and ehr_uploads (each attempt to send an intake's document to
the EHR, with the EHR's answer).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_api_tokens_created_by_id_users'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_token_hash'), ['token_hash'], unique=True)

    op.create_table('ehr_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('remote_id', sa.String(length=128), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name='fk_ehr_uploads_intake_id'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ehr_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_ehr_uploads_intake_id_id', ['intake_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ehr_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_ehr_uploads_intake_id_id')

    op.drop_table('ehr_uploads')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_token_hash'))

    op.drop_table('api_tokens')
