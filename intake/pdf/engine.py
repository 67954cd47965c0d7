"""The PDF renderer: WeasyPrint, locked down, in a process of its own.

``python -m intake.pdf.engine`` reads render jobs on standard input and answers each with the PDF
on its standard output (``intake.pdf.job``); ``intake.pdf.renderer`` starts it and talks to it.
It imports WeasyPrint and nothing of the web application. Why a process of its own:

- WeasyPrint and its fonts and caches (about 100 MB) live in one process per web worker that
  renders, not in every web worker from start-up;
- a render that runs too long is ended by killing the process, which a thread cannot be;
- a crash in the C libraries (Pango, HarfBuzz, fontconfig) ends this process, not the request
  that asked for the PDF, and the next render starts a new one.

Everything WeasyPrint is handed is self-contained: no base URL, and a fetcher that refuses every
URL. Patient text is escaped by Jinja, and even if markup ever slipped through, nothing on the
server or the network could be read into the PDF (PITFALLS: ``<link rel="attachment"
href="file:///...">`` embeds files).

The PDF is an archival, self-describing file: PDF/A-3b, tagged for accessibility, and able to
carry the intake's FHIR QuestionnaireResponse as an associated file built from bytes in memory.
Every date in it is the submission time, so the same answers always give the same bytes.
How the process spends less time on them, without changing one, is ``intake.pdf.speed``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import select
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC
from functools import cache
from typing import IO, Any

import weasyprint
import weasyprint.draw.text
from weasyprint.images import RasterImage
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from intake.assets import TEMPLATES
from intake.pdf.job import FAILED, OK, PdfAttachment, RenderJob, frame, read_frame
from intake.pdf.speed import (
    NAMED_SETTINGS,
    SETTINGS,
    EngineSettings,
    collector_paused,
    reusing_stylesheets,
    serialise_once,
)

log = logging.getLogger(__name__)

#: The renderer's own user-agent stylesheet (see there and ``SummaryHTML``).
UA_STYLESHEET_PATH = TEMPLATES / "pdf" / "ua.css"

#: PDF/A-3 is the archival level that allows embedded files of any type (our FHIR JSON). Level "b"
#: (appearance) rather than "a" (accessible): "a" needs all content tagged or marked as artifact,
#: and WeasyPrint 70 leaves the running header and footer as neither. Tags are still written.
PDF_VARIANT = "pdf/a-3b"

#: The "modified" date fontTools gives the fonts it rewrites (``main``): 2000-01-01, as fixed as
#: any, and after 1980 should a ZIP file ever be written with it.
FONT_DATE_EPOCH = "946684800"

#: The renderer's fontconfig: the system's, emoji from a monochrome outline font (see there).
FONTCONFIG_FILE = TEMPLATES / "pdf" / "fonts.conf"


def _font_configuration() -> FontConfiguration:
    """WeasyPrint's font configuration, read from ``FONTCONFIG_FILE``.

    fontconfig reads its file when the configuration is made, never after: the variable is set
    for that moment only, so nothing else this process starts (a test's Chromium) inherits it.
    """
    saved = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(FONTCONFIG_FILE)
    try:
        return FontConfiguration()
    finally:
        if saved is None:
            del os.environ["FONTCONFIG_FILE"]
        else:
            os.environ["FONTCONFIG_FILE"] = saved


#: One font configuration per process: a new one per render leaks about 0.23 MB each time.
FONT_CONFIG = _font_configuration()

#: Colour emoji glyph images already made, by glyph and PNG data (bounded: one per glyph drawn).
_GLYPH_IMAGES: dict[tuple[str, bytes], RasterImage] = {}
_GLYPH_IMAGES_MAX = 4096


def _glyph_image(pillow_image: Any, image_id: str, image_data: bytes) -> RasterImage:
    """One image per colour emoji glyph, not one per occurrence.

    WeasyPrint 70 decodes and re-encodes a bitmap emoji's PNG for every time it is drawn
    (about 2 ms each, so 5,000 of one emoji took 11 s); the image is the same every time, and
    the PDF already stores it once. Only emoji the outline fonts lack get here (``fonts.conf``).
    """
    key = (image_id, image_data)
    image = _GLYPH_IMAGES.get(key)
    if image is None:
        image = RasterImage(pillow_image, image_id, image_data)
        if len(_GLYPH_IMAGES) < _GLYPH_IMAGES_MAX:
            _GLYPH_IMAGES[key] = image
    return image


# The one place WeasyPrint makes a colour glyph's image; a test fails if an upgrade moves it.
weasyprint.draw.text.RasterImage = _glyph_image
#: WeasyPrint's font configuration is not documented as thread-safe. The renderer process takes
#: one job at a time anyway; tests also render in their own process, from several threads.
_RENDER_LOCK = threading.Lock()


class _KeepOnlyWeasyPrintsOwnWords(logging.Filter):
    """WeasyPrint's messages carry details of the document in their arguments: a URL it failed
    to load (which could only come from patient text), each character no font could print (one
    line per character, so a Thai answer was spelled out in the log, name included), a CSS
    value. Only the fixed text of the message is kept; its arguments never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args or record.exc_info:
            record.msg = f"{record.msg} [details not logged: they may hold patient text]"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


_weasyprint_filter = _KeepOnlyWeasyPrintsOwnWords()
for _name in ("weasyprint", "weasyprint.progress"):
    logging.getLogger(_name).addFilter(_weasyprint_filter)


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


def render_html_pdf(
    html: str,
    *,
    fetcher: DenyAllFetcher | None = None,
    attachments: Sequence[PdfAttachment] = (),
    settings: EngineSettings = SETTINGS,
) -> bytes:
    """The PDF of self-contained HTML; pass ``fetcher`` to see afterwards what it refused.

    The renderer process calls this for every job; tests call it directly, in their own process,
    to render stripped or spied-on documents. The output is PDF/A-3b and tagged; ``attachments``
    become associated files (/AF, "Data"). ``settings`` change how long it takes, never the bytes.
    """
    names = [attachment.name for attachment in attachments]
    if len(set(names)) != len(names):
        raise ValueError("attachment names must be unique")
    url_fetcher = fetcher or DenyAllFetcher()
    document = SummaryHTML(string=html, base_url=None, url_fetcher=url_fetcher)
    # A name tree must be sorted by key; WeasyPrint writes the files in the order given.
    ordered = sorted(attachments, key=lambda attachment: attachment.name.encode())
    with (
        _RENDER_LOCK,
        reusing_stylesheets(settings, FONT_CONFIG, DenyAllFetcher),
        warnings.catch_warnings(),
    ):
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
            finisher=_finisher(ordered, settings),
        )
    return pdf


