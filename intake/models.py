"""Tables: an intake (invitation plus draft answers), its frozen submission, and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class Intake(Base):
    """One patient's questionnaire for one visit: the invitation, the draft and its progress."""

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    mrn: Mapped[str | None] = mapped_column(String(64))
    # Only a hash of the link token is kept: a database leak does not leak working links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    token_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dob_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    catalog_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail_sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Bumped on every save: a page carries the number it was drawn from, so a save from a stale
    # tab is detected instead of silently overwriting the newer answers.
    answers_version: Mapped[int] = mapped_column(Integer, default=0)
    sections_saved: Mapped[list[str]] = mapped_column(JSON, default=list)
    current_step: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    submission: Mapped[Submission | None] = relationship(back_populates="intake")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def submitted(self) -> bool:
        return self.submission is not None


class Submission(Base):
    """The frozen answers of a submitted intake and its rendered PDF (one per intake)."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    catalog_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    detail_sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    clinic_opt_ins: Mapped[list[str]] = mapped_column(JSON, default=list)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_renderer: Mapped[str | None] = mapped_column(String(64))
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pdf_error: Mapped[str | None] = mapped_column(Text)

    intake: Mapped[Intake] = relationship(back_populates="submission")


class AuditEvent(Base):
    """Who did what to which intake, and when. Append-only; never holds patient data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    intake_public_id: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(30), default="ok")
