"""My tasks (本单位任务), the task page, progress reports and evidence downloads."""
from flask import Blueprint

bp = Blueprint("tasks", __name__)

from . import views  # noqa: E402,F401
