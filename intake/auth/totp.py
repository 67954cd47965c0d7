"""Two-factor sign-in for clinician accounts: time-based one-time codes (RFC 6238) from an
authenticator app.

Why it is built this way:

- The secret is stored Fernet-encrypted (AES-CBC with an HMAC) under a key derived from
  ``TOTP_ENCRYPTION_KEY``, or from ``SECRET_KEY`` when that is unset: a copy of the database alone
  (a lost backup) does not give anyone the second factor, and secrets never reach a log.
- A code is accepted for the time step before and after the current one (30 s either way, for
  phone clocks that drift), and the step of the last accepted code is stored: neither that code
  nor an older one works again, so a code seen over someone's shoulder cannot be replayed.
- Wrong codes count in ``intake.auth.throttle`` under the account's key, exactly like wrong passwords.
  A right password for an account with two-factor sign-in counts as nothing there
  (``accounts.authenticate``): only a right code ends a streak, or knowing the password would
  reset the count between guesses at the code.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from markupsafe import Markup
from sqlalchemy import update
from sqlalchemy.orm import Session

from intake.auth import passwords, throttle
from intake.auth.accounts import Settings
from intake.clock import utcnow
from intake.models import User, UserSession
from intake.qr import qr_svg

#: Time steps either side of the current one whose codes still count (30 s each).
DRIFT_STEPS = 1
_KDF_INFO = b"intake: TOTP secrets at rest"


@dataclass(frozen=True)
class CodeCheck:
    """What ``check_code`` decided; ``wait`` is how long until the next try can be checked."""

    outcome: Literal["ok", "failed", "replayed", "locked"]
    wait: timedelta = timedelta(0)


def _fernet(key_material: str) -> Fernet:
    # HKDF with its own label: the Fernet key is not the SECRET_KEY that also signs cookies.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(
        key_material.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, key_material: str) -> str:
    return _fernet(key_material).encrypt(secret.encode("ascii")).decode("ascii")


def unseal(sealed: str | None, key_material: str) -> str | None:
    """The secret, or None when there is none or it was sealed under another key."""
    if not sealed:
        return None
    try:
        return _fernet(key_material).decrypt(sealed.encode("ascii")).decode("ascii")
    except InvalidToken:
        return None


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def enrolment_secret(db: Session, user: User, key_material: str) -> str:
    """The secret to enrol with: the one already waiting for confirmation, so reloading the page
    shows the QR code the person may have scanned already, or else a new one."""
    if is_enabled(user):
        raise ValueError("two-factor sign-in is already on for this account")
    secret = unseal(user.totp_secret, key_material)
    if secret is None:
        secret = pyotp.random_base32()  # 160 bits, the length RFC 4226 recommends
        user.totp_secret = seal(secret, key_material)
        user.totp_last_step = None
        db.flush()
    return secret


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_code_svg(uri: str, title: str) -> Markup:
    """The enrolment QR code for an authenticator app."""
    return qr_svg(uri, title=title, svgclass="qr-code")


def format_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is (the current one or one either side), or None."""
    totp = pyotp.TOTP(secret)
    code = normalize_code(code)
    current = totp.timecode(now)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return current + offset
    return None


def confirm_enrolment(
    db: Session, user: User, code: str, key_material: str, keep_session: str | None
) -> bool:
    """Turn two-factor sign-in on when ``code`` comes from the secret being enrolled.

    Every other session of the account ends: they were opened with the password alone.
    ``keep_session`` is the id (token hash) of the session doing this, which goes on.
    """
    secret = unseal(user.totp_secret, key_material)
    now = utcnow()
    step = matching_step(secret, code, now) if secret and not is_enabled(user) else None
    if step is None:
        return False
    user.totp_enabled_at = now
    user.totp_last_step = step
    db.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.id != (keep_session or ""),
        )
        .values(revoked_at=now)
    )
    return True


def turn_off(user: User) -> None:
    """Forget the secret: the account signs in with its password alone again."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None


def _use_code(user: User, code: str, key_material: str, now: datetime) -> str:
    secret = unseal(user.totp_secret, key_material) if is_enabled(user) else None
    step = matching_step(secret, code, now) if secret else None
    if step is None:
        return "failed"
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return "replayed"
    user.totp_last_step = step
    return "ok"


def check_code(
    db: Session,
    user: User,
    code: str,
    address: str | None,
    settings: Settings,
    key_material: str,
    password: str | None = None,
) -> CodeCheck:
    """Check a code (and ``password`` too, when given) under the sign-in limits.

    While the account or address is locked nothing is checked. A wrong or replayed code counts as
    a failed sign-in; a right one ends the account's streak and can never be used again.
    """
    key = throttle.account_key(user.email)
    throttle.serialize(db, key, address)
    # Read the last used step again now that no other worker can be checking a code for it.
    db.refresh(user, with_for_update=True)
    now = utcnow()
    wait = throttle.wait_needed(db, key, address, settings.limits, now)
    if wait:
        return CodeCheck("locked", wait)
    outcome = "failed"
    profile = settings.argon2_profile
    if password is None or passwords.verify_password(
        user.password_hash or passwords.dummy_hash(profile), password, profile
    ):
        outcome = _use_code(user, code, key_material, now)
    throttle.record_attempt(db, key, address, outcome == "ok", now)
    if outcome == "ok":
        return CodeCheck("ok")
    wait = throttle.wait_needed(db, key, address, settings.limits, now)
    return CodeCheck("replayed" if outcome == "replayed" else "failed", wait)
