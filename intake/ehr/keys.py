"""The service's signing key for SMART Backend Services: make it, store it, publish its public half.

The EHR knows the service by its public key (a JWKS registered once); the private key never leaves
``EHR_KEY_PATH``. The file is written whole or not at all, readable by the service's user only,
and never silently replaced: a new key means registering it with the EHR again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from intake.ehr.keyspec import KEYGEN_HINT, KeyAlg

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

#: NIST SP 800-57 puts RSA 3072 level with the 128-bit security of P-256; P-384 is above both.
RSA_BITS = 3072

#: RFC 7638 section 3.2: the members a thumbprint covers, per key type.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


class KeyFileError(ValueError):
    """The key file is missing, unreadable, or not a key for the configured algorithm."""


class KeyExistsError(KeyFileError):
    """A key is already there; replacing it would lock the service out until re-registered."""


def generate_private_key(alg: KeyAlg) -> PrivateKey:
    """A new private key for ``alg``: P-384 for ES384, RSA 3072 for RS384."""
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "RS384":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    raise ValueError(f"Unsupported key algorithm {alg!r}; use ES384 or RS384.")


def write_private_key(key: PrivateKey, path: Path, *, force: bool = False) -> None:
    """Write ``key`` as an unencrypted PKCS8 PEM with mode 0600, atomically.

    The PEM goes to a private temporary file in the same directory first, then takes the final
    name in one step: a crash leaves no half-written key. Without ``force`` an existing key is
    kept and ``KeyExistsError`` raised.
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not force:
        raise KeyExistsError(_exists_message(path))
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # the umask may only narrow it, but be explicit
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        if force:
            os.replace(temporary, path)
        else:
            _link_without_replacing(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _link_without_replacing(temporary: Path, path: Path) -> None:
    """Give the finished file its name unless that name is taken, with no window for a race."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise KeyExistsError(_exists_message(path)) from None
    except OSError:
        # A file system without hard links: check then rename, a race only another keygen can win.
        if path.exists():
            raise KeyExistsError(_exists_message(path)) from None
        os.replace(temporary, path)


def _exists_message(path: Path) -> str:
    return (
        f"A private key already exists at {path}. The EHR knows this service by it: replacing "
        "it stops uploads until the new public key is registered. Use --force to replace it."
    )


def generate_key_file(path: Path, alg: KeyAlg, *, force: bool = False) -> PrivateKey:
    """Make a new key for ``alg`` and store it at ``path``; returns the key."""
    key = generate_private_key(alg)
    write_private_key(key, path, force=force)
    return key


def load_private_key(path: Path, alg: KeyAlg | None = None) -> PrivateKey:
    """Read the PEM private key at ``path``; with ``alg``, also check it fits that algorithm."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"No private key at {path}: {KEYGEN_HINT}.") from None
    except OSError as error:
        raise KeyFileError(f"Cannot read the private key at {path}: {error.strerror}.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(
            f"{path} is not an unencrypted PEM private key: {KEYGEN_HINT} (with --force)."
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; use ES384 or RS384 keys.")
    if alg is not None:
        check_key_fits(key, alg, path)
    return key


def check_key_fits(key: PrivateKey, alg: KeyAlg, path: Path | str = "the key") -> None:
    """Refuse a key that cannot sign ``alg``: a P-256 key under ES384 would fail at the EHR."""
    if alg == "ES384":
        if not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"):
            raise KeyFileError(
                f"EHR_KEY_ALG is ES384 but {path} is not a P-384 key: set EHR_KEY_ALG to match "
                f"the key, or {KEYGEN_HINT} (with --force)."
            )
    elif not (isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048):
        raise KeyFileError(
            f"EHR_KEY_ALG is RS384 but {path} is not an RSA key of 2048 bits or more: set "
            f"EHR_KEY_ALG to match the key, or {KEYGEN_HINT} (with --force)."
        )


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint: SHA-256 over the required members, sorted, no whitespace."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise ValueError(f"No thumbprint rule for key type {jwk.get('kty')!r}.")
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def public_jwk(private_key: PrivateKey, alg: KeyAlg) -> dict[str, str]:
    """The public half of ``private_key`` as a JWK, with ``kid`` = its RFC 7638 thumbprint."""
    check_key_fits(private_key, alg)
    public = private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        encoded = ECAlgorithm.to_jwk(public, as_dict=True)
        jwk = {name: str(encoded[name]) for name in ("kty", "crv", "x", "y")}
    else:
        encoded = RSAAlgorithm.to_jwk(public, as_dict=True)
        # PyJWT adds key_ops; RFC 7517 advises against using it together with "use".
        jwk = {name: str(encoded[name]) for name in ("kty", "n", "e")}
    return {**jwk, "alg": alg, "use": "sig", "kid": jwk_thumbprint(jwk)}


def key_id(private_key: PrivateKey, alg: KeyAlg) -> str:
    """The ``kid`` the EHR finds the key by in the registered JWKS."""
    return public_jwk(private_key, alg)["kid"]


def public_jwks(private_key: PrivateKey, alg: KeyAlg) -> dict[str, list[dict[str, str]]]:
    """The JWK Set to register with the EHR (or serve at a JWKS URL): one public signing key."""
    return {"keys": [public_jwk(private_key, alg)]}
