"""The renderer's speed settings (``intake.pdf.speed``) change how long a PDF takes, never its bytes.

Each test goes through ``serve``, the loop the renderer process runs, in this process: a job in,
a reply out, with the settings the process would have.
"""

from __future__ import annotations

import gc
import io
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pydyf
import pytest
import weasyprint

from forms.loader import get_catalog
from forms.logic import Visibility
from intake.intakes.demo import demo_answers, demo_detail_sections, demo_pdf_header
from intake.pdf.document import summary_html
from intake.pdf.engine import DenyAllFetcher, render_html_pdf, serve
from intake.pdf.job import HEADER_SIZE, OK, PdfAttachment, RenderJob, frame_length
from intake.pdf.speed import BEFORE_ISSUE_18, SETTINGS, EngineSettings
from intake.pdf.summary import build_summary

ANSWERS = PdfAttachment(
    name="questionnaire-response.json",
    data=b'{"resourceType": "QuestionnaireResponse", "status": "completed"}',
    mime_type="application/fhir+json",
    description="FHIR QuestionnaireResponse of this intake",
    created=datetime(2026, 11, 25, 13, 3, tzinfo=UTC),
)
STYLED = (
    '<html lang="en"><head><style>p { color: #333; }</style></head><body><p>Hi</p></body></html>'
)


@pytest.fixture(scope="module")
def demo_job(tmp_path_factory: pytest.TempPathFactory) -> RenderJob:
    """The stored PDF's job for the demo intake (every optional detail opened, 8 pages)."""
    from intake import create_app

    database = tmp_path_factory.mktemp("speed") / "unused.sqlite3"
    app = create_app(
        {"TESTING": True, "INTAKE_ENV": "testing", "SECRET_KEY": "x",
         "DATABASE_URL": f"sqlite:///{database}"}
    )  # fmt: skip
    catalog = get_catalog()
    opened = Visibility(
        detail_sections=frozenset(demo_detail_sections(catalog)),
        clinic_opt_ins=frozenset(i.id for i in catalog.items() if i.clinic_opt_in),
    )
    with app.app_context():
        summary = build_summary(catalog, demo_answers(catalog), opened)
        return RenderJob(summary_html(summary, demo_pdf_header("INT-SPEED-01")), (ANSWERS,))


def served(jobs: list[RenderJob], settings: EngineSettings) -> list[bytes]:
    """The PDFs ``serve`` answers the jobs with, one after the other."""
    replies = io.BytesIO()
    serve(io.BytesIO(b"".join(job.encode() for job in jobs)), replies, settings=settings)
    answers, stream = [], io.BytesIO(replies.getvalue())
    for _ in jobs:
        assert stream.read(1) == OK
        answers.append(stream.read(frame_length(stream.read(HEADER_SIZE))))
    assert stream.read() == b""
    return answers


def test_the_demo_pdf_is_byte_for_byte_what_the_engine_made_before(demo_job: RenderJob) -> None:
    """The second render with the current settings reuses the first one's stylesheet."""
    (before,) = served([demo_job], BEFORE_ISSUE_18)
    now = served([demo_job, demo_job], SETTINGS)
    assert before.startswith(b"%PDF")
    assert now == [before, before]


def _css_parsed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    parsed: Counter[str] = Counter()
    original = weasyprint.CSS.__init__

    def counting(self: weasyprint.CSS, *args: Any, **kwargs: Any) -> None:
        parsed[kwargs.get("string") or "not a string"] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.CSS, "__init__", counting)
    return parsed


def test_a_style_element_is_parsed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails too if a WeasyPrint upgrade stops making author stylesheets through the hook."""
    style = "p { color: #333; }"
    parsed = _css_parsed(monkeypatch)
    served([RenderJob(STYLED)] * 2, BEFORE_ISSUE_18)
    assert parsed[style] == 2
    parsed.clear()
    served([RenderJob(STYLED)] * 3, SETTINGS)
    assert parsed[style] <= 1  # 0 when an earlier test has parsed it already


@pytest.mark.parametrize(
    "rule",
    ['@import url("file:///etc/hostname");', '@font-face { font-family: x; src: url("http://127.0.0.1:9/f.ttf"); }'],
)  # fmt: skip
def test_a_stylesheet_that_asks_for_a_url_is_refused_it_in_every_document(rule: str) -> None:
    html = f'<html lang="en"><head><style>{rule} p {{ color: #333; }}</style></head><p>x</p></html>'
    for _ in range(2):
        fetcher = DenyAllFetcher()
        assert render_html_pdf(html, fetcher=fetcher, settings=SETTINGS).startswith(b"%PDF")
        assert len(fetcher.refused) == 1


@pytest.fixture
def compressed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[bytes]]:
    """What pydyf compresses, by the first bytes of each stream and its length."""
    inputs: Counter[bytes] = Counter()
    compressor = zlib.compressobj  # pydyf's zlib is this process's one module

    class Counting:
        def __init__(self, level: int) -> None:
            self._compressor = compressor(level=level)

        def compress(self, data: bytes) -> bytes:
            inputs[data[:64] + str(len(data)).encode()] += 1
            return self._compressor.compress(data)

        def flush(self) -> bytes:
            return self._compressor.flush()

    monkeypatch.setattr(pydyf.zlib, "compressobj", Counting)
    yield inputs


def test_each_stream_is_compressed_once(compressed: Counter[bytes]) -> None:
    served([RenderJob(STYLED, (ANSWERS,))], BEFORE_ISSUE_18)
    assert max(compressed.values()) == 2  # the object stream: hashed, then written
    compressed.clear()
    served([RenderJob(STYLED, (ANSWERS,))], SETTINGS)
    assert max(compressed.values()) == 1


def test_the_collector_waits_for_the_reply_then_frees_the_render() -> None:
    events: list[str] = []

    def collecting(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            events.append(f"collect {info['generation']}")

    class Replies(io.BytesIO):
        def write(self, data: Any) -> int:
            events.append("reply")
            return super().write(data)

    gc.collect()
    gc.callbacks.append(collecting)
    try:
        serve(io.BytesIO(RenderJob(STYLED).encode()), Replies(), settings=SETTINGS)
    finally:
        gc.callbacks.remove(collecting)
    assert events == ["reply", "collect 2"]
    assert gc.isenabled()
