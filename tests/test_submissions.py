"""Submission storage: the PDF survives renderer failures; concurrent writers lose no update."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake import db
from intake.clock import as_utc, utcnow
from intake.intakes.drafts import lock_for_update
from intake.models import Intake, Job
from intake.pdf import document as pdf
from intake.pdf.job import PdfAttachment, RenderJob
from intake.pdf.renderer import Renderer, RenderFailed
from tests.conftest import Invited, load_intake, post_step, run_jobs
from tests.extracted_text import pdf_text


def test_a_failed_render_keeps_the_submission_and_is_tried_again(
    app: Flask,
    client: FlaskClient,
    patient: Invited,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    post_step(client, "general", {"general.course": "worse"})
    assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("renderer down")

    with monkeypatch.context() as patch:
        patch.setattr(pdf, "render_pdf", broken)
        assert run_jobs(app) == 1
    submission = load_intake(app, patient.public_id).submission
    assert submission is not None
    assert submission.pdf is None and submission.pdf_error == "RuntimeError"
    assert submission.answers == {"general.course": "worse"}
    with app.app_context():
        job = db.session().scalars(select(Job)).one()
        assert (job.state, job.attempts, job.last_error) == ("queued", 1, "RuntimeError")
        assert as_utc(job.run_after) > utcnow()  # not at once: after a pause
    assert run_jobs(app) == 0

    out = tmp_path / "later.pdf"  # the command line does not wait for the retry
    result = app.test_cli_runner().invoke(args=["intake", "pdf", patient.public_id, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    stored = load_intake(app, patient.public_id).submission
    assert stored is not None and stored.pdf == out.read_bytes() and stored.pdf_error is None
    with app.app_context():  # the retry, when it comes, finds the PDF made and renders nothing
        db.session().execute(update(Job).values(run_after=utcnow()))
        db.session().commit()
    with monkeypatch.context() as patch:
        patch.setattr(pdf, "render_pdf", broken)
        assert run_jobs(app) == 1
    assert load_intake(app, patient.public_id).submission.pdf == out.read_bytes()  # type: ignore[union-attr]


def test_patient_text_and_names_never_reach_the_logs(
    app: Flask,
    client: FlaskClient,
    patient: Invited,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Neither this process's log nor the renderer process's standard error (its log, which
    ``caplog`` cannot see) holds the patient's words, name or link token."""
    caplog.set_level(logging.DEBUG)
    renderer_log = tmp_path / "renderer.stderr"
    # The service's renderer, its standard error sent to a file.
    command = ["/bin/sh", "-c", 'exec "$0" -m intake.pdf.engine 2>"$1"', sys.executable]
    own = Renderer([*command, str(renderer_log)])
    monkeypatch.setattr(pdf, "RENDERER", own)
    secret = "Reacts to the neighbour's cat"
    try:
        post_step(client, "general", {"general.main_concerns": secret})
        assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")
        assert run_jobs(app) == 1
        submission = load_intake(app, patient.public_id).submission
        assert submission is not None and submission.pdf_error is None
        assert submission.pdf is not None and submission.pdf.startswith(b"%PDF")
        assert secret in pdf_text(submission.pdf, tmp_path)  # the renderer had the words
        # A job it refuses (two attachments of one name) is logged there, with a traceback.
        twice = PdfAttachment(
            "a.json", b"{}", "application/json", "x", as_utc(submission.submitted_at)
        )
        with pytest.raises(RenderFailed):
            own.render(RenderJob(f"<p>{secret} Jane Doe</p>", (twice, twice)))
    finally:
        own.stop()
    stderr = renderer_log.read_text(encoding="utf-8")
    assert "PDF render failed: ValueError" in stderr  # the file does hold the renderer's log
    for text in (caplog.text, stderr):
        assert secret not in text
        assert "Jane" not in text and patient.token not in text


def test_concurrent_read_then_write_transactions_do_not_fail(app: Flask, invite) -> None:  # type: ignore[no-untyped-def]
    invited = invite()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                for _ in range(15):
                    with db.transaction() as tx:
                        intake = tx.scalars(
                            select(Intake).where(Intake.public_id == invited.public_id)
                        ).one()
                        lock_for_update(tx, intake)
                        intake.answers_version += 1
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert load_intake(app, invited.public_id).answers_version == 90
