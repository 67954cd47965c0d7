"""The background worker: renders PDFs and sends documents to the EHR, away from web requests.

``flask --app wsgi intake worker`` runs it (``scripts/serve`` starts one beside gunicorn). The
command supervises ``--processes`` worker processes (the same command with ``--one``), each taking one job at a time from the queue
(``intake.jobs.queue``) and starting again when one dies: a worker killed mid-render leaves its job
"running", and the new process takes it up at once (a dead predecessor on this host) or, for a
worker on another machine, when its lease runs out. Workers run at a lower CPU priority than the
web workers (``WORKER_NICE``), so a render never slows a patient's page.

Each job kind has a handler here, which calls the service that owns the work; a handler raises to
have the job tried again later (``queue.fail``), up to ``queue.MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import date
from types import FrameType

from flask import Flask

from forms.loader import UnknownCatalogVersion, get_catalog
from forms.logic import Visibility
from intake import db
from intake.clock import utcnow
from intake.ehr import push
from intake.intakes import submissions
from intake.intakes.submissions import make_pdf
from intake.jobs import queue
from intake.models import Job
from intake.pdf import document as pdf
from intake.pdf.renderer import RenderError
from intake.pdf.summary import build_summary

log = logging.getLogger(__name__)

#: Errors no retry can mend: the job ends "failed" at once.
PERMANENT = (UnknownCatalogVersion,)


def _pdf(job: Job) -> None:
    make_pdf(job.intake_id)


def _ehr_send(job: Job) -> None:
    if job.upload_id is not None:
        push.deliver(job.upload_id, job.address)


HANDLERS: dict[str, Callable[[Job], None]] = {"pdf": _pdf, "ehr_send": _ehr_send}


def work_one(app: Flask, worker: str) -> bool:
    """Claim one due job and do it; False when none was due."""
    with app.app_context():
        with db.transaction() as tx:
            claimed = queue.claim(tx, worker)
            job = tx.get(Job, claimed.id) if claimed else None
        if claimed is None or job is None:
            return False
        stop_renewing = threading.Event()
        renewer = threading.Thread(
            target=_keep_lease, args=(app, claimed, stop_renewing), daemon=True
        )
        renewer.start()
        try:
            HANDLERS[claimed.kind](job)
        except Exception as exc:
            permanent = isinstance(exc, PERMANENT)
            log.warning(
                "job %s (%s) attempt %s failed: %s",
                claimed.id, claimed.kind, claimed.attempt, type(exc).__name__,
            )  # fmt: skip
            with db.transaction() as tx:
                queue.fail(tx, claimed, type(exc).__name__, retry=not permanent)
        else:
            with db.transaction() as tx:
                queue.finish(tx, claimed)
        finally:
            stop_renewing.set()
            renewer.join()
    return True


def _keep_lease(app: Flask, claimed: queue.Claimed, stop: threading.Event) -> None:
    """Renew the job's lease while its handler works (its own thread, so its own session)."""
    with app.app_context():
        while not stop.wait(queue.LEASE.total_seconds() / 3):
            try:
                with db.transaction() as tx:
                    queue.renew(tx, claimed)
            except Exception as exc:  # a busy database now and then: the next renewal may pass
                log.warning("job %s: lease not renewed: %s", claimed.id, type(exc).__name__)


def release_dead(app: Flask) -> int:
    """Give back the jobs this host's dead workers held (as a restarted worker does first)."""
    with app.app_context(), db.transaction() as tx:
        released = queue.release_orphans(tx, socket.gethostname())
    if released:
        log.info("took up %s job(s) a stopped worker had left", released)
    return released


#: Intakes per transaction in a sweep: SQLite's write lock is held for a few milliseconds only.
SWEEP_BATCH = 50


def sweep(app: Flask) -> int:
    """Queue again the PDFs still missing (``submissions.requeue_missing_pdfs``)."""
    queued = 0
    with app.app_context():
        with db.read_snapshot() as connection:
            missing = submissions.missing_pdfs(connection)
        for start in range(0, len(missing), SWEEP_BATCH):
            with db.transaction() as tx:
                batch = missing[start : start + SWEEP_BATCH]
                queued += submissions.requeue_missing_pdfs(tx, batch)
    if queued:
        log.warning("queued %s missing PDF(s) again", queued)
    return queued


def run_until_idle(app: Flask, worker: str | None = None) -> int:
    """Do every job that is due now, then return how many were done (tests, ``--burst``)."""
    worker = worker or queue.worker_name()
    done = 0
    while work_one(app, worker):
        done += 1
    return done


def run(
    app: Flask, poll_seconds: float, stop: threading.Event, *, supervised: bool = False
) -> None:
    """One worker process's loop: give back dead predecessors' jobs, then work until ``stop``."""
    worker = queue.worker_name()
    release_dead(app)
    log.info("worker %s ready", worker)
    parent = os.getppid()
    every = float(app.config["WORKER_SWEEP_MINUTES"]) * 60
    next_sweep = time.monotonic()
    while not stop.is_set():
        if supervised and os.getppid() != parent:  # the supervisor was killed: do not outlive it
            log.warning("worker %s: its supervisor has gone; stopping", worker)
            break
        try:
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + every
                sweep(app)
            busy = work_one(app, worker)
        except Exception as exc:  # the database went away for a moment: wait, then go on
            log.error("worker %s: %s", worker, type(exc).__name__)
            busy = False
        if not busy:
            stop.wait(poll_seconds)


def serve_one(app: Flask) -> None:
    """A worker process: lower priority, stop cleanly on SIGTERM/SIGINT (after the job at hand)."""
    os.nice(int(app.config["WORKER_NICE"]))
    warm_up(app)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run(app, float(app.config["WORKER_POLL_SECONDS"]), stop, supervised=True)


def warm_up(app: Flask) -> None:
    """Start the renderer process and have it print an empty summary (no patient's), so the
    first patient's PDF does not wait for WeasyPrint, fontconfig and the fonts to load."""
    header = pdf.PdfHeader("Warm-up", date(2000, 1, 1), None, "WARM-UP", utcnow(), "UTC")
    with app.app_context():
        try:
            empty = build_summary(get_catalog(), {}, Visibility())
            pdf.render_pdf(pdf.summary_render_job(empty, header))
        except RenderError as exc:  # the first real job will say so again, and be retried
            log.warning("the PDF renderer did not start: %s", type(exc).__name__)


def supervise(processes: int, command: list[str]) -> None:
    """Keep ``processes`` worker processes running until told to stop; end them cleanly then.

    A process that dies is started again after a pause that grows while they keep dying (a
    broken install must not spin the CPU).
    """
    stopping = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    children: list[subprocess.Popen[bytes] | None] = [None] * processes
    pause = [1.0] * processes
    started = [0.0] * processes
    while not stopping.is_set():
        for i, child in enumerate(children):
            if child is not None and child.poll() is None:
                continue
            if child is not None:
                log.warning("worker process %s ended (status %s); starting another", child.pid,
                            child.returncode)  # fmt: skip
                lived = time.monotonic() - started[i]
                pause[i] = 1.0 if lived > 60 else min(pause[i] * 2, 60.0)
                if stopping.wait(pause[i]):
                    break
            children[i] = subprocess.Popen(command)  # noqa: S603  (our own module, our Python)
            started[i] = time.monotonic()
        stopping.wait(0.5)
    for child in children:
        if child is not None and child.poll() is None:
            child.terminate()
    for child in children:
        if child is not None:
            try:
                child.wait(timeout=90)
            except subprocess.TimeoutExpired:
                child.kill()
