"""The wheel: built by hatchling as pip would, it carries every data file the code reads, under
the package, and an install of it finds them all without the checkout.

The repository keeps ``templates/`` at the top; the wheel must carry it as ``intake/templates``
(a top-level ``templates`` package in site-packages would clash with any other project's). No
database is needed: the installed copy runs its migrations on a SQLite file of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import hatchling.build
import pytest

import intake
from forms import loader
from intake import migrate
from intake.auth import passwords
from intake.pdf import engine

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.no_database

#: Folders of data files (not Python) the code reads at run time, as the checkout has them, and
#: where the wheel puts them.
DATA_FOLDERS = {
    "templates": "intake/templates",
    "intake/static": "intake/static",
    "intake/auth/data": "intake/auth/data",
    "intake/migrations": "intake/migrations",
    "forms/archive": "forms/archive",
}
DATA_FILES = {"forms/catalog.yaml": "forms/catalog.yaml"}


def _checkout_files(folder: str) -> Iterator[str]:
    for path in sorted((ROOT / folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(ROOT / folder).as_posix()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by the project's build backend through its PEP 517 hook (about 0.1 s)."""
    out = tmp_path_factory.mktemp("wheel")
    here = Path.cwd()
    os.chdir(ROOT)  # a PEP 517 hook builds the project in the current directory
    try:
        name = hatchling.build.build_wheel(str(out))
    finally:
        os.chdir(here)
    return out / name


def test_the_wheel_carries_every_data_file_under_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"intake", "forms", "intake-0.1.0.dist-info"}, "no top-level templates/"
    for source, target in DATA_FOLDERS.items():
        files = list(_checkout_files(source))
        assert files, source
        missing = [f for f in files if f"{target}/{f}" not in names]
        assert not missing, f"{source} files missing from the wheel: {missing}"
    for source, target in DATA_FILES.items():
        assert (ROOT / source).is_file() and target in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_an_editable_install_copies_nothing_and_reads_the_checkout(tmp_path: Path) -> None:
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        name = hatchling.build.build_editable(str(tmp_path))
    finally:
        os.chdir(here)
    with zipfile.ZipFile(tmp_path / name) as archive:
        assert not [n for n in archive.namelist() if not n.startswith(("intake-0.1.0.", "_"))]
    # This very test run imports the checkout: every path points into it.
    assert intake.TEMPLATES == ROOT / "templates"
    assert engine.UA_STYLESHEET_PATH == ROOT / "templates" / "pdf" / "ua.css"
    assert passwords.COMMON_PASSWORDS.is_file()
    assert migrate.MIGRATIONS == ROOT / "intake" / "migrations"
    assert loader.CATALOG_PATH == ROOT / "forms" / "catalog.yaml"


#: Run by the installed copy, away from the checkout: every data file it reads comes from there.
_INSTALLED_CHECK = """
import json, sys
from pathlib import Path

site = Path(sys.argv[1]).resolve()
import forms.loader, intake, intake.auth.passwords, intake.migrate, intake.pdf.engine
from intake import create_app, db
from intake.pdf import document
from intake.pdf.summary import build_summary
from intake.intakes.demo import demo_answers, demo_pdf_header
from forms.logic import Visibility

app = create_app({"INTAKE_ENV": "testing", "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef", "TESTING": True,
                  "DATABASE_URL": "sqlite:///" + str(site / "installed.sqlite3")})
with app.app_context():
    intake.migrate.upgrade(db.engine())
    catalog = forms.loader.get_catalog()
    html = document.summary_html(
        build_summary(catalog, demo_answers(catalog), Visibility(frozenset(), frozenset())),
        demo_pdf_header(),
    )
client = app.test_client()
with client.get("/static/app.css") as css:
    css_status = css.status_code
paths = {
    "intake": intake.__file__,
    "templates": intake.TEMPLATES,
    "ua.css": intake.pdf.engine.UA_STYLESHEET_PATH,
    "passwords": intake.auth.passwords.COMMON_PASSWORDS,
    "migrations": intake.migrate.MIGRATIONS,
    "catalog": forms.loader.CATALOG_PATH,
    "archive": forms.loader.ARCHIVE_DIR,
}
print(json.dumps({
    "outside": [k for k, p in paths.items() if not Path(p).resolve().is_relative_to(site)],
    "missing": [k for k, p in paths.items() if not Path(p).exists()],
    "login": client.get("/clinic/login").status_code,
    "css": css_status,
    "summary_html": "Pre-visit history: patient-reported" in html,
    "archived_versions": sorted(forms.loader.released_digests()),
}))
"""


def test_an_installed_wheel_finds_its_templates_and_data_without_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)  # what pip install --no-deps --target does with a pure wheel
    # PYTHONPATH comes before site-packages, where the editable install points at the checkout.
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("INTAKE_ENV", None)
    result = subprocess.run(
        [sys.executable, "-c", _INSTALLED_CHECK, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outside"] == [] and report["missing"] == []
    assert report["login"] == 200 and report["css"] == 200
    assert report["summary_html"] is True
    assert report["archived_versions"]
