"""Tables: an intake (invitation plus draft answers), its frozen submission, the audit log,
clinician accounts with their sessions and sign-in attempts, EHR uploads, and the background
worker's jobs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from intake.clock import utcnow
from intake.db import Base
from intake.intakes import states
from intake.intakes.names import search_key
from intake.intakes.states import Stage, State

#: The stored stages, as SQL for the check constraint.
STAGE_SQL = "(" + ", ".join(f"'{stage}'" for stage in states.STAGES) + ")"


class Intake(Base):
    """One patient's questionnaire for one visit: the invitation, the draft and its progress."""

    __tablename__ = "intakes"
    __table_args__ = (
        CheckConstraint(f"stage IN {STAGE_SQL}", name="ck_intakes_stage"),
        # The worklist: sorted by appointment, filtered by stage and dates, searched by name
        # (prefix of the normalised keys) or MRN. Each query is one index range, at any size.
        Index("ix_intakes_appointment_at_id", "appointment_at", "id"),
        Index("ix_intakes_stage_appointment_at_id", "stage", "appointment_at", "id"),
        Index("ix_intakes_family_key", "family_key"),
        Index("ix_intakes_given_key", "given_key"),
        Index("ix_intakes_mrn", "mrn"),
    )

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
    # Where the patient comes back to: a section id, "review", or None for the welcome page.
    current_step: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Local time of the visit, stored in UTC. None for intakes made with the command line.
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_intakes_created_by_id_users")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_intakes_reviewed_by_id_users")
    )
    # Derived columns, kept for the worklist's indexes and never set by hand: ``refresh_derived``
    # recomputes them before every flush of a new or changed intake (listener below).
    stage: Mapped[str] = mapped_column(String(20), default="invited", server_default="invited")
    family_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    given_key: Mapped[str] = mapped_column(String(200), default="", server_default="")

    submission: Mapped[Submission | None] = relationship(back_populates="intake")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def submitted(self) -> bool:
        return self.submission is not None

    def state(self, now: datetime) -> State:
        """Where this intake stands at ``now`` (see intake.intakes.states)."""
        return states.state(self.stage_now(), self.token_expires_at, now)

    def stage_now(self) -> Stage:
        """The stage from the intake's own facts, whether or not the stored copy is flushed yet."""
        return states.stage(
            submitted=self.submission is not None,
            reviewed=self.reviewed_at is not None,
            revoked=self.revoked_at is not None,
            locked=self.locked_at is not None,
            started=self.opened_at is not None or bool(self.sections_saved),
        )

    def refresh_derived(self) -> None:
        """Recompute the stored stage and the search keys from the columns they come from."""
        self.stage = self.stage_now()
        self.family_key = search_key(self.family_name or "")
        self.given_key = search_key(self.given_name or "")


@event.listens_for(Session, "before_flush")
def _refresh_derived_columns(session: Session, _context: Any, _instances: Any) -> None:
    """One place keeps the derived columns right, so no service (or test) can forget them."""
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Intake):
            obj.refresh_derived()


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


class PatientSession(Base):
    """A browser signed in to one intake with the date of birth: the cookie holds a random
    token, this row its hash, which link it was opened with, and its clock.

    Kept on the server so that "Sign out" and "Save and finish later" end it there and then (a
    signed cookie cannot be taken back), and so that a page still open after it ended can sign
    in again with the date of birth, its wrong tries counted here and not against the link.
    """

    __tablename__ = "patient_sessions"

    # SHA-256 of the cookie's token: a database leak does not leak working sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    # The link it was opened with (``link_fingerprint``): a new link ends the old one's sessions.
    link: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Wrong dates of birth typed into this session's pages after it ended. Whoever finds such
    # a page gets this session's few tries, and cannot spend the link's (locking the patient out).
    resume_failures: Mapped[int] = mapped_column(Integer, default=0)

    intake: Mapped[Intake] = relationship()


