"""Babel extractor for the catalog, so every question and answer label lands in messages.pot.

Templates pass catalog strings through gettext when they render them; with this extractor,
translating the questionnaire is a matter of adding a .po file, not changing code. It reads the
catalog through the loader, so expanded reaction-block questions are extracted as the patient
sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

from forms.loader import parse_catalog
from forms.schema import Catalog


def catalog_messages(catalog: Catalog) -> Iterator[str]:
    """Every string of the catalog that a patient or clinician reads."""
    for section in catalog.sections:
        yield from (section.title, section.title_pdf, section.intro)
        for item in section.items:
            yield item.text
            if item.help:
                yield item.help
            yield from item.anchors
            for option in (*item.options, *item.rows):
                yield option.label
                if option.short:
                    yield option.short
            for f in item.fields:
                yield f.label
                yield from (o.label for o in f.options)


def extract_catalog(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extraction method: (lineno, funcname, message, comments) for each catalog string."""
    catalog = parse_catalog(yaml.safe_load(fileobj.read().decode("utf-8")))
    for message in dict.fromkeys(m for m in catalog_messages(catalog) if m):
        yield 0, None, message, []
