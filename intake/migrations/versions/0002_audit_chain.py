"""audit chain: hash-link audit_events and make the table append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

Existing rows are renumbered 1..n in id order (ids are referenced nowhere; PostgreSQL sequences
leave gaps after rollbacks) and chained, so the chain starts valid. The hash and trigger SQL are
copied here on purpose: a migration must not change when the application code does later.
tests/test_audit.py checks that this copy agrees with intake.audit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
MESSAGE = "audit_events is append-only"
SQLITE_UP = [
    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    for verb in ("UPDATE", "DELETE")
]
SQLITE_DOWN = ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]
POSTGRESQL_UP = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TRIGGER audit_events_no_change ON audit_events",
    "DROP FUNCTION audit_events_append_only()",
]

audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("intake_public_id", sa.String()),
    sa.column("address", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)


def _row_hash(row: dict[str, Any]) -> str:
    at: datetime = row["at"]
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    canonical = dict(row, at=at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def _chain_existing_rows() -> None:
    bind = op.get_bind()
    fields = ["id", "at", "actor", "action", "intake_public_id", "address", "outcome"]
    rows = bind.execute(
        sa.select(*(audit_events.c[name] for name in fields)).order_by(audit_events.c.id)
    ).mappings().all()
    prev_hash = GENESIS_HASH
    # Ascending order: each new id is <= the old one and its slot is already free.
    for new_id, old in enumerate(rows, start=1):
        row = dict(old, id=new_id, prev_hash=prev_hash)
        row_hash = _row_hash(row)
        bind.execute(
            audit_events.update()
            .where(audit_events.c.id == old["id"])
            .values(id=new_id, prev_hash=prev_hash, row_hash=row_hash)
        )
        prev_hash = row_hash


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
    _chain_existing_rows()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_audit_events_row_hash'), ['row_hash'], unique=True)
    dialect = op.get_bind().dialect.name
    _run(SQLITE_UP if dialect == "sqlite" else POSTGRESQL_UP if dialect == "postgresql" else [])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN if dialect == "postgresql" else [])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_row_hash'))
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
