"""What the database keeps of a secret token: its SHA-256, never the token itself.

Patient links, clinician sessions, password links and API tokens all carry 256 random bits: with
nothing to guess, a plain hash needs no salt or slow hashing, and finding a token is one index read.
"""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``: the only form in which any token is stored or looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
