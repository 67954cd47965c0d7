"""Invitation links: random tokens (only their hash is stored), expiry, and the date-of-birth check."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.loader import get_catalog
from intake.models import Intake, utcnow

#: 32 random bytes: 256 bits, as the issue requires.
TOKEN_BYTES = 32
_PUBLIC_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


@dataclass(frozen=True)
class NewInvitation:
    intake: Intake
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_public_id() -> str:
    """A short id for people to read out and match (shown on the PDF), not a secret."""
    raw = "".join(secrets.choice(_PUBLIC_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def split_name(name: str) -> tuple[str, str]:
    """("Given", "Family") from "Family, Given" or "Given Family" (last word is the family name)."""
    name = " ".join(name.split())
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return given, family
    given, _, family = name.rpartition(" ")
    return given, family


def create_invitation(
    db: Session, name: str, date_of_birth: date, mrn: str | None = None, expires_days: int = 14
) -> NewInvitation:
    """Create an intake and return it with the only copy of its link token."""
    given, family = split_name(name)
    if not family:
        raise ValueError("A patient name is needed.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    intake = Intake(
        public_id=new_public_id(),
        given_name=given,
        family_name=family,
        date_of_birth=date_of_birth,
        mrn=mrn or None,
        token_hash=hash_token(token),
        token_expires_at=utcnow() + timedelta(days=expires_days),
        catalog_version=get_catalog().version,
        answers={},
        detail_sections=[],
        sections_saved=[],
    )
    db.add(intake)
    db.flush()
    return NewInvitation(intake, token)


LinkStatus = Literal["ok", "unknown", "expired", "locked"]


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone=True columns; they are stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def link_status(intake: Intake | None) -> LinkStatus:
    if intake is None:
        return "unknown"
    if intake.locked_at is not None:
        return "locked"
    if _aware(intake.token_expires_at) < utcnow() and intake.submission is None:
        return "expired"
    return "ok"


def find_by_token(db: Session, token: str) -> Intake | None:
    return db.scalars(select(Intake).where(Intake.token_hash == hash_token(token))).first()


def find_by_public_id(db: Session, public_id: str) -> Intake | None:
    return db.scalars(select(Intake).where(Intake.public_id == public_id)).first()


def check_date_of_birth(intake: Intake, given: date, max_attempts: int) -> bool:
    """True when the date matches; each miss counts, and the link locks after ``max_attempts``."""
    if intake.locked_at is not None:
        return False
    if given == intake.date_of_birth:
        intake.dob_failures = 0
        if intake.opened_at is None:
            intake.opened_at = utcnow()
        return True
    intake.dob_failures += 1
    if intake.dob_failures >= max_attempts:
        intake.locked_at = utcnow()
    return False
