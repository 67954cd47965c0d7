"""What the service's EHR signing key may be, and what to do when it is missing or wrong.

In a module of its own, importing nothing: the settings check (``intake.ehr.settings``, read on
every clinic intake page, without the crypto libraries) and the key file itself
(``intake.ehr.keys``, which loads them) both use these words, and neither imports the other for
them.
"""

from __future__ import annotations

from typing import Literal

KeyAlg = Literal["ES384", "RS384"]
KEY_ALGS: tuple[KeyAlg, ...] = ("ES384", "RS384")
#: What to do about a missing or wrong key, wherever that is the problem.
KEYGEN_HINT = "run `flask --app wsgi intake ehr-keygen` and register the printed JWKS with the EHR"
