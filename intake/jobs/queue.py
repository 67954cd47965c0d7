"""The job queue: rows in the service's own database, claimed the same way on both databases.

Why rows and not a job library: the well-kept ones need a broker (Celery, RQ, Dramatiq: Redis or
RabbitMQ) or one database (procrastinate: PostgreSQL only; huey: SQLite or Redis). A clinic
running the embedded default must not have to install and guard a second server for a render a
minute, and rows give what the service needs in about a hundred lines: a submission and its
render are written in one transaction, so no crash can leave one without the other.

Claiming: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers never wait for each
other; on SQLite every session transaction begins with the write lock (``BEGIN IMMEDIATE``,
``intake.db``), so the read and the update of a claim cannot interleave with another worker's.
A claimed job carries a lease its worker renews while it works (``renew``); a worker killed
mid-job stops renewing, and once the lease has run out the job is claimed again. Its attempts
count on, so a job that kills every worker it meets ends "failed" instead of looping for ever.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.orm import Session

from intake.clock import utcnow
from intake.models import JOB_ACTIVE, Job

#: What the worker can do. A kind's handler lives with what it works on (``intake.worker``).
KINDS = ("pdf", "ehr_send")
#: How long a claim holds without being renewed; the worker renews it every third of this.
LEASE = timedelta(seconds=30)
#: Attempts before a job ends "failed", and the wait before each retry.
MAX_ATTEMPTS = 5
RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2))


@dataclass(frozen=True)
class Claimed:
    """A job a worker holds: what to do, for which intake, and the claim to renew and end."""

    id: int
    kind: str
    intake_id: int
    attempt: int
    worker: str


def worker_name() -> str:
    """``host:pid``: who holds a job, so a restarted worker can tell its dead predecessors."""
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def active_job(db: Session, kind: str, intake_id: int) -> Job | None:
    """The queued or running job of this kind for this intake, if there is one."""
    return db.scalars(
        select(Job).where(Job.kind == kind, Job.intake_id == intake_id, Job.state.in_(JOB_ACTIVE))
    ).first()


def latest_job(db: Session, kind: str, intake_id: int) -> Job | None:
    """The newest job of this kind for this intake, whatever its state."""
    return db.scalars(
        select(Job).where(Job.kind == kind, Job.intake_id == intake_id).order_by(Job.id.desc())
    ).first()


def enqueue(db: Session, kind: str, intake_id: int, **fields: object) -> Job:
    """Queue a job unless one of this kind is already queued or running for this intake.

    Call it with the intake's row locked (``drafts.lock_for_update``) where two requests could
    race; the unique index on active jobs is the last guard.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = active_job(db, kind, intake_id)
    if job is None:
        job = Job(kind=kind, intake_id=intake_id, state="queued", attempts=0, **fields)
        db.add(job)
        db.flush()
    return job


def claim(db: Session, worker: str, now: datetime | None = None) -> Claimed | None:
    """Take the oldest job that is due, or whose worker's lease has run out; None if none is."""
    now = now or utcnow()
    due = or_(
        and_(Job.state == "queued", Job.run_after <= now),
        and_(Job.state == "running", Job.lease_until < now),
    )
    while True:
        job = db.scalars(
            select(Job)
            .where(due)
            .order_by(Job.run_after, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if job is None:
            return None
        if job.attempts < MAX_ATTEMPTS:
            break
        # Its workers kept dying on it (every attempt was claimed, none ended): stop here.
        job.state, job.finished_at, job.last_error = "failed", now, "WorkerLost"
        job.lease_until = None
    job.state = "running"
    job.attempts += 1
    job.claimed_by = worker
    job.lease_until = now + LEASE
    db.flush()
    return Claimed(job.id, job.kind, job.intake_id, job.attempts, worker)


def renew(db: Session, claimed: Claimed) -> bool:
    """Extend the lease; False when the job is no longer this worker's (it was taken over)."""
    result = db.execute(
        update(Job)
        .where(Job.id == claimed.id, Job.claimed_by == claimed.worker, Job.state == "running")
        .values(lease_until=utcnow() + LEASE)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _held(db: Session, claimed: Claimed) -> Job | None:
    job = db.get(Job, claimed.id, with_for_update=True)
    if job is None or job.claimed_by != claimed.worker or job.state != "running":
        return None  # another worker took it over after this one's lease ran out
    return job


def finish(db: Session, claimed: Claimed) -> None:
    """The job is done."""
    job = _held(db, claimed)
    if job is not None:
        job.state, job.finished_at, job.lease_until, job.last_error = "done", utcnow(), None, None


def fail(db: Session, claimed: Claimed, error: str, *, retry: bool = True) -> bool:
    """Record a failed attempt; queue the next one after a pause, or end the job "failed".

    Returns True when the job has ended for good (its last attempt, or ``retry=False``).
    """
    job = _held(db, claimed)
    if job is None:
        return False
    job.last_error = error[:80]
    job.lease_until = None
    if retry and job.attempts < MAX_ATTEMPTS:
        job.state = "queued"
        job.run_after = utcnow() + RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS)) - 1]
        return False
    job.state, job.finished_at = "failed", utcnow()
    return True


def release_orphans(db: Session, host: str, alive: set[int] | None = None) -> int:
    """Give back at once the running jobs of this host's dead workers (a worker killed mid-job and
    restarted here need not wait for its lease). ``alive``: pids known to be running."""
    released = 0
    for job in db.scalars(select(Job).where(Job.state == "running")):
        job_host, _, pid = (job.claimed_by or "").rpartition(":")
        if job_host != host or not pid.isdigit() or _running(int(pid), alive):
            continue
        job.lease_until = utcnow() - LEASE  # due now; its attempt has already counted
        released += 1
    return released


def _running(pid: int, alive: set[int] | None) -> bool:
    if alive is not None:
        return pid in alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours to judge
        return True
    return True


def queue_depth(db: Session | Connection) -> tuple[int, datetime | None]:
    """How many jobs wait or run, and since when the oldest of them was queued."""
    count, oldest = db.execute(
        select(func.count(Job.id), func.min(Job.created_at)).where(Job.state.in_(JOB_ACTIVE))
    ).one()
    return int(count), oldest
