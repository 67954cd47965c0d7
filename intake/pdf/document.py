"""Clinician PDF summary: the review rows as self-contained HTML, made into a PDF elsewhere.

This module builds the HTML from ``templates/pdf/summary.html`` (stylesheet inlined, patient text
escaped by Jinja), names the file and checks the fonts. WeasyPrint itself runs in a separate
renderer process (``intake.pdf.engine``, started by ``intake.pdf.renderer``) and is never imported
by a web worker.
"""

from __future__ import annotations

import ctypes.util
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.metadata import version
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template

from forms.display import Table
from intake.intakes.names import ascii_spelling
from intake.pdf.job import PdfAttachment, RenderJob
from intake.pdf.renderer import RENDERER
from intake.pdf.summary import Summary

#: Stored with every PDF. The renderer process runs the WeasyPrint installed beside this code.
RENDERER_VERSION = f"weasyprint {version('weasyprint')} / summary template 6"
PAGE_SIZES = ("A4", "Letter")

#: Font families the summary needs, and the Debian package that provides each. Emoji come from
#: Noto Color Emoji through fontconfig's fallback (the stylesheet cannot name it, see there) or,
#: failing that, from Symbola. So do Thai, Indic, Ethiopic and most other scripts DejaVu lacks:
#: fonts-noto-core has one family per script; Devanagari stands for them all here.
FONT_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "DejaVu Sans": (("DejaVu Sans",), "fonts-dejavu-core"),
    "Noto Sans for Thai, Indic, Ethiopic and other scripts": (
        ("Noto Sans Devanagari",),
        "fonts-noto-core",
    ),
    "Noto Sans CJK": (("Noto Sans CJK SC", "Noto Sans CJK JP"), "fonts-noto-cjk"),
    "Symbola or Noto Color Emoji": (("Symbola", "Noto Color Emoji"), "fonts-symbola"),
}


@dataclass(frozen=True)
class PdfHeader:
    """Who the summary is about: the first line of page 1, then the running header of the rest."""

    patient_name: str
    date_of_birth: date
    mrn: str | None
    intake_id: str
    submitted_at: datetime
    timezone: str


def submitted_text(submitted_at: datetime, timezone: str) -> str:
    """Date and time in the clinic's zone, named: "2026-11-25 14:03 (Europe/Berlin, UTC+01:00)"."""
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    local = submitted_at.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    if timezone == "UTC":  # not "(UTC, UTC+00:00)"
        return f"{local:%Y-%m-%d %H:%M} (UTC)"
    return f"{local:%Y-%m-%d %H:%M} ({timezone}, UTC{offset[:3]}:{offset[3:]})"


def column_widths(table: Table) -> list[float]:
    """Percent widths for a repeating list, by how much each column holds.

    Fixed table layout with these widths looks like the automatic one and renders about 10%
    faster: WeasyPrint's automatic layout measures every cell twice.
    """
    weights = []
    for n, label in enumerate(table.columns):
        longest = max((len(row[n].patient_text or row[n].text) for row in table.rows), default=0)
        longest_word = max(len(word) for word in label.split())
        # +5 for quotes and padding; the cap lets long notes wrap rather than squeeze the rest.
        weights.append(min(max(longest, longest_word, 8) + 5, 30))
    total = sum(weights)
    return [round(100 * weight / total, 1) for weight in weights]


#: Unicode's bidirectional controls: embeddings, overrides, isolates and the three marks.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown_bidi_controls(text: str) -> str:
    """``text`` with each bidirectional control written out as "[U+202E]".

    Laid out, an unclosed U+202E at the end of a family name reversed the whole running header
    (date of birth, MRN and intake id), and "gnp.exe" after one printed as "exe.png". The header
    is copied as plain text (string-set), so markup cannot isolate it: the PDF shows the
    controls instead of obeying them. The template has none of its own.
    """
    return BIDI_CONTROLS.sub(lambda control: f"[U+{ord(control[0]):04X}]", text)


#: VARIATION SELECTOR-16, "draw the character before as an emoji". The PDF's emoji font draws
#: every emoji alike with or without it, but with it the text layer of a keycap (1️⃣) or a
#: sequence (❤️‍🔥, 🏳️‍🌈) extracted as nothing, and split its line: copied out of the PDF, the
#: patient's words lost their emoji. Only the PDF drops it; the answers and FHIR keep it.
EMOJI_PRESENTATION = "\ufe0f"


