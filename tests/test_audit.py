"""Audit log: a hash chain that shows edits and removals, append-only in the database itself."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from intake import db, migrate
from intake.audit import log as audit
from intake.db import Base
from intake.intakes.demo import DEMO_PATIENT
from intake.models import AuditEvent

DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER audit_events_no_change ON audit_events"],
}


def record_events(app: Flask, count: int) -> None:
    """``count`` events, two per transaction, as a busy service would write them."""
    with app.app_context():
        for start in range(0, count, 2):
            with db.transaction() as tx:
                for n in range(start, min(start + 2, count)):
                    audit.record(tx, f"user-{n}", "test.event", f"PUB-{n}", "192.0.2.1")


def execute(app: Flask, *statements: str) -> None:
    """Run SQL outside the ORM, as someone with direct database access would."""
    with app.app_context(), db.engine().begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def tamper(app: Flask, statement: str) -> None:
    """A DBA-level edit: drop the append-only triggers first, then change the table."""
    with app.app_context():
        dialect = db.engine().dialect.name
    execute(app, *DROP_TRIGGERS[dialect], statement)


def verify(app: Flask) -> audit.VerifyResult:
    with app.app_context():
        return audit.verify_chain(db.session())


def test_a_chain_of_events_verifies(app: Flask) -> None:
    record_events(app, 5)
    with app.app_context():
        rows = db.session().scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [row.id for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(later.prev_hash == earlier.row_hash for earlier, later in pairwise(rows))
    assert verify(app) == audit.VerifyResult(
        True, 5, head_hash=rows[-1].row_hash, signatures_checked=True
    )

    result = app.test_cli_runner().invoke(args=["intake", "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit chain OK: 5 rows" in result.output
    assert rows[-1].row_hash in result.output


def test_an_empty_log_verifies(app: Flask) -> None:
    assert verify(app) == audit.VerifyResult(True, 0, signatures_checked=True)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone-else' WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 2",
        "TRUNCATE audit_events",
    ],
)
def test_the_database_refuses_changes_to_the_log(app: Flask, statement: str) -> None:
    record_events(app, 3)
    with app.app_context():
        if statement.startswith("TRUNCATE") and db.engine().dialect.name == "sqlite":
            statement = "DELETE FROM audit_events"  # SQLite's TRUNCATE: a DELETE with no WHERE
    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        execute(app, statement)
    assert verify(app).ok and verify(app).rows_checked == 3


def test_an_altered_row_is_reported_and_the_cli_fails(app: Flask) -> None:
    record_events(app, 5)
    tamper(app, "UPDATE audit_events SET outcome = 'denied' WHERE id = 3")

    result = verify(app)
    assert (result.ok, result.first_bad_id, result.rows_checked) == (False, 3, 2)
    assert "altered" in result.reason
    cli = app.test_cli_runner().invoke(args=["intake", "audit", "verify"])
    assert cli.exit_code == 1
    assert "Audit chain BROKEN at row 3: row_hash does not match" in cli.output


def test_an_altered_target_is_reported(app: Flask) -> None:
    with app.app_context(), db.transaction() as tx:
        audit.record(tx, "user:1", "user.disable", target="user:2")
        audit.record(tx, "user:1", "user.enable", target="user:2")
    assert verify(app).ok
    tamper(app, "UPDATE audit_events SET target = 'user:3' WHERE id = 1")
    assert (verify(app).ok, verify(app).first_bad_id) == (False, 1)


def test_a_deleted_middle_row_is_caught(app: Flask) -> None:
    record_events(app, 5)
    tamper(app, "DELETE FROM audit_events WHERE id = 3")

    result = verify(app)
    assert (result.ok, result.first_bad_id) == (False, 4)
    assert "rows are missing" in result.reason


def test_a_deleted_row_with_the_rest_renumbered_is_caught_by_the_broken_link(app: Flask) -> None:
    record_events(app, 5)
    tamper(app, "DELETE FROM audit_events WHERE id = 3")
    # Ascending, one row at a time, so no id collides on the way down.
    execute(
        app,
        "UPDATE audit_events SET id = 3 WHERE id = 4",
        "UPDATE audit_events SET id = 4 WHERE id = 5",
    )

    result = verify(app)
    assert (result.ok, result.first_bad_id) == (False, 3)
    assert "prev_hash" in result.reason


def test_removing_the_newest_rows_shows_only_against_a_head_kept_elsewhere(app: Flask) -> None:
    """The documented limit: a shortened chain is consistent; the saved head hash tells."""
    record_events(app, 4)
    before = verify(app)
    tamper(app, "DELETE FROM audit_events WHERE id = 4")

    after = verify(app)
    assert after.ok and after.rows_checked == 3
    assert after.head_hash != before.head_hash


def test_concurrent_writers_keep_one_valid_chain(app: Flask) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with app.app_context():
                for i in range(10):
                    with db.transaction() as tx:
                        audit.record(tx, f"user-{n}", "test.concurrent", f"PUB-{n}-{i}")
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify(app)
    assert result.ok, result.reason
    assert result.rows_checked == 60


def test_audit_rows_hold_no_patient_data(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    invite = runner.invoke(
        args=["intake", "invite", "--name", "Doe, Jane", "--dob", "1980-03-27", "--mrn", "MRN-7731"]
    )
    assert invite.exit_code == 0, invite.output
    demo = runner.invoke(args=["intake", "demo", "-o", str(tmp_path / "demo.pdf")])
    assert demo.exit_code == 0, demo.output
    public_id = re.search(r"Demo intake (\S+)", demo.output).group(1)  # type: ignore[union-attr]
    pdf = runner.invoke(args=["intake", "pdf", public_id, "-o", str(tmp_path / "again.pdf")])
    assert pdf.exit_code == 0, pdf.output

    with app.app_context():
        rows = db.session().scalars(select(AuditEvent)).all()
    assert len(rows) == 3
    text_fields = " ".join(
        str(value)
        for row in rows
        for value in (row.actor, row.action, row.intake_public_id, row.address, row.outcome)
    )
    dob = DEMO_PATIENT.date_of_birth
    for secret in (
        "Jane",
        "Doe",
        "1980-03-27",
        "27.03.1980",
        "MRN-7731",
        DEMO_PATIENT.given_name,
        DEMO_PATIENT.family_name,
        DEMO_PATIENT.mrn,
        dob.isoformat(),
        dob.strftime("%d.%m.%Y"),
    ):
        assert secret not in text_fields
    assert all(re.fullmatch(r"[0-9a-f]{64}", row.row_hash) for row in rows)


def test_migration_chains_existing_rows_like_the_service_does(app: Flask) -> None:
    """Rows from before 0002, with the gaps rollbacks leave, come out as one valid chain, which
    still verifies after 0007 adds the (hashed when set) target column."""
    old_rows: list[dict[str, Any]] = [
        {"id": old_id, "at": datetime(2026, 11, 1, 9, 0, old_id, 123456, tzinfo=UTC)}
        for old_id in (2, 5, 9)
    ]
    with app.app_context():
        engine = db.engine()
        Base.metadata.drop_all(engine)
        try:
            migrate.upgrade(engine, "0001")
            with engine.begin() as conn:
                conn.execute(
                    insert(AuditEvent.__table__),
                    [dict(row, actor="cli", action="invitation.create") for row in old_rows],
                )
            migrate.upgrade(engine, "0002")
            migrate.upgrade(engine)
            result = audit.verify_chain(db.session())
            assert (result.ok, result.rows_checked) == (True, 3), result.reason
            ids = db.session().scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
            assert ids == [1, 2, 3]
            db.session().rollback()
            with db.transaction() as tx:
                audit.record(tx, "cli", "after.migration")
                audit.record(tx, "cli", "user.disable", target="user:7")
            assert audit.verify_chain(db.session()).rows_checked == 5
            db.session().rollback()
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text("DELETE FROM audit_events"))
        finally:
            db.session().close()
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


# --- signatures and checkpoints: what someone who can write to the database cannot fake ------------
def _forge_next_row(app: Flask, row_mac: str | None) -> None:
    """Append a row as a database writer without the audit key would: correct id, link and hash."""
    with app.app_context():
        last = db.session().scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        row: dict[str, Any] = {
            "id": (last.id if last else 0) + 1,
            "at": datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
            "actor": "user:1",
            "action": "pdf.download",
            "intake_public_id": "AAAA-BBBB-CCCC",
            "address": "192.0.2.9",
            "outcome": "ok",
            "target": None,
            "prev_hash": last.row_hash if last else audit.GENESIS_HASH,
        }
        row_hash = audit.compute_row_hash(row)
    execute_insert(app, {**row, "row_hash": row_hash, "row_mac": row_mac})


def execute_insert(app: Flask, values: dict[str, Any]) -> None:
    with app.app_context(), db.engine().begin() as conn:
        conn.execute(insert(AuditEvent.__table__).values(**values))


@pytest.mark.parametrize("row_mac", [None, "0" * 64])
def test_a_row_appended_without_the_audit_key_is_caught(app: Flask, row_mac: str | None) -> None:
    """The hash chain alone accepted a correctly hashed row from anyone who could INSERT."""
    record_events(app, 3)
    _forge_next_row(app, row_mac)
    result = verify(app)
    assert (result.ok, result.first_bad_id) == (False, 4)
    assert "without the audit key" in result.reason
    cli = app.test_cli_runner().invoke(args=["intake", "audit", "verify"])
    assert cli.exit_code == 1 and "BROKEN at row 4" in cli.output
    # Without the key only the hashes can be checked, and the command says what that means.
    app.config["AUDIT_KEY"] = None
    unkeyed = app.test_cli_runner().invoke(args=["intake", "audit", "verify"])
    assert unkeyed.exit_code == 0
    assert "Signatures NOT checked" in unkeyed.output


def test_rows_written_before_the_key_are_counted_apart(app: Flask) -> None:
    key = app.config["AUDIT_KEY"]
    app.config["AUDIT_KEY"] = None
    record_events(app, 2)
    app.config["AUDIT_KEY"] = key
    record_events(app, 3)
    result = verify(app)
    assert result.ok and result.signatures_checked and result.unsigned_rows == 2
    cli = app.test_cli_runner().invoke(args=["intake", "audit", "verify"]).output
    assert "Signatures OK: 3 rows signed" in cli and "The oldest 2 rows" in cli


def test_a_checkpoint_catches_removed_newest_rows_and_a_rewritten_suffix(
    app: Flask, tmp_path: Path
) -> None:
    record_events(app, 4)
    kept = tmp_path / "checkpoints"
    made = app.test_cli_runner().invoke(args=["intake", "audit", "checkpoint", "-o", str(kept)])
    assert made.exit_code == 0, made.output
    record_events(app, 2)  # the log grows after a checkpoint: still fine
    ok = app.test_cli_runner().invoke(args=["intake", "audit", "verify", "--checkpoint", str(kept)])
    assert ok.exit_code == 0 and "Checkpoint checkpoints:1 OK" in ok.output

    # Rows 4 to 6 deleted, then two rows re-appended with the key (a rewrite of the suffix).
    tamper(app, "DELETE FROM audit_events WHERE id >= 4")
    with app.app_context():
        assert audit.check_checkpoint(
            db.session(), app.config["AUDIT_KEY"].encode(), kept.read_text()
        ).startswith("the log no longer has row 4")
    record_events(app, 2)
    cli = app.test_cli_runner().invoke(
        args=["intake", "audit", "verify", "--checkpoint", str(kept)]
    )
    assert cli.exit_code == 1
    assert "BROKEN: row 4 is not the row checkpointed" in cli.output

    # A checkpoint line edited by hand, or signed with another key, proves nothing.
    forged = kept.read_text().replace("rows=4", "rows=3")
    with app.app_context():
        assert "not a checkpoint signed" in audit.check_checkpoint(
            db.session(), app.config["AUDIT_KEY"].encode(), forged
        )
