"""How each catalog answer type reads in FHIR R4: its codes, its Questionnaire item, its answers.

One class per type, in one table keyed by the type's name (``forms.types`` keeps the same names
for the web form and knows nothing of FHIR). The mapping:

- ``single`` -> ``choice``; ``multi`` -> ``choice`` with ``repeats``, "none of these" and the
  non-answers marked with the ``questionnaire-optionExclusive`` extension;
- ``scale`` -> ``choice`` with the codes "0".."10" and the non-answers (a 0-10 rating is an
  ordered choice here; no score is ever computed from it, so no ordinal values are declared);
- ``year`` -> ``open-choice``: the two non-answers as options, or a 4-digit year as a string
  (R4 has no type that holds "an integer or a code");
- ``text`` -> ``string`` or ``text`` (by length, like the web form), with ``maxLength``;
- ``grid`` -> a ``group`` with one ``choice`` per row (``<item>.<row>``);
- ``list`` -> a repeating ``group`` with one child per field (``<item>.<field>``).

A question is an item, or a field of a list row (``linkId`` ``<item>.<field>``): the field
types read the same in both places. Key order is fixed so that the JSON is reproducible.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from forms.schema import Catalog, Item, ListField
from forms.types.text import multiline
from intake.fhir.codes import (
    Json,
    Vocabulary,
    answer_set_vocabulary,
    named_vocabulary,
    non_answer_concepts,
    scale_label,
    system_id,
)
from intake.fhir.site import FhirSite

Question = Item | ListField
EXT = "http://hl7.org/fhir/StructureDefinition"
OPTION_EXCLUSIVE = f"{EXT}/questionnaire-optionExclusive"
MAX_OCCURS = f"{EXT}/questionnaire-maxOccurs"
REGEX = f"{EXT}/regex"
YEAR_PATTERN = "[12][0-9]{3}"


def answer_options(vocabulary: Vocabulary, exclusive: tuple[str, ...] = ()) -> list[Json]:
    result = []
    for code, _display in vocabulary.concepts:
        entry: Json = {"valueCoding": vocabulary.coding(code)}
        if code in exclusive:
            entry["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
        result.append(entry)
    return result


class FhirType:
    """One answer type's FHIR reading. Methods take the list ``item`` and, for a field of its
    rows, ``field``; ``rest`` is the item's ``enableWhen`` (fields have none), which each type
    places where its JSON has always had it."""

    def vocabulary(
        self, site: FhirSite, catalog: Catalog, question: Question, name: str
    ) -> Vocabulary | None:
        """The codes the question answers with (``name``: the code system to use when its
        options are not a named answer set)."""
        return None

    def question(
        self, site: FhirSite, catalog: Catalog, item: Item, field: ListField | None, rest: Json
    ) -> Json:
        raise NotImplementedError

    def answers(self, vocabulary: Vocabulary | None, value: Any) -> list[Json]:
        """The ``answer`` entries of a stored value."""
        raise NotImplementedError

    def response_items(
        self, site: FhirSite, catalog: Catalog, item: Item, value: Any
    ) -> list[Json]:
        """The response items of one answered question: none, one, or one per list row."""
        answers = self.answers(item_vocabulary(site, catalog, item), value)
        return [{"linkId": item.id, "text": item.text, "answer": answers}] if answers else []


def _head(item: Item, field: ListField | None) -> Json:
    if field is None:
        return {"linkId": item.id, "text": item.text}
    return {"linkId": f"{item.id}.{field.id}", "text": field.label}


def _vocabulary(
    site: FhirSite, catalog: Catalog, item: Item, field: ListField | None
) -> Vocabulary:
    found = (
        item_vocabulary(site, catalog, item)
        if field is None
        else field_vocabulary(site, catalog, item, field)
    )
    assert found is not None, f"{item.id}: a question with codes has no vocabulary"
    return found


class FhirSingle(FhirType):
    repeats = False

    def vocabulary(
        self, site: FhirSite, catalog: Catalog, question: Question, name: str
    ) -> Vocabulary | None:
        return answer_set_vocabulary(site, catalog, question.options, name)

    def question(
        self, site: FhirSite, catalog: Catalog, item: Item, field: ListField | None, rest: Json
    ) -> Json:
        result: Json = {**_head(item, field), "type": "choice", **rest}
        if self.repeats:
            result["repeats"] = True
        # Only an item's own "exclusive" list is declared; the web form has none for fields.
        exclusive = item.exclusive if field is None and self.repeats else ()
        result["answerOption"] = answer_options(_vocabulary(site, catalog, item, field), exclusive)
        return result

    def answers(self, vocabulary: Vocabulary | None, value: Any) -> list[Json]:
        assert vocabulary is not None
        codes = value if isinstance(value, list) else [value]
        return [{"valueCoding": vocabulary.coding(str(code))} for code in codes]


class FhirMulti(FhirSingle):
    repeats = True


class FhirScale(FhirSingle):
    def vocabulary(
        self, site: FhirSite, catalog: Catalog, question: Question, name: str
    ) -> Vocabulary | None:
        assert isinstance(question, Item)
        low, high = question.scale_min, question.scale_max
        numbers = tuple((str(n), scale_label(question, n)) for n in range(low, high + 1))
        return named_vocabulary(site, name, numbers + non_answer_concepts())


class FhirYear(FhirType):
    def vocabulary(
        self, site: FhirSite, catalog: Catalog, question: Question, name: str
    ) -> Vocabulary | None:
        return named_vocabulary(site, name, non_answer_concepts())

    def question(
        self, site: FhirSite, catalog: Catalog, item: Item, field: ListField | None, rest: Json
    ) -> Json:
        return {
            **_head(item, field),
            "type": "open-choice",
            "extension": [{"url": REGEX, "valueString": YEAR_PATTERN}],
            "maxLength": 4,
            "answerOption": answer_options(_vocabulary(site, catalog, item, field)),
            **rest,
        }

    def answers(self, vocabulary: Vocabulary | None, value: Any) -> list[Json]:
        if isinstance(value, int):
            return [{"valueString": f"{value:04d}"}]
        assert vocabulary is not None
        return [{"valueCoding": vocabulary.coding(value)}]


class FhirText(FhirType):
    def question(
        self, site: FhirSite, catalog: Catalog, item: Item, field: ListField | None, rest: Json
    ) -> Json:
        max_length = (field or item).max_length
        kind = "text" if multiline(max_length) else "string"
        result: Json = {**_head(item, field), "type": kind, **rest}
        if max_length:
            result["maxLength"] = max_length
        return result

    def answers(self, vocabulary: Vocabulary | None, value: Any) -> list[Json]:
        return [{"valueString": value}]


class FhirGrid(FhirSingle):
    def question(
        self, site: FhirSite, catalog: Catalog, item: Item, field: ListField | None, rest: Json
    ) -> Json:
        vocabulary = _vocabulary(site, catalog, item, None)
        rows = [
            {
                "linkId": f"{item.id}.{row.code}",
                "text": row.label,
                "type": "choice",
                "answerOption": answer_options(vocabulary),
            }
            for row in item.rows
        ]
        return {**_head(item, None), "type": "group", **rest, "item": rows}

    def response_items(
        self, site: FhirSite, catalog: Catalog, item: Item, value: Any
    ) -> list[Json]:
        vocabulary = _vocabulary(site, catalog, item, None)
        rows = [
            {
                "linkId": f"{item.id}.{row.code}",
                "text": row.label,
                "answer": [{"valueCoding": vocabulary.coding(value[row.code])}],
            }
            for row in item.rows
            if value.get(row.code)
        ]
        return [{**_head(item, None), "item": rows}] if rows else []


class FhirList(FhirType):
    def question(
        self, site: FhirSite, catalog: Catalog, item: Item, field: ListField | None, rest: Json
    ) -> Json:
        return {
            **_head(item, None),
            "type": "group",
            **rest,
            "repeats": True,
            "extension": [{"url": MAX_OCCURS, "valueInteger": item.max_rows}],
            "item": [fhir_type(f).question(site, catalog, item, f, {}) for f in item.fields],
        }

    def response_items(
        self, site: FhirSite, catalog: Catalog, item: Item, value: Any
    ) -> list[Json]:
        groups = []
        for row in value:  # one group per row, in the patient's order
            fields = [
                {**_head(item, f), "answer": answers}
                for f in item.fields
                if row.get(f.id) not in (None, [])
                and (
                    answers := fhir_type(f).answers(
                        field_vocabulary(site, catalog, item, f), row[f.id]
                    )
                )
            ]
            if fields:
                groups.append({**_head(item, None), "item": fields})
        return groups


FHIR_TYPES: dict[str, FhirType] = {
    "single": FhirSingle(),
    "multi": FhirMulti(),
    "scale": FhirScale(),
    "year": FhirYear(),
    "text": FhirText(),
    "grid": FhirGrid(),
    "list": FhirList(),
}


def fhir_type(question: Question) -> FhirType:
    """The FHIR reading of a question's answer type."""
    return FHIR_TYPES[question.type]


@cache
def item_vocabulary(site: FhirSite, catalog: Catalog, item: Item) -> Vocabulary | None:
    """The codes of a question: its answer set's, its own options, 0-10, or the non-answers."""
    return fhir_type(item).vocabulary(site, catalog, item, item.id)


@cache
def field_vocabulary(
    site: FhirSite, catalog: Catalog, item: Item, field: ListField
) -> Vocabulary | None:
    """The codes of one field of a repeating list."""
    return fhir_type(field).vocabulary(site, catalog, field, f"{item.id}.{field.id}")


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
