"""The logged-in user's own account: password change, API tokens."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from . import views  # noqa: E402,F401
