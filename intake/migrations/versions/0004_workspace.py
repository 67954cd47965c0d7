"""workspace: appointments, revoke and review, and what the clinician worklist needs to be fast

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00

New columns on intakes: the appointment, who created it, when its link was revoked, when and by
whom it was reviewed; and three derived ones the worklist indexes (the stage, and name keys for a
prefix search). Existing intakes get their stage and keys computed here. The key function is
copied on purpose: a migration must not change when the application code does later.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

STAGES = "('invited', 'in_progress', 'submitted', 'reviewed', 'revoked', 'locked')"
_ASCII_EXTRA = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th", "ı": "i"}
)


def _search_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_ASCII_EXTRA))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())[:200]


intakes = sa.table(
    "intakes",
    sa.column("id", sa.Integer()),
    sa.column("given_name", sa.String()),
    sa.column("family_name", sa.String()),
    sa.column("locked_at", sa.DateTime(timezone=True)),
    sa.column("opened_at", sa.DateTime(timezone=True)),
    sa.column("stage", sa.String()),
    sa.column("family_key", sa.String()),
    sa.column("given_key", sa.String()),
)
submissions = sa.table("submissions", sa.column("intake_id", sa.Integer()))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Plain ADD COLUMN, not batch mode: batch mode copies the table and drops the old one,
        # and that drop fails the foreign keys of existing submissions (deferring them does not
        # help: SQLite counts the violations at the drop and never uncounts them).
        for column in (
            "appointment_at DATETIME",
            "created_by_id INTEGER CONSTRAINT fk_intakes_created_by_id_users REFERENCES users (id)",
            "revoked_at DATETIME",
            "reviewed_at DATETIME",
            "reviewed_by_id INTEGER CONSTRAINT fk_intakes_reviewed_by_id_users REFERENCES users (id)",
            f"stage VARCHAR(20) DEFAULT 'invited' NOT NULL CONSTRAINT ck_intakes_stage CHECK (stage IN {STAGES})",
            "family_key VARCHAR(200) DEFAULT '' NOT NULL",
            "given_key VARCHAR(200) DEFAULT '' NOT NULL",
        ):
            op.execute(f"ALTER TABLE intakes ADD COLUMN {column}")
    else:
        with op.batch_alter_table('intakes', schema=None) as batch_op:
            batch_op.add_column(sa.Column('appointment_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('stage', sa.String(length=20), server_default='invited', nullable=False))
            batch_op.add_column(sa.Column('family_key', sa.String(length=200), server_default='', nullable=False))
            batch_op.add_column(sa.Column('given_key', sa.String(length=200), server_default='', nullable=False))
            batch_op.create_foreign_key('fk_intakes_created_by_id_users', 'users', ['created_by_id'], ['id'])
            batch_op.create_foreign_key('fk_intakes_reviewed_by_id_users', 'users', ['reviewed_by_id'], ['id'])
            batch_op.create_check_constraint('ck_intakes_stage', f"stage IN {STAGES}")

    # Before 0004 nothing was revoked or reviewed: what remains is submitted, locked or started.
    submitted = sa.exists().where(submissions.c.intake_id == intakes.c.id)
    op.execute(intakes.update().where(submitted).values(stage="submitted"))
    op.execute(
        intakes.update()
        .where(~submitted, intakes.c.locked_at.is_not(None))
        .values(stage="locked")
    )
    op.execute(
        intakes.update()
        .where(~submitted, intakes.c.locked_at.is_(None), intakes.c.opened_at.is_not(None))
        .values(stage="in_progress")
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(intakes.c.id, intakes.c.given_name, intakes.c.family_name))
    keys = [
        {"row_id": row.id, "f": _search_key(row.family_name), "g": _search_key(row.given_name)}
        for row in rows
    ]
    if keys:
        connection.execute(
            intakes.update()
            .where(intakes.c.id == sa.bindparam("row_id"))
            .values(family_key=sa.bindparam("f"), given_key=sa.bindparam("g")),
            keys,
        )

    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.create_index('ix_intakes_appointment_at_id', ['appointment_at', 'id'], unique=False)
        batch_op.create_index('ix_intakes_family_key', ['family_key'], unique=False)
        batch_op.create_index('ix_intakes_given_key', ['given_key'], unique=False)
        batch_op.create_index('ix_intakes_mrn', ['mrn'], unique=False)
        batch_op.create_index('ix_intakes_stage_appointment_at_id', ['stage', 'appointment_at', 'id'], unique=False)


def downgrade() -> None:
    # On SQLite this copies the table: with submissions present, run it with foreign keys off.
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_index('ix_intakes_stage_appointment_at_id')
        batch_op.drop_index('ix_intakes_mrn')
        batch_op.drop_index('ix_intakes_given_key')
        batch_op.drop_index('ix_intakes_family_key')
        batch_op.drop_index('ix_intakes_appointment_at_id')
        batch_op.drop_constraint('ck_intakes_stage', type_='check')
        if op.get_bind().dialect.name != "sqlite":  # SQLite's copy leaves them out with the columns
            batch_op.drop_constraint('fk_intakes_reviewed_by_id_users', type_='foreignkey')
            batch_op.drop_constraint('fk_intakes_created_by_id_users', type_='foreignkey')
        batch_op.drop_column('given_key')
        batch_op.drop_column('family_key')
        batch_op.drop_column('stage')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('appointment_at')
