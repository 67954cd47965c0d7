"""Clinician PDF summary: the review rows printed by WeasyPrint, with nothing fetched from anywhere.

The HTML is rendered from ``templates/pdf/summary.html`` with the stylesheet inlined, and handed to
WeasyPrint with no base URL and a fetcher that refuses every URL: patient text is escaped by
Jinja, and even if markup ever slipped through, nothing on the server or the network could be
read into the PDF (PITFALLS: ``<link rel="attachment" href="file:///...">`` embeds files).

The PDF is an archival, self-describing file: PDF/A-3b, tagged for accessibility, and able to
carry the intake's FHIR QuestionnaireResponse as an associated file built from bytes in memory.
Every date in it is the submission time, so the same answers always give the same bytes.
"""

from __future__ import annotations

import ctypes.util
import logging
import re
import shutil
import subprocess
import threading
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from hashlib import md5
from typing import Any
from zoneinfo import ZoneInfo

import pydyf
import weasyprint
from flask import Flask, render_template
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from intake import TEMPLATES
from intake.review import Summary, Table

#: The renderer's own user-agent stylesheet (see there and ``SummaryHTML``).
UA_STYLESHEET_PATH = TEMPLATES / "pdf" / "ua.css"

RENDERER_VERSION = f"weasyprint {weasyprint.__version__} / summary template 3"
PAGE_SIZES = ("A4", "Letter")

#: PDF/A-3 is the archival level that allows embedded files of any type (our FHIR JSON). Level "b"
#: (appearance) rather than "a" (accessible): "a" needs all content tagged or marked as artifact,
#: and WeasyPrint 70 leaves the running header and footer as neither. Tags are still written.
PDF_VARIANT = "pdf/a-3b"
#: A MIME type that is also a plain PDF name once its "/" is escaped (no parameters, no spaces).
_MIME_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*/[A-Za-z0-9][A-Za-z0-9.+-]*")

#: One font configuration per process: a new one per render leaks about 0.23 MB each time.
FONT_CONFIG = FontConfiguration()
#: WeasyPrint's font configuration is not documented as thread-safe; renders are short and rare
#: (one per submission), so serialising them within a process costs nothing that matters.
_RENDER_LOCK = threading.Lock()

#: Font families the summary needs, and the Debian package that provides each. Emoji come from
#: Noto Color Emoji through fontconfig's fallback (the stylesheet cannot name it, see there) or,
#: failing that, from Symbola.
FONT_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "DejaVu Sans": (("DejaVu Sans",), "fonts-dejavu-core"),
    "Noto Sans CJK": (("Noto Sans CJK SC", "Noto Sans CJK JP"), "fonts-noto-cjk"),
    "Symbola or Noto Color Emoji": (("Symbola", "Noto Color Emoji"), "fonts-symbola"),
}


