"""Clinician PDF summary: the review rows printed by WeasyPrint, with nothing fetched from anywhere.

The HTML is rendered from ``templates/pdf/summary.html`` with the stylesheet inlined, and handed to
WeasyPrint with no base URL and a fetcher that refuses every URL: patient text is escaped by
Jinja, and even if markup ever slipped through, nothing on the server or the network could be
read into the PDF (PITFALLS: ``<link rel="attachment" href="file:///...">`` embeds files).
"""

from __future__ import annotations

import ctypes.util
import re
import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import weasyprint
from flask import Flask, render_template
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from intake.review import Summary

RENDERER_VERSION = f"weasyprint {weasyprint.__version__} / summary template 1"
PAGE_SIZES = ("A4", "Letter")

#: One font configuration per process: a new one per render leaks about 0.23 MB each time.
FONT_CONFIG = FontConfiguration()
#: WeasyPrint's font configuration is not documented as thread-safe; renders are short and rare
#: (one per submission), so serialising them within a process costs nothing that matters.
_RENDER_LOCK = threading.Lock()

#: Font families the template asks for, and the Debian package that provides each. Emoji are
#: covered by either family (Symbola first: WeasyPrint prints it as plain outlines).
FONT_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "DejaVu Sans": (("DejaVu Sans",), "fonts-dejavu-core"),
    "Noto Sans CJK": (("Noto Sans CJK SC", "Noto Sans CJK JP"), "fonts-noto-cjk"),
    "Symbola or Noto Color Emoji": (("Symbola", "Noto Color Emoji"), "fonts-symbola"),
}


class URLRefusedError(ValueError):
    """The PDF renderer asked for a URL; the summary never needs one."""


class DenyAllFetcher(URLFetcher):
    """A URL fetcher that refuses everything, and remembers how often it was asked.

    The summary needs no image, stylesheet or font from any URL, so any request at all means
    markup got into the HTML. ``refused`` keeps the URLs in memory for tests; they are never logged.
    """

    def __init__(self) -> None:
        # allowed_protocols=() also blocks the base class should anything call it directly.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.refused.append(url)
        raise URLRefusedError("the PDF summary loads no external resources")


@dataclass(frozen=True)
class PdfHeader:
    """Who the summary is about; printed in the running header of every page."""

    patient_name: str
    date_of_birth: date
    mrn: str | None
    intake_id: str
    submitted_at: datetime
    timezone: str


def submitted_text(submitted_at: datetime, timezone: str) -> str:
    """ISO date and time in the clinic's zone, with the zone named: "2026-11-25 14:03 (Europe/Berlin, UTC+01:00)"."""
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    local = submitted_at.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} ({timezone}, UTC{offset[:3]}:{offset[3:]})"


def summary_html(summary: Summary, header: PdfHeader, page_size: str = "A4") -> str:
    """The summary as one self-contained HTML document (needs an app context)."""
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size must be one of {PAGE_SIZES}")
    return render_template(
        "pdf/summary.html",
        summary=summary,
        header=header,
        page_class=page_size.lower(),
        submitted=submitted_text(header.submitted_at, header.timezone),
        created=header.submitted_at.isoformat(timespec="seconds"),
        renderer=RENDERER_VERSION,
    )


def render_summary_pdf(
    summary: Summary,
    header: PdfHeader,
    page_size: str = "A4",
    *,
    fetcher: DenyAllFetcher | None = None,
) -> bytes:
    """The PDF bytes; pass ``fetcher`` to inspect afterwards what (if anything) was refused."""
    html = summary_html(summary, header, page_size)
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher or DenyAllFetcher())
    with _RENDER_LOCK:
        pdf: bytes = document.write_pdf(font_config=FONT_CONFIG)
    return pdf


# Letters with no NFKD decomposition to ASCII that still have a usual spelling in file names.
_ASCII_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
    }
)


def _file_part(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII_EXTRA))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_only).strip("-")[:60].strip("-")


def pdf_filename(family_name: str, given_name: str, day: date) -> str:
    """``Lastname_Firstname_YYYY-MM-DD_intake-summary.pdf``, plain ASCII so any header or disk takes it."""
    parts = [p for p in (_file_part(family_name), _file_part(given_name)) if p] or ["Patient"]
    return f"{'_'.join(parts)}_{day.isoformat()}_intake-summary.pdf"


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
    """Font families the summary needs that fontconfig does not have (their text prints as boxes)."""
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
