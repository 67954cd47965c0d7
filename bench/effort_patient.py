"""The effort counter's patient (``bench/effort.py``): one path through the form on the Flask
test client, and what it asked for, counted from the pages it loaded.

With ``scripts``, each page goes as a browser running its scripts would take it: the
follow-ups it draws hidden appear and are answered on the same load, and "Add more detail"
appears where the answers call for it, as ``static/reveal.js`` decides from the page's own data
(``bench/effort_pages.with_scripts``); "Same as for <topic>" fills its block in place where
``static/same.js`` does, from the answers the page carries for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from bench.effort_answers import answer_for
from bench.effort_pages import PageReader, read_page, with_scripts

SECONDS_CHOICE = 7
SECONDS_TEXT = 20
SECONDS_LIST_ENTRY = 12
#: An assumption: a tap, a server answer in milliseconds, a phone's network, and the eye
#: finding its place again at the top of the new page.
PAGE_LOAD_SECONDS = 3
DOB = date(1984, 3, 9)


@dataclass
class Effort:
    """What one path through the form asked for."""

    choices: int = 0
    texts: int = 0
    entries: int = 0
    #: The fields of those entries: choices and free texts.
    entry_choices: int = 0
    entry_texts: int = 0
    controls: int = 0
    page_loads: int = 0
    #: "Same as for <topic>" presses (each counted as a choice).
    same_presses: int = 0
    #: The lists shown, and those whose page adds a further entry in place (scripts on).
    lists: set[str] = field(default_factory=set)
    lists_in_place: set[str] = field(default_factory=set)

    @property
    def questions(self) -> int:
        return self.choices + self.texts + self.entries

    @property
    def seconds(self) -> int:
        return (
            self.choices * SECONDS_CHOICE
            + self.texts * SECONDS_TEXT
            + self.entries * SECONDS_LIST_ENTRY
            + self.page_loads * PAGE_LOAD_SECONDS
        )

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    @property
    def minutes_by_field(self) -> float:
        """The same with each entry's fields priced as questions instead of 12 s an entry."""
        fields = self.entry_choices * SECONDS_CHOICE + self.entry_texts * SECONDS_TEXT
        return (self.seconds - self.entries * SECONDS_LIST_ENTRY + fields) / 60

    def __str__(self) -> str:
        return (
            f"{self.questions} questions ({self.choices} choices, {self.texts} free texts, "
            f"{self.entries} list entries of {self.entry_choices + self.entry_texts} fields), "
            f"{self.controls} controls, {self.page_loads} page loads "
            f"({self.page_loads * PAGE_LOAD_SECONDS / 60:.1f} min of it); "
            f"entries priced field by field: {self.minutes_by_field:.1f} min"
            + (f"; {self.same_presses} 'Same as' presses" if self.same_presses else "")
        )


