"""The renderer process: PDFs are made outside the web worker, and its failures cost no answers.

Most tests start a ``Renderer`` of their own, so that killing or timing out its process leaves the
one the rest of the suite uses alone.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.pdf import document as pdf
from intake.pdf.job import PdfAttachment, RenderJob, frame
from intake.pdf.renderer import (
    RENDERER,
    Renderer,
    RendererCrashed,
    RenderFailed,
    RenderTimeout,
)
from tests.conftest import Invited, load_intake, post_step, run_jobs

SMALL = RenderJob('<html lang="en"><p>Hello from the renderer</p></html>')
ATTACHMENT = PdfAttachment(
    name="answers.json",
    data=b'{"resourceType": "QuestionnaireResponse"}',
    mime_type="application/fhir+json",
    description="The answers",
    created=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
)


@pytest.fixture
def renderer() -> Iterator[Renderer]:
    own = Renderer()
    yield own
    own.stop()


def _running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _long_job(app: Flask) -> RenderJob:
    """The demo intake with every optional detail opened: 8 pages, about half a second."""
    from forms.loader import get_catalog
    from forms.logic import Visibility
    from intake.intakes.demo import demo_answers, demo_detail_sections, demo_pdf_header
    from intake.pdf.summary import build_summary

    catalog = get_catalog()
    opened = Visibility(detail_sections=frozenset(demo_detail_sections(catalog)))
    with app.app_context():
        summary = build_summary(catalog, demo_answers(catalog), opened)
        return RenderJob(pdf.summary_html(summary, demo_pdf_header("INT-RENDER-1")))


def test_a_job_crosses_the_pipe_unchanged() -> None:
    job = RenderJob("<p>Zoë 山田 🙂</p>", (ATTACHMENT,))
    assert RenderJob.decode(job.encode()[8:]) == job


def test_the_submitted_summary_is_made_in_a_renderer_process_of_its_own(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    post_step(client, "general", {"general.course": "worse"})
    assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")
    assert run_jobs(app) == 1
    submission = load_intake(app, patient.public_id).submission
    assert submission is not None and submission.pdf is not None
    assert submission.pdf.startswith(b"%PDF")

    pid = RENDERER.pid
    assert pid is not None and pid != os.getpid()
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"intake.pdf.engine" in command


def test_a_render_over_its_time_limit_is_stopped_and_the_next_one_works(
    app: Flask, renderer: Renderer
) -> None:
    renderer.render(SMALL)  # started and warm
    pid = renderer.pid
    assert pid is not None
    with pytest.raises(RenderTimeout):
        renderer.render(_long_job(app), timeout=0.05)
    assert renderer.pid is None and not _running(pid)

    assert renderer.render(SMALL).startswith(b"%PDF")
    assert renderer.pid not in (None, pid)


def test_a_submission_whose_render_times_out_stands_and_its_pdf_is_made_later(
    app: Flask, client: FlaskClient, patient: Invited, tmp_path: Path
) -> None:
    post_step(client, "general", {"general.main_concerns": "Flushing after hot showers"})
    app.config["PDF_RENDER_TIMEOUT_SECONDS"] = 0.001
    assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")
    assert run_jobs(app) == 1
    submission = load_intake(app, patient.public_id).submission
    assert submission is not None
    assert submission.pdf is None and submission.pdf_error == "RenderTimeout"
    assert submission.answers == {"general.main_concerns": "Flushing after hot showers"}

    app.config["PDF_RENDER_TIMEOUT_SECONDS"] = 60
    out = tmp_path / "later.pdf"
    result = app.test_cli_runner().invoke(args=["intake", "pdf", patient.public_id, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_a_renderer_that_died_between_renders_is_replaced_unnoticed(renderer: Renderer) -> None:
    renderer.render(SMALL)
    pid = renderer.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):  # until the kernel has ended it
        if renderer.pid is None:
            break
        time.sleep(0.01)

    assert renderer.render(SMALL).startswith(b"%PDF")
    assert renderer.pid not in (None, pid)


def test_a_renderer_that_dies_during_a_render_is_reported_and_replaced() -> None:
    reads_then_dies = [sys.executable, "-c", "import sys; sys.stdin.buffer.read(8); sys.exit(3)"]
    dying = Renderer(reads_then_dies)
    try:
        with pytest.raises(RendererCrashed):
            dying.render(SMALL, timeout=30)
        assert dying.pid is None
    finally:
        dying.stop()


def test_an_idle_renderer_ends_by_itself_and_the_next_render_starts_a_new_one(
    renderer: Renderer,
) -> None:
    renderer.render(SMALL, idle_seconds=0.5)
    pid = renderer.pid
    assert pid is not None
    for _ in range(200):
        if renderer.pid is None:
            break
        time.sleep(0.05)
    assert renderer.pid is None and not _running(pid)

    assert renderer.render(SMALL, idle_seconds=0.5).startswith(b"%PDF")
    assert renderer.pid not in (None, pid)


def test_a_job_that_meets_a_renderer_ending_for_idleness_is_sent_again(tmp_path: Path) -> None:
    """The race: the process ends (status 0, as when idle) after the job went into its pipe."""
    marker = tmp_path / "started-once"
    first_ends_then_real = [
        sys.executable,
        "-c",
        "import os, pathlib, sys\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.write_text('x')\n"
        "    sys.stdin.buffer.read(8)\n"
        "    sys.exit(0)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'intake.pdf.engine'])\n",
    ]
    racing = Renderer(first_ends_then_real)
    try:
        assert racing.render(SMALL, timeout=60).startswith(b"%PDF")
        assert marker.exists()
    finally:
        racing.stop()


def test_a_renderer_that_cannot_start_is_reported() -> None:
    with pytest.raises(RendererCrashed, match="could not start"):
        Renderer(["/nonexistent/python3"]).render(SMALL)


class _RawJob(RenderJob):
    """A job as bytes, bypassing the checks a real ``RenderJob`` makes before sending."""

    def __init__(self, payload: dict[str, object]) -> None:
        super().__init__(html="")
        object.__setattr__(self, "payload", payload)

    def encode(self) -> bytes:
        return frame(json.dumps(self.payload).encode())  # type: ignore[attr-defined]


def test_a_failed_render_reports_its_error_type_never_its_message(
    renderer: Renderer, capfd: pytest.CaptureFixture[str]
) -> None:
    """The renderer's error messages can quote the document; only the type reaches the logs."""
    renderer.start()  # under capfd: its standard error is captured here
    attachment = {
        "name": "a.json",
        "data": "",
        "mime_type": "Jane Doe, flushing after hot showers",  # refused: not type/subtype
        "description": "",
        "created": "2026-11-25T09:30:00+00:00",
    }
    pid = renderer.pid
    with pytest.raises(RenderFailed) as failed:
        renderer.render(_RawJob({"html": "<p>x</p>", "attachments": [attachment]}))
    assert failed.value.kind == "ValueError"
    assert "Jane" not in str(failed.value)

    assert renderer.render(SMALL).startswith(b"%PDF")  # the same process goes on
    assert renderer.pid == pid
    logged = capfd.readouterr().err
    assert "PDF render failed: ValueError" in logged
    assert "Jane" not in logged and "flushing" not in logged


