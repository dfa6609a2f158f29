"""The bureau's documents (SPEC 6.4): assessment (考核), monthly bulletin (工作通报), annual report draft."""
from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/reports")

from . import views  # noqa: E402,F401
