"""Schema migrations with Alembic, run through the app's engine (``flask intake init-db``).

Alembic is imported when a migration runs, not with the app: web workers never migrate, and
Alembic (with Mako and Pygments) is about 10 MB of every worker's memory otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


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


def autogenerate(engine: Engine, message: str) -> None:
    """Write a new migration from the models (developers only)."""
    from alembic import command

    with engine.begin() as connection:
        command.revision(_config(engine, connection), message=message, autogenerate=True)
