"""Engine and session per app: SQLite (WAL, busy timeout, BEGIN IMMEDIATE) or PostgreSQL.

Measured on this stack: with SQLite's usual deferred BEGIN, half of concurrent read-then-write
requests failed with "database is locked"; taking the write lock at BEGIN removed every failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
#: Execution option of ``read_snapshot`` connections: on SQLite they begin without the write lock.
READ_ONLY = "intake_read_only"


class Base(DeclarativeBase):
    """Declarative base for every table of the service."""


def _database_file(url: str) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory or URI database."""
    path = make_url(url).database
    return Path(path) if path and path != ":memory:" and not path.startswith("file:") else None


def _keep_private(file: Path | None) -> None:
    """Make a SQLite database file readable by its owner alone (0600), on each connection.

    The file is the patients' answers; the folder around it being 0700 is one mistake (a copy,
    a move, a backup script) away from nothing. Called as a connection opens, before the WAL
    pragma: SQLite has just created the file if it was new, and gives its -wal and -shm files
    the main file's mode. A database never opened leaves no file behind.
    """
    if file is not None and file.exists() and file.stat().st_mode & 0o077:
        file.chmod(0o600)


def make_engine(url: str) -> Engine:
    """An engine with the per-backend settings the service relies on.

    ``hide_parameters``: a database error's message quotes the statement's parameters, which are
    names, dates of birth and answers; logged with a traceback, they would put patient data in
    the log.
    """
    if url.startswith("sqlite"):
        file = _database_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)  # the file itself: on first connect
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            _keep_private(file)
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            read_only = conn.get_execution_options().get(READ_ONLY)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def init_app(app: Flask) -> None:
    """Attach an engine and a request-scoped session to the app."""
    engine = make_engine(app.config["DATABASE_URL"])
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["db_engine"] = engine
    app.extensions["db_session"] = scoped_session(factory)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        app.extensions["db_session"].remove()


def session() -> Session:
    """The current app's database session."""
    return current_app.extensions["db_session"]()  # type: ignore[no-any-return]


def engine() -> Engine:
    return current_app.extensions["db_engine"]  # type: ignore[no-any-return]


@contextmanager
def read_snapshot() -> Iterator[Connection]:
    """A consistent, read-only view for a long read that must not stall anyone's saves.

    Every session transaction on SQLite takes the write lock at its start (BEGIN IMMEDIATE, see
    ``make_engine``), so a long read inside one (verifying the whole audit chain: seconds at
    600,000 events) made every patient's save wait, and fail after the busy timeout. This
    connection begins a deferred transaction instead: under WAL it reads a snapshot and blocks
    no writer. On PostgreSQL a reader never blocks writers anyway.
    """
    with engine().connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        try:
            yield connection
        finally:
            connection.rollback()


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit on success, roll back on any error."""
    db = session()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
