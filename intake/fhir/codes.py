"""The service's own answer codes as FHIR code systems: which system each question's codes belong
to, and the ``CodeSystem`` resources that define them.

The catalog's codes are unique per question, not across the catalog: "weekly" is "Once a week
or more" for one question and "A few times a week" for another. One code system for everything
would give one code two meanings. So each named answer set of the catalog is its own code system
(``.../CodeSystem/freq5``), and a question with options of its own has one named after it
(``.../CodeSystem/general.symptoms``): every (system, code) pair means exactly one thing, and a
receiver can look its display up at the system's URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from forms.schema import NON_ANSWER_TEXT, Catalog, Item, Option
from intake.fhir.site import FhirSite

Json = dict[str, Any]


@dataclass(frozen=True)
class Vocabulary:
    """The codes one question (or list field) answers with, and the system they belong to."""

    name: str
    system: str
    concepts: tuple[tuple[str, str], ...]

    def display(self, code: str) -> str:
        return dict(self.concepts).get(code, code)

    def coding(self, code: str) -> Json:
        return {"system": self.system, "code": code, "display": self.display(code)}


def scale_label(item: Item, value: int) -> str:
    """ "0", ..., "10", with the catalog's anchor on the two ends ("0 = Not at all")."""
    if item.anchors and value == item.scale_min:
        return item.anchors[0]
    if len(item.anchors) > 1 and value == item.scale_max:
        return item.anchors[-1]
    return str(value)


def non_answer_concepts() -> tuple[tuple[str, str], ...]:
    """The two non-answers, as every question that offers them in its widget codes them."""
    return tuple(NON_ANSWER_TEXT.items())


def _concepts(options: tuple[Option, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((option.code, option.label) for option in options)


@cache
def _set_names(catalog: Catalog) -> dict[tuple[Option, ...], str]:
    return {options: name for name, options in catalog.answer_sets.items()}


def system_id(name: str) -> str:
    """The CodeSystem's resource id and URL segment (FHIR ids allow letters, digits, - and .)."""
    return name.replace("_", "-")


def named_vocabulary(
    site: FhirSite, name: str, concepts: tuple[tuple[str, str], ...]
) -> Vocabulary:
    """A code system of the service's own, named ``name`` (its URL ends in its id)."""
    return Vocabulary(name, f"{site.canonical_base}/CodeSystem/{system_id(name)}", concepts)


def answer_set_vocabulary(
    site: FhirSite, catalog: Catalog, options: tuple[Option, ...], name: str
) -> Vocabulary:
    """The code system of a question's options: its named answer set's, or its own (``name``)."""
    return named_vocabulary(site, _set_names(catalog).get(options, name), _concepts(options))


def build_code_system(catalog: Catalog, vocabulary: Vocabulary) -> Json:
    return {
        "resourceType": "CodeSystem",
        "id": system_id(vocabulary.name),
        "url": vocabulary.system,
        "version": catalog.version,
        "title": f"Answers of the pre-visit history questionnaire: {vocabulary.name}",
        "status": "active",
        "caseSensitive": True,
        "content": "complete",
        "concept": [{"code": code, "display": display} for code, display in vocabulary.concepts],
    }
