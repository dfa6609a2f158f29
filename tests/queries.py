"""Counting the SQL statements a request runs (SPEC 5: a fixed number per page)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from tracker.extensions import db


@contextmanager
def counting(app):
    """Collects every statement sent to ``app``'s database inside the block."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def count_statements(app, client, url: str) -> int:
    """How many statements GET ``url`` runs (it must answer 200)."""
    with counting(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)
