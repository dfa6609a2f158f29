"""Excel import: merged / filled-down / blank-below layouts, dry run, broken files, round trip, upload page."""
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditLog, Plan, Task, Unit

from .conftest import TODAY, csrf_token_from, make_app

HEAD = ["序号", "一级任务", "二级任务", "具体工作举措", "牵头单位", "配合单位", "完成时限", "状态"]
ROWS = [
    ["1", "一、依法行政", "（一）制度建设", "举措甲", "区司法局", "区市场监管局、区交通局", "2024年6月底前", "未启动"],
    ["2", "一、依法行政", "（一）制度建设", "举措乙", "天津市宝坻区市场监督管理局", "", "长期坚持", ""],
    ["3", "一、依法行政", "（二）队伍建设", "举措丙", "区交通局，区司法局", "大口屯镇\n区司法局", "2024年第三季度", ""],
    ["4", "二、执法监督", "（三）监督检查", "举措丁", "大口屯镇；区交通局", None, "2025年10月15日前", ""],
]
TITLE = "测试计划工作台账（截至2024-07-01）"


def make_xlsx(rows=None, *, mode="merged", title=TITLE, head=HEAD, extra=None) -> bytes:
    """A ledger-layout workbook: title row, header row 2, data from row 3.

    mode: "merged" (parent cells merged), "filled" (repeated on every row),
    "blank" (only on the first row of each group).
    """
    rows = [list(r) for r in (ROWS if rows is None else rows)]
    wb = Workbook()
    ws = wb.active
    if title is not None:
        ws.append([title])
    ws.append(head)
    first = 2 if title is not None else 1
    for i, row in enumerate(rows):
        out = list(row)
        if mode in ("merged", "blank") and i > 0:
            for col in (1, 2):
                same_above = all(rows[i - 1][c] == row[c] for c in range(1, col + 1))
                if same_above:
                    out[col] = None
        ws.append(out)
    if mode == "merged":
        for col in (1, 2):
            start = 0
            for i in range(1, len(rows) + 1):
                if i == len(rows) or any(rows[i][c] != rows[start][c] for c in range(1, col + 1)):
                    if i - 1 > start:
                        letter = "BC"[col - 1]
                        ws.merge_cells(f"{letter}{first + 1 + start}:{letter}{first + i}")
                    start = i
    if extra:
        extra(ws)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write(tmp_path, data: bytes, name="plan.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def tree(plan_id):
    tasks = db.session.execute(select(Task).where(Task.plan_id == plan_id)).scalars().all()
    by_parent = {}
    for t in tasks:
        by_parent.setdefault(t.parent_id, []).append(t)

    def walk(parent_id):
        out = []
        for t in sorted(by_parent.get(parent_id, []), key=lambda t: t.position):
            out.append((t.level, t.code, t.title, tuple(u.short_name for u in t.lead_units),
                        tuple(u.short_name for u in t.co_units), t.deadline_text, walk(t.id)))
        return out

    return walk(None)


def counts():
    return {
        "plans": db.session.scalar(select(func.count(Plan.id))),
        "tasks": db.session.scalar(select(func.count(Task.id))),
        "units": db.session.scalar(select(func.count(Unit.id))),
        "audit": db.session.scalar(select(func.count(AuditLog.id))),
    }


@pytest.mark.parametrize("mode", ["merged", "filled", "blank"])
def test_import_good_file(seeded, runner, tmp_path, mode):
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx(mode=mode))])
    assert result.exit_code == 0, result.output
    assert "已导入计划“测试计划”" in result.output
    with seeded.app_context():
        plan = db.session.execute(select(Plan).where(Plan.title == "测试计划")).scalar_one()
        t = tree(plan.id)
        assert [(n[1], n[2]) for n in t] == [("一", "依法行政"), ("二", "执法监督")]
        assert [(n[1], n[2]) for n in t[0][6]] == [("（一）", "制度建设"), ("（二）", "队伍建设")]
        m1, m2 = t[0][6][0][6]
        assert m1[:6] == (3, "1", "举措甲", ("区司法局",), ("区市场监管局", "区交通局"), "2024年6月底前")
        assert m2[3] == ("区市场监管局",)  # matched by full name
        m3 = t[0][6][1][6][0]
        assert m3[3] == ("区交通局", "区司法局") and m3[4] == ("大口屯镇", "区司法局")
        m4 = t[1][6][0][6][0]
        assert m4[3] == ("大口屯镇", "区交通局") and m4[4] == ()
        deadline = db.session.execute(select(Task.deadline).where(Task.plan_id == plan.id, Task.code == "4")).scalar()
        assert deadline == date(2025, 10, 15)
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "import_plan")).scalar_one()
        assert entry.target_id == plan.id


