"""Every library the service imports is a dependency it declares, pinned exactly.

A library that arrives only because another one needs it (itsdangerous through Flask, pydyf
through WeasyPrint) can change or vanish with that other one's next release: an import of ours
must be a pin of ours. The imports are read from the source, every ``import`` and ``from``
statement, including those inside functions and ``TYPE_CHECKING`` blocks.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
#: What runs in production: the packages, and the two entry points beside them.
SOURCES = [*sorted((ROOT / "intake").rglob("*.py")), *sorted((ROOT / "forms").rglob("*.py"))]
SOURCES += [ROOT / "wsgi.py", ROOT / "gunicorn.conf.py"]
OWN = {"intake", "forms"}
#: Declared but never imported by name, and why they are needed all the same.
NOT_IMPORTED = {
    "gunicorn": "the production server, which imports wsgi.py",
    "psycopg": "the PostgreSQL driver SQLAlchemy loads for a postgresql:// DATABASE_URL",
    "jinja2": "renders every page and the PDF through Flask; pinned for its security floor",
}

pytestmark = pytest.mark.no_database


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _requirements(group: str | None = None) -> list[Requirement]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    raw = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [Requirement(line) for line in raw]


def imported_modules(path: Path) -> Iterator[str]:
    """The top-level names of the absolute imports in one source file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def third_party_imports() -> dict[str, set[str]]:
    """Each imported distribution (by its canonical name) and the files that import it."""
    distributions = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        for module in imported_modules(path):
            if module in sys.stdlib_module_names or module in OWN or module == "__future__":
                continue
            names = distributions.get(module)
            assert names, f"{path.relative_to(ROOT)} imports {module}, which nothing installed has"
            for name in names:
                found.setdefault(canonicalize_name(name), set()).add(
                    path.relative_to(ROOT).as_posix()
                )
    return found


def test_every_imported_library_is_a_declared_dependency() -> None:
    declared = {canonicalize_name(r.name) for r in _requirements()}
    missing = {name: sorted(files) for name, files in third_party_imports().items()}
    missing = {name: files for name, files in missing.items() if name not in declared}
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"


def test_every_declared_dependency_is_imported_or_says_why_not() -> None:
    imported = set(third_party_imports())
    unused = {canonicalize_name(r.name) for r in _requirements()} - imported - set(NOT_IMPORTED)
    assert not unused, (
        f"declared but never imported (drop them, or say why in NOT_IMPORTED): {unused}"
    )


@pytest.mark.parametrize("group", [None, "test"])
def test_every_dependency_is_pinned_exactly(group: str | None) -> None:
    loose = [str(r) for r in _requirements(group) if [s.operator for s in r.specifier] != ["=="]]
    assert not loose, f"pin these with ==: {loose}"


def test_the_import_reader_sees_imports_in_functions_and_type_checking_blocks(
    tmp_path: Path,
) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from __future__ import annotations\n"
        "import a.b, c\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n    from d.e import F\n"
        "def f():\n    import g\n",
        encoding="utf-8",
    )
    assert list(imported_modules(source)) == ["__future__", "a", "c", "typing", "d", "g"]
