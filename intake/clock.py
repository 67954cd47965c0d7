"""Time in one place: everything is stored in UTC, and read back as aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime: SQLite hands back naive ones even for timezone=True columns, and
    everything is written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SessionClock:
    """When a server-side session runs out: after ``idle`` without a request, and in any case
    ``absolute`` after it began. One rule for clinicians and patients, so the page's warning
    (app.js, from ``seconds_left``) and the server agree on both."""

    idle: timedelta
    absolute: timedelta

    def ran_out(
        self, created_at: datetime, last_seen_at: datetime, now: datetime
    ) -> Literal["idle", "expired"] | None:
        if now - as_utc(created_at) > self.absolute:
            return "expired"
        if now - as_utc(last_seen_at) > self.idle:
            return "idle"
        return None

    def seconds_left(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> int:
        """How long the session lasts without another request: the idle limit, or less near the
        end of its absolute lifetime."""
        end = min(as_utc(last_seen_at) + self.idle, as_utc(created_at) + self.absolute)
        return max(0, int((end - now).total_seconds()))
