"""The clinician PDF as an archival file: PDF/A-3b, tagged, with the FHIR JSON as associated file.

Read back with pikepdf (structure, XMP, attachments, the tag tree a screen reader follows) and
pypdf (the text of each tagged piece). Renders are shared per module: each takes most of a second.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from flask import Flask
from pypdf import PageObject, PdfReader

from forms.loader import get_catalog
from forms.logic import Visibility
from intake import create_app
from intake.intakes.demo import (
    DEMO_SUBMITTED_AT,
    demo_answers,
    demo_detail_sections,
    demo_pdf_header,
)
from intake.pdf.document import summary_html
from intake.pdf.engine import DenyAllFetcher, render_html_pdf
from intake.pdf.job import PdfAttachment
from intake.pdf.summary import Summary, build_summary

HEADER = demo_pdf_header("INT-ARCH-0001")
TITLE = "Patient-reported pre-visit history"
DOB = HEADER.date_of_birth
#: What must never be readable from the metadata: the patient's name, date of birth and MRN.
IDENTIFIERS = (
    *HEADER.patient_name.split(),
    *(f"{DOB:{pattern}}" for pattern in ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y")),
    str(HEADER.mrn),
)
#: The submission time in the clinic's zone: WeasyPrint must still write it as UTC.
SUBMITTED_LOCAL = DEMO_SUBMITTED_AT.astimezone(ZoneInfo("Europe/Berlin"))
SUBMITTED_PDF_DATE = "D:20261125130300Z"


def fhir_json(status: str = "completed") -> bytes:
    """A stand-in for the intake's QuestionnaireResponse (built elsewhere); non-ASCII on purpose."""
    resource = {
        "resourceType": "QuestionnaireResponse",
        "status": status,
        "authored": DEMO_SUBMITTED_AT.isoformat(),
        "item": [{"linkId": "closing.anything_else", "answer": [{"valueString": "Größe 漢字"}]}],
    }
    return json.dumps(resource, ensure_ascii=False, sort_keys=True).encode()


def fhir_attachment(data: bytes) -> PdfAttachment:
    return PdfAttachment(
        name="questionnaire-response.json",
        data=data,
        mime_type="application/fhir+json",
        description="FHIR QuestionnaireResponse of this intake",
        created=SUBMITTED_LOCAL,
    )


SAMPLE = fhir_attachment(fhir_json())


