"""The background worker: submit answers at once, one render per submission, nothing lost when a
worker dies, and the real ``intake worker`` command as scripts/serve runs it (both databases)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake import db, worker
from intake.clock import utcnow
from intake.intakes import submissions
from intake.intakes.drafts import lock_for_update
from intake.intakes.invitations import find_by_public_id
from intake.intakes.submissions import submit_intake
from intake.jobs import queue
from intake.models import Job, Submission
from intake.pdf import document as pdf
from tests.conftest import AUDIT_KEY, Invited, load_intake, post_step, run_jobs

ROOT = Path(__file__).resolve().parent.parent


def jobs(app: Flask) -> list[tuple[str, str, int]]:
    with app.app_context():
        rows = db.session().execute(select(Job.kind, Job.state, Job.attempts).order_by(Job.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_submit_answers_without_rendering_and_the_worker_stores_the_pdf(
    app: Flask, client: FlaskClient, patient: Invited, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_step(client, "general", {"general.course": "worse"})

    def not_here(*_args: object) -> bytes:
        raise AssertionError("rendered inside the web request")

    with monkeypatch.context() as patch:
        patch.setattr(pdf, "render_pdf", not_here)
        assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")
        assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")  # again
    assert jobs(app) == [("pdf", "queued", 0)]  # one job, however often "Send" is pressed
    assert run_jobs(app) == 1
    assert jobs(app) == [("pdf", "done", 1)]
    submission = load_intake(app, patient.public_id).submission
    assert submission is not None and submission.pdf is not None
    assert submission.pdf.startswith(b"%PDF") and submission.pdf_renderer
    assert client.post("/submit", data={"confirm": "1"}).status_code == 303
    assert jobs(app) == [("pdf", "done", 1)]  # stored: nothing more to do


@pytest.mark.usefixtures("shared_pdf")
def test_parallel_submits_make_one_submission_and_one_render(
    app: Flask, invite: Callable[..., Invited], monkeypatch: pytest.MonkeyPatch
) -> None:
    invited = invite()
    renders: list[str] = []
    real = submissions.render_pdf_bytes
    monkeypatch.setattr(
        submissions, "render_pdf_bytes", lambda work: renders.append(work.public_id) or real(work)
    )
    errors: list[BaseException] = []
    start = threading.Barrier(10)

    def submit() -> None:
        try:
            with app.app_context():
                start.wait()
                with db.transaction() as tx:
                    intake = find_by_public_id(tx, invited.public_id)
                    assert intake is not None
                    lock_for_update(tx, intake)
                    submit_intake(tx, intake)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert jobs(app) == [("pdf", "queued", 0)]
    # Two workers at once: one claims the job, the other finds nothing to do.
    done = []
    workers = [threading.Thread(target=lambda: done.append(run_jobs(app))) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert sorted(done) == [0, 1] and renders == [invited.public_id]
    with app.app_context():
        assert len(db.session().scalars(select(Submission)).all()) == 1


@pytest.mark.usefixtures("shared_pdf")
def test_a_job_left_by_a_killed_worker_is_taken_up(app: Flask, submitted: Any) -> None:
    public_id = submitted()
    with app.app_context(), db.transaction() as tx:  # as a worker killed mid-render leaves it
        intake = find_by_public_id(tx, public_id)
        assert intake is not None and intake.submission is not None
        intake.submission.pdf = None
        tx.add(Job(kind="pdf", intake_id=intake.id, state="queued", attempts=0))
    dead = subprocess.Popen(["sleep", "60"])
    dead.kill()
    dead.wait()
    with app.app_context(), db.transaction() as tx:
        assert queue.claim(tx, f"{socket.gethostname()}:{dead.pid}") is not None
    assert run_jobs(app) == 0  # its lease has not run out, and run_jobs releases no orphans

    # The command a restarted worker runs gives it back at once: its holder's process is gone.
    result = app.test_cli_runner().invoke(args=["intake", "worker", "--burst"])
    assert result.exit_code == 0 and "Done 1 job(s)." in result.output, result.output
    assert load_intake(app, public_id).submission.pdf is not None  # type: ignore[union-attr]
    assert jobs(app)[-1] == ("pdf", "done", 2)


@pytest.mark.usefixtures("shared_pdf")
def test_a_job_whose_worker_stopped_renewing_is_taken_up_elsewhere(
    app: Flask, submitted: Any
) -> None:
    public_id = submitted()
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None and intake.submission is not None
        intake.submission.pdf = None
        tx.add(Job(kind="pdf", intake_id=intake.id, state="queued", attempts=0))
    with app.app_context(), db.transaction() as tx:
        claimed = queue.claim(tx, "another-machine:4242")
        assert claimed is not None
    with app.app_context(), db.transaction() as tx:
        assert queue.claim(tx, "here:1") is None  # held: nobody else takes it
        assert queue.renew(tx, claimed)
    with app.app_context(), db.transaction() as tx:  # the lease runs out
        tx.execute(update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert run_jobs(app) == 1
    with app.app_context(), db.transaction() as tx:
        assert not queue.renew(tx, claimed)  # the old holder learns it lost the job
        queue.finish(tx, claimed)  # and its late "done" changes nothing
    assert jobs(app)[-1] == ("pdf", "done", 2)


def test_a_render_that_always_fails_ends_failed_and_a_download_queues_it_again(
    app: Flask, submitted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_id = submitted()
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None and intake.submission is not None
        intake.submission.pdf = None
        job = queue.enqueue(tx, "pdf", intake.id)

    def broken(*_args: object) -> bytes:
        raise RuntimeError("fonts gone")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    for attempt in range(1, queue.MAX_ATTEMPTS + 1):
        with app.app_context(), db.transaction() as tx:
            tx.execute(update(Job).where(Job.id == job.id).values(run_after=utcnow()))
        assert run_jobs(app) == 1
        assert jobs(app)[-1][2] == attempt
    assert jobs(app)[-1] == ("pdf", "failed", queue.MAX_ATTEMPTS)
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None and intake.submission is not None
        assert submissions.queue_pdf(tx, intake.submission) is not None  # a new try
    assert jobs(app)[-1] == ("pdf", "queued", 0)


def test_the_sweep_queues_a_missing_pdf_again_an_hour_after_it_failed(
    app: Flask, submitted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No submission stays without its PDF until someone asks: the worker's sweep tries once more
    an hour after the last try failed, and queues one that never had a render."""
    failed, never = submitted(), submitted()
    with app.app_context(), db.transaction() as tx:
        ids = {}
        for public_id in (failed, never):
            intake = find_by_public_id(tx, public_id)
            assert intake is not None and intake.submission is not None
            intake.submission.pdf = None
            ids[public_id] = intake.id
        tx.execute(
            update(Job)
            .where(Job.intake_id == ids[failed])
            .values(state="failed", attempts=queue.MAX_ATTEMPTS, finished_at=utcnow())
        )
        tx.execute(Job.__table__.delete().where(Job.intake_id == ids[never]))

    with app.app_context(), db.transaction() as tx:
        missing = submissions.missing_pdfs(tx)
        assert sorted(missing) == sorted(ids.values())
        assert submissions.requeue_missing_pdfs(tx, missing) == 1  # the one never rendered
        assert submissions.requeue_missing_pdfs(tx, missing) == 0  # queued now: not twice
        later = utcnow() + submissions.RETRY_FAILED_AFTER + timedelta(seconds=1)
        assert submissions.requeue_missing_pdfs(tx, missing, later) == 1  # the failed, later

    def broken(*_args: object) -> bytes:
        raise RuntimeError("fonts gone")

    with monkeypatch.context() as patch:
        patch.setattr(pdf, "render_pdf", broken)
        assert run_jobs(app) == 2
    # A sweep's try is a single attempt: a document that cannot be made costs one render.
    with app.app_context():
        states = (
            db.session()
            .execute(select(Job.intake_id, Job.state, Job.attempts).where(Job.state != "done"))
            .all()
        )
    assert sorted(states) == sorted(
        [(ids[failed], "failed", queue.MAX_ATTEMPTS), (ids[failed], "failed", queue.MAX_ATTEMPTS),
         (ids[never], "failed", queue.MAX_ATTEMPTS)]
    )  # fmt: skip
    with app.app_context(), db.transaction() as tx:
        much_later = utcnow() + 2 * submissions.RETRY_FAILED_AFTER
        assert submissions.requeue_missing_pdfs(tx, submissions.missing_pdfs(tx), much_later) == 2
    assert run_jobs(app) == 2  # the renderer works again: both PDFs are stored
    assert worker.sweep(app) == 0  # the worker's own sweep: nothing left to queue
    for public_id in (failed, never):
        assert load_intake(app, public_id).submission.pdf is not None  # type: ignore[union-attr]


