"""API tokens: how another system (an interface engine, a script) fetches exports without a browser.

An admin creates one per system, names it, sees it once, and can revoke it at any time. Only a
SHA-256 of the token is stored (it is 256 random bits, so a fast hash is enough, as for links).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.clock import utcnow
from intake.models import ApiToken

PREFIX = "itk_"
NAME_MAX = 100


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Session, name: str, created_by_id: int | None) -> tuple[ApiToken, str]:
    """A new token and the only copy of its secret (the caller shows it once)."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"A token needs a name of 1 to {NAME_MAX} characters.")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name, token_hash=hash_token(token), prefix=token[:10], created_by_id=created_by_id
    )
    db.add(row)
    db.flush()
    return row, token


def find_token(db: Session, token: str | None) -> ApiToken | None:
    """The live token this secret names (its last use noted), or None."""
    if not token or not token.startswith(PREFIX):
        return None
    row = db.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = utcnow()
    return row


def revoke_token(db: Session, token_id: int) -> ApiToken | None:
    row = db.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def list_tokens(db: Session) -> list[ApiToken]:
    return list(
        db.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id))
    )
