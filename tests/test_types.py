"""The answer types: one table for the form, one for FHIR, and each type's own round trips."""

from __future__ import annotations

from typing import Any

import pytest

from forms.loader import get_catalog
from forms.schema import Item
from forms.types import FIELD_TYPES, TYPES
from intake.fhir.answer_types import FHIR_TYPES

CATALOG = get_catalog()
ITEMS = list(CATALOG.items())


def test_every_answer_type_has_a_fhir_reading_and_no_other() -> None:
    assert set(FHIR_TYPES) == set(TYPES)


def test_the_catalog_uses_every_answer_type() -> None:
    """A type no question uses is untested by the real catalog: it would be dead code."""
    assert {item.type for item in ITEMS} == set(TYPES)
    assert {f.type for item in ITEMS for f in item.fields} == set(FIELD_TYPES)


def _example(item: Item) -> Any:
    return item.kind.example(item)


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_an_example_answer_survives_the_page_and_uses_known_codes(item: Item) -> None:
    """What the demo would answer is pre-filled and parsed back unchanged, and offers only codes
    the question has (a type whose parse or pre-fill loses a value fails here)."""
    value = _example(item)
    assert item.kind.uses_known_codes(item, value)
    assert item.kind.parse(item, item.kind.prefill(item, value)) == value


@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_a_browser_post_of_an_example_names_the_item(item: Item) -> None:
    posted = item.kind.posted(item, item.id, _example(item))
    assert posted and all(name == item.id or name.startswith(item.id + "-") for name in posted)


def test_a_stored_code_the_catalog_no_longer_has_is_caught() -> None:
    item = CATALOG.item("general.completed_by")
    assert item.kind.uses_known_codes(item, "self")
    assert not item.kind.uses_known_codes(item, "robot")
    food = CATALOG.item("diet.food_list")
    assert not food.kind.uses_known_codes(food, [{"symptoms": ["gills"]}])
    assert not food.kind.uses_known_codes(food, [{"no_such_field": "x"}])
