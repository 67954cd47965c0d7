"""Append-only record of who did what to which intake. Never patient data in its fields."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake.models import AuditEvent


def record(
    db: Session,
    actor: str,
    action: str,
    intake_public_id: str | None = None,
    address: str | None = None,
    outcome: str = "ok",
) -> None:
    """Add an audit row to the caller's transaction."""
    db.add(
        AuditEvent(
            actor=actor,
            action=action,
            intake_public_id=intake_public_id,
            address=address,
            outcome=outcome,
        )
    )
