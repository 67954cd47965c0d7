"""Schema migrations with Alembic, run through the app's engine (``flask intake init-db``).

Alembic is imported when a migration runs, not with the app: web workers never migrate, and
Alembic (with Mako and Pygments) is about 10 MB of every worker's memory otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from intake.db import READ_ONLY

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")

#: The newest migration's revision: the schema this code needs. A constant, so that checking a
#: database (every command, every ``/healthz``) does not import Alembic into web workers;
#: ``tests/test_cli.py`` fails until a new migration's revision is entered here.
HEAD = "0012"


def _config(engine: Engine, connection: object) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_config(engine, connection), revision)


def schema_problem(engine: Engine) -> str | None:
    """Why the database cannot serve this code yet, or None when its schema is current.

    Operators run commands right after installing or upgrading; a missing or older schema would
    otherwise surface as a raw SQL traceback in the middle of, say, ``intake demo``. A database
    without Alembic's version table but with the tables (made by ``create_all``, as in tests) is
    taken as current.
    """
    # A deferred BEGIN on SQLite (``db.READ_ONLY``): /healthz asks every few seconds, and must not
    # queue behind a writer for the write lock, nor answer "unreachable" after its timeout.
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables:
            return None if "intakes" in tables else "the database has no schema yet"
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if current == HEAD:
        return None
    return f"the database schema is at revision {current}, this version of intake needs {HEAD}"


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new migration from the models (developers only)."""
    from alembic import command

    with engine.begin() as connection:
        command.revision(_config(engine, connection), message=message, autogenerate=True)
