"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi COMMAND``.

A setting that forbids starting (a weak SECRET_KEY in production) ends the process with one
line ``错误：…`` and a non-zero exit, not a traceback. The exit code is 4, gunicorn's "App failed to
load": the gunicorn master then stops instead of booting new workers forever.
"""
import sys

from tracker import create_app
from tracker.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"错误：{exc}", file=sys.stderr, flush=True)
    raise SystemExit(4) from None
