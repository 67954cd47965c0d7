"""A step page as a browser without scripts has it, and answers set straight in the database:
helpers of the tests of follow-ups shown in place and of list entries (test_reveal, test_entries)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from forms.loader import get_catalog
from intake import db
from intake.intakes.invitations import find_by_public_id


class WithoutScripts(HTMLParser):
    """A step page as a browser without scripts has it: the inputs it shows and sends, and the
    follow-ups drawn hidden (with their conditions) or shown with them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sent: list[str] = []  # names of the inputs a post sends (but buttons)
        self.shown: list[str] = []  # the _shown values it sends
        self.blocks: dict[str, dict[str, Any]] = {}
        self.inert: list[str] = []  # names of inputs hidden, disabled or in a template
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        within = bool(self._stack and self._stack[-1][1])
        if tag in ("input", "textarea"):
            name = a.get("name", "")
            if within or "disabled" in a:
                self.inert.append(name)
            elif name == "_shown":
                self.shown.append(a["value"])
            elif a.get("type") != "hidden":
                self.sent.append(name)
            return
        if "data-when" in a:
            self.blocks[a["id"].removeprefix("q-")] = {
                "when": json.loads(a["data-when"]),
                "hidden": "hidden" in a and "disabled" in a,
                "tag": tag,
            }
        inert = within or tag == "template" or "hidden" in a or "disabled" in a
        if tag not in ("br", "img", "meta", "link", "hr"):
            self._stack.append((tag, inert))

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self._stack) - 1, -1, -1):
            if self._stack[n][0] == tag:
                del self._stack[n:]
                return


def drawn(client: FlaskClient, section: str) -> WithoutScripts:
    parser = WithoutScripts()
    parser.feed(client.get(f"/step/{section}").get_data(as_text=True))
    return parser


def set_answers(app: Flask, public_id: str, answers: dict[str, Any], detail: bool = False) -> None:
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None
        intake.answers = answers
        if detail:
            intake.detail_sections = [s.id for s in get_catalog().sections]
