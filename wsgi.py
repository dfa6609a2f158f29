"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi COMMAND``."""
from tracker import create_app

app = create_app()
