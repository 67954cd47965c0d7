"""Append-only, hash-chained record of who did what to which intake. Never patient data in it.

Each row stores the SHA-256 of its own canonical form (``row_hash``) and the hash of the row
before it (``prev_hash``), and rows are numbered 1, 2, 3... in chain order. Editing a row breaks
its own hash; deleting one leaves a gap in the ids and a broken link in the next row.

What the chain cannot show on its own: removal of the newest rows, or a rewrite of every row from
some point to the end with freshly computed hashes. Both leave a shorter or different chain that
is still consistent. To catch them, keep the row count and head hash that ``flask intake audit
verify`` prints somewhere outside the database (a ticket, a log shipper) and compare later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from intake.clock import as_utc, utcnow
from intake.models import AuditEvent

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("id", "at", "actor", "action", "intake_public_id", "address", "outcome")
#: Hashed only when set: rows written before these columns existed keep their hashes.
HASHED_WHEN_SET = ("target",)
# Any fixed number works: every writer of the chain takes the same PostgreSQL advisory lock.
CHAIN_LOCK_KEY = 0x61_75_64_69_74  # "audit" in ASCII


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``verify_chain``; ``head_hash`` is the last good row's hash, to keep elsewhere."""

    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH


def _utc_iso(at: datetime) -> str:
    return as_utc(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_row_hash(row: Mapping[Any, Any]) -> str:
    """SHA-256 of the row's fields and its ``prev_hash``, as sorted-key ASCII JSON."""
    canonical = {name: row[name] for name in (*HASHED_FIELDS, "prev_hash")}
    canonical |= {name: row[name] for name in HASHED_WHEN_SET if row.get(name) is not None}
    canonical["at"] = _utc_iso(row["at"])
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def user_ref(user_id: int) -> str:
    """How the log names an account, as the actor of an event or as what it acted on."""
    return f"user:{user_id}"


def token_ref(token_id: int) -> str:
    """How the log names an API token an event acted on."""
    return f"api_token:{token_id}"


def _chain_head(db: Session) -> tuple[int, str]:
    """The last row's id and hash, with the chain locked against other writers until commit.

    SQLite: our engine opens every transaction with BEGIN IMMEDIATE, which already serialises
    writers. PostgreSQL: an advisory lock held to the end of the transaction does the same, so two
    writers cannot both append to the same row and fork the chain.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    last = db.execute(
        select(AuditEvent.id, AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (last.id, last.row_hash) if last is not None else (0, GENESIS_HASH)


def record(
    db: Session,
    actor: str,
    action: str,
    intake_public_id: str | None = None,
    address: str | None = None,
    outcome: str = "ok",
    target: str | None = None,
) -> None:
    """Append an audit row to the caller's transaction, chained to the last row.

    ``target`` names the account or token an event acted on (``user:3``, ``api_token:2``); events
    about an intake name it in ``intake_public_id`` instead.

    On PostgreSQL this holds the chain lock until the caller commits: call it late in the
    transaction, after any row locks, so writers always take locks in the same order.
    """
    last_id, last_hash = _chain_head(db)
    row: dict[str, Any] = {
        "id": last_id + 1,
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "intake_public_id": intake_public_id,
        "address": address,
        "outcome": outcome,
        "target": target,
        "prev_hash": last_hash,
    }
    db.add(AuditEvent(**row, row_hash=compute_row_hash(row)))
    db.flush()


def _problem(row: Mapping[Any, Any], expected_id: int, prev_hash: str) -> str:
    if row["id"] != expected_id:
        return f"expected id {expected_id} next, found {row['id']}: rows are missing"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous row's hash"
    if compute_row_hash(row) != row["row_hash"]:
        return "row_hash does not match the row's contents: the row was altered"
    return ""


def verify_chain(db: Session | Connection) -> VerifyResult:
    """Walk the rows in id order, recomputing each hash and checking each link to the one before."""
    rows = db.execute(
        select(AuditEvent.__table__).order_by(AuditEvent.id).execution_options(yield_per=1000)
    ).mappings()
    expected_id, prev_hash, checked = 1, GENESIS_HASH, 0
    try:
        for row in rows:
            if problem := _problem(row, expected_id, prev_hash):
                return VerifyResult(False, checked, row["id"], problem, prev_hash)
            checked, expected_id, prev_hash = checked + 1, row["id"] + 1, row["row_hash"]
    finally:
        rows.close()
    return VerifyResult(True, checked, head_hash=prev_hash)
