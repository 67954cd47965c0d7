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

from forms.schema import NON_ANSWERS, Catalog, Item, ListField, Option
from intake.fhir.site import FhirSite
from intake.pdf.summary import ANSWER_TEXT

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


def _non_answers() -> tuple[tuple[str, str], ...]:
    return tuple((code, ANSWER_TEXT[code]) for code in NON_ANSWERS)


def _concepts(options: tuple[Option, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((option.code, option.label) for option in options)


@cache
def _set_names(catalog: Catalog) -> dict[tuple[Option, ...], str]:
    return {options: name for name, options in catalog.answer_sets.items()}


def system_id(name: str) -> str:
    """The CodeSystem's resource id and URL segment (FHIR ids allow letters, digits, - and .)."""
    return name.replace("_", "-")


def _vocabulary(site: FhirSite, name: str, concepts: tuple[tuple[str, str], ...]) -> Vocabulary:
    return Vocabulary(name, f"{site.canonical_base}/CodeSystem/{system_id(name)}", concepts)


@cache
def item_vocabulary(site: FhirSite, catalog: Catalog, item: Item) -> Vocabulary | None:
    """The codes of a question: its answer set's, its own options, 0-10, or the non-answers."""
    if item.type in ("single", "multi", "grid"):
        name = _set_names(catalog).get(item.options, item.id)
        return _vocabulary(site, name, _concepts(item.options))
    if item.type == "scale":
        numbers = tuple(
            (str(n), scale_label(item, n)) for n in range(item.scale_min, item.scale_max + 1)
        )
        return _vocabulary(site, item.id, numbers + _non_answers())
    if item.type == "year":
        return _vocabulary(site, item.id, _non_answers())
    return None


@cache
def field_vocabulary(
    site: FhirSite, catalog: Catalog, item: Item, field: ListField
) -> Vocabulary | None:
    """The codes of one field of a repeating list."""
    name = f"{item.id}.{field.id}"
    if field.type in ("single", "multi"):
        return _vocabulary(
            site, _set_names(catalog).get(field.options, name), _concepts(field.options)
        )
    if field.type == "year":
        return _vocabulary(site, name, _non_answers())
    return None


def vocabularies(site: FhirSite, catalog: Catalog) -> dict[str, Vocabulary]:
    """Every code system the catalog's questions use, by CodeSystem id."""
    found: dict[str, Vocabulary] = {}
    for item in catalog.items():
        candidates = [item_vocabulary(site, catalog, item)]
        candidates += [field_vocabulary(site, catalog, item, f) for f in item.fields]
        for vocabulary in candidates:
            if vocabulary is not None:
                found.setdefault(system_id(vocabulary.name), vocabulary)
    return found


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