# --- the real command, as scripts/serve runs it ------------------------------------------------


def _environment(app: Flask) -> dict[str, str]:
    env = {
        **os.environ,
        "INTAKE_ENV": "testing",
        "SECRET_KEY": "worker-test-secret-0123456789abcdef",
        "AUDIT_KEY": AUDIT_KEY,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "WORKER_POLL_SECONDS": "0.1",
    }
    env.pop("TEST_DATABASE_URL", None)
    return env


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _wait(condition: Callable[[], Any], within: float = 300) -> Any:
    """``condition()``'s first true value. The bound only ends a broken worker's test: the
    worker runs at a low CPU priority, and on a busy machine (the SQLite and PostgreSQL runs
    side by side) its first render can take a minute."""
    deadline = time.monotonic() + within
    while not (value := condition()):
        assert time.monotonic() < deadline, "the worker did not get there"
        time.sleep(0.1)
    return value


@pytest.mark.usefixtures("shared_pdf")
def test_the_worker_command_renders_survives_a_killed_process_and_stops_cleanly(
    app: Flask, submitted: Any, tmp_path: Path
) -> None:
    public_id = submitted()  # the stand-in is only this test process's: the command renders
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None and intake.submission is not None
        intake.submission.pdf = None
        queue.enqueue(tx, "pdf", intake.id)
    log = (tmp_path / "worker.log").open("wb")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "intake", "worker"],
        cwd=ROOT, env=_environment(app), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:

        def stored() -> bytes | None:
            return load_intake(app, public_id).submission.pdf  # type: ignore[union-attr]

        data = _wait(stored)
        assert data.startswith(b"%PDF") and b"stand-in" not in data  # made by the worker
        (first,) = _wait(lambda: _children(supervisor.pid))
        assert os.getpriority(os.PRIO_PROCESS, first) >= 10  # below the web workers
        os.kill(first, signal.SIGKILL)
        (second,) = _wait(lambda: _children(supervisor.pid) - {first} or None)
        with app.app_context(), db.transaction() as tx:  # the new process works
            intake = find_by_public_id(tx, public_id)
            assert intake is not None and intake.submission is not None
            intake.submission.pdf = None
            queue.enqueue(tx, "pdf", intake.id)
        _wait(stored)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0
        assert not Path(f"/proc/{second}").exists() or _wait(
            lambda: not Path(f"/proc/{second}").exists()
        )
    finally:
        if supervisor.poll() is None:
            supervisor.terminate()  # it ends its worker processes before it ends
            try:
                supervisor.wait(timeout=120)
            except subprocess.TimeoutExpired:
                for child in _children(supervisor.pid):
                    os.kill(child, signal.SIGKILL)
                supervisor.kill()
                supervisor.wait()
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert "ended" in text and "starting another" in text, text
    assert "Jane" not in text and "Doe" not in text  # job ids, never names
