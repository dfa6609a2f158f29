"""Pages that are not re-rendered when nothing changed: conditional GET and gzip.

``@conditional_page`` gives a page a strong ETag computed BEFORE the view runs, from everything the
page depends on: the code and settings of this deployment, the data revision (``cache/revision.py``,
shared by every host), the full URL, the reader (id, role, unit, name), the session's CSRF token that
the page embeds, the header (the to-do badge: a callback the app registers, so this module imports no
capability), the day, and whatever the view adds (``parts``). A request whose ``If-None-Match`` matches
gets 304 with an empty body and no rendering. Flashed messages are never lost to a 304: while the session
holds flashes, or when the page showed some, there is no 304 and no ETag.

``compress`` (an ``after_request`` step, ``GZIP_RESPONSES``) gzips text answers of at least 1 KB for
clients that accept it; a reverse proxy's gzip may do this instead (docs/deploy.md).
"""
from __future__ import annotations

import gzip
import hashlib
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Callable, Iterable

from flask import Flask, current_app, make_response, request, session
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..cache.readcache import pinned, revision_key
from .request import app_today, request_today

CACHE_CONTROL = "private, no-cache"  # the browser keeps the page but asks every time
GZIP_TYPES = frozenset({"text/html", "application/json", "text/css", "application/javascript", "text/plain",
                        "text/csv"})
GZIP_MIN_BYTES = 1024
GZIP_SUFFIX = "-gzip"  # a gzip'd body is another representation: its strong ETag differs
_EXTENSION = "tracker.conditional"
_PLAIN = (str, int, float, bool, type(None), date, tuple)  # settings whose repr is stable between processes
_PRIVATE = ("SECRET", "PASSWORD", "DATABASE", "URI", "TOKEN")


def init_app(app: Flask, *, header: Callable[[], object] | None = None) -> None:
    """Register what every page's header shows (``header()``, e.g. the to-do badge) and the gzip step."""
    app.extensions[_EXTENSION] = {"header": header, "deployment": None}
    app.after_request(compress)


def _deployment(app: Flask) -> str:
    """The code, templates and settings this process serves: a new release or setting changes every ETag.
    The same on every host of one release (content, not timestamps)."""
    state = app.extensions[_EXTENSION]
    if state["deployment"] is None:
        digest = hashlib.sha256()
        root = Path(app.root_path)
        for folder, pattern in ((root, "*.py"), (Path(app.template_folder or root), "*.html")):
            base = folder if folder.is_absolute() else root / folder
            for path in sorted(base.rglob(pattern)):
                digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
        settings = sorted((k, repr(v)) for k, v in app.config.items()
                          if k.isupper() and isinstance(v, _PLAIN) and not any(w in k for w in _PRIVATE))
        digest.update(repr(settings).encode())
        state["deployment"] = digest.hexdigest()
    return state["deployment"]


def _today():
    try:
        return request_today()
    except Exception:  # the input guard refused a bad ?today= already; never fail here
        return app_today()


def page_etag(revision, parts: Iterable[object] = ()) -> str | None:
    """The page's ETag value (without quotes) for data ``revision``; None when the data has no revision yet."""
    if revision is None:
        return None
    app = current_app._get_current_object()
    state = app.extensions.get(_EXTENSION) or {}
    header = state.get("header")
    user = current_user
    reader = ((user.id, user.role, user.unit_id, user.username, getattr(user, "display_name", None))
              if user.is_authenticated else None)
    if user.is_authenticated:
        generate_csrf()  # the page embeds it (the header's logout form): make the session's token first
    token = session.get(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    key = (_deployment(app), revision, request.url, reader, token, header() if header else None, _today(),
           tuple(parts))
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:40]


def _flashes_shown() -> bool:
    return bool(getattr(request_ctx, "flashes", None)) or bool(session.get("_flashes"))


def _matches(tag: str) -> str | None:
    """The form of ``tag`` the client holds (plain or gzip'd), if ``If-None-Match`` names it."""
    for candidate in (tag, tag + GZIP_SUFFIX):
        if request.if_none_match.contains_weak(candidate):
            return candidate
    return None


def conditional_page(view=None, *, parts: Callable[[], Iterable[object]] | None = None):
    """Decorate a GET view (below any access check): 304 to a matching ``If-None-Match`` before rendering;
    a 200 answer carries the ETag and ``Cache-Control: private, no-cache``. ``parts()`` adds what the page
    shows beyond the common parts (computed before the view, like them)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return view(*args, **kwargs)
            pending = bool(session.get("_flashes"))
            with pinned(revision_key()) as revision:  # one revision for the ETag and the page
                tag = None if pending else page_etag(revision, parts() if parts else ())
                held = _matches(tag) if tag else None
                if held:
                    response = current_app.response_class(status=304)
                    response.set_etag(held)
                    response.headers["Cache-Control"] = CACHE_CONTROL
                    return response
                response = make_response(view(*args, **kwargs))
            if response.status_code == 200:
                response.headers["Cache-Control"] = CACHE_CONTROL
                if tag and not _flashes_shown():
                    response.set_etag(tag)
                else:
                    response.headers.pop("ETag", None)
            return response

        return wrapped

    return decorator(view) if view is not None else decorator


def compress(response):
    """``after_request``: gzip a text answer of at least 1 KB when the client accepts gzip (``GZIP_RESPONSES``).
    Streamed and file answers, 304s and answers already encoded are left alone."""
    if not current_app.config["GZIP_RESPONSES"]:
        return response
    if (response.status_code < 200 or response.status_code in (204, 304) or response.direct_passthrough
            or response.is_streamed or "Content-Encoding" in response.headers
            or response.mimetype not in GZIP_TYPES or request.method == "HEAD"):
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings.quality("gzip") <= 0:
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    tag, weak = response.get_etag()
    if tag:
        response.set_etag(tag + GZIP_SUFFIX, weak=weak)
    return response
