"""Who may do what: login everywhere and role checks (the user loaders are in ``accounts/auth_views.py``)."""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

from ..extensions import login_manager

# Endpoints reachable without a session.
PUBLIC_ENDPOINTS = {"auth.login", "static"}


def require_login():
    """App-wide ``before_request``: every page needs a logged-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if request.blueprint == "api":
        return None  # the API answers 401 JSON itself
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def roles_required(*roles: str):
    """Allow only users whose role is in ``roles`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
