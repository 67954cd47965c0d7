"""Names in plain ASCII: search keys, so that what a clinician types matches however the name was
written, and the ASCII spelling of the PDF's download name (intake.pdf.document).

"Müller", "muller" and "MÜLLER" all become "muller"; "O'Brien-Smith" becomes "o brien smith".
The keys hold only a-z, 0-9 and single spaces, so a prefix search is an index range on any
database and any collation (see intake.reads.worklist).
"""

from __future__ import annotations

import re
import unicodedata

#: Letters with no ASCII decomposition that still have a usual ASCII spelling.
_ASCII_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
    }
)
KEY_LENGTH = 200


def ascii_spelling(text: str) -> str:
    """``text`` in ASCII as far as it can be spelled so: accents dropped, "ß" as "ss", "Ø" as "O";
    a letter with no ASCII spelling (山, Ж) is left out."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_EXTRA))
    return folded.encode("ascii", "ignore").decode("ascii")


def search_key(text: str) -> str:
    """Lower-case ASCII letters and digits, words separated by one space."""
    ascii_only = ascii_spelling(text.casefold())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())[:KEY_LENGTH]
