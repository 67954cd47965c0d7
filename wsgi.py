"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""

import gc

from intake import create_app

app = create_app()

# Everything made at start-up (modules, the app, the catalog) lives as long as the process. Frozen,
# the garbage collector's full collections stop rescanning it; a PDF render allocates enough to
# trigger several of them, and freezing made a render about 10% faster (bench/run.py).
gc.freeze()
