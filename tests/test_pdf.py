"""The clinician PDF, read back the way a person or an EHR would: through the PDF's own text.

pdftotext (poppler) is the extractor: it copes with fallback fonts where pypdf returns garbage.
pypdf checks structure only (page sizes, attachments, images).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import weasyprint
from flask import Flask
from pypdf import PdfReader

from forms.loader import get_catalog
from forms.logic import Visibility
from intake.intakes.demo import demo_answers, demo_detail_sections, demo_pdf_header
from intake.pdf.document import (
    DownloadName,
    pdf_filename,
    render_summary_pdf,
    submitted_text,
    summary_html,
    warn_if_slow_subsetting,
)
from intake.pdf.engine import FONT_CONFIG, PDF_VARIANT, DenyAllFetcher, SummaryHTML, render_html_pdf
from intake.pdf.summary import build_summary
from tests.extracted_text import pdf_text, squash
from tests.mixed import MIXED_DETAIL, MIXED_GLANCE, mixed_answers

HEADER = demo_pdf_header("INT-TEST-0001")
STANDING_LINE = (
    "This document lists the patient's own answers. The service does not interpret them. "
    "Section names are the topics asked about, not findings."
)
PATIENT_TEXT = re.compile(r'<span class="patient-text">[^<]*</span>')
WORD_BOX = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
)
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<link rel="attachment" href="file:///etc/hostname">',
    '<img src="http://127.0.0.1:9/x.png">',
    "url(file:///etc/passwd)",
)

Render = Callable[..., bytes]


@pytest.fixture(scope="session", autouse=True)
def _poppler() -> None:
    assert shutil.which("pdftotext"), "pdftotext is needed (Debian package poppler-utils)"


@pytest.fixture
def app(app_without_database: Flask) -> Flask:
    """Rendering reads templates and configuration, never the database."""
    return app_without_database


@pytest.fixture
def render(app: Flask) -> Render:
    """Render answers to PDF bytes, with every optional section opened unless told otherwise."""

    def _render(
        answers: Mapping[str, Any],
        *,
        detail: frozenset[str] | None = None,
        page_size: str = "A4",
        fetcher: DenyAllFetcher | None = None,
    ) -> bytes:
        catalog = get_catalog()
        opened = frozenset(demo_detail_sections(catalog)) if detail is None else detail
        with app.app_context():
            summary = build_summary(catalog, answers, Visibility(detail_sections=opened))
            if fetcher is None:  # as the service renders: in its renderer process
                return render_summary_pdf(summary, HEADER, page_size)
            # In this process, to read afterwards what the fetcher was asked for.
            return render_html_pdf(summary_html(summary, HEADER, page_size), fetcher=fetcher)

    return _render


def pages_of(text: str) -> list[str]:
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def body_text(data: bytes, tmp_path: Path) -> str:
    """Text inside the page margins only: no running header or footer between two pages."""
    return pdf_text(data, tmp_path, "-x", "0", "-y", "46", "-W", "600", "-H", "750")


def test_identifiers_standing_line_and_page_numbers_on_every_page(
    render: Render, tmp_path: Path
) -> None:
    data = render(demo_answers(get_catalog()))
    pages = pages_of(pdf_text(data, tmp_path))
    assert len(pages) == len(PdfReader(BytesIO(data)).pages) >= 2
    for number, page in enumerate(pages, start=1):
        flat = squash(page)
        for ident in (
            "Alex Demo-Example",
            "DOB 1984-03-09",
            "MRN DEMO-0001",
            "Intake INT-TEST-0001",
        ):
            assert ident in flat, (number, ident)
        assert f"Page {number} of {len(pages)}" in flat
        assert STANDING_LINE in flat.replace("\u2019", "'"), number


def test_running_header_keeps_a_long_identity_whole_and_names_the_section(
    app: Flask, tmp_path: Path
) -> None:
    """A long name and MRN once wrapped the header and split the intake id at its hyphen; and a
    page opening mid-section ("How often do you notice these then?") did not say which topic."""
    header = replace(
        HEADER,
        patient_name="Maria Fernanda Rodríguez-Villanueva de la Cruz",
        mrn="1234567890",
        intake_id="W0QV-5PXK-PFNR",
    )
    catalog = get_catalog()
    visibility = Visibility(detail_sections=frozenset(demo_detail_sections(catalog)))
    with app.app_context():
        summary = build_summary(catalog, demo_answers(catalog), visibility)
        data = render_summary_pdf(summary, header)
    headers = pages_of(pdf_text(data, tmp_path, "-layout", "-y", "0", "-H", "46", "-W", "600"))
    bodies = pages_of(body_text(data, tmp_path))
    identity = (
        f"{header.patient_name} · DOB {header.date_of_birth.isoformat()} · MRN {header.mrn}"
        f" · Intake {header.intake_id}"
    )
    # The headings and their pages from the PDF's outline: the at-a-glance table names its
    # topics in the headings' own words, so the page text cannot tell a heading from a row.
    reader = PdfReader(BytesIO(data))
    outline = [
        (reader.get_destination_page_number(entry), entry.title)
        for entry in reader.outline[1]  # the h2 under the document's title
    ]
    assert [title for _, title in outline][:2] == [
        "Before the visit",
        "At a glance: reactions the patient reported, by topic",
    ]
    assert [title for _, title in outline][2:-1] == [s.title_pdf for s in summary.sections]
    assert len(headers) >= 6
    for number, (top, body) in enumerate(zip(headers, bodies, strict=True), start=1):
        lines = [squash(line) for line in top.splitlines() if line.strip()]
        if number > 1:
            opens_with = squash(body.splitlines()[0]) if body.strip() else ""
            before = [title for page, title in outline if page < number - 1]
            on_page = [title for page, title in outline if page == number - 1]
            expected = on_page[0] if on_page and on_page[0] == opens_with else before[-1]
            assert lines == [identity, f"Section: {expected}"], number


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_page_one_prints_the_identity_line_once(
    render: Render, tmp_path: Path, page_size: str
) -> None:
    """Page 1 opens with the identity line; a running header above it printed it twice."""
    data = render(demo_answers(get_catalog()), page_size=page_size)
    first, second = pages_of(pdf_text(data, tmp_path))[:2]
    line = f"{HEADER.patient_name} · DOB {HEADER.date_of_birth.isoformat()}"
    assert squash(first).count(line) == 1
    assert squash(second).count(line) == 1


def test_first_page_has_title_submission_and_every_topic_in_catalog_order(
    render: Render, tmp_path: Path
) -> None:
    data = render(demo_answers(get_catalog()))
    first = squash(pages_of(pdf_text(data, tmp_path))[0])
    assert "Pre-visit history: patient-reported" in first
    assert "2026-11-25 14:03 (Europe/Berlin, UTC+01:00)" in first
    assert "Filled in by The patient (me)" in first
    assert f"catalog version {get_catalog().version}" in first

    column = _overview_topic_column(data, tmp_path)
    titles = [s.title_pdf for s in get_catalog().sections if s.overview_row]
    assert len(titles) == 14  # the 13 article categories and the other physical triggers
    position = 0
    for title in titles:
        found = column.find(title, position)
        assert found >= 0, f"{title!r} missing or out of order on page 1"
        position = found + len(title)


def _page_one_words(data: bytes, tmp_path: Path) -> list[tuple[float, float, float, str]]:
    """Page 1's words as (y, x, x_max, text), from their boxes."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(data)
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [
        (float(y), float(x), float(x_max), html.unescape(text))
        for x, y, x_max, text in WORD_BOX.findall(xhtml)
    ]


