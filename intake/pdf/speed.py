"""What makes the renderer process faster without changing a byte of what it makes.

Each setting below spends less time on work whose result is already known: a collector pass
over a render's short-lived objects, a stylesheet parsed for the hundredth time, a stream
compressed twice. None of them changes the PDF: a test renders the same documents with every
setting on and with ``BEFORE_ISSUE_18`` and compares the bytes, and ``bench/run.py`` times the
two in one run (``python -m intake.pdf.engine --settings before-issue-18`` starts a renderer
as the engine was). Like the rest of the renderer, this imports WeasyPrint and pydyf, never the
web application.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pydyf
import weasyprint
import weasyprint.css


@dataclass(frozen=True)
class EngineSettings:
    """How the renderer spends its time, never what it makes."""

    #: Python's cyclic garbage collector waits while a job is rendered and answered, then runs
    #: once (``serve``). The demo's render leaves about 44,000 objects in reference cycles (its
    #: parsed tree, layout boxes, PDF objects); collecting as they piled up took about 50 ms of
    #: an 800 ms render, one collection after the reply about 25 ms, while the web worker
    #: already has its PDF.
    pause_collector: bool = True
    #: Each ``<style>`` text is parsed once per process (about 7 ms a render) and the parsed
    #: stylesheet shared, as WeasyPrint shares its own user-agent one (``_author_stylesheet``).
    reuse_stylesheets: bool = True
    #: pydyf builds and compresses (zlib level 9) its object stream, which holds the tag tree,
    #: twice for a PDF/A file: once to hash it for the file identifier, once to write it. About
    #: 14 ms a render; the second time now reads the first answer (``serialise_once``).
    object_stream_once: bool = True


#: What the renderer uses.
SETTINGS = EngineSettings()
#: The engine as it was before issue 18, for the bench's comparison (and the test that finds
#: the bytes the same): every setting off.
BEFORE_ISSUE_18 = EngineSettings(
    pause_collector=False, reuse_stylesheets=False, object_stream_once=False
)
#: The names ``--settings`` accepts.
NAMED_SETTINGS = {"current": SETTINGS, "before-issue-18": BEFORE_ISSUE_18}


# --- the collector -------------------------------------------------------------------------------
@contextmanager
def collector_paused(settings: EngineSettings) -> Iterator[None]:
    """No cyclic garbage collection inside the block, one full collection after it.

    The collection frees the block's cycles, so memory stays what it was after each job (the
    bench reads the renderer's memory after 1,000 renders). A collector someone else turned off
    stays off, and is not collected for here either.
    """
    if not settings.pause_collector or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


# --- stylesheets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Reuse:
    font_config: Any
    refusing_fetcher: Callable[[], Any]


#: The author stylesheets parsed in this process, by text (bounded: the summary has one).
_PARSED: dict[tuple[str, str], weasyprint.CSS] = {}
_PARSED_MAX = 8
#: Set while a render that may reuse them runs (``reusing_stylesheets``).
_REUSE: ContextVar[_Reuse | None] = ContextVar("intake_reuse_stylesheets", default=None)


@contextmanager
def reusing_stylesheets(
    settings: EngineSettings, font_config: Any, refusing_fetcher: Callable[[], Any]
) -> Iterator[None]:
    """Inside the block, a ``<style>`` element whose text was parsed before is not parsed again.

    Only for documents rendered with ``font_config`` (``@font-face`` rules register there);
    ``refusing_fetcher()`` makes a fetcher that refuses every URL and lists them in ``refused``.
    """
    reuse = _Reuse(font_config, refusing_fetcher) if settings.reuse_stylesheets else None
    token = _REUSE.set(reuse)
    try:
        yield
    finally:
        _REUSE.reset(token)


def _author_stylesheet(*args: Any, string: str | None = None, **options: Any) -> weasyprint.CSS:
    """WeasyPrint's ``CSS(...)`` for the stylesheets a document holds, reusing parsed ones.

    A ``<style>`` element's text is shared only when parsing it changed nothing outside the
    stylesheet: no ``@counter-style``, ``@color-profile`` or ``@layer`` (they go into the
    document's own tables), and no URL asked for (an ``@import`` or a font: the document's
    fetcher must see, and refuse, every request each time). Anything else is parsed as before,
    into the document's tables and with its fetcher.
    """
    reuse = _REUSE.get()
    if (
        args
        or string is None
        or reuse is None
        or options.get("font_config") is not reuse.font_config
        or options.get("base_url") is not None
    ):
        return weasyprint.CSS(*args, string=string, **options)
    media_type = options.get("media_type", "print")
    key = (string, media_type)
    parsed = _PARSED.get(key)
    if parsed is None:
        counter_style: dict[str, Any] = {}
        color_profiles: dict[str, Any] = {}
        asked = reuse.refusing_fetcher()
        parsed = weasyprint.CSS(
            string=string,
            base_url=None,
            url_fetcher=asked,
            media_type=media_type,
            font_config=reuse.font_config,
            counter_style=counter_style,
            color_profiles=color_profiles,
        )
        if counter_style or color_profiles or parsed.layers or asked.refused:
            return weasyprint.CSS(string=string, **options)
        if len(_PARSED) < _PARSED_MAX:
            _PARSED[key] = parsed
    return parsed


# WeasyPrint's ``find_stylesheets`` makes every author stylesheet through this name; a test fails
# if an upgrade stops (the same way as the user-agent stylesheet's hook in ``SummaryHTML``).
weasyprint.css.CSS = _author_stylesheet


# --- serialising ---------------------------------------------------------------------------------
_SERIALISED_ONCE: dict[type, type] = {}


def serialise_once(pdf: Any, settings: EngineSettings) -> None:
    """Make each PDF object build its bytes once, however often pydyf asks for them.

    For a PDF/A file pydyf writes a file identifier: it serialises and zlib-compresses (level 9)
    every object once to hash them, then again to write them, about 30 ms of each render.
    The objects are complete when the finisher runs, so the second answer equals the first.
    With ``object_stream_once`` the same holds for the object stream pydyf adds while writing.
    """
    for pdf_object in pdf.objects:
        _answer_once(pdf_object)
    if settings.object_stream_once:
        add_object = pdf.add_object

        def add_and_answer_once(pdf_object: Any) -> None:
            add_object(pdf_object)
            _answer_once(pdf_object)

        pdf.add_object = add_and_answer_once


def _answer_once(pdf_object: Any) -> None:
    if not isinstance(pdf_object, pydyf.Object):
        return
    cls = type(pdf_object)
    if cls in _SERIALISED_ONCE.values():
        return
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