class AuditEvent(Base):
    """Who did what to which intake (or account), and when. Append-only, hash-chained; never
    patient data.

    Rows are written only by ``intake.audit.log.record``, which numbers them 1, 2, 3... and links each
    to the one before it, so an edited or removed row breaks ``intake.audit.log.verify_chain``.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    intake_public_id: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(30), default="ok")
    #: The account or token acted on (``user:3``, ``api_token:2``), for events about one.
    target: Mapped[str | None] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    #: HMAC-SHA256 of ``row_hash`` with AUDIT_KEY; NULL only on rows from before the service
    #: had a key.
    row_mac: Mapped[str | None] = mapped_column(String(64))


# The database itself refuses edits, so rewriting history needs a DBA dropping these triggers
# first. Migration 0002 creates the same triggers; these cover ``metadata.create_all`` (tests).
APPEND_ONLY_MESSAGE = "audit_events is append-only"
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
    for verb in ("UPDATE", "DELETE")
]
_POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    # Row triggers do not fire on TRUNCATE.
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
]


def _listen(when: str, sql: str, dialect: str) -> None:
    ddl = DDL(sql)  # type: ignore[no-untyped-call]  # SQLAlchemy leaves DDL() untyped
    event.listen(AuditEvent.__table__, when, ddl.execute_if(dialect=dialect))


for _sql in _SQLITE_TRIGGERS:
    _listen("after_create", _sql, "sqlite")
for _sql in _POSTGRESQL_TRIGGERS:
    _listen("after_create", _sql, "postgresql")
_listen("after_drop", "DROP FUNCTION IF EXISTS audit_events_append_only()", "postgresql")


class User(Base):
    """A clinician or administrator who signs in to the clinic pages (never a patient)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('clinician', 'admin')", name="ck_users_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (intake.auth.accounts.normalize_email), so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(20))
    # None until the person sets one through a one-time link (create-user --set-password-link).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Only a hash of the set-password link token is kept, as for patient links.
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    password_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor sign-in (intake.auth.totp). The secret is Fernet-encrypted: a copy of the database
    # alone does not give the second factor. Set while enrolling too; in use once enabled_at is.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The time step of the last code accepted: that code, and any older one, never works again.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, this row its hash and its clock."""

    __tablename__ = "user_sessions"

    # SHA-256 of the cookie's token: a database leak does not leak working sessions.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One checked sign-in, for the rate limits in intake.auth.throttle (rows older than a day go)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account_key_at", "account_key", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # SHA-256 of the lower-cased email as typed: people type passwords into the email box.
    account_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class ApiToken(Base):
    """A credential an admin gives to another system (an EHR interface engine, a script) so it can
    fetch exports over the API. Only its hash is stored; the token is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # The first characters, shown in the list so an admin can tell tokens apart; not enough to use.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_api_tokens_created_by_id_users")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # After this the token is refused. None: it never expires (tokens made before migration 0008).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User | None] = relationship()


class EhrUpload(Base):
    """One attempt to send an intake's document to the EHR, and what the EHR answered.

    Kept per attempt (not per intake): the intake page shows the latest, the history all of them.
    Written as "sending" before the network call, so a send cut short still shows. ``message``
    holds the EHR's OperationOutcome text, the network error, or why the patient did not match
    (which names the MRN); it is shown only to signed-in clinicians, never logged.
    """

    __tablename__ = "ehr_uploads"
    __table_args__ = (Index("ix_ehr_uploads_intake_id_id", "intake_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intakes.id", name="fk_ehr_uploads_intake_id")
    )
    actor: Mapped[str] = mapped_column(String(40))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # created | exists | rejected | failed | unmatched | sending (intake.ehr.push.OUTCOMES)
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    # The DocumentReference's id on the EHR's server, when it said.
    remote_id: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str | None] = mapped_column(Text)


#: Job states: waiting ("queued", maybe until ``run_after``), claimed by a worker ("running"),
#: and ended ("done", or "failed" after its last attempt).
JOB_STATES = ("queued", "running", "done", "failed")
#: The states of a job still to finish: at most one such job per intake and kind.
JOB_ACTIVE = ("queued", "running")
_JOB_ACTIVE_SQL = text("state IN ('queued', 'running')")


class Job(Base):
    """One piece of slow work for the background worker: render an intake's PDF, send it to the
    EHR. A row, so it survives restarts and is claimed the same way on SQLite and PostgreSQL
    (``intake.jobs.queue``); never patient data, only which intake and who asked.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in JOB_STATES) + ")", name="ck_jobs_state"
        ),
        # What a worker looks for: the next job due, oldest first.
        Index("ix_jobs_state_run_after", "state", "run_after"),
        # An intake's newest job of a kind (``queue.latest_job``): the intake page, the
        # downloads and the worker's sweep ask it, per intake.
        Index("ix_jobs_kind_intake_id", "kind", "intake_id", "id"),
        # One render, one send at a time per intake: a double click, ten parallel submits or a
        # download while the render is queued all find the one job instead of adding another.
        Index(
            "uq_jobs_active_kind_intake",
            "kind",
            "intake_id",
            unique=True,
            sqlite_where=_JOB_ACTIVE_SQL,
            postgresql_where=_JOB_ACTIVE_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", name="fk_jobs_intake_id"))
    state: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "host:pid" of the worker that holds it, and until when: a worker killed mid-job stops
    # renewing its lease, and the job is taken up again once the lease has run out.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last failure's exception type, never its message (it could quote the document).
    last_error: Mapped[str | None] = mapped_column(String(80))
    # Who asked, for the audit record the job writes when it ends (EHR sends), and the upload
    # row it fills in.
    actor: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(64))
    upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("ehr_uploads.id", name="fk_jobs_upload_id")
    )
