"""Invitation links: random tokens (only their hash is stored), expiry, revoking and issuing a new
link, and the date-of-birth check."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.loader import get_catalog
from intake.clock import as_utc, utcnow
from intake.models import Intake
from intake.tokens import hash_token

#: 32 random bytes: 256 bits, as the issue requires.
TOKEN_BYTES = 32
_PUBLIC_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


@dataclass(frozen=True)
class NewInvitation:
    intake: Intake
    token: str


@dataclass(frozen=True)
class Patient:
    """Who is invited, as the clinic's records have it."""

    given_name: str
    family_name: str
    date_of_birth: date
    mrn: str | None = None


class InvitationClosedError(RuntimeError):
    """The patient already sent their answers: the link can no longer be revoked or replaced."""


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
    """Create an intake from one name string (the command line) and return it with its token."""
    given, family = split_name(name)
    return invite_patient(db, Patient(given, family, date_of_birth, mrn), expires_days)


def invite_patient(
    db: Session,
    patient: Patient,
    expires_days: int,
    *,
    appointment_at: datetime | None = None,
    created_by_id: int | None = None,
) -> NewInvitation:
    """Create an intake and return it with the only copy of its link token."""
    if not patient.family_name.strip():
        raise ValueError("A patient name is needed.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    intake = Intake(
        public_id=new_public_id(),
        given_name=patient.given_name.strip(),
        family_name=patient.family_name.strip(),
        date_of_birth=patient.date_of_birth,
        mrn=(patient.mrn or "").strip() or None,
        token_hash=hash_token(token),
        token_expires_at=utcnow() + timedelta(days=expires_days),
        catalog_version=get_catalog().version,
        answers={},
        detail_sections=[],
        sections_saved=[],
        appointment_at=appointment_at,
        created_by_id=created_by_id,
    )
    db.add(intake)
    db.flush()
    return NewInvitation(intake, token)


def revoke_invitation(intake: Intake) -> None:
    """Stop the link working now (the first revocation time is kept)."""
    if intake.submission is not None:
        raise InvitationClosedError(intake.public_id)
    if intake.revoked_at is None:
        intake.revoked_at = utcnow()


def reissue_invitation(intake: Intake, expires_days: int) -> str:
    """A new link for the same intake: the old token stops working, the draft answers stay.

    Also what undoes a revocation or a date-of-birth lock: the clinic spoke to the patient.
    """
    if intake.submission is not None:
        raise InvitationClosedError(intake.public_id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    intake.token_hash = hash_token(token)
    intake.token_expires_at = utcnow() + timedelta(days=expires_days)
    intake.revoked_at = None
    intake.locked_at = None
    intake.dob_failures = 0
    return token


def patient_link(base_url: str, token: str) -> str:
    """The private link the patient opens (the web page and the command line print the same)."""
    return f"{base_url.rstrip('/')}/start?t={token}"


def link_fingerprint(intake: Intake) -> str:
    """Names the intake's current link in the patient's session: a new link ends old sessions."""
    return intake.token_hash[:16]


LinkStatus = Literal["ok", "unknown", "expired", "locked", "revoked"]


def link_status(intake: Intake | None) -> LinkStatus:
    if intake is None:
        return "unknown"
    if intake.revoked_at is not None and intake.submission is None:
        return "revoked"
    if intake.locked_at is not None:
        return "locked"
    if as_utc(intake.token_expires_at) < utcnow() and intake.submission is None:
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
