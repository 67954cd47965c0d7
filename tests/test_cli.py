"""Operator commands: invitations, the demo, writing a stored PDF, the schema."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text

from intake import db, migrate
from intake.clock import utcnow
from intake.intakes.invitations import find_by_public_id
from intake.jobs import queue
from intake.models import AuditEvent
from tests.conftest import load_intake


def test_invite_prints_a_working_link(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "intake",
            "invite",
            "--name",
            "Doe, Jane",
            "--dob",
            "1980-03-27",
            "--mrn",
            "A-1",
            "--expires-days",
            "3",
        ]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"(http\S+/start\?t=(\S+))", result.output)
    assert link
    client = app.test_client()
    assert client.get(f"/start?t={link.group(2)}").status_code == 303
    public_id = re.search(r"Intake (\S+) for Jane Doe", result.output).group(1)  # type: ignore[union-attr]
    intake = load_intake(app, public_id)
    assert (intake.given_name, intake.family_name, intake.mrn) == ("Jane", "Doe", "A-1")


def test_demo_writes_a_pdf_and_pdf_writes_the_stored_bytes(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "demo.pdf"
    result = runner.invoke(args=["intake", "demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    public_id = re.search(r"Demo intake (\S+)", result.output).group(1)  # type: ignore[union-attr]
    again = tmp_path / "again.pdf"
    result = runner.invoke(args=["intake", "pdf", public_id, "-o", str(again)])
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == out.read_bytes()
    with app.app_context():
        actions = db.session().scalars(select(AuditEvent.action)).all()
    assert actions == ["demo.create", "pdf.export"]


def test_pdf_of_an_unknown_intake_fails_clearly(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["intake", "pdf", "NOPE", "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code != 0
    assert "No submitted intake" in result.output


@pytest.mark.own_database
def test_init_db_builds_the_schema_the_models_describe(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from intake import create_app
    from intake.db import Base

    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
        }
    )
    result = app.test_cli_runner().invoke(args=["intake", "init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context(), db.engine().connect() as conn:
        assert set(inspect(conn).get_table_names()) >= {"intakes", "submissions", "audit_events"}
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


@pytest.mark.own_database
def test_commands_on_a_missing_or_older_schema_say_to_run_init_db(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from intake import create_app
    from intake.migrate import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head == migrate.HEAD, f"a new migration: set HEAD in intake/migrate.py to {head!r}"

    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        }
    )
    runner = app.test_cli_runner()
    out = tmp_path / "demo.pdf"

    result = runner.invoke(args=["intake", "demo", "-o", str(out)])
    assert result.exit_code == 1
    assert "The database has no schema yet. Run `flask --app wsgi intake init-db`" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "--output" in runner.invoke(args=["intake", "demo", "--help"]).output

    assert runner.invoke(args=["intake", "init-db"]).exit_code == 0
    with app.app_context(), db.engine().begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    result = runner.invoke(args=["intake", "audit", "verify"])
    assert result.exit_code == 1
    assert f"schema is at revision 0001, this version of intake needs {head}" in result.output

    with app.app_context(), db.engine().begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    result = runner.invoke(args=["intake", "demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_healthz(app, client, submitted) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "schema": "current",
        "jobs": {"waiting": 0, "oldest_seconds": 0.0, "pdfs_missing": 0},
    }
    with app.app_context(), db.transaction() as tx:  # a render waits, and no worker takes it
        intake = find_by_public_id(tx, submitted())
        intake.submission.pdf = None
        job = queue.enqueue(tx, "pdf", intake.id)
        job.created_at = utcnow() - timedelta(minutes=10)
    jobs = client.get("/healthz").get_json()["jobs"]
    assert jobs["waiting"] == 1 and 599 < jobs["oldest_seconds"] < 700
    assert jobs["pdfs_missing"] == 1


@pytest.mark.own_database
def test_healthz_is_not_ready_on_a_missing_or_older_schema(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from intake import create_app

    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'h.sqlite3'}",
        }
    )
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "schema": "not current",
    }
    assert "no schema yet" in caplog.text and "init-db" in caplog.text

    assert app.test_cli_runner().invoke(args=["intake", "init-db"]).exit_code == 0
    assert client.get("/healthz").status_code == 200
    with app.app_context(), db.engine().begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    caplog.clear()
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").status_code == 503
    assert caplog.text.count("schema is at revision 0006") == 1


@pytest.mark.own_database
def test_migration_0008_leaves_existing_api_tokens_without_an_expiry(tmp_path: Path) -> None:
    """Tokens made before 0008 keep working: no expiry date is made up for them."""
    from intake import create_app

    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}",
        }
    )
    with app.app_context():
        migrate.upgrade(db.engine(), "0007")
        with db.engine().begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_tokens (name, token_hash, prefix, created_at) "
                    "VALUES ('Old', :hash, 'itk_abcdef', CURRENT_TIMESTAMP)"
                ),
                {"hash": "0" * 64},
            )
        migrate.upgrade(db.engine())
        with db.engine().connect() as conn:
            assert conn.execute(text("SELECT expires_at FROM api_tokens")).all() == [(None,)]
        migrate.upgrade(db.engine(), "0008")  # at head already: nothing to do
        assert migrate.schema_problem(db.engine()) is None


def test_healthz_answers_while_another_connection_holds_the_write_lock(
    app: Flask, client: FlaskClient
) -> None:
    """On SQLite every write transaction takes the lock at BEGIN; the readiness check must not wait
    for it (it waited 5 s, then answered 503 "unreachable" while a long save or render ran)."""
    with app.app_context(), db.engine().connect() as writer:
        writer.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE on SQLite: holds the write lock
        response = client.get("/healthz")
        writer.rollback()
    assert response.status_code == 200, response.get_data(as_text=True)
