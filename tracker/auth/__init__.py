"""Authentication: login, logout, the login-everywhere rule and role checks."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
from .access import roles_required  # noqa: E402,F401