@dataclass(frozen=True)
class Rendered:
    data: bytes
    html: str
    errors: tuple[str, ...]  # what WeasyPrint logged at ERROR (e.g. a missing lang)
    refused: tuple[str, ...]


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def summary_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app for templates and translations only: these renders never touch the database."""
    database = tmp_path_factory.mktemp("archival") / "unused.sqlite3"
    return create_app(
        {
            "TESTING": True,
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{database}",
        }
    )


@pytest.fixture(scope="module")
def summary(summary_app: Flask) -> Summary:
    catalog = get_catalog()
    opened = Visibility(detail_sections=frozenset(demo_detail_sections(catalog)))
    with summary_app.app_context():
        return build_summary(catalog, demo_answers(catalog), opened)


def _render(app: Flask, summary: Summary, attachments: Sequence[PdfAttachment]) -> Rendered:
    records = _ErrorRecords()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(records)
    fetcher = DenyAllFetcher()
    try:
        with app.app_context():
            html = summary_html(summary, HEADER)
            data = render_html_pdf(html, fetcher=fetcher, attachments=attachments)
    finally:
        logger.removeHandler(records)
    return Rendered(data, html, tuple(records.messages), tuple(fetcher.refused))


@pytest.fixture(scope="module")
def archived(summary_app: Flask, summary: Summary) -> Rendered:
    return _render(summary_app, summary, [SAMPLE])


@pytest.fixture(scope="module")
def archived_again(summary_app: Flask, summary: Summary) -> Rendered:
    return _render(summary_app, summary, [fhir_attachment(fhir_json())])


@pytest.fixture(scope="module")
def preview(summary_app: Flask, summary: Summary) -> Rendered:
    """No attachment: how the lead may render previews."""
    return _render(summary_app, summary, ())


def opened(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(BytesIO(data))


def test_declares_pdf_a_3b_in_xmp(archived: Rendered) -> None:
    with opened(archived.data) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "3"
        assert meta.get("pdfaid:conformance") == "B"
        intent = pdf.Root.OutputIntents[0]  # PDF/A needs a colour profile for its RGB
        assert str(intent.S) == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intent


def test_fhir_json_is_an_associated_data_file(archived: Rendered) -> None:
    with opened(archived.data) as pdf:
        assert list(pdf.attachments) == [SAMPLE.name]
        spec = pdf.attachments[SAMPLE.name]
        embedded = spec.get_file()
        assert embedded.read_bytes() == SAMPLE.data
        assert embedded.mime_type == "application/fhir+json"  # not guessed from ".json"
        assert str(spec.obj.AFRelationship) == "/Data"
        assert str(spec.obj.Desc) == SAMPLE.description
        # Listed once in the catalog's /AF (WeasyPrint 70 alone lists it twice).
        assert [entry.objgen for entry in pdf.Root.AF] == [spec.obj.objgen]
        # Dates from the caller's submission time, in UTC, never "now".
        params = embedded.obj.Params
        assert str(params.CreationDate) == str(params.ModDate) == SUBMITTED_PDF_DATE
        assert int(params.Size) == len(SAMPLE.data)


def test_tagged_with_language_and_a_title(archived: Rendered) -> None:
    with opened(archived.data) as pdf:
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "en"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert pdf.open_metadata().get("dc:title") == TITLE
        assert str(pdf.docinfo.Title) == TITLE
        assert all("/StructParents" in page.obj for page in pdf.pages)
    assert archived.errors == ()  # WeasyPrint logs, rather than raises, a missing lang or alt


def _identifiers_in(text: str) -> list[str]:
    return [identifier for identifier in IDENTIFIERS if identifier in text]


def test_metadata_and_attachment_labels_hold_no_patient_identifiers(archived: Rendered) -> None:
    # Canary: the identifiers are in the document itself, so the scan below can find them.
    assert HEADER.mrn and len(_identifiers_in(archived.html)) >= 4
    with opened(archived.data) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
        info = " ".join(f"{key}={value}" for key, value in pdf.docinfo.items())
        spec = pdf.attachments[SAMPLE.name].obj
        labels = " ".join(str(spec[key]) for key in ("/F", "/UF", "/Desc"))
        meta = pdf.open_metadata()
        created, modified = meta.get("xmp:CreateDate"), meta.get("xmp:ModifyDate")
        info_dates = {str(pdf.docinfo.CreationDate), str(pdf.docinfo.ModDate)}
    assert TITLE in xmp
    assert TITLE in info
    for where, text in {"XMP": xmp, "/Info": info, "attachment labels": labels}.items():
        assert _identifiers_in(text) == [], where
    assert created == modified == DEMO_SUBMITTED_AT.isoformat(timespec="seconds")
    assert info_dates == {"D:20261125130300+00'00"}


def test_same_inputs_give_identical_bytes_and_other_json_other_bytes(
    summary_app: Flask, summary: Summary, archived: Rendered, archived_again: Rendered
) -> None:
    assert archived.data == archived_again.data
    other = fhir_attachment(fhir_json(status="amended"))
    changed = _render(summary_app, summary, [other]).data
    assert changed != archived.data
    with opened(changed) as pdf:
        assert pdf.attachments[other.name].get_file().read_bytes() == other.data


def test_a_preview_without_attachments_is_still_pdf_a_and_tagged(preview: Rendered) -> None:
    with opened(preview.data) as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        assert dict(pdf.attachments) == {}
        assert "/AF" not in pdf.Root
        assert pdf.Root.MarkInfo.Marked is True
    assert preview.refused == ()
    assert preview.errors == ()


def _drawn_text(data: bytes) -> dict[tuple[int, int], str]:
    """Text of each marked-content sequence, by (page index, MCID), as drawn on the page."""
    texts: dict[tuple[int, int], str] = defaultdict(str)
    for number, page in enumerate(PdfReader(BytesIO(data)).pages):
        _add_marked_text(page, number, texts)
    return {key: re.sub(r"\s+", " ", value).strip() for key, value in texts.items()}


def _add_marked_text(page: PageObject, number: int, texts: dict[tuple[int, int], str]) -> None:
    open_ids: list[int | None] = []  # innermost last; /Artifact and untagged sequences are None

    def operator(op: bytes, args: list[Any], cm: Any, tm: Any) -> None:
        if op == b"BDC":
            open_ids.append(args[1].get("/MCID") if hasattr(args[1], "get") else None)
        elif op == b"BMC":
            open_ids.append(None)
        elif op == b"EMC":
            open_ids.pop()

    def text(value: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        mcid = next((m for m in reversed(open_ids) if m is not None), None)
        if mcid is not None:
            texts[number, int(mcid)] += value

    page.extract_text(visitor_operand_before=operator, visitor_text=text)


@dataclass(frozen=True)
class Tagged:
    """One marked-content sequence reached from the tag tree, in tree (reading) order."""

    page: int
    mcid: int
    heading: tuple[int, int] | None  # the H1/H2 element it belongs to, if any


def _tag_tree(pdf: pikepdf.Pdf) -> list[Tagged]:
    page_number = {page.obj.objgen: n for n, page in enumerate(pdf.pages)}

    def walk(node: object, page: int | None, heading: tuple[int, int] | None) -> Iterator[Tagged]:
        if isinstance(node, int):
            assert page is not None
            yield Tagged(page, node, heading)
        elif isinstance(node, pikepdf.Array):
            for kid in node:
                yield from walk(kid, page, heading)
        elif isinstance(node, pikepdf.Dictionary):
            if "/Pg" in node:
                page = page_number[node.Pg.objgen]
            if node.get("/S") in (pikepdf.Name.H1, pikepdf.Name.H2):
                heading = node.objgen
            if "/MCID" in node:
                yield from walk(int(node.MCID), page, heading)
            elif "/K" in node:
                yield from walk(node.K, page, heading)

    return list(walk(pdf.Root.StructTreeRoot, None, None))


def test_tag_tree_reads_in_html_order_without_running_headers(
    archived: Rendered, summary: Summary
) -> None:
    drawn = _drawn_text(archived.data)
    with opened(archived.data) as pdf:
        tree = _tag_tree(pdf)
    headings: dict[tuple[int, int], str] = {}
    for tagged in tree:
        if tagged.heading is not None:
            words = f"{headings.get(tagged.heading, '')} {drawn[tagged.page, tagged.mcid]}"
            headings[tagged.heading] = words.strip()
    assert list(headings.values()) == [
        "Pre-visit history: patient-reported",
        "Before the visit",
        "At a glance: reactions the patient reported, by topic",
        *(section.title_pdf for section in summary.sections),
        "Appendix: topics and the referral article’s categories",
    ]

    # The running header, footer and page numbers repeat on every page: a screen reader
    # following the tags reads the identity line once, from the body, and no page furniture.
    read = " ".join(drawn[tagged.page, tagged.mcid] for tagged in tree)
    identity = f"{HEADER.patient_name} · DOB {HEADER.date_of_birth.isoformat()}"
    furniture = ("Page 1 of", "The service does not interpret them")
    assert read.count(identity) == 1
    assert not [text for text in furniture if text in read]
    everything = " ".join(drawn.values())  # canary: the furniture is drawn, just not tagged
    assert everything.count(identity) > 2
    assert all(text in everything for text in furniture)


def test_only_the_running_header_and_footer_are_outside_the_tag_tree(archived: Rendered) -> None:
    """WeasyPrint 70 tags margin-box text (running header, footer, page numbers) as Spans left
    out of the tag tree, instead of marking them /Artifact: that is why the file claims PDF/A-3b,
    not 3a. The body is all in the tree. When a WeasyPrint upgrade fixes the margin boxes, this
    fails: then consider claiming PDF/A-3a."""
    drawn = _drawn_text(archived.data)
    with opened(archived.data) as pdf:
        reached = {(tagged.page, tagged.mcid) for tagged in _tag_tree(pdf)}
        pages = len(pdf.pages)
    assert drawn
    outside = set(drawn) - reached
    assert outside, "WeasyPrint now tags the margin boxes properly: consider PDF/A-3a"
    per_page = {page: sum(1 for p, _ in outside if p == page) for page in range(pages)}
    # At most the few margin-box pieces on each page (header line, footer, page number).
    assert all(count <= 6 for count in per_page.values()), per_page


def test_associated_file_comes_from_memory_and_injected_links_stay_refused() -> None:
    markup = (
        '<html lang="en"><title>t</title><link rel="attachment" href="file:///etc/hostname">'
        '<p>hello</p><img alt="" src="http://127.0.0.1:9/x.png"></html>'
    )
    fetcher = DenyAllFetcher()
    data = render_html_pdf(markup, fetcher=fetcher, attachments=[SAMPLE])
    assert sorted(set(fetcher.refused)) == ["file:///etc/hostname", "http://127.0.0.1:9/x.png"]
    with opened(data) as pdf:
        assert list(pdf.attachments) == [SAMPLE.name]
        assert pdf.attachments[SAMPLE.name].get_file().read_bytes() == SAMPLE.data
        assert len(pdf.Root.AF) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"created": datetime(2026, 11, 25, 13, 3)}, "timezone-aware"),
        ({"mime_type": "application/fhir+json; fhirVersion=4.0"}, "type/subtype"),
        ({"mime_type": "json"}, "type/subtype"),
        ({"name": "../questionnaire-response.json"}, "plain"),
        ({"name": ""}, "plain"),
    ],
)
def test_attachment_fields_are_checked(changes: dict[str, object], message: str) -> None:
    fields = {
        "name": SAMPLE.name,
        "data": SAMPLE.data,
        "mime_type": SAMPLE.mime_type,
        "description": SAMPLE.description,
        "created": SAMPLE.created,
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        PdfAttachment(**fields)  # type: ignore[arg-type]


def test_attachment_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        render_html_pdf('<html lang="en"><p>x</p></html>', attachments=[SAMPLE, SAMPLE])
