"""The SMART Backend Services key: generation, the key file, the published JWKS, the assertion."""

from __future__ import annotations

import ast
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask

from intake.ehr.auth import client_assertion
from intake.ehr.keys import (
    KeyAlg,
    KeyExistsError,
    KeyFileError,
    generate_key_file,
    jwk_thumbprint,
    load_private_key,
    public_jwks,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN_URL = "https://auth.example.org/oauth2/token"
CLIENT_ID = "intake-service"

# RFC 7638 section 3.1: this RSA key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
RFC7638_KEY = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would leave a new file world-readable: the key must be 0600 regardless."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_the_thumbprint_matches_the_rfc_7638_example() -> None:
    assert jwk_thumbprint(RFC7638_KEY) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.usefixtures("permissive_umask")
@pytest.mark.parametrize(
    ("alg", "kind", "members"),
    [("ES384", ec.EllipticCurvePrivateKey, {"crv", "x", "y"}), ("RS384", rsa.RSAPrivateKey, {"n", "e"})],
)  # fmt: skip
def test_a_new_key_is_private_and_publishes_only_its_public_half(
    tmp_path: Path, alg: KeyAlg, kind: type, members: set[str]
) -> None:
    path = tmp_path / "instance" / "ehr_private_key.pem"
    key = generate_key_file(path, alg)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left
    loaded = load_private_key(path, alg)
    assert isinstance(loaded, kind)
    assert loaded.private_numbers() == key.private_numbers()
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        assert loaded.curve.name == "secp384r1"
    else:
        assert isinstance(loaded, rsa.RSAPrivateKey)
        assert loaded.key_size == 3072

    [jwk] = public_jwks(loaded, alg)["keys"]
    assert set(jwk) == {"kty", "alg", "use", "kid"} | members  # no "d", "p", "q": nothing private
    assert (jwk["alg"], jwk["use"]) == (alg, "sig")
    assert jwk["kid"] == jwk_thumbprint(jwk)
    assert jwk == public_jwks(key, alg)["keys"][0]  # stable: the same key, the same kid


def test_an_existing_key_is_kept_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    generate_key_file(path, "ES384")
    first = path.read_bytes()
    with pytest.raises(KeyExistsError, match="--force"):
        generate_key_file(path, "ES384")
    assert path.read_bytes() == first
    generate_key_file(path, "ES384", force=True)
    assert path.read_bytes() != first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]


def test_a_missing_or_mismatched_key_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    with pytest.raises(KeyFileError, match="ehr-keygen"):
        load_private_key(path)
    generate_key_file(path, "ES384")
    with pytest.raises(KeyFileError, match="EHR_KEY_ALG is RS384"):
        load_private_key(path, "RS384")
    path.write_text("not a key")
    with pytest.raises(KeyFileError, match="not an unencrypted PEM private key"):
        load_private_key(path)


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_the_client_assertion_verifies_with_the_published_jwks(tmp_path: Path, alg: KeyAlg) -> None:
    key = generate_key_file(tmp_path / "key.pem", alg)
    jwks = public_jwks(key, alg)
    before = int(time.time())
    assertion = client_assertion(client_id=CLIENT_ID, token_url=TOKEN_URL, private_key=key, alg=alg)

    header = jwt.get_unverified_header(assertion)
    assert header == {"alg": alg, "kid": jwks["keys"][0]["kid"], "typ": "JWT"}
    # What the EHR does: find the registered key by kid, then verify signature and claims.
    public = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(
        assertion,
        public,
        algorithms=[alg],
        audience=TOKEN_URL,
        issuer=CLIENT_ID,
        options={"require": ["iss", "sub", "aud", "exp", "jti"]},
    )
    assert claims["sub"] == CLIENT_ID
    assert before < claims["exp"] <= int(time.time()) + 300  # five minutes at most
    assert len(claims["jti"]) >= 22  # 128 bits or more, base64url
    again = client_assertion(client_id=CLIENT_ID, token_url=TOKEN_URL, private_key=key, alg=alg)
    assert jwt.decode(again, public, algorithms=[alg], audience=TOKEN_URL)["jti"] != claims["jti"]


# --- the operator commands ------------------------------------------------------------------------


@pytest.fixture
def key_path(app: Flask, tmp_path: Path) -> Path:
    """Keep the commands away from the real instance folder."""
    path = tmp_path / "ehr" / "ehr_private_key.pem"
    app.config["EHR_KEY_PATH"] = str(path)
    return path


def test_ehr_keygen_writes_the_key_and_prints_the_jwks(app: Flask, key_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["intake", "ehr-keygen", "--alg", "RS384"])
    assert result.exit_code == 0, result.output
    jwks = json.loads(result.stdout)  # stdout holds the JWKS alone
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    [jwk] = jwks["keys"]
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS384" and "d" not in jwk
    assert jwk == public_jwks(load_private_key(key_path), "RS384")["keys"][0]
    assert str(key_path) in result.stderr
    assert "EHR_KEY_ALG=RS384" in result.stderr  # the app is configured for ES384

    again = runner.invoke(args=["intake", "ehr-keygen"])
    assert again.exit_code == 1
    assert "already exists" in again.output

    app.config["EHR_KEY_ALG"] = "RS384"
    shown = runner.invoke(args=["intake", "ehr-jwks"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == jwks


def test_ehr_keygen_force_replaces_the_key(app: Flask, key_path: Path) -> None:
    runner = app.test_cli_runner()
    first = json.loads(runner.invoke(args=["intake", "ehr-keygen"]).stdout)
    result = runner.invoke(args=["intake", "ehr-keygen", "--force"])
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    assert second["keys"][0]["alg"] == "ES384"
    assert second["keys"][0]["kid"] != first["keys"][0]["kid"]


def test_ehr_jwks_without_a_key_says_how_to_make_one(app: Flask, key_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["intake", "ehr-jwks"])
    assert result.exit_code == 1
    assert "ehr-keygen" in result.output


def test_ehr_check_reports_the_settings_problems(app: Flask, key_path: Path) -> None:
    runner = app.test_cli_runner()
    off = runner.invoke(args=["intake", "ehr-check"])
    assert off.exit_code == 0 and "off" in off.output
    app.config["EHR_FHIR_BASE_URL"] = "http://ehr.example.org/fhir"
    result = runner.invoke(args=["intake", "ehr-check"])
    assert result.exit_code == 1
    assert "use https" in result.stderr
    assert "EHR_TOKEN_URL is not set" in result.stderr
    assert "EHR_CLIENT_ID is not set" in result.stderr
    assert "ehr-keygen" in result.stderr


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    """The intake modules ``module`` imports (at module level only, or anywhere)."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("intake.")}


def test_the_key_module_and_the_settings_do_not_import_each_other() -> None:
    """The words both need live in intake.ehr.keyspec; the settings load the key module (and with
    it the crypto libraries) only inside the check of a configured key."""
    assert "intake.ehr.settings" not in _imports("intake.ehr.keys", top_level_only=False)
    assert "intake.ehr.keys" not in _imports("intake.ehr.settings", top_level_only=True)
    assert _imports("intake.ehr.keyspec", top_level_only=False) == set()
