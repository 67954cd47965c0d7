"""Readiness for load balancers and the set-up script: 200 once the database answers and its
schema is the one this code needs."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from intake import db, migrate
from intake.clock import as_utc, utcnow
from intake.jobs import queue
from intake.models import Submission

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """A process on an unmigrated database would answer most pages with errors, so it is not
    ready: the load balancer should keep sending patients to a process that can save their
    answers. The reason goes to the log once per app (load balancers ask every few seconds)."""
    try:
        problem = migrate.schema_problem(db.engine())
    except Exception:  # any database failure means "not ready"
        return jsonify(status="unavailable", database="unreachable"), 503
    if problem:
        warned: set[str] = current_app.extensions.setdefault("intake.health.warned", set())
        if problem not in warned:
            warned.add(problem)
            log.warning("not ready: %s; run `flask --app wsgi intake init-db`", problem)
        return jsonify(status="unavailable", database="ok", schema="not current"), 503
    return jsonify(status="ok", database="ok", schema="current", jobs=_jobs())


def _jobs() -> dict[str, float]:
    """The background worker's queue: jobs waiting or running, and the oldest one's age, and the
    submissions still without their PDF. A growing age means no worker is running (or it cannot
    keep up); a PDF missing for long, a render that keeps failing. The web side stays ready."""
    with db.read_snapshot() as connection:
        waiting, oldest = queue.queue_depth(connection)
        missing = connection.scalar(
            select(func.count(Submission.id)).where(Submission.pdf.is_(None))
        )
    age = (utcnow() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    return {"waiting": waiting, "oldest_seconds": round(age, 1), "pdfs_missing": int(missing or 0)}
