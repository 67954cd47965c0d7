"""Alembic environment: runs against the app's own engine and metadata."""

from __future__ import annotations

from alembic import context

from intake import models  # noqa: F401  (registers the tables on Base.metadata)
from intake.db import Base

config = context.config
target_metadata = Base.metadata
connectable = config.attributes["connection"]
context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