class _HideFailedURLs(logging.Filter):
    """WeasyPrint logs each URL it failed to load; such a URL could only come from patient text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Failed to load"):
            record.msg, record.args = "Failed to load a resource (refused; URL not logged)", ()
        return True


logging.getLogger("weasyprint").addFilter(_HideFailedURLs())


class URLRefusedError(ValueError):
    """The PDF renderer asked for a URL; the summary never needs one."""


class DenyAllFetcher(URLFetcher):
    """A URL fetcher that refuses everything, and remembers how often it was asked.

    The summary needs no image, stylesheet or font from any URL, so any request at all means
    markup got into the HTML. ``refused`` keeps the URLs in memory for tests, never in a log.
    """

    def __init__(self) -> None:
        # allowed_protocols=() also blocks the base class should anything call it directly.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.refused.append(url)
        raise URLRefusedError("the PDF summary loads no external resources")


@cache
def _ua_stylesheet() -> weasyprint.CSS:
    """Parsed once per process and shared by every render, as WeasyPrint shares its own."""
    return weasyprint.CSS(
        string=UA_STYLESHEET_PATH.read_text(encoding="utf-8"),
        base_url=None,
        url_fetcher=DenyAllFetcher(),
    )


class SummaryHTML(weasyprint.HTML):
    """An HTML document styled with the summary's small user-agent stylesheet.

    WeasyPrint's HTML5 stylesheet has ~250 rules for forms, lists, ``[dir]``, ``::marker`` and
    footnotes; matching each of the summary's ~1,100 elements against them, and computing the
    pseudo-elements they declare, took about 90 ms of a 600 ms render. ``templates/pdf/ua.css``
    keeps WeasyPrint's defaults for the elements the summary uses. ``_ua_stylesheets`` is the
    one place WeasyPrint asks for that stylesheet; a test fails if an upgrade stops asking.
    """

    def _ua_stylesheets(self, forms: bool = False) -> list[weasyprint.CSS]:
        return [_ua_stylesheet()]


@dataclass(frozen=True)
class PdfHeader:
    """Who the summary is about: the first line of page 1, then the running header of the rest."""

    patient_name: str
    date_of_birth: date
    mrn: str | None
    intake_id: str
    submitted_at: datetime
    timezone: str


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF as a PDF/A-3 associated file, e.g. the intake's FHIR JSON.

    ``created`` (the submission time) is written as both creation and modification date: a
    default of "now" would make two renders of the same answers differ. ``name`` and
    ``description`` are readable without opening the file, so they must not identify the
    patient.
    """

    name: str
    data: bytes
    mime_type: str
    description: str
    created: datetime

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name:
            raise ValueError("attachment name must be a plain, non-empty file name")
        if not _MIME_TYPE.fullmatch(self.mime_type):
            raise ValueError(f"attachment mime_type {self.mime_type!r} is not type/subtype")
        if self.created.tzinfo is None:
            raise ValueError("attachment created must be timezone-aware")

    @property
    def checksum(self) -> str:
        """The /CheckSum WeasyPrint writes for this file: how the finisher finds it again."""
        return f"<{md5(self.data, usedforsecurity=False).hexdigest()}>"


def submitted_text(submitted_at: datetime, timezone: str) -> str:
    """Date and time in the clinic's zone, named: "2026-11-25 14:03 (Europe/Berlin, UTC+01:00)"."""
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    local = submitted_at.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
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
        column_widths=column_widths,
    )


def render_summary_pdf(
    summary: Summary,
    header: PdfHeader,
    page_size: str = "A4",
    *,
    fetcher: DenyAllFetcher | None = None,
    attachments: Sequence[PdfAttachment] = (),
) -> bytes:
    """The PDF bytes; pass ``fetcher`` to inspect afterwards what (if anything) was refused."""
    html = summary_html(summary, header, page_size)
    return render_html_pdf(html, fetcher=fetcher, attachments=attachments)


