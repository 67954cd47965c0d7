"""Minimum versions: what is installed, and what pyproject pins, is at least each floor below.

pip-audit cannot reach a vulnerability database from these machines and then reports nothing
(PITFALLS), so the floors that matter are written down here, each with its reason. A floor moves
up when a fix the service relies on is released; it never moves down.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent

#: distribution -> (lowest acceptable version, why).
FLOORS: dict[str, tuple[str, str]] = {
    "weasyprint": ("70", "every earlier url_fetcher guard had a bypass, fixed in 68, 69 or 70"),
    "flask": ("3.1.1", "the signing key fallbacks are used to verify, never to sign (3.1.1)"),
    "werkzeug": ("3.0.6", "multipart form parsing no longer exhausts memory (CVE-2024-49767)"),
    "jinja2": ("3.1.6", "renders every page and the PDF: the |attr sandbox escape is fixed"),
    "sqlalchemy": ("2.0", "the 2.0 API: DeclarativeBase, Mapped, select() with scalars()"),
    "cryptography": ("44.0.1", "its bundled OpenSSL has the fix for CVE-2024-12797"),
    "pyjwt": ("2.10.1", "the issuer check is an exact match again (CVE-2024-53861)"),
    "httpx": ("0.23.0", "URLs are parsed strictly (CVE-2021-41945); redirects are not followed"),
    "gunicorn": ("23.0.0", "request smuggling fixes (CVE-2024-1135, CVE-2024-6827)"),
    "pyyaml": ("5.4", "the full loader no longer runs code (CVE-2020-14343); we use safe_load"),
    "argon2-cffi": ("21.2.0", "argon2.profiles, which ARGON2_PROFILE names"),
    "pydantic": ("2.0", "the ValidationError that fhir.resources 8 raises"),
    "psycopg": ("3.0", "the psycopg 3 driver that postgresql:// URLs load"),
}

pytestmark = pytest.mark.no_database


def _pins() -> dict[str, Version]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        lines = tomllib.load(file)["project"]["dependencies"]
    pins = {}
    for requirement in map(Requirement, lines):
        (spec,) = requirement.specifier  # exact pins only (tests/test_dependencies.py)
        pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_installed_version_is_at_least_the_floor(name: str) -> None:
    floor, why = FLOORS[name]
    installed = version(name)
    assert Version(installed) >= Version(floor), f"{name} {installed} < {floor}: {why}"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_pinned_version_is_at_least_the_floor(name: str) -> None:
    floor, why = FLOORS[name]
    pinned = _pins().get(canonicalize_name(name))
    assert pinned is not None, f"{name} has a floor, so pyproject pins it"
    assert pinned >= Version(floor), f"{name} pinned at {pinned}, below {floor}: {why}"


def test_python_is_at_least_3_11() -> None:
    assert sys.version_info >= (3, 11)  # pyproject's requires-python; tomllib, ExceptionGroup