class Patient:
    """One patient on one path, signed in on a test client of ``app``."""

    def __init__(
        self, app: Any, yes: bool, detail: bool, alike: bool = False, scripts: bool = False
    ) -> None:
        from forms.loader import get_catalog
        from intake import db
        from intake.intakes.invitations import create_invitation

        self.client = app.test_client()
        self.catalog = get_catalog()
        self.gates = {
            c.item for i in self.catalog.items() if i.enable_when for c in i.enable_when.conditions
        }
        self.yes, self.detail, self.alike, self.scripts = yes, detail, alike, scripts
        self.effort = Effort()
        self._seen: set[str] = set()
        self._entries: set[str] = set()
        with app.app_context(), db.transaction() as tx:
            new = create_invitation(tx, "Effort Bench-Patient", DOB, None, 14)
            self.token = new.token

    def load(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        self.effort.page_loads += 1
        return str(response.get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any]) -> str:
        response = self.client.post(url, data=data)
        if response.status_code != 303:
            raise AssertionError(f"POST {url} answered {response.status_code}, not a redirect")
        return str(response.headers["Location"])

    def answer(self, item_id: str) -> dict[str, Any]:
        """The fields this patient's answer to a question posts."""
        from forms.builder import posted_fields

        item = self.catalog.item(item_id)
        return dict(posted_fields(item, answer_for(self.catalog, self.gates, item, self.yes)))

    def answer_copy(self, copy: dict[str, list[str]], item_id: str) -> dict[str, Any]:
        """The fields posted once "Same as" filled ``copy`` in: its answers, else this patient's."""
        return {item_id: copy[item_id]} if item_id in copy else self.answer(item_id)

    def count(self, page: PageReader, posted: dict[str, Any]) -> None:
        """Count the page's answer places this post answers, each once over the path."""
        for unit in page.units:
            names = {name for _, name in unit.inputs}
            if unit.template or not names & posted.keys() or not unit.inputs:
                continue
            key = unit.key or sorted(names)[0]
            if key in self._seen:
                continue
            self._seen.add(key)
            self.effort.controls += len(unit.inputs)
            if unit.entry:
                self._entries.add(unit.entry)
            if unit.entry and unit.text:
                self.effort.entry_texts += 1
            elif unit.entry:
                self.effort.entry_choices += 1
            elif unit.text:
                self.effort.texts += 1
            else:
                self.effort.choices += 1
        self.effort.entries = len(self._entries)

    def step(self, url: str) -> str:
        """One step: answer what it shows, press its buttons, until it moves on."""
        path = urlsplit(url).path
        html = self.load(url)
        opened_detail = False
        for _ in range(20):
            page = read_page(html)
            answer = self.answer
            if self.scripts:
                shown, offer = with_scripts(page, answer)
            else:
                shown, offer = page.shown, int("more" in page.actions)
            more = self.detail and bool(offer) and not opened_detail
            same = page.same_in(shown) if self.alike else None
            in_place = bool(same) and self.scripts and page.fills_in_place() and not more
            if same and in_place:  # same.js fills the block in: one press, and no page load
                self.press_same(path, same)
                answer = partial(self.answer_copy, page.same_copy)
                shown, offer = with_scripts(page, answer)
            data = {k: v for item_id in shown for k, v in answer(item_id).items()}
            lists = {list_id for list_id in page.lists if list_id in shown}
            self.effort.lists |= lists
            self.effort.lists_in_place |= lists & page.lists_in_place
            action = "next"
            if same and not in_place:  # the block is the button's to fill, not answered
                block = self.block_ids(path)
                data = {k: v for k, v in data.items() if k.split("-", 1)[0] not in block}
            if more:
                action, opened_detail = "more", True
            elif same and not in_place:
                action = self.press_same(path, same)
            self.count(page, data)
            form = {**data, "_version": page.version, "_shown": shown, "action": action}
            where = self.post(path, form)
            if urlsplit(where).path != path:
                return where
            html = self.load(where)
        raise AssertionError(f"{path} never moved on")

    def block_ids(self, path: str) -> set[str]:
        """The ids of the reaction block of the step at ``path``."""
        section = self.catalog.section(path.rsplit("/", 1)[-1])
        return set(section.reaction.parts.values()) if section.reaction else set()

    def press_same(self, path: str, same: str) -> str:
        """ "Same as for <topic>": one choice; the block's questions are then filled in, never
        answered one by one (those that appear with the copy included)."""
        self._seen.update(f"q-{item_id}" for item_id in self.block_ids(path))
        self.effort.choices += 1
        self.effort.same_presses += 1
        return same

    def walk(self) -> Effort:
        assert self.client.get(f"/start?t={self.token}").status_code == 303
        self.load("/verify")
        day = {"dob-day": DOB.day, "dob-month": DOB.month, "dob-year": DOB.year}
        where = self.post("/verify", day)
        self.load(where)
        where = self.post(urlsplit(where).path, {})
        while urlsplit(where).path.startswith("/step/"):
            where = self.step(where)
        assert urlsplit(where).path == "/review", where
        self.load(where)
        self.effort.page_loads += 1  # the done page, after "Send" (not pressed: no PDF made)
        return self.effort
