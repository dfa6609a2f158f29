"""The outbox page: queued, sent and failed emails; resend a failed one."""
from flask import Blueprint

bp = Blueprint("outbox", __name__)

from . import views  # noqa: E402,F401
