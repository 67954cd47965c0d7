"""The clinician worklist: every intake by appointment, filtered by state and dates, searched by
name or MRN, a page at a time.

Each filter is an index range (see the indexes on ``Intake``), and a page reads only the columns
it shows, never the answers: measured in ``bench/run.py`` at 100,000 intakes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from intake.intakes import states
from intake.intakes.names import KEY_LENGTH, search_key
from intake.intakes.states import State
from intake.models import Intake
from intake.reads.details import IntakeLine, sections_total

PAGE_SIZE = 50
#: Words of a search that are matched against the name; more are ignored.
MAX_WORDS = 4


@dataclass(frozen=True)
class Filters:
    """What the clinician asked to see. ``date_from`` defaults to today: upcoming visits first."""

    state: State | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    page: int = 1


@dataclass(frozen=True)
class Page:
    rows: tuple[IntakeLine, ...]
    total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when there is none)."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def parse_filters(args: Mapping[str, str], today: date) -> tuple[Filters, list[str]]:
    """Filters from the query string, and the names of the fields that could not be read.

    No ``from`` at all means today; an empty one means no lower bound ("all dates").
    """
    problems: list[str] = []

    def day(name: str) -> date | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            problems.append(name)
            return None

    state = args.get("state", "")
    if state and state not in states.STATES:
        problems.append("state")
    page = args.get("page", "1")
    filters = Filters(
        state=state if state in states.STATES else None,
        date_from=day("from") if "from" in args else today,
        date_to=day("to"),
        text=args.get("q", "").strip()[:200],
        page=max(1, int(page)) if page.isdigit() else 1,
    )
    return filters, problems


def state_condition(state: State, now: datetime) -> ColumnElement[bool]:
    """SQL for ``intake.intakes.states.state(...) == state``: the stored stage, plus the clock."""
    if state == "expired":
        return and_(Intake.stage.in_(states.EXPIRABLE), Intake.token_expires_at < now)
    if state in states.EXPIRABLE:
        return and_(Intake.stage == state, Intake.token_expires_at >= now)
    return Intake.stage == state


def _starts_with(column: InstrumentedAttribute[str], prefix: str) -> ColumnElement[bool]:
    # The range lets any database use the index; LIKE keeps the match exact under collations
    # that ignore spaces (PostgreSQL with a language locale). Keys hold only a-z, 0-9 and spaces.
    return and_(column >= prefix, column <= prefix + "z" * KEY_LENGTH, column.startswith(prefix))


def search_condition(text: str) -> ColumnElement[bool] | None:
    """An MRN exactly as typed, or name words as prefixes: "smi", "Jane Smith", "Smith, J"."""
    raw = text.strip()
    if not raw:
        return None
    matches: list[ColumnElement[bool]] = [Intake.mrn.in_(sorted({raw, raw.upper()}))]
    words = search_key(raw).split()[:MAX_WORDS]
    if words:
        whole = " ".join(words)
        matches += [_starts_with(Intake.family_key, whole), _starts_with(Intake.given_key, whole)]
        for cut in range(1, len(words)):
            head, tail = " ".join(words[:cut]), " ".join(words[cut:])
            matches.append(
                and_(_starts_with(Intake.given_key, head), _starts_with(Intake.family_key, tail))
            )
            matches.append(
                and_(_starts_with(Intake.family_key, head), _starts_with(Intake.given_key, tail))
            )
    return or_(*matches)


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def conditions(filters: Filters, now: datetime, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``filters``; dates are whole days in the clinic's time zone."""
    where: list[ColumnElement[bool]] = []
    if filters.state:
        where.append(state_condition(filters.state, now))
    if filters.date_from:
        start = Intake.appointment_at >= _local_midnight_utc(filters.date_from, zone)
        if filters.date_to is None:
            # "From this day on" is what is still to come; an intake with no appointment set
            # (made on the command line, or not booked yet) is too, and is listed last.
            start = or_(start, Intake.appointment_at.is_(None))
        where.append(start)
    if filters.date_to:
        end = _local_midnight_utc(filters.date_to + timedelta(days=1), zone)
        where.append(Intake.appointment_at < end)
    search = search_condition(filters.text)
    if search is not None:
        where.append(search)
    return where


def worklist_page(db: Session, filters: Filters, now: datetime, zone: ZoneInfo) -> Page:
    """One page of intakes by appointment (those without one last), and how many match."""
    where = conditions(filters, now, zone)
    total = db.scalar(select(func.count()).select_from(Intake).where(*where)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    filters = replace(filters, page=min(filters.page, pages))
    query = (
        select(
            Intake.public_id,
            Intake.given_name,
            Intake.family_name,
            Intake.date_of_birth,
            Intake.mrn,
            Intake.appointment_at,
            Intake.stage,
            Intake.token_expires_at,
            Intake.sections_saved,
            Intake.catalog_version,
        )
        .where(*where)
        .order_by(Intake.appointment_at.asc().nulls_last(), Intake.id)
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    rows = tuple(
        IntakeLine(
            public_id=r.public_id,
            given_name=r.given_name,
            family_name=r.family_name,
            date_of_birth=r.date_of_birth,
            mrn=r.mrn,
            appointment_at=r.appointment_at,
            state=states.state(r.stage, r.token_expires_at, now),
            sections_done=len(r.sections_saved or ()),
            sections_total=sections_total(r.catalog_version),
        )
        for r in db.execute(query)
    )
    return Page(rows, total, filters.page, pages)


def unreviewed_before(db: Session, day: date, zone: ZoneInfo) -> int:
    """Sent, unreviewed intakes whose appointment was before ``day``: the default view (from
    today on) would hide them, and someone still has to read them."""
    before = Intake.appointment_at < _local_midnight_utc(day, zone)
    return db.scalar(select(func.count()).where(Intake.stage == "submitted", before)) or 0
