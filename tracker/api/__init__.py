"""JSON API under /api/v1 (session or bearer token; same rules as the web UI)."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import views  # noqa: E402,F401
