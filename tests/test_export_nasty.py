"""Issue 9: every .xlsx the tracker writes keeps hostile text as visible text and never fails on it.

The strings are written straight into the database (as data stored before the input rule existed, or by
a fix in psql would be), then every export is opened with openpyxl: no formula cell anywhere, the text
intact, characters XML cannot hold dropped instead of a 500.
"""
from __future__ import annotations

from datetime import date
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from tests.test_routes_login import logged_in
from tracker.extensions import db
from tracker.models import Task, Unit

NASTY = ['=HYPERLINK("http://evil.example/x","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
         "=1+1", "\t=tab", "'quoted", "<script>alert(1)</script>"]
BROKEN = {"进展\x01完成": "进展完成", "含\x00空字符": "含空字符", "\x1b[31m红": "[31m红", "非字符\ufffe": "非字符"}


def _broken(app) -> dict[str, str]:
    """PostgreSQL cannot store NUL at all, so only SQLite can hand one to an export."""
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    return {k: v for k, v in BROKEN.items() if not (postgres and "\x00" in k)}


def _plant(app) -> int:
    """Hostile text in an overdue measure's title, progress and lead unit, and in a second measure."""
    broken = _broken(app)
    with app.app_context():
        task = db.session.execute(select(Task).where(Task.is_leaf.is_(True), Task.deadline < date(2024, 7, 1),
                                                     Task.status != "done").order_by(Task.id)).scalars().first()
        task.title = NASTY[0]
        task.latest_progress = "\n".join(NASTY[1:]) + "\n" + "".join(broken)
        task.code = "=2*3"
        unit = task.lead_units[0]
        db.session.get(Unit, unit.id).short_name = "@单位"
        others = db.session.execute(select(Task).where(Task.is_leaf.is_(True), Task.id != task.id)
                                    .order_by(Task.id).limit(len(NASTY))).scalars().all()
        for other, value in zip(others, NASTY[1:] + list(broken)):
            other.latest_progress = value
        db.session.commit()
        return task.id


def _cells(data: bytes) -> list:
    wb = load_workbook(BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def _check(data: bytes, where: str) -> str:
    cells = _cells(data)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == [], (where, formulas)
    text = "\n".join(str(c.value) for c in cells if c.value is not None)
    assert NASTY[0] in text, where
    for broken, kept in BROKEN.items():
        assert broken not in text, where
    return text


def test_every_export_writes_hostile_text_as_text(seeded, tmp_path):
    _plant(seeded)
    client = logged_in(seeded, "dubanke")
    ledger = client.get("/ledger/export.xlsx?today=2024-07-01")
    assert ledger.status_code == 200
    text = _check(ledger.data, "ledger")
    for value in NASTY[1:] + ["@单位", "=2*3"]:
        assert value in text, value
    for kept in _broken(seeded).values():
        assert kept in text, kept
    overdue = client.get("/overdue/export.xlsx?today=2024-07-01")
    assert overdue.status_code == 200
    text = _check(overdue.data, "overdue")
    assert "=2*3" in text and "@单位" in text and "-2+3" in text
    target = tmp_path / "cli.xlsx"
    result = seeded.test_cli_runner().invoke(args=["export-ledger", str(target), "--today", "2024-07-01"])
    assert result.exit_code == 0, result.output
    _check(target.read_bytes(), "cli")


def test_formula_like_text_keeps_its_quote_prefix(seeded):
    """Excel shows the text and keeps it text when the cell is edited (quote prefix)."""
    task_id = _plant(seeded)
    client = logged_in(seeded, "dubanke")
    for url in ("/ledger/export.xlsx?today=2024-07-01", "/overdue/export.xlsx?today=2024-07-01"):
        cells = _cells(client.get(url).data)
        risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
        assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky), url
    assert task_id