def _overview_topic_column(data: bytes, tmp_path: Path) -> str:
    """Words of the at-a-glance table's first column on page 1, in reading order.

    Topic names wrap inside their cell, so plain text interleaves them with the other columns;
    word boxes let the test read the column on its own.
    """
    words = _page_one_words(data, tmp_path)
    header = next(w for i, w in enumerate(words) if w[3] == "Topic" and words[i + 1][3] == "asked")
    boundary = next(w[1] for w in words if w[0] == header[0] and w[3] == "Patient")
    column = sorted(
        (y, x, text) for y, x, x_max, text in words if y > header[0] and x_max < boundary
    )
    return " ".join(text for _, _, text in column)


def _glance_cells(data: bytes, tmp_path: Path) -> dict[str, list[str]]:
    """Page 1's at-a-glance table read back from word boxes: each topic's title, and the text
    under each of the other five column headings (a status that fills its row is cut at the
    headings' edges; joined in order, the pieces read as the status)."""
    words = _page_one_words(data, tmp_path)
    top = next(w[0] for i, w in enumerate(words) if w[3] == "Topic" and words[i + 1][3] == "asked")
    heading = [w for w in words if abs(w[0] - top) < 1]
    starts = [w[1] for w in heading if w[3] in ("Patient", "Reactions", "How", "Last")]
    assert len(starts) == 5
    # Under the two-line heading, without the lines naming a list's rows (they span the columns).
    named = {w[0] for i, w in enumerate(words) if w[3] == "Named" and words[i + 1][3] == "by"}
    below = sorted(w for w in words if w[0] > top + 12 and w[0] not in named)
    topic_words = [w for w in below if w[2] < starts[0]]
    # Each topic's cell starts with its title ...
    titles = [s.title_pdf for s in get_catalog().sections if s.overview_row]
    row_tops, n = [], 0
    for title in titles:
        first = title.split()[0]
        while topic_words[n][3] != first:
            n += 1
        row_tops.append(topic_words[n][0])
        n += len(title.split())
    # ... and ends at its key ("A topic also reads"), the first section or the footer.
    end = next(w[0] for w in topic_words[n:] if w[3] in ("A", "About", "This"))
    cells = {}
    for title, y0, y1 in zip(titles, row_tops, [*row_tops[1:], end], strict=True):
        row = [w for w in below if y0 - 2 <= w[0] < y1 - 2]
        edges = [*starts, 1e9]
        cells[title] = [
            " ".join(w[3] for w in row if edges[c] <= w[1] < edges[c + 1]) for c in range(5)
        ]
    return cells


