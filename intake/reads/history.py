"""An intake's history for the clinic: what the patient did (from the intake's own timestamps) and
what the clinic did (from the audit log), oldest first.

Repeated views or downloads by the same person in a row are folded into one line with a count:
the history of a much-read intake stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.clock import as_utc
from intake.models import ApiToken, AuditEvent, Intake, User

Kind = Literal[
    "invited", "opened", "submitted", "reviewed", "viewed", "downloaded", "revoked", "reissued",
    "exported", "fhir_downloaded", "ehr_sent", "copy_downloaded",
]  # fmt: skip
ByKind = Literal["user", "cli", "patient", "token", "unknown"]

#: Audit actions that appear in the history. ``invitation.create`` is the "invited" line, which
#: also covers intakes from before the audit log.
AUDIT_KINDS: dict[str, Kind] = {
    "intake.view": "viewed",
    "pdf.download": "downloaded",
    "invitation.revoke": "revoked",
    "invitation.reissue": "reissued",
    "intake.review": "reviewed",
    "pdf.export": "exported",
    "export.fhir_response": "fhir_downloaded",
    "export.fhir_document": "fhir_downloaded",
    "export.fhir_bundle": "fhir_downloaded",
    "ehr.send": "ehr_sent",
    "patient.pdf_download": "copy_downloaded",
}
FOLDED: tuple[Kind, ...] = ("viewed", "downloaded", "fhir_downloaded", "copy_downloaded")


@dataclass(frozen=True)
class Event:
    """One line of the history. ``who`` is an email address for clinic accounts."""

    at: datetime
    kind: Kind
    by: ByKind
    who: str | None = None
    outcome: str = "ok"
    count: int = 1
    first_at: datetime | None = None  # of a folded run: its first occurrence


def _actor(actor: str, emails: dict[int, str], tokens: dict[int, str]) -> tuple[ByKind, str | None]:
    if actor == "cli":
        return "cli", None
    if actor == "patient":
        return "patient", None
    token_id = actor.removeprefix("token:")
    if actor.startswith("token:") and token_id.isdigit():
        return "token", tokens.get(int(token_id))
    user_id = actor.removeprefix("user:")
    if actor.startswith("user:") and user_id.isdigit():
        return "user", emails.get(int(user_id))
    return "unknown", None


def _fold(events: list[Event]) -> list[Event]:
    folded: list[Event] = []
    for event in events:
        last = folded[-1] if folded else None
        if (
            last is not None
            and event.kind in FOLDED
            and (last.kind, last.by, last.who, last.outcome)
            == (event.kind, event.by, event.who, event.outcome)
        ):
            folded[-1] = replace(event, count=last.count + 1, first_at=last.first_at or last.at)
        else:
            folded.append(event)
    return folded


def intake_history(db: Session, intake: Intake) -> list[Event]:
    """Everything that happened to ``intake``, oldest first."""
    rows = db.execute(
        select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.outcome)
        .where(AuditEvent.intake_public_id == intake.public_id)
        .order_by(AuditEvent.id)
    ).all()
    user_ids = {
        int(row.actor[5:])
        for row in rows
        if row.actor.startswith("user:") and row.actor[5:].isdigit()
    }
    if intake.created_by_id is not None:
        user_ids.add(intake.created_by_id)
    found = db.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    emails: dict[int, str] = {user_id: email for user_id, email in found}
    token_ids = {
        int(row.actor[6:])
        for row in rows
        if row.actor.startswith("token:") and row.actor[6:].isdigit()
    }
    names = db.execute(select(ApiToken.id, ApiToken.name).where(ApiToken.id.in_(token_ids)))
    tokens: dict[int, str] = {token_id: name for token_id, name in names}

    created_by: tuple[ByKind, str | None] = (
        ("user", emails.get(intake.created_by_id)) if intake.created_by_id else ("cli", None)
    )
    events = [Event(as_utc(intake.created_at), "invited", *created_by)]
    if intake.opened_at is not None:
        events.append(Event(as_utc(intake.opened_at), "opened", "patient"))
    if intake.submission is not None:
        events.append(Event(as_utc(intake.submission.submitted_at), "submitted", "patient"))
    for row in rows:
        if row.action in AUDIT_KINDS:
            by, who = _actor(row.actor, emails, tokens)
            events.append(Event(as_utc(row.at), AUDIT_KINDS[row.action], by, who, row.outcome))
    events.sort(key=lambda event: event.at)  # stable: audit rows keep their chain order
    return _fold(events)
