"""Turn stored answer values into the form fields a browser would post (test helper)."""

from __future__ import annotations

from typing import Any

from forms.schema import NON_ANSWERS, Item, ListField


def _year(name: str, value: Any) -> dict[str, Any]:
    if value in NON_ANSWERS:
        return {f"{name}-unknown": value}
    return {f"{name}-year": str(value)}


def _field(name: str, f: ListField, value: Any) -> dict[str, Any]:
    if f.type == "year":
        return _year(name, value)
    return {name: value}


def formdata(item: Item, value: Any) -> dict[str, Any]:
    """The posted fields for one item's stored value."""
    if item.type == "grid":
        return {f"{item.id}-{row}": code for row, code in value.items()}
    if item.type == "year":
        return _year(item.id, value)
    if item.type == "scale":
        return {item.id: str(value)}
    if item.type == "list":
        data: dict[str, Any] = {}
        for n, row in enumerate(value):
            for f in item.fields:
                if f.id in row:
                    data.update(_field(f"{item.id}-{n}-{f.id}", f, row[f.id]))
        return data
    return {item.id: value}


def section_formdata(
    items: list[Item] | tuple[Item, ...], answers: dict[str, Any]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in items:
        if item.id in answers:
            data.update(formdata(item, answers[item.id]))
    return data
