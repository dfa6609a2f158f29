"""The bureau's review of completion claims (待审核): approve, return, reopen."""
from flask import Blueprint

bp = Blueprint("review", __name__)

from . import views  # noqa: E402,F401
