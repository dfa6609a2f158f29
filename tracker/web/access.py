"""Who may do what: login everywhere, role checks, bearer tokens for the API."""
from __future__ import annotations

from functools import wraps

from flask import abort, request, session
from flask_login import current_user

from ..extensions import login_manager

# Endpoints reachable without a session.
PUBLIC_ENDPOINTS = {"auth.login", "static"}


@login_manager.user_loader
def load_user(user_id: str):
    """The user of a live server-side session (``accounts/sessions.py``); ended sessions load nobody."""
    from ..accounts import sessions

    return sessions.user_for(user_id, session.get(sessions.SESSION_KEY))


@login_manager.request_loader
def load_user_from_bearer(req):
    """``Authorization: Bearer <token>`` for the JSON API (no session is written)."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.lower().startswith("bearer "):
        return None
    from ..accounts.users import user_for_token

    return user_for_token(header[7:].strip())


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
