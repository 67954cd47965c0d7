"""Reading the audit log back: filtered pages for the administrators' screen, and a CSV export.

Writing stays in ``intake.audit.log`` alone; nothing here changes a row. The CSV holds the chained
columns exactly as stored (hashes included), so a copy can be checked against the chain later.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from intake.audit.log import user_ref
from intake.auth.accounts import find_user
from intake.clock import as_utc
from intake.models import AuditEvent, User

PAGE_SIZE = 50
#: Rows read per query while exporting: each batch is its own short read.
EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "intake_public_id",
    "address",
    "outcome",
    "target",
    "prev_hash",
    "row_hash",
)
_INTAKE_ID = re.compile(r"^[0-9A-Z-]{1,20}$")
_USER_ACTOR = re.compile(r"^user:(\d+)$")
#: A cell starting with one of these runs as a formula in a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FilterError(ValueError):
    """A filter that cannot match anything as typed; ``str()`` names the field."""


@dataclass(frozen=True)
class Filters:
    """Which events to show: by actor (``user:3``, ``cli``...), which also finds the events that
    acted on that account, and by intake id; None for any."""

    actor: str | None = None
    intake_public_id: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.actor is not None:
            clauses.append(or_(AuditEvent.actor == self.actor, AuditEvent.target == self.actor))
        if self.intake_public_id is not None:
            clauses.append(AuditEvent.intake_public_id == self.intake_public_id)
        return clauses


def parse_filters(db: Session, user: str, intake_id: str) -> Filters:
    """Filters from what an administrator typed: an account's email (or an actor name such as
    ``cli``) and an intake id in any case. Raises ``FilterError`` for an impossible intake id."""
    actor = user.strip() or None
    if actor is not None and "@" in actor:
        account = find_user(db, actor)
        # An unknown email matches nothing: no actor name contains "@".
        actor = user_ref(account.id) if account is not None else actor
    wanted = intake_id.strip().upper() or None
    if wanted is not None and not _INTAKE_ID.match(wanted):
        raise FilterError("intake_id")
    return Filters(actor=actor, intake_public_id=wanted)


@dataclass(frozen=True)
class EventRow:
    """One audit event as the screen shows it; ``account`` and ``target_account`` are the emails
    behind ``user:N`` actors and targets."""

    id: int
    at: datetime
    actor: str
    account: str | None
    action: str
    intake_public_id: str | None
    address: str | None
    outcome: str
    target: str | None
    target_account: str | None


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow]
    page: int
    pages: int
    total: int


def _emails(db: Session, actors: set[str]) -> dict[str, str]:
    ids = {int(m.group(1)) for a in actors if (m := _USER_ACTOR.match(a))}
    if not ids:
        return {}
    found = db.execute(select(User.id, User.email).where(User.id.in_(ids)))
    return {user_ref(user_id): email for user_id, email in found}


def page_of_events(db: Session, filters: Filters, page: int, size: int = PAGE_SIZE) -> EventPage:
    """One page of matching events, newest first; a page past the end shows the last one."""
    where = filters.where()
    total = db.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    events = db.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    ).all()
    emails = _emails(db, {event.actor for event in events} | {e.target for e in events if e.target})
    rows = [
        EventRow(
            e.id,
            as_utc(e.at),
            e.actor,
            emails.get(e.actor),
            e.action,
            e.intake_public_id,
            e.address,
            e.outcome,
            e.target,
            emails.get(e.target) if e.target else None,
        )
        for e in events
    ]
    return EventPage(rows, page, pages, total)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_text(rows: Sequence[Mapping[Any, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(row[name]) for name in CSV_COLUMNS])
    return buffer.getvalue()


def export_csv(db: Session, filters: Filters, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The matching events in chain order (oldest first) as CSV text, a batch at a time.

    Each batch is its own short read and the transaction ends after it (so call this with nothing
    pending in ``db``): a large export never holds the database, and on SQLite every transaction
    here takes the write lock.
    """
    yield ",".join(CSV_COLUMNS) + "\r\n"
    after = 0
    table = AuditEvent.__table__
    while True:
        rows = (
            db.execute(
                select(table)
                .where(*filters.where(), AuditEvent.id > after)
                .order_by(AuditEvent.id)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        db.rollback()
        if not rows:
            return
        yield _csv_text(rows)
        after = rows[-1]["id"]
