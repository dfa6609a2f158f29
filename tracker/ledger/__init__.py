"""The ledger (工作台账) pages."""
from flask import Blueprint

bp = Blueprint("ledger", __name__)

from . import views  # noqa: E402,F401