def test_page_one_names_every_state_in_the_words_of_its_key(render: Render, tmp_path: Path) -> None:
    """Declined, skipped, blank, not shown and absent each read as themselves, from the key."""
    catalog = get_catalog()
    data = render(mixed_answers(catalog), detail=MIXED_DETAIL)
    cells = _glance_cells(data, tmp_path)
    for section_id, (status, *follow_ups) in MIXED_GLANCE.items():
        row = cells[catalog.section(section_id).title_pdf]
        if follow_ups:
            assert row[0] == status and row[2:] == follow_ups, (section_id, row)
            assert row[1], section_id  # reactions, or a state: never a blank
        else:
            assert " ".join(part for part in row if part) == status, (section_id, row)
    assert all(cells[t][0] for t in cells), "a topic with no status"

    first = squash(pages_of(pdf_text(data, tmp_path))[0])
    assert "Not asked" not in first
    both = squash(" ".join(pages_of(pdf_text(data, tmp_path))[:2]))
    key = both[both.index("Besides answers as given") : both.index("Before the visit")]
    glance_key = both.index("A topic also reads")
    key += both[glance_key : both.index("About your health", glance_key)]
    terms = (
        "Reported",
        "None noticed",
        "Not sure",
        "Prefer not to say",
        "Not answered",
        "Not shown (with the reason)",
        "Skipped",
        "Patient chose not to answer this section",
        "— means the topic has no such question",
    )
    for term in terms:
        assert term in key, term
    for status, *_ in MIXED_GLANCE.values():  # as printed (above): a term of the key, and why
        assert any(status.startswith(term.split(" (")[0]) for term in terms), status

    body = squash(body_text(data, tmp_path))
    trauma = catalog.section("trauma").title_pdf
    assert f"{trauma} Patient chose not to answer this section." in body


def test_non_answers_are_set_apart_everywhere_they_are_printed(app: Flask) -> None:
    """Not sure, Prefer not to say, Not answered, Not shown and the dash are never set like an
    answer: in the table, its key, the sections, their lists and grids, and the header."""
    catalog = get_catalog()
    summary = build_summary(catalog, mixed_answers(catalog), Visibility(MIXED_DETAIL))
    with app.app_context():
        page = summary_html(summary, HEADER)
    service = PATIENT_TEXT.sub("", page.split("<body>", 1)[1])
    unset = re.sub(r'<span class="state">[^<]*</span>', "", service)
    assert service.count('<span class="state">Not sure</span>') >= 4  # canary
    for word in ("Not sure", "Prefer not to say", "Not answered", "Not shown", "—"):
        assert word not in unset, (word, unset[unset.find(word) - 300 : unset.find(word) + 40])


def test_a_5000_character_note_prints_whole_across_a_page_break(
    render: Render, tmp_path: Path
) -> None:
    sentences = [
        f"Entry {n:03d}: the flushing began after lunch and eased by the evening."
        for n in range(1, 80)
    ]
    note = " ".join(sentences)[:4999] + "."
    assert len(note) == 5000
    answers = {**demo_answers(get_catalog()), "closing.anything_else": note}
    data = render(answers)

    body = body_text(data, tmp_path)
    assert squash(note) in squash(body)
    pages = pages_of(body)
    first = next(n for n, p in enumerate(pages) if "Entry 001:" in p)
    last = next(n for n, p in enumerate(pages) if "Entry 071:" in p)
    assert last > first, "the note should flow onto a second page"
    assert "\u2010" not in body  # no automatic hyphenation inside the patient's words


