"""Append-only, hash-chained, signed record of who did what to which intake. Never patient data.

Each row stores the SHA-256 of its own canonical form (``row_hash``) and the hash of the row
before it (``prev_hash``), and rows are numbered 1, 2, 3... in chain order. Editing a row breaks
its own hash; deleting one leaves a gap in the ids and a broken link in the next row.

A hash anyone can compute: whoever can write to the database could append a correct-looking row.
So each row is also signed (``row_mac``, HMAC-SHA256 of its hash) with ``AUDIT_KEY``, a key the
database does not hold. Once a signed row exists, every later row must carry a valid signature:
a row added without the key, or a signed row altered, is caught by ``verify_chain`` with the key.

What no chain shows on its own: removal of the newest rows, or a rewrite of every row from some
point on. ``checkpoint`` signs the row count and head hash at a moment; kept outside the database
(a file on another machine, a ticket), ``check_checkpoint`` later proves the log still holds
exactly those rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, has_app_context
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


CHECKPOINT_PREFIX = "intake-audit-checkpoint v1"


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``verify_chain``; ``head_hash`` is the last good row's hash, to keep elsewhere.

    ``signatures_checked`` is False without the audit key: then only the hashes were checked,
    which anyone with write access to the database could have recomputed. ``unsigned_rows``
    counts the rows written before the service had a key (the chain's oldest), which only the
    hashes vouch for.
    """

    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH
    signatures_checked: bool = False
    unsigned_rows: int = 0


def configured_key() -> bytes | None:
    """The audit key of the running app (``AUDIT_KEY``), or None where none is set."""
    key = current_app.config.get("AUDIT_KEY") if has_app_context() else None
    return key.encode("utf-8") if key else None


def sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


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
    row_hash = compute_row_hash(row)
    key = configured_key()
    row_mac = sign(key, row_hash) if key else None
    db.add(AuditEvent(**row, row_hash=row_hash, row_mac=row_mac))
    db.flush()


def _problem(row: Mapping[Any, Any], expected_id: int, prev_hash: str) -> str:
    if row["id"] != expected_id:
        return f"expected id {expected_id} next, found {row['id']}: rows are missing"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous row's hash"
    if compute_row_hash(row) != row["row_hash"]:
        return "row_hash does not match the row's contents: the row was altered"
    return ""


def _signature_problem(row: Mapping[Any, Any], key: bytes, signed_before: bool) -> str:
    if row["row_mac"] is None:
        if signed_before:
            return "no signature after signed rows: the row was written without the audit key"
        return ""
    if not hmac.compare_digest(row["row_mac"], sign(key, row["row_hash"])):
        return "the signature does not match: the row was written or altered without the audit key"
    return ""


def verify_chain(db: Session | Connection, key: bytes | None = None) -> VerifyResult:
    """Walk the rows in id order, recomputing each hash, checking each link to the one before,
    and, with the audit key (``key``, else the app's), each row's signature."""
    key = key or configured_key()
    rows = db.execute(
        select(AuditEvent.__table__).order_by(AuditEvent.id).execution_options(yield_per=1000)
    ).mappings()
    expected_id, prev_hash, checked, unsigned = 1, GENESIS_HASH, 0, 0
    try:
        for row in rows:
            problem = _problem(row, expected_id, prev_hash)
            if not problem and key is not None:
                problem = _signature_problem(row, key, signed_before=checked > unsigned)
            if problem:
                return VerifyResult(
                    False, checked, row["id"], problem, prev_hash, key is not None, unsigned
                )
            if row["row_mac"] is None:
                unsigned += 1
            checked, expected_id, prev_hash = checked + 1, row["id"] + 1, row["row_hash"]
    finally:
        rows.close()
    return VerifyResult(
        True, checked, head_hash=prev_hash, signatures_checked=key is not None,
        unsigned_rows=unsigned,
    )  # fmt: skip


def checkpoint(db: Session | Connection, key: bytes, at: datetime) -> str:
    """A signed line naming the log's row count and head hash now, to keep outside the database.

    Checked later by ``check_checkpoint``: a log that lost its newest rows, or had every row from
    some point rewritten, no longer holds that row with that hash.
    """
    last = db.execute(
        select(AuditEvent.id, AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    rows, head = (last.id, last.row_hash) if last is not None else (0, GENESIS_HASH)
    body = f"{CHECKPOINT_PREFIX} rows={rows} head={head} at={_utc_iso(at)}"
    return f"{body} mac={sign(key, body)}"


def check_checkpoint(db: Session | Connection, key: bytes, line: str) -> str:
    """What is wrong between the log and one checkpoint line ("" when the log still holds it)."""
    body, _, mac = line.strip().rpartition(" mac=")
    if not body.startswith(CHECKPOINT_PREFIX) or not hmac.compare_digest(mac, sign(key, body)):
        return "not a checkpoint signed with this audit key"
    fields = dict(part.split("=", 1) for part in body.removeprefix(CHECKPOINT_PREFIX).split())
    rows, head = int(fields["rows"]), fields["head"]
    if rows == 0:
        return ""
    found = db.execute(select(AuditEvent.row_hash).where(AuditEvent.id == rows)).scalar()
    if found is None:
        return f"the log no longer has row {rows}: its newest rows were removed"
    if found != head:
        return f"row {rows} is not the row checkpointed at {fields['at']}: the log was rewritten"
    return ""
