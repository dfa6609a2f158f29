from __future__ import annotations

from flask import render_template, request

from ..web import actor
from . import bp
from .search import LIMIT, MAX_QUERY, search_tasks


@bp.route("/search")
def search():
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    hits, truncated = search_tasks(actor(), query)
    return render_template("listing/search.html", q=query, hits=hits, truncated=truncated, limit=LIMIT)
