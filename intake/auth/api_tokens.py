"""API tokens: how another system (an interface engine, a script) fetches exports without a browser.

An admin creates one per system, names it, sees it once, and can revoke it at any time. Only a
SHA-256 of the token is stored (it is 256 random bits, so a fast hash is enough, as for links).

A token acts with the authority of the admin who made it, so it lives no longer than that admin's
access: disabling an account revokes every token it created (``revoke_created_by``), each revocation
audited with the token as target. Revoked is final: enabling the account again does not bring its
tokens back, as a clinic's IT team expects when someone leaves and the account is later reused or
restored for another reason; the systems that used them get new tokens from an active admin. A
token whose creator is disabled is refused even before that revocation (``refusal``), which covers
accounts disabled before this rule existed, or disabled straight in the database.

Tokens expire: the admin chooses after how many days (``DEFAULT_DAYS`` pre-filled, at most
``MAX_DAYS``), so a token forgotten in a decommissioned system stops working on its own. Tokens
made before expiry existed (migration 0008) have no expiry date and keep working until revoked;
the admin page says "Never" for them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from intake.audit import log as audit
from intake.clock import as_utc, utcnow
from intake.models import ApiToken
from intake.tokens import hash_token

PREFIX = "itk_"
NAME_MAX = 100
#: How long a new token works, in days: pre-filled on the admin page, and the longest allowed.
DEFAULT_DAYS = 365
MAX_DAYS = 730

#: Why a token presented to the API is not accepted. All of them get the same answer (a 401);
#: the audit log records which one it was.
Refusal = Literal["unknown", "revoked", "expired", "creator_disabled"]


@dataclass(frozen=True)
class Checked:
    """What a presented secret turned out to be: ``token`` is set when it names a stored token
    (usable or not), ``refusal`` when it may not be used."""

    token: ApiToken | None
    refusal: Refusal | None

    @property
    def usable(self) -> ApiToken | None:
        return self.token if self.refusal is None else None


def create_token(
    db: Session, name: str, created_by_id: int | None, days: int = DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """A new token, working for ``days`` days, and the only copy of its secret (the caller shows
    it once)."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"A token needs a name of 1 to {NAME_MAX} characters.")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"A token works for 1 to {MAX_DAYS} days.")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=hash_token(token),
        prefix=token[:10],
        created_by_id=created_by_id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.add(row)
    db.flush()
    return row, token


def refusal(row: ApiToken, now: datetime) -> Refusal | None:
    """Why this stored token may not be used at ``now`` (None: it may)."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        return "expired"
    if row.created_by is not None and row.created_by.disabled_at is not None:
        return "creator_disabled"
    return None


def check_token(db: Session, token: str | None) -> Checked:
    """The token this secret names and whether it may be used; a usable one has its use noted."""
    if not token or not token.startswith(PREFIX):
        return Checked(None, "unknown")
    row = db.scalars(
        select(ApiToken)
        .options(joinedload(ApiToken.created_by))
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        return Checked(None, "unknown")
    now = utcnow()
    why = refusal(row, now)
    if why is None:
        row.last_used_at = now
    return Checked(row, why)


def revoke_token(db: Session, token_id: int) -> ApiToken | None:
    row = db.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def revoke_created_by(db: Session, user_id: int) -> list[int]:
    """Revoke every live token the account created; the ids revoked, for the audit log."""
    rows = db.scalars(
        select(ApiToken)
        .where(ApiToken.created_by_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    db.flush()
    return [row.id for row in rows]


def audit_revoked_with_account(
    db: Session, token_ids: list[int], actor: str, address: str | None = None
) -> None:
    """Audit the revocation of tokens whose creator's account was disabled, one row per token
    (its target), after the account's own ``user.disable`` row."""
    for token_id in token_ids:
        audit.record(
            db,
            actor,
            "api_token.revoke",
            address=address,
            outcome="creator_disabled",
            target=audit.token_ref(token_id),
        )


def list_tokens(db: Session) -> list[ApiToken]:
    return list(
        db.scalars(
            select(ApiToken)
            .options(joinedload(ApiToken.created_by))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id)
        )
    )
