"""The bureau's lists: 逾期清单 (with Excel export and 催办) and 未报送."""
from flask import Blueprint

bp = Blueprint("bureau", __name__)

from . import views  # noqa: E402,F401