def test_the_renderer_process_is_given_no_secrets(
    renderer: Renderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "very-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://intake:pw@db/intake")
    monkeypatch.setenv("EHR_BEARER_TOKEN", "bearer-secret")
    monkeypatch.setenv("LC_TIME", "de_DE.UTF-8")
    # A render first: right after the start, /proc may not show the environment yet.
    assert renderer.render(SMALL).startswith(b"%PDF")
    assert renderer.pid is not None
    raw = Path(f"/proc/{renderer.pid}/environ").read_bytes()
    environ = raw.split(b"\0")
    names = {entry.split(b"=", 1)[0].decode() for entry in environ if entry}
    assert "LC_TIME" in names and "PATH" in names
    assert not names & {"SECRET_KEY", "DATABASE_URL", "EHR_BEARER_TOKEN"}


def test_an_attachment_reaches_the_pdf_through_the_process(renderer: Renderer) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    data = renderer.render(RenderJob(SMALL.html, (ATTACHMENT,)))
    assert PdfReader(BytesIO(data)).attachments == {"answers.json": [ATTACHMENT.data]}


def test_a_colour_emoji_gives_the_same_bytes_a_second_later(renderer: Renderer) -> None:
    """A glyph only Noto Color Emoji has is embedded as a font fontTools rewrites, which stamped
    it with the time of the render: the same answers gave other bytes every second."""
    job = RenderJob('<html lang="en"><p>Feeling \U000fe4e5 after meals</p></html>')
    first = renderer.render(job)
    time.sleep(1.1)  # into another second: the font's own "modified" date counts in seconds
    assert renderer.render(job) == first
