"""What a web worker carries: libraries only some commands need stay out of its memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Imported by the commands and the one view that need them (about 20 MB per worker otherwise),
#: or only ever in the PDF renderer process (WeasyPrint and its libraries, about 25 MB more).
NOT_AT_START = ("alembic", "mako", "httpx", "jwt", "weasyprint", "pydyf", "fontTools", "PIL")


def test_the_app_starts_without_migration_ehr_network_or_pdf_libraries(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from intake import create_app\n"
        f"create_app({{'SECRET_KEY': 'x', 'DATABASE_URL': 'sqlite:///{tmp_path}/t.db'}})\n"
        f"print(sorted(m for m in {NOT_AT_START!r} if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["INTAKE_ENV"] = "testing"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_scripts_serve_refuses_a_production_service_as_root(tmp_path: Path) -> None:
    """Checked before anything is installed or started; ``id`` is made to answer as root."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text("#!/bin/sh\necho 0\n")
    (fake / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "INTAKE_ENV": "production"}
    done = subprocess.run(
        ["bash", "scripts/serve"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to run a production service as root" in done.stdout