def test_dry_run_writes_nothing(seeded, runner, tmp_path):
    with seeded.app_context():
        before = counts()
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx()), "--dry-run", "--create-units"])
    assert result.exit_code == 0, result.output
    assert "检查通过" in result.output and "具体举措 4 项" in result.output
    with seeded.app_context():
        assert counts() == before


def _set(cell, value):
    def change(ws):
        ws[cell] = value
    return change


BROKEN = [
    ("unknown unit", dict(extra=_set("E3", "区司法局、不存在局")), ["第3行 E列", "未知的单位“不存在局”"]),
    ("bad deadline", dict(extra=_set("G4", "明年春天")), ["第4行 G列", "无法识别的完成时限", "明年春天"]),
    ("no lead unit", dict(extra=_set("E3", None)), ["第3行 E列", "缺少牵头单位"]),
    ("formula", dict(extra=_set("D4", "=CONCAT(\"a\",\"b\")")), ["第4行 D列", "公式"]),
    ("date in text", dict(extra=_set("D3", datetime(2024, 5, 1))), ["第3行 D列", "日期格式"]),
    ("missing parent", dict(mode="filled", extra=lambda ws: (ws.__setitem__("B3", None), ws.__setitem__("C3", None))),
     ["第3行 B列", "缺少上级任务"]),
    ("level gap", dict(mode="filled", extra=_set("B3", None)), ["第3行 B列", "层级断档"]),
    ("no title", dict(title=None), ["缺少计划名称"]),
]


@pytest.mark.parametrize("name,kwargs,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rows_are_listed_and_nothing_written(seeded, runner, tmp_path, name, kwargs, expected):
    with seeded.app_context():
        before = counts()
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx(**kwargs))])
    assert result.exit_code != 0
    for text in expected:
        assert text in result.output, (name, result.output)
    assert "Traceback" not in result.output
    with seeded.app_context():
        assert counts() == before


@pytest.mark.parametrize("data,expected", [
    (b"this is not a spreadsheet", "不是有效的 Excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
    (b"PK\x03\x04garbage", "不是有效的 Excel"),
    (b"", "文件为空"),
])
def test_not_an_xlsx(seeded, runner, tmp_path, data, expected):
    result = runner.invoke(args=["import-plan", write(tmp_path, data)])
    assert result.exit_code != 0 and expected in result.output


def test_empty_sheet_and_no_header(seeded, runner, tmp_path):
    wb = Workbook()
    buffer = BytesIO()
    wb.save(buffer)
    result = runner.invoke(args=["import-plan", write(tmp_path, buffer.getvalue())])
    assert result.exit_code != 0 and "工作表为空" in result.output
    data = make_xlsx(head=["编号", "名称", "单位"])
    result = runner.invoke(args=["import-plan", write(tmp_path, data)])
    assert result.exit_code != 0 and "未找到表头行" in result.output


def test_several_problems_listed_together(seeded, runner, tmp_path):
    def damage(ws):
        ws["E3"] = "火星局"
        ws["G5"] = "2024年13月"
        ws["E6"] = None
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx(mode="filled", extra=damage))])
    assert result.exit_code != 0
    out = result.output
    assert "第3行 E列" in out and "第5行 G列" in out and "第6行 E列" in out and "共 3 处错误" in out


def test_date_cell_in_deadline_is_accepted(seeded, runner, tmp_path):
    data = make_xlsx(extra=_set("G3", datetime(2024, 6, 30)))
    result = runner.invoke(args=["import-plan", write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.title == "举措甲")).scalar_one()
        assert task.deadline == date(2024, 6, 30) and task.deadline_text == "2024-06-30"


