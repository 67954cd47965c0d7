"""Turn (catalog, answers) into plain rows: the same data for the review page, the clinic's intake
page and the PDF.

The summary has four parts, each built in its own module: "Before the visit" (``before_visit``),
the at-a-glance table (``overview``), the sections' questions and answers (``rows``), and the
appendix naming the referral article's category of each topic. Everything the service writes is
a label from the catalog or a fixed phrase; what the patient typed travels separately as
``patient_text`` so templates can quote it and tests can strip it before scanning the service's
own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.display import Mark, _, option_text
from forms.logic import Visibility
from forms.schema import Catalog
from intake.pdf.before_visit import BroughtForward, before_visit
from intake.pdf.overview import (
    NO_SUCH_QUESTION,
    OVERVIEW_TEXT,
    KeyEntry,
    OverviewRow,
    OverviewStatus,
    overview_key,
    overview_row,
)
from intake.pdf.rows import HIDDEN_TEXT, AnswerRow, SectionView, section_view

__all__ = [
    "HIDDEN_TEXT",
    "NO_SUCH_QUESTION",
    "OVERVIEW_TEXT",
    "AnswerRow",
    "BroughtForward",
    "Mark",
    "OverviewRow",
    "OverviewStatus",
    "SectionView",
    "Summary",
    "TopicArea",
    "build_summary",
]


@dataclass(frozen=True)
class TopicArea:
    """A topic as headed in the summary, and the referral article's category it follows. Printed
    once, in an appendix: beside an answer, a category name ("Chronic pain") reads as a finding."""

    title: str
    article_category: str


@dataclass(frozen=True)
class Summary:
    """Everything the review page, the clinic's page and the PDF show about one set of answers."""

    catalog_version: str
    completed_by: str
    overview: tuple[OverviewRow, ...]
    sections: tuple[SectionView, ...] = field(default=())
    #: False when ``completed_by`` is "Not answered", to be set as a non-answer.
    completed_by_given: bool = True
    before_visit: tuple[BroughtForward, ...] = ()
    topic_areas: tuple[TopicArea, ...] = ()

    @property
    def overview_key(self) -> tuple[KeyEntry, ...]:
        """Every status the at-a-glance table can show, in its words and style."""
        return overview_key()


def build_summary(catalog: Catalog, answers: Mapping[str, Any], visibility: Visibility) -> Summary:
    """The complete, ordered summary of one intake's answers."""
    respondent = catalog.respondent
    completed = answers.get(respondent.id) if respondent else None
    views = {s.id: section_view(catalog, s, answers, visibility) for s in catalog.sections}
    return Summary(
        catalog_version=catalog.version,
        completed_by=option_text(respondent, completed)
        if respondent and completed
        else _("Not answered"),
        overview=tuple(
            overview_row(catalog, s, answers, visibility, views[s.id])
            for s in catalog.sections
            if s.overview_row
        ),
        sections=tuple(views.values()),
        completed_by_given=bool(completed),
        before_visit=before_visit(catalog, answers, visibility),
        topic_areas=tuple(
            TopicArea(_(s.title_pdf), s.article_category)
            for s in catalog.sections
            if s.article_category
        ),
    )