def summary_html(summary: Summary, header: PdfHeader, page_size: str = "A4") -> str:
    """The summary as one self-contained HTML document (needs an app context); the
    bidirectional controls a patient typed anywhere in it are shown, not obeyed, and emoji are
    written without their presentation selector (``EMOJI_PRESENTATION``)."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}")
    return shown_bidi_controls(
        render_template(
            "pdf/summary.html",
            summary=summary,
            header=header,
            page_class=page_size.lower(),
            submitted=submitted_text(header.submitted_at, header.timezone),
            created=header.submitted_at.isoformat(timespec="seconds"),
            renderer=RENDERER_VERSION,
            column_widths=column_widths,
        )
    ).replace(EMOJI_PRESENTATION, "")


def summary_render_job(
    summary: Summary,
    header: PdfHeader,
    page_size: str = "A4",
    *,
    attachments: Sequence[PdfAttachment] = (),
) -> RenderJob:
    """What the renderer needs to make the summary's PDF: self-contained HTML and the files to
    embed. Built while the answers are read; rendered after that transaction has ended."""
    return RenderJob(summary_html(summary, header, page_size), tuple(attachments))


def render_pdf(job: RenderJob) -> bytes:
    """The PDF bytes, made by this process's renderer process (needs an app context).

    Slow (about a second): called by the background worker and the CLI, never inside a database
    transaction or a web request. Raises ``intake.pdf.renderer.RenderError`` when no PDF could
    be made this time.
    """
    config = current_app.config
    return RENDERER.render(
        job, config["PDF_RENDER_TIMEOUT_SECONDS"], config["PDF_RENDERER_IDLE_SECONDS"]
    )


def render_summary_pdf(
    summary: Summary,
    header: PdfHeader,
    page_size: str = "A4",
    *,
    attachments: Sequence[PdfAttachment] = (),
) -> bytes:
    """The summary's PDF now (``summary_render_job`` then ``render_pdf``)."""
    return render_pdf(summary_render_job(summary, header, page_size, attachments=attachments))


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_spelling(name)).strip("-")[:60].strip("-")


@dataclass(frozen=True)
class DownloadName:
    """A download's file name: ``ascii`` always, and ``full`` when ASCII cannot spell the name.

    A name with no ASCII spelling (山田 太郎) folded to nothing, so two such patients sent on the
    same day got the same "Patient_..." file, or a given name sat in the family name's place.
    ``full`` keeps the patient's own letters for RFC 6266's ``filename*``, which browsers use;
    ``ascii`` stays for tools that read only ``filename``.
    """

    ascii: str
    full: str | None = None

    def header_options(self) -> dict[str, str]:
        """``Content-Disposition`` parameters for Werkzeug's ``headers.set``."""
        options = {"filename": self.ascii}
        if self.full is not None:
            options["filename*"] = "UTF-8''" + quote(self.full, safe="")
        return options


def _own_letters_part(name: str) -> str:
    """The name in its own letters, with anything but letters, marks and digits as one "-"."""
    kept = "".join(
        c if unicodedata.category(c)[0] in "LMN" else "-"
        for c in unicodedata.normalize("NFC", name)
    )
    return re.sub(r"-+", "-", kept).strip("-")[:60].strip("-")


def pdf_filename(
    family_name: str, given_name: str, day: date, suffix: str = "intake-summary.pdf"
) -> DownloadName:
    """``Lastname_Firstname_YYYY-MM-DD_intake-summary.pdf`` (or another ``suffix`` for the other
    exports of the same intake): ASCII, safe in headers and on disk; a name part ASCII cannot
    spell makes it ``Patient_YYYY-MM-DD_...``, with the name in its own letters beside it."""
    names = (family_name, given_name)
    ascii_parts = [_file_part(n) for n in names]
    own_parts = [_own_letters_part(n) for n in names]
    if all(a or not o for a, o in zip(ascii_parts, own_parts, strict=True)):
        parts = [p for p in ascii_parts if p] or ["Patient"]
        return DownloadName(f"{'_'.join(parts)}_{day.isoformat()}_{suffix}")
    full = "_".join(p for p in own_parts if p)
    return DownloadName(f"Patient_{day.isoformat()}_{suffix}", f"{full}_{day.isoformat()}_{suffix}")


@cache
def _installed_families() -> frozenset[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return frozenset()
    result = subprocess.run(  # noqa: S603 - fixed argument list, absolute path, no shell
        [fc_list, ":", "family"], capture_output=True, text=True, timeout=20, check=False
    )
    return frozenset(
        family.strip() for line in result.stdout.splitlines() for family in line.split(",")
    )


def fonts_missing() -> list[str]:
    """Font families the summary needs that fontconfig lacks (their text would print as boxes)."""
    installed = _installed_families()
    return [
        f"{need} (Debian package {package})"
        for need, (families, package) in FONT_NEEDS.items()
        if not installed & set(families)
    ]


def subset_library_missing() -> bool:
    """True when HarfBuzz's subsetter is absent: renders get ~2.4x slower and bytes vary per run."""
    return ctypes.util.find_library("harfbuzz-subset") is None


def warn_if_slow_subsetting(app: Flask) -> None:
    """Say at start-up, once, what would make PDFs slow or print boxes instead of letters."""
    if subset_library_missing():
        app.logger.warning(
            "libharfbuzz-subset0 is not installed: PDF summaries render about 2.4 times slower "
            "and are not byte-reproducible. Install the Debian package libharfbuzz-subset0."
        )
    missing = fonts_missing()
    if missing:
        app.logger.warning(
            "Fonts missing for PDF summaries, their characters will print as empty boxes: %s",
            "; ".join(missing),
        )