def test_duplicate_title_create_units_and_replace(seeded, runner, tmp_path):
    path = write(tmp_path, make_xlsx(extra=_set("F6", "新设机构")))
    result = runner.invoke(args=["import-plan", path])
    assert result.exit_code != 0 and "未知的单位“新设机构”" in result.output
    result = runner.invoke(args=["import-plan", path, "--create-units"])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        assert db.session.execute(select(Unit).where(Unit.short_name == "新设机构")).scalar_one()
    result = runner.invoke(args=["import-plan", path])
    assert result.exit_code != 0 and "已存在同名计划“测试计划”" in result.output
    result = runner.invoke(args=["import-plan", path, "--replace"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import-plan", path, "--title", "另一个计划"])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        assert db.session.scalar(select(func.count(Plan.id)).where(Plan.title.in_(["测试计划", "另一个计划"]))) == 2


def test_round_trip_of_reference_plan(seeded, runner, tmp_path):
    path = tmp_path / "ref.xlsx"
    assert runner.invoke(args=["export-ledger", str(path), "--today", TODAY.isoformat()]).exit_code == 0
    result = runner.invoke(args=["import-plan", str(path), "--title", "副本"])
    assert result.exit_code == 0, result.output
    assert "具体举措 92 项" in result.output
    with seeded.app_context():
        plans = db.session.execute(select(Plan).order_by(Plan.id)).scalars().all()
        original, copy = tree(plans[0].id), tree(plans[1].id)
        assert copy == original
        assert len(original) == 20


# --- Upload page ---------------------------------------------------------------

def test_upload_preview_confirm(seeded, client, auth):
    auth.login("admin")
    page = client.get("/import")
    assert page.status_code == 200 and 'type="file"' in page.get_data(as_text=True)
    response = client.post("/import", data={"file": (BytesIO(make_xlsx()), "台账.xlsx")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "检查通过" in html and "举措丙" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    with seeded.app_context():
        assert db.session.scalar(select(func.count(Plan.id)).where(Plan.title == "测试计划")) == 0
    stored = list((__import__("pathlib").Path(seeded.instance_path) / "imports").glob("*.xlsx"))
    assert len(stored) == 1 and token in stored[0].name
    response = client.post("/import/confirm", data={"token": token, "filename": "台账.xlsx"})
    assert response.status_code == 302 and "/ledger?plan=" in response.headers["Location"]
    with seeded.app_context():
        assert db.session.scalar(select(func.count(Plan.id)).where(Plan.title == "测试计划")) == 1
        assert db.session.execute(select(AuditLog).where(AuditLog.action == "import_plan")).scalar_one().username == "admin"
    assert not list((__import__("pathlib").Path(seeded.instance_path) / "imports").glob("*.xlsx"))
    # The token is single-use.
    again = client.post("/import/confirm", data={"token": token}, follow_redirects=True)
    assert "已失效" in again.get_data(as_text=True)
    bad = client.post("/import/confirm", data={"token": "../../etc/passwd"}, follow_redirects=True)
    assert bad.status_code == 200 and "已失效" in bad.get_data(as_text=True)


def test_upload_with_errors_shows_table(seeded, client, auth):
    auth.login("admin")
    data = make_xlsx(extra=_set("E3", "火星局"))
    response = client.post("/import", data={"file": (BytesIO(data), "bad.xlsx")}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第3行 E列" in html and "火星局" in html and "确认导入" not in html
    response = client.post("/import", data={"file": (BytesIO(b"<html>"), "x.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 422 and "不是有效的 Excel" in response.get_data(as_text=True)
    response = client.post("/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400


def test_upload_of_50_mb_is_refused_cleanly(seeded, client, auth):
    auth.login("admin")
    big = b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024)
    response = client.post("/import", data={"file": (BytesIO(big), "big.xlsx")}, content_type="multipart/form-data")
    assert response.status_code in (413, 422)
    assert "过大" in response.get_data(as_text=True)


def test_upload_needs_admin_and_csrf(seeded, client, auth, tmp_path, monkeypatch):
    auth.login("sfj")
    assert client.get("/import").status_code == 403
    assert client.post("/import", data={}).status_code == 403
    auth.login("dubanke")
    assert client.get("/import").status_code == 403
    from tracker.operations.seed import seed

    app = make_app(tmp_path / "csrf", monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    c = app.test_client()
    login_page = c.get("/login").get_data(as_text=True)
    c.post("/login", data={"username": "admin", "password": "demo1234", "csrf_token": csrf_token_from(login_page)})
    response = c.post("/import", data={"file": (BytesIO(make_xlsx()), "a.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 400
    token = csrf_token_from(c.get("/import").get_data(as_text=True))
    response = c.post("/import", data={"file": (BytesIO(make_xlsx()), "a.xlsx"), "csrf_token": token},
                      content_type="multipart/form-data")
    assert response.status_code == 200 and "检查通过" in response.get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_header_level_gap_and_missing_deadline_column(seeded, runner, tmp_path):
    head = ["序号", "一级任务", "三级任务", "具体工作举措", "牵头单位", "配合单位", "完成时限", "状态"]
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx(head=head))])
    assert result.exit_code != 0 and "第2行" in result.output and "缺少“二级任务”列" in result.output
    head = ["序号", "一级任务", "二级任务", "具体工作举措", "牵头单位", "配合单位", "备注", "状态"]
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx(head=head))])
    assert result.exit_code != 0 and "表头缺少“完成时限”列" in result.output


def test_preview_shows_counts_by_level(seeded, client, auth):
    auth.login("admin")
    html = client.post("/import", data={"file": (BytesIO(make_xlsx(mode="blank")), "a.xlsx"), "title": "预览计划"},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "一级任务 2 项" in html and "二级任务 3 项" in html and "具体举措 4 项" in html
    assert "预览计划" in html and 'name="title" value="预览计划"' in html


def test_zip_bomb_is_refused_before_parsing(seeded, runner, tmp_path, monkeypatch):
    import tracker.plans.excel_import as excel_import

    monkeypatch.setattr(excel_import, "MAX_UNPACKED_BYTES", 1000)
    result = runner.invoke(args=["import-plan", write(tmp_path, make_xlsx())])
    assert result.exit_code != 0 and "解压后过大" in result.output
