"""Clinician passwords: Argon2id hashing and the rules a new password must meet.

The rules follow NIST SP 800-63B: a length floor, no composition rules, and a check against
passwords known to be common. A real breach corpus (hundreds of millions of entries) is not
shipped: ``intake/auth/data/common-passwords.txt`` holds about 350 of the most common passwords and
keyboard patterns. To stretch that small list, a password is also compared with its digits and
symbols trimmed from both ends ("Password2024!" counts as "password"), refused when it uses fewer
than five different characters, and refused when it contains the local part of the account's
email. Replace the file with a larger list (lower case, one a line) to tighten the check.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
#: Argon2 takes any length, but a 256 KiB password is no one's: bound the work per request.
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt"
_TRIM = "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "


class PasswordRejected(ValueError):
    """The password does not meet the rules; ``str()`` is a message for the person choosing it."""


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: str, email: str) -> None:
    """Raise ``PasswordRejected`` with the reason when ``password`` may not be used."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(_l("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(_l("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or lowered.strip(_TRIM) in common or lowered.strip(_TRIM) == "":
        raise PasswordRejected(
            _l("This password is too common. Choose one that is harder to guess.")
        )
    if len(set(lowered)) < 5:
        raise PasswordRejected(_l("Use more different characters."))
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= 3 and local_part in lowered:
        raise PasswordRejected(_l("The password must not contain your email address."))


@cache
def hasher(profile: str) -> PasswordHasher:
    """The Argon2id hasher for an ``argon2.profiles`` name (``RFC_9106_LOW_MEMORY`` by default)."""
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def hash_password(password: str, profile: str) -> str:
    return hasher(profile).hash(password)


def verify_password(password_hash: str, password: str, profile: str) -> bool:
    """True when the password matches; a damaged hash counts as no match."""
    try:
        return hasher(profile).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, profile: str) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    return hasher(profile).check_needs_rehash(password_hash)


@cache
def dummy_hash(profile: str) -> str:
    """A hash to verify against when there is no account, so a miss takes as long as a wrong
    password and response times do not tell which emails have accounts."""
    return hash_password("no account has this password", profile)