def _line_with(text: str, question: str) -> str:
    return next(line for line in text.splitlines() if question in line)


def test_five_answer_states_are_printed_in_words(render: Render, tmp_path: Path) -> None:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    answers["sleep.hours"] = "not_sure"
    answers["sleep.quality_week"] = "prefer_not"
    del answers["general.course"]
    answers["general.started_around"] = "no"  # hides the follow-up asking what happened
    for item in catalog.section("dental").items:
        answers.pop(item.id, None)
    detail = frozenset(demo_detail_sections(catalog)) - {"energy"}
    text = pdf_text(render(answers, detail=detail), tmp_path, "-layout")

    expected = {
        "Who is filling in this form?": "The patient (me)",
        "On a usual night, about how many hours do you sleep?": "Not sure",
        "In the past 7 days, how would you rate your sleep?": "Prefer not to say",
        "Since they started, how have your symptoms changed?": "Not answered",
        "What changed, and about when?": "Not shown (did not apply to earlier answers)",
    }
    for question, state in expected.items():
        assert re.search(re.escape(question) + r"\s{2,}" + re.escape(state), text), question
    flat = squash(text)
    dental = catalog.section("dental").title_pdf
    assert f"{dental} Skipped: no answers in this section." in flat
    hidden = sum(not item.core for item in catalog.section("energy").items)
    assert f"Optional detail questions not opened: {hidden}" in flat


def test_markup_in_free_text_is_printed_as_text_and_fetches_nothing(
    render: Render, tmp_path: Path
) -> None:
    answers = demo_answers(get_catalog())
    answers["closing.anything_else"] = "\n".join(PAYLOADS)
    answers["general.main_concerns"] = PAYLOADS[2]
    answers["med.current"] = [{"name": PAYLOADS[3], "dose": PAYLOADS[4], "kind": "rx"}]
    fetcher = DenyAllFetcher()
    data = render(answers, fetcher=fetcher)

    assert fetcher.refused == []
    text = squash(body_text(data, tmp_path))
    unbroken = re.sub(r"\s+", "", text)  # a line may wrap after the "/" of a URL
    for payload in PAYLOADS:
        assert re.sub(r"\s+", "", payload) in unbroken
    _assert_nothing_embedded(data)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if hostname:
        assert not re.search(rf"\b{re.escape(hostname)}\b", text)
    assert "root:" not in text


def _assert_nothing_embedded(data: bytes) -> None:
    reader = PdfReader(BytesIO(data))
    assert reader.attachments == {}
    assert "/EmbeddedFiles" not in (reader.trailer["/Root"].get("/Names") or {})
    for page in reader.pages:
        annotations = [a.get_object() for a in page.get("/Annots") or []]
        assert not [a for a in annotations if a.get("/Subtype") == "/FileAttachment"]
        assert list(page.images) == []