def _finisher(
    attachments: Sequence[PdfAttachment], settings: EngineSettings
) -> Callable[[Any, Any], None]:
    fix_attachments = _attachment_finisher(attachments)

    def finish(document: Any, pdf: Any) -> None:
        fix_attachments(document, pdf)
        serialise_once(pdf, settings)

    return finish


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


def serve(
    jobs: IO[bytes],
    replies: IO[bytes],
    idle_seconds: float = 0,
    settings: EngineSettings = SETTINGS,
) -> None:
    """Answer render jobs until the web worker closes the pipe (it exits, or restarts us), or
    until none came for ``idle_seconds`` (0: wait for ever)."""
    while True:
        if idle_seconds > 0 and not select.select([jobs], [], [], idle_seconds)[0]:
            return  # idle: give the memory back; the web worker starts a new process when needed
        body = read_frame(jobs)
        if body is None:
            return
        # The collector runs once the reply is on its way: the web worker reads it meanwhile.
        with collector_paused(settings):
            replies.write(_answer(body, settings))
            replies.flush()


def _answer(body: bytes, settings: EngineSettings) -> bytes:
    """The reply to one job: the PDF, or the type of the error that stopped it."""
    try:
        job = RenderJob.decode(body)
        return OK + frame(render_html_pdf(job.html, attachments=job.attachments, settings=settings))
    except Exception as exc:  # the web worker records the failure; this process goes on
        # The type and where, never the message: it could quote the document.
        where = "".join(traceback.format_tb(exc.__traceback__))
        log.error("PDF render failed: %s\n%s", type(exc).__name__, where)
        return FAILED + frame(type(exc).__name__.encode("ascii", "replace"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m intake.pdf.engine", description="The PDF renderer process."
    )
    parser.add_argument(
        "--settings",
        choices=sorted(NAMED_SETTINGS),
        default="current",
        help="how the renderer spends its time (the bench compares them; the PDF is the same)",
    )
    settings = NAMED_SETTINGS[parser.parse_args(argv).settings]
    # Ctrl-C in the terminal reaches the whole process group; the web worker decides when this
    # process ends, by closing the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Replies go to a private copy of standard output, and anything printed goes to standard
    # error: a stray print inside a library can never corrupt a PDF.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(level=logging.WARNING, format="intake.pdf.engine[%(process)d] %(message)s")
    # fontTools rewrites a colour emoji font for the PDF (its images dropped) and stamps the copy
    # with the time: the same answers gave other bytes every second. It reads the reproducible
    # builds' SOURCE_DATE_EPOCH instead when set; nothing else in this process does.
    os.environ["SOURCE_DATE_EPOCH"] = FONT_DATE_EPOCH
    _ua_stylesheet()
    # What start-up made lives as long as the process: the garbage collector's full collections
    # need not rescan it during every render.
    gc.freeze()
    idle_seconds = float(os.environ.get("INTAKE_RENDERER_IDLE_SECONDS") or 0)
    # BrokenPipeError: the web worker went away mid-render (stopped, or killed by gunicorn).
    with contextlib.suppress(BrokenPipeError):
        serve(sys.stdin.buffer, replies, idle_seconds, settings)


if __name__ == "__main__":
    main()