def render_html_pdf(
    html: str,
    *,
    fetcher: DenyAllFetcher | None = None,
    attachments: Sequence[PdfAttachment] = (),
) -> bytes:
    """Any HTML through the same locked-down renderer (tests render stripped summaries with it).

    The output is PDF/A-3b and tagged; ``attachments`` become associated files (/AF, "Data").
    """
    names = [attachment.name for attachment in attachments]
    if len(set(names)) != len(names):
        raise ValueError("attachment names must be unique")
    url_fetcher = fetcher or DenyAllFetcher()
    document = SummaryHTML(string=html, base_url=None, url_fetcher=url_fetcher)
    # A name tree must be sorted by key; WeasyPrint writes the files in the order given.
    ordered = sorted(attachments, key=lambda attachment: attachment.name.encode())
    with _RENDER_LOCK, warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it. CPython closes the
        # file as soon as it is dropped, mid-render, but the ResourceWarning it emits would fail
        # every test that renders a PDF (pytest runs with warnings as errors).
        warnings.filterwarnings(
            "ignore", r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        pdf: bytes = document.write_pdf(
            font_config=FONT_CONFIG,
            pdf_variant=PDF_VARIANT,
            pdf_tags=True,
            # Built per render: a WeasyPrint Attachment's source can be read only once.
            attachments=[_weasyprint_attachment(a, url_fetcher) for a in ordered],
            finisher=_finisher(ordered),
        )
    return pdf


def _finisher(attachments: Sequence[PdfAttachment]) -> Callable[[Any, Any], None]:
    fix_attachments = _attachment_finisher(attachments)

    def finish(document: Any, pdf: Any) -> None:
        fix_attachments(document, pdf)
        _serialise_once(pdf)

    return finish


_SERIALISED_ONCE: dict[type, type] = {}


def _serialise_once(pdf: Any) -> None:
    """Make each PDF object build its bytes once, however often pydyf asks for them.

    For a PDF/A file pydyf writes a file identifier: it serialises and zlib-compresses (level 9)
    every object once to hash them, then again to write them, about 30 ms of each render.
    The objects are complete when the finisher runs, so the second answer equals the first;
    a test checks the bytes are the same as without this.
    """
    for pdf_object in pdf.objects:
        cls = type(pdf_object)
        if not isinstance(pdf_object, pydyf.Object):
            continue
        memo = _SERIALISED_ONCE.get(cls)
        if memo is None:
            memo = type(cls.__name__, (cls,), {"data": _data_once(cls.data)})
            _SERIALISED_ONCE[cls] = memo
        pdf_object.__class__ = memo


def _data_once(data: property) -> property:
    """pydyf's ``data`` property, keeping its first answer in the object's ``__dict__``."""
    build = data.fget
    assert build is not None

    def once(pdf_object: Any) -> bytes:
        cached: bytes | None = pdf_object.__dict__.get("_intake_data")
        if cached is None:
            cached = pdf_object.__dict__["_intake_data"] = build(pdf_object)
        return cached

    return property(once)


def _weasyprint_attachment(attachment: PdfAttachment, fetcher: URLFetcher) -> Any:
    """A WeasyPrint Attachment from bytes in memory: no file or URL is ever opened for it."""
    # WeasyPrint formats the dates as "%Y%m%d%H%M%SZ" whatever their zone: give it UTC.
    created = attachment.created.astimezone(UTC)
    return weasyprint.Attachment(
        string=attachment.data,
        url_fetcher=fetcher,
        name=attachment.name,
        description=attachment.description,
        created=created,
        modified=created,
        relationship="Data",
    )


def _attachment_finisher(attachments: Sequence[PdfAttachment]) -> Callable[[Any, Any], None]:
    """Post-process the PDF objects for what WeasyPrint 70's Attachment cannot express.

    WeasyPrint guesses a file's MIME type from its name ("x.json" gives application/json), so
    the caller's type is set here; its PDF/A-3 code also lists each file twice in the
    catalog's /AF. A file that did not make it into the PDF is an error, never a silent gap.
    """
    mime_types = {attachment.checksum: attachment.mime_type for attachment in attachments}

    def finish(document: Any, pdf: Any) -> None:
        found = set()
        for pdf_object in pdf.objects:
            extra = getattr(pdf_object, "extra", None)
            if not isinstance(extra, dict) or extra.get("Type") != "/EmbeddedFile":
                continue
            checksum = extra["Params"]["CheckSum"]
            if checksum in mime_types:
                extra["Subtype"] = "/" + mime_types[checksum].replace("/", "#2f")
                found.add(checksum)
        if missing := set(mime_types) - found:
            raise RuntimeError(f"{len(missing)} attachment(s) missing from the PDF")
        associated = pdf.catalog.get("AF")
        if associated:
            pdf.catalog["AF"] = type(associated)(dict.fromkeys(associated))

    return finish


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


def pdf_filename(
    family_name: str, given_name: str, day: date, suffix: str = "intake-summary.pdf"
) -> str:
    """``Lastname_Firstname_YYYY-MM-DD_intake-summary.pdf`` (or another ``suffix`` for the other
    exports of the same intake): ASCII, safe in headers and on disk."""
    parts = [p for p in (_file_part(family_name), _file_part(given_name)) if p] or ["Patient"]
    return f"{'_'.join(parts)}_{day.isoformat()}_{suffix}"


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