def test_deny_all_fetcher_refuses_files_and_network_in_raw_html(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetcher, not only the escaping, keeps server files and URLs out of the PDF."""
    if not Path("/etc/hostname").is_file():
        pytest.skip("needs a readable /etc/hostname")
    markup = (
        '<p>hello</p><img src="file:///etc/hostname">'
        '<link rel="attachment" href="file:///etc/hostname">'
        '<img src="http://127.0.0.1:9/x.png">'
    )
    # The danger is real: WeasyPrint's default fetcher embeds the server file.
    attach = '<link rel="attachment" href="file:///etc/hostname"><p>hello</p>'
    unsafe = weasyprint.HTML(string=attach, base_url=None).write_pdf(font_config=FONT_CONFIG)
    assert PdfReader(BytesIO(unsafe)).attachments != {}

    fetcher = DenyAllFetcher()
    safe = render_html_pdf(markup, fetcher=fetcher)
    assert sorted(set(fetcher.refused)) == ["file:///etc/hostname", "http://127.0.0.1:9/x.png"]
    _assert_nothing_embedded(safe)
    assert squash(pdf_text(safe, tmp_path)) == "hello"

    # And the service's renderer process uses it: feed it the same markup as if escaping failed.
    monkeypatch.setattr("intake.pdf.document.summary_html", lambda *args, **kwargs: markup)
    summary = build_summary(get_catalog(), {}, Visibility())
    with app.app_context():
        served = render_summary_pdf(summary, HEADER)
    _assert_nothing_embedded(served)
    assert squash(pdf_text(served, tmp_path)) == "hello"


def test_accented_cyrillic_greek_cjk_and_emoji_come_back_out(
    render: Render, tmp_path: Path
) -> None:
    words = [
        "Ménétrier Größe ziołowa",
        "Привет, мир",
        "Καλημέρα",
        "漢字かな交じり",
        "안녕하세요",
        "😀🐝",
    ]
    answers = {**demo_answers(get_catalog()), "closing.anything_else": " / ".join(words)}
    text = squash(pdf_text(render(answers), tmp_path))
    for word in words:
        assert word in text


def test_thai_devanagari_arabic_and_ethiopic_print_as_letters_and_come_back_out(
    render: Render, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without fonts-noto-core, Thai, Devanagari and Ethiopic printed as empty boxes. WeasyPrint
    still maps each box to its character, so the text extracted fine: only its missing-glyph
    warning tells, hence the in-process render (the renderer process logs to its own stderr)."""
    words = ["สวัสดีครับ", "नमस्ते", "مرحبا بكم", "ሰላም"]
    answers = {**demo_answers(get_catalog()), "closing.anything_else": " / ".join(words)}
    with caplog.at_level("WARNING", logger="weasyprint"):
        data = render(answers, fetcher=DenyAllFetcher())
    boxes = [r for r in caplog.records if ".notdef glyph" in r.getMessage()]
    assert not boxes, f"{len(boxes)} characters printed as boxes: is fonts-noto-core installed?"
    text = squash(pdf_text(data, tmp_path))
    for word in words:
        assert word in text


def test_no_fraction_or_total_outside_patient_text(app: Flask, tmp_path: Path) -> None:
    catalog = get_catalog()
    answers = {
        **demo_answers(catalog),
        "closing.anything_else": "Pain was 7/10 and 2/3 of days bad",
    }
    opened = Visibility(detail_sections=frozenset(demo_detail_sections(catalog)))
    with app.app_context():
        page_html = summary_html(build_summary(catalog, answers, opened), HEADER)
    service_only = PATIENT_TEXT.sub("", page_html)

    assert "7/10" in pdf_text(render_html_pdf(page_html), tmp_path)  # canary: stripping matters
    text = pdf_text(render_html_pdf(service_only), tmp_path)
    assert "on a 0 to 10 scale" in text
    assert re.findall(r"\d+\s*/\s*\d+", text) == []
    assert not re.search(r"\btotal\b|\bscore", text, re.I)


def test_the_small_user_agent_stylesheet_prints_exactly_what_weasyprints_own_prints(
    app: Flask,
) -> None:
    """templates/pdf/ua.css stands in for WeasyPrint's HTML5 stylesheet to save render time and
    must change nothing on paper: an element added to the template without its defaults there
    fails here. Equal bytes also show that serialising each PDF object once (the finisher)
    writes what pydyf itself would."""
    catalog = get_catalog()
    opened = Visibility(detail_sections=frozenset(demo_detail_sections(catalog)))
    with app.app_context():
        page_html = summary_html(build_summary(catalog, demo_answers(catalog), opened), HEADER)
    with (
        warnings.catch_warnings()
    ):  # WeasyPrint leaves its sRGB profile open (see intake.pdf.document)
        warnings.simplefilter("ignore", ResourceWarning)
        plain_weasyprint = weasyprint.HTML(
            string=page_html, base_url=None, url_fetcher=DenyAllFetcher()
        ).write_pdf(font_config=FONT_CONFIG, pdf_variant=PDF_VARIANT, pdf_tags=True)
    assert render_html_pdf(page_html) == plain_weasyprint


def test_weasyprint_asks_summary_html_for_its_user_agent_stylesheet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The speed-up hangs on one WeasyPrint method; an upgrade that stops calling it fails here."""
    asked: list[SummaryHTML] = []
    original = SummaryHTML._ua_stylesheets

    def spy(self: SummaryHTML, forms: bool = False) -> list[weasyprint.CSS]:
        asked.append(self)
        return original(self, forms)

    monkeypatch.setattr(SummaryHTML, "_ua_stylesheets", spy)
    render_html_pdf("<p>Hello</p>")
    assert len(asked) == 1


def test_same_answers_give_identical_bytes(render: Render) -> None:
    """A stored PDF can be re-rendered and compared (needs HarfBuzz's subsetter, see PITFALLS)."""
    answers = demo_answers(get_catalog())
    assert render(answers) == render(answers)


@pytest.mark.parametrize(
    ("page_size", "width", "height"), [("A4", 595.28, 841.89), ("Letter", 612.0, 792.0)]
)
def test_page_size(render: Render, page_size: str, width: float, height: float) -> None:
    reader = PdfReader(BytesIO(render(demo_answers(get_catalog()), page_size=page_size)))
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(width, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(height, abs=0.5)


def test_unknown_page_size_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError, match="page_size"):
        render_summary_pdf(build_summary(get_catalog(), {}, Visibility()), HEADER, "A5")


@pytest.mark.parametrize(
    ("family", "given", "expected"),
    [
        ("Demo-Example", "Alex", "Demo-Example_Alex_2026-11-25_intake-summary.pdf"),
        ("Müller-Lüdenscheidt", "Zoë", "Muller-Ludenscheidt_Zoe_2026-11-25_intake-summary.pdf"),
        ("O'Brien Straße", "Łucja", "O-Brien-Strasse_Lucja_2026-11-25_intake-summary.pdf"),
        ('../../etc/"x"\r\n', "a;b", "etc-x_a-b_2026-11-25_intake-summary.pdf"),
    ],
)
def test_pdf_filename(family: str, given: str, expected: str) -> None:
    assert pdf_filename(family, given, date(2026, 11, 25)) == DownloadName(expected)


@pytest.mark.parametrize(
    ("family", "given", "full"),
    [
        ("山田", "太郎", "山田_太郎_2026-11-25_intake-summary.pdf"),
        ("王秀英", "Zoë Ñúñez", "王秀英_Zoë-Ñúñez_2026-11-25_intake-summary.pdf"),
        ("Иванова", "Анна/../x", "Иванова_Анна-x_2026-11-25_intake-summary.pdf"),
    ],
)
def test_a_name_ascii_cannot_spell_keeps_its_own_letters(
    family: str, given: str, full: str
) -> None:
    """Two patients with Chinese names sent on one day must not get the same file name."""
    name = pdf_filename(family, given, date(2026, 11, 25))
    assert name == DownloadName("Patient_2026-11-25_intake-summary.pdf", full)
    options = name.header_options()
    assert options["filename"] == "Patient_2026-11-25_intake-summary.pdf"
    assert unquote(options["filename*"].removeprefix("UTF-8''")) == full
    assert options["filename*"].isascii() and " " not in options["filename*"]


def test_start_up_warns_when_subsetting_is_slow(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("intake.pdf.document.ctypes.util.find_library", lambda name: None)
    monkeypatch.setattr(
        "intake.pdf.document.fonts_missing",
        lambda: ["Noto Sans CJK (Debian package fonts-noto-cjk)"],
    )
    with caplog.at_level("WARNING"):
        warn_if_slow_subsetting(app)
    assert "libharfbuzz-subset0" in caplog.text
    assert "fonts-noto-cjk" in caplog.text


def test_weasyprint_logs_never_carry_the_document_s_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """WeasyPrint logs each character no font has, and each URL it refused: both come from the
    patient's answers, so only its fixed message text may reach a log."""
    # With fonts-noto-core installed only the private-use character has no glyph anywhere.
    words = "Jane ሰላም नमस्ते \ue000"
    with caplog.at_level("DEBUG", logger="weasyprint"):
        render_html_pdf(f'<p>{words}</p><img src="file:///etc/jane-doe-notes">')
    messages = [record.getMessage() for record in caplog.records]
    assert any(".notdef glyph" in m for m in messages)  # the case this guards against happened
    assert any("Failed to load" in m for m in messages)
    for message in messages:
        assert not any(ch in message for ch in "ሰनम\ue000"), message
        assert "jane-doe" not in message and "U+1230" not in message, message


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", "2026-11-25 13:03 (UTC)"),
        ("Europe/Berlin", "2026-11-25 14:03 (Europe/Berlin, UTC+01:00)"),
        ("America/New_York", "2026-11-25 08:03 (America/New_York, UTC-05:00)"),
    ],
)
def test_the_submission_time_names_its_zone_once(zone: str, expected: str) -> None:
    assert submitted_text(datetime(2026, 11, 25, 13, 3, tzinfo=UTC), zone) == expected
