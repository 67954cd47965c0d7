"""Time in one place: everything is stored in UTC, and read back as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime: SQLite hands back naive ones even for timezone=True columns, and
    everything is written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
