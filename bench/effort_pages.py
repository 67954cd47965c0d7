"""What a step page offers, read from its HTML for the effort counter (``bench/effort.py``).

Its answer places, the ``_shown`` ids a browser posts, its version and its buttons; and what
its scripts do without a page load (``intake/static/reveal.js`` and ``entries.js``): each
follow-up drawn hidden with the conditions that show it (``data-when``), and each list's
``<template>`` entry. ``shown_with_scripts`` decides as ``reveal.js`` does, from that data
alone: the catalog only says what a patient answers, never what a page shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any


@dataclass
class Unit:
    """One place to answer on a page, with the inputs that are its own (not a nested unit's)."""

    key: str
    entry: str | None
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    #: The follow-up the page may show or hide that holds it (its item id), if any.
    block: str | None = None
    #: In a list's template entry: not on the page until a script adds it.
    template: bool = False

    @property
    def text(self) -> bool:
        return any(kind in ("textarea", "text") for kind, _ in self.inputs)


@dataclass(frozen=True)
class Block:
    """A follow-up the page shows or hides itself: its conditions, and whether it was drawn
    hidden."""

    item: str
    conditions: tuple[Mapping[str, Any], ...]
    hidden: bool


class PageReader(HTMLParser):
    """The answer places of a step page (see the templates of ``templates/patient/``), its
    ``_shown`` ids, its version, the actions its buttons offer, its follow-ups shown in place
    and the lists that add an entry in place."""

    UNIT_CLASSES = ("question", "grid-row", "row-field", "year")
    TAGS = ("div", "fieldset", "p", "label", "span", "legend", "ul", "li", "a", "template")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[Unit] = []
        self.shown: list[str] = []
        self.version = ""
        self.actions: set[str] = set()
        self.blocks: dict[str, Block] = {}  # in page order
        #: The lists on the page (item ids), and those whose entries are added in place.
        self.lists: list[str] = []
        self.lists_in_place: set[str] = set()
        #: "Add more detail": the optional questions it counts, each with its conditions.
        self.offer: list[Mapping[str, Any]] = []
        #: "Same as for <topic>": its button's value, and the follow-up holding it, if any;
        #: the questions it fills and its answers to them, which ``same.js`` fills in place.
        self.same: tuple[str, str | None] | None = None
        self.same_names: list[str] = []
        self.same_copy: dict[str, list[str]] = {}
        self._in_copy = False
        # (tag, unit, list entry, block, in a template, hidden)
        self._stack: list[tuple[str, Unit | None, str | None, str | None, bool, bool]] = []

    def _open(self) -> Unit | None:
        units = [unit for _, unit, *_ in self._stack if unit is not None]
        return units[-1] if units else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "input" and a.get("type") == "hidden":
            if a.get("name") == "_shown":
                self.shown.append(a.get("value", ""))
            elif a.get("name") == "_version":
                self.version = a.get("value", "")
            return
        top = self._stack[-1] if self._stack else ("", None, None, None, False, False)
        _, _, entry, block, template, hidden = top
        value = a.get("value", "")
        if tag == "button" and a.get("name") == "action" and not (template or hidden):
            self.actions.add(value.split(":", 1)[0])  # a button one can press
        if tag == "button" and value.startswith("same:") and not template:
            self.same = (value, block)
        if tag == "input" and self._in_copy:
            self.same_copy.setdefault(a.get("name", ""), []).append(value)
        if tag in ("input", "textarea"):
            unit = None if template else self._open()  # a template's are not the page's
            if unit is not None:
                kind = "textarea" if tag == "textarea" else a.get("type", "text")
                if "year-box" in classes:
                    kind = "year"
                unit.inputs.append((kind, a.get("name", "")))
            return
        if tag not in self.TAGS:
            return
        hidden = hidden or "hidden" in a
        if "list-row" in classes:
            entry = a.get("id") or "entry"
        if "data-when" in a:
            block = a.get("id", "").removeprefix("q-")
            conditions = tuple(json.loads(a["data-when"]))
            self.blocks[block] = Block(block, conditions, "hidden" in a)
        if "list" in classes:
            self.lists.append(a.get("id", "").removeprefix("f-"))
        if "data-offer" in a:
            self.offer = json.loads(a["data-offer"])
        if tag == "template" and a.get("id") == "same-as-values":
            self.same_names, self._in_copy = a.get("data-names", "").split(), True
        if tag == "template" and "list-new" in classes and self.lists:
            self.lists_in_place.add(self.lists[-1])
        template = template or tag == "template"
        unit = None
        if any(c in classes for c in self.UNIT_CLASSES):
            unit = Unit(a.get("id", ""), entry, block=block, template=template)
            self.units.append(unit)
        self._stack.append((tag, unit, entry, block, template, hidden))

    def handle_endtag(self, tag: str) -> None:
        self._in_copy = self._in_copy and tag != "template"
        for n in range(len(self._stack) - 1, -1, -1):
            if self._stack[n][0] == tag:
                del self._stack[n:]
                return

    def fills_in_place(self) -> bool:
        """Whether ``same.js`` fills the copy in here: every question it sets is on the page."""
        names = {name for unit in self.units if not unit.template for _, name in unit.inputs}
        return bool(self.same_names) and set(self.same_names) <= names

    def same_in(self, shown: list[str]) -> str | None:
        """The "Same as for <topic>" button, where the page shows it with ``shown``."""
        if self.same is None or (self.same[1] is not None and self.same[1] not in shown):
            return None
        return self.same[0]


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


def _holds(condition: Mapping[str, Any], posted: Mapping[str, Any]) -> bool:
    """As reveal.js reads a condition from the boxes ticked (``posted``)."""
    value = posted.get(condition["item"])
    codes = set(value) if isinstance(value, list) else {value} if value else set()
    hit = bool(codes & set(condition["answers"]))
    return bool(codes) and not hit if condition["op"] == "!=" else hit


def with_scripts(
    page: PageReader, answer: Callable[[str], dict[str, Any]]
) -> tuple[list[str], int]:
    """The questions a page shows with scripts on once answered (``answer``: the fields a
    question's answer posts), as ``reveal.js`` decides: those it shows whatever the answers,
    then, in page order, each follow-up of a condition that holds with its gate shown. And how
    many optional questions "Add more detail" then offers (none: it is not there to press)."""
    shown = [item_id for item_id in page.shown if item_id not in page.blocks]
    posted: dict[str, Any] = {}
    for item_id in shown:
        posted.update(answer(item_id))

    def holds(conditions: tuple[Mapping[str, Any], ...]) -> bool:
        live = [c for c in conditions if c["item"] not in page.blocks or c["item"] in shown]
        return any(_holds(c, posted) for c in live)

    for block in page.blocks.values():
        if holds(block.conditions):
            shown.append(block.item)
            posted.update(answer(block.item))
    offered = [o for o in page.offer if not o["when"] or holds(tuple(o["when"]))]
    return shown, len(offered)
