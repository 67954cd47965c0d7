"""What a patient types cannot make the PDF dear to render, misleading to read, or cut short:
emoji (issue 16, item 1), bidirectional controls (item 5) and long unbroken names (item 6)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from weasyprint.images import RasterImage

from forms.loader import get_catalog
from forms.logic import Visibility
from intake.intakes.demo import demo_answers, demo_detail_sections, demo_pdf_header
from intake.pdf import engine
from intake.pdf.document import PdfHeader, render_summary_pdf, summary_html
from intake.pdf.summary import build_summary
from tests.extracted_text import pdf_text, squash

HEADER = demo_pdf_header("INT-TEST-0001")


@pytest.fixture
def app(app_without_database: Flask) -> Flask:
    return app_without_database


def _summary(extra: dict[str, Any]) -> Any:
    catalog = get_catalog()
    opened = Visibility(detail_sections=frozenset(demo_detail_sections(catalog)))
    return build_summary(catalog, {**demo_answers(catalog), **extra}, opened)


def _render(app: Flask, extra: dict[str, Any], header: PdfHeader = HEADER) -> bytes:
    with app.app_context():
        return render_summary_pdf(_summary(extra), header)


def _fonts(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout  # fmt: skip


def test_emoji_print_from_an_outline_font_not_colour_bitmaps(app: Flask, tmp_path: Path) -> None:
    """Noto Color Emoji glyphs are PNGs that WeasyPrint re-encodes for every one drawn: a box of
    5,000 took 11 s. The service's own Noto Emoji (templates/pdf/fonts) draws every emoji as
    ordinary outline text, the newer ones (Unicode 11 and later: 🥰) too, and they still read
    back as emoji."""
    words = "😀🐝 ❤ 👍 🎉 🥰 🫠"
    data = _render(app, {"closing.anything_else": words})
    fonts = _fonts(data, tmp_path)
    assert "Noto-Emoji" in fonts
    assert "Color-Emoji" not in fonts
    assert words in squash(pdf_text(data, tmp_path))


def test_emoji_sequences_read_back_out_of_the_pdf(app: Flask, tmp_path: Path) -> None:
    """With their presentation selector (U+FE0F) a keycap and a sequence printed right but read
    back as nothing, splitting the line: copied out of the PDF, the patient's emoji were gone."""
    data = _render(
        app,
        {
            "closing.anything_else": "Worse 1\ufe0f\u20e3 day, \u2764\ufe0f\u200d\U0001f525 and \U0001f3f3\ufe0f\u200d\U0001f308 end"
        },
    )
    text = squash(pdf_text(data, tmp_path))
    assert "Worse 1\u20e3 day," in text
    for emoji in ("\u2764", "\U0001f525", "\U0001f3f3", "\U0001f308"):
        assert emoji in text, emoji
    assert re.search("and \\S+ end", text.replace("\u200d", "")), text[-200:]


def test_a_colour_emoji_is_made_into_an_image_once_however_often_it_is_drawn(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What only the colour font has (private-use emoji, here U+FE4E5, and the tag characters
    of regional flags) still comes from it: one image per glyph, not per occurrence, keeps
    their cost bounded too."""
    made: list[str] = []
    original = RasterImage.__init__

    def counting(self: RasterImage, *args: Any, **kwargs: Any) -> None:
        made.append(args[1])
        original(self, *args, **kwargs)

    monkeypatch.setattr(RasterImage, "__init__", counting)
    monkeypatch.setattr(engine, "_GLYPH_IMAGES", {})
    with app.app_context():
        html = summary_html(_summary({"closing.anything_else": "\U000fe4e5" * 300}), HEADER)
    data = engine.render_html_pdf(html)
    assert len(made) == 1
    assert "\U000fe4e5" * 20 in re.sub(r"\s+", "", pdf_text(data, tmp_path))


@pytest.mark.parametrize(
    "control", ["\u202e", "\u202b", "\u2067", "\u200f", "\u061c", "\u202d", "\u2066"]
)
def test_bidi_controls_in_a_name_and_in_patient_text_are_shown_not_obeyed(
    app: Flask, tmp_path: Path, control: str
) -> None:
    """An unclosed U+202E at the end of a family name printed the running header's date of
    birth, MRN and intake id reversed; "gnp.exe" after one printed as "exe.png"."""
    header = replace(HEADER, patient_name=f"Alex Demo-Example{control}")
    data = _render(app, {"closing.anything_else": f"see file {control}gnp.exe please"}, header)
    text = pdf_text(data, tmp_path)
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) >= 2
    shown = f"[U+{ord(control):04X}]"
    identity = f"Alex Demo-Example{shown} · DOB 1984-03-09 · MRN DEMO-0001 · Intake INT-TEST-0001"
    for number, page in enumerate(pages, start=1):
        assert identity in squash(page), number
    flat = squash(text)
    assert "exe.png" not in flat
    assert f"{shown}gnp.exe please" in flat


def test_a_200_character_one_word_name_wraps_and_prints_whole(app: Flask, tmp_path: Path) -> None:
    """The form allows 200 characters; about 70 of them were cut at the page edge in the
    Patient row and the running header. pdftotext breaks the wrapped name: lines are joined."""
    name = ("Wolfeschlegelsteinhausenbergerdorff" * 6)[:200]
    mrn = "M" + "0123456789" * 6
    header = replace(HEADER, patient_name=name, mrn=mrn)
    text = pdf_text(_render(app, {}, header), tmp_path)
    # Only the identifiers wrap: the date of birth and the intake id beside them stay whole.
    first = squash(text.split("\f")[0])
    assert first.count("1984-03-09") == 2
    assert first.count("INT-TEST-0001") == 2
    pages = [re.sub(r"\s+", "", page) for page in text.split("\f") if page.strip()]
    assert len(pages) >= 2
    # Page 1: the identity line and the Patient row; every later page: the running header.
    assert pages[0].count(name) == 2
    assert pages[0].count(mrn) == 2
    for number, page in enumerate(pages[1:], start=2):
        assert name in page, number
        assert f"MRN{mrn}·IntakeINT-TEST-0001" in page, number
