"""Search keys for names: what a clinician types matches however the name was written.

"Müller", "muller" and "MÜLLER" all become "muller"; "O'Brien-Smith" becomes "o brien smith".
The keys hold only a-z, 0-9 and single spaces, so a prefix search is an index range on any
database and any collation (see intake.reads.worklist).
"""

from __future__ import annotations

import re
import unicodedata

#: Letters with no ASCII decomposition that still have a usual spelling (as in PDF file names).
_ASCII_EXTRA = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th", "ı": "i"}
)
KEY_LENGTH = 200


def search_key(text: str) -> str:
    """Lower-case ASCII letters and digits, words separated by one space."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_ASCII_EXTRA))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())[:KEY_LENGTH]
