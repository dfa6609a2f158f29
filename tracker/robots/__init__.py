"""Group-robot settings pages (SPEC 6.3): a unit's (or the bureau's) WeCom / DingTalk / Feishu robots."""
from flask import Blueprint

bp = Blueprint("robots", __name__)

from . import views  # noqa: E402,F401
