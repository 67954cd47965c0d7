"""Every patient-facing string can be translated without touching code."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from forms.loader import get_catalog

ROOT = Path(__file__).resolve().parent.parent


def _messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        from babel.messages.frontend import parse_mapping_cfg

        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={
            "_": None,
            "gettext": None,
            "_l": None,
            "lazy_gettext": None,
            "ngettext": (1, 2),
        },
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_catalog_and_page_strings_are_extracted_for_translation() -> None:
    messages = _messages()
    catalog = get_catalog()
    for item in catalog.items():
        assert item.text in messages, item.id
        for option in item.options:
            assert option.label in messages, (item.id, option.code)
    for section in catalog.sections:
        assert section.title in messages
    for page_string in (
        "Check your answers",
        "Save and finish later",
        "Step %(n)s of %(m)s",
        "Confirm your date of birth",
        "Please choose from the answers shown.",
    ):
        assert page_string in messages, page_string
