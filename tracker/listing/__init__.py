"""Listing helpers shared by pages: column sorting (kept in the URL) and the search page."""
from flask import Blueprint

bp = Blueprint("listing", __name__)

from . import views  # noqa: E402,F401
