"""The "Before the visit" block: what the catalog brings to the top of the clinician's summary.

The catalog names them (an item's ``before_visit``, checked by ``forms.validate``); nothing here
knows an item id. The rule is the same for every patient: first the patient's own words about
this visit (``own_words``), whatever they are, a blank included; then each ``answered`` question
the patient gave any answer to, "No" and "Prefer not to say" as much as "Yes". Both in the form's
order: nothing is ranked, scored or called urgent, and no answer is picked out by its value.
The PDF and the clinic's intake page print the same rows (one builder, two skins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.display import _
from forms.logic import Visibility
from forms.schema import Catalog
from intake.pdf.rows import AnswerRow, answer_row


@dataclass(frozen=True)
class BroughtForward:
    """Questions brought forward from one part of the form (named as its heading names it),
    in the order printed, with their answers."""

    section_title: str
    rows: tuple[AnswerRow, ...]


def before_visit(
    catalog: Catalog, answers: Mapping[str, Any], visibility: Visibility
) -> tuple[BroughtForward, ...]:
    """The "Before the visit" block: its rows in the order printed, grouped by the part of the
    form each was asked in (rows next to each other from one part share its name)."""
    own_words: list[tuple[str, AnswerRow]] = []
    answered: list[tuple[str, AnswerRow]] = []
    for section in catalog.sections:
        for item in section.items:
            if item.before_visit is None:
                continue
            row = answer_row(catalog, item, answers, visibility)
            if item.before_visit == "own_words":
                own_words.append((section.title_pdf, row))
            elif row.given:
                answered.append((section.title_pdf, row))
    parts: list[BroughtForward] = []
    for title, row in (*own_words, *answered):
        if parts and parts[-1].section_title == _(title):
            parts[-1] = BroughtForward(parts[-1].section_title, (*parts[-1].rows, row))
        else:
            parts.append(BroughtForward(_(title), (row,)))
    return tuple(parts)
