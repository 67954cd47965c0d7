"""The text a person reads: of a PDF (through pdftotext, the most robust extractor here) and of a
page (without markup, scripts or the patient's own words)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

#: The patient's own words on a page: quoted as typed, never held to the service's wording.
PATIENT_TEXT = re.compile(r'<(\w+) class="patient-text">.*?</\1>', re.S)
TAGS = re.compile(r"<[^>]+>")


def pdf_text(data: bytes, tmp_path: Path, *args: str) -> str:
    """pdftotext output; pages are separated by form feeds."""
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *args, str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def visible_text(html: str) -> str:
    """Page text a person reads, without patient text, scripts or markup."""
    html = PATIENT_TEXT.sub(" ", html)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<input type="hidden"[^>]*>', " ", html)
    return TAGS.sub(" ", html)
