"""Replay stored answers as the form fields a browser would post (test helper)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from forms.builder import posted_fields
from forms.schema import Item


def section_formdata(items: Iterable[Item], answers: dict[str, Any]) -> dict[str, Any]:
    """The posted fields for every item of ``items`` that has an answer."""
    data: dict[str, Any] = {}
    for item in items:
        if item.id in answers:
            data.update(posted_fields(item, answers[item.id]))
    return data


#: Stress's reaction block answered with two reactions (what "Same as for <topic>" copies).
STRESS = {
    "stress.reaction.noticed": ["hives", "flushing"],
    "stress.reaction.onset": "minutes",
    "stress.reaction.how_often": "most_times",
}
