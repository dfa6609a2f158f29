"""Listing helpers shared by pages: column sorting (kept in the URL) and the search page."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ..web.request import actor
from .search import LIMIT, MAX_QUERY, search_tasks

bp = Blueprint("listing", __name__)


@bp.route("/search")
def search():
    query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    hits, truncated = search_tasks(actor(), query)
    return render_template("listing/search.html", q=query, hits=hits, truncated=truncated, limit=LIMIT)
